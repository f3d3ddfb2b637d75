"""Structured logs: one JSON line per request, per security event, per message.

``logging_config`` is the whole configuration (``serve`` gives it to uvicorn, which applies
it in every worker): one handler on stderr, JSON lines (``NEXTGEN_GQL_LOG_FORMAT=text`` for
people), the service's level (``NEXTGEN_GQL_LOG_LEVEL``) on its own loggers, Tortoise's and
uvicorn's. Its filter, ``WithholdParameters``, drops the parameters of every SQL statement
that Tortoise and the compiled path log at debug: a statement's text is fixed, its parameters
may be anything a client sent.

What a line may carry is decided here and nowhere else: ids, codes, names, counts and
durations. Never a password, token, code, key or secret; never a query's text, its
variables, a header or a cookie.

- ``nextgen_gql.request``: ``log_request``, one line per HTTP request (probes at debug);
- ``nextgen_gql.security``: ``log_event``, one line per domain event (``services.events``);
- the rest: what the service and its libraries say.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import orjson

from nextgen_gql.observability import tracing
from nextgen_gql.observability.requests import CURRENT, PROBES, RequestRecord
from nextgen_gql.services.events import Event
from nextgen_gql.settings import Settings

__all__ = [
    "JsonFormatter",
    "TextFormatter",
    "WithholdParameters",
    "log_event",
    "log_request",
    "logging_config",
]

_UTC = dt.UTC
#: Loggers that log a statement as ``"%s: %s", sql, parameters``.
SQL_LOGGERS = frozenset({"tortoise.db_client", "nextgen_gql.rows"})


_second: tuple[int, str] = (0, "")


def _timestamp(created: float) -> str:
    """``2026-11-23T14:02:11.513Z``; the part up to the second is made once a second."""
    global _second
    whole = int(created)
    if _second[0] != whole:
        _second = (whole, dt.datetime.fromtimestamp(whole, _UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second[1]}.{int((created - whole) * 1000):03d}Z"


class _Formatter(logging.Formatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No format here shows a thread or process: spare every record looking them up.
        logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


class JsonFormatter(_Formatter):
    """A record as one JSON object: ``ts``, ``level``, ``logger``, ``message``, then its fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(_Formatter):
    """For a person at a terminal: ``time level logger: message key=value ...``."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{_timestamp(record.created)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        fields = getattr(record, "fields", None)
        if fields:
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class WithholdParameters(logging.Filter):
    """SQL statements are logged without their parameters (they may hold anything a client sent)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in SQL_LOGGERS and record.msg == "%s: %s" and isinstance(record.args, tuple):
            values = record.args[1] if len(record.args) > 1 else None
            count = len(values) if isinstance(values, list | tuple) else 1
            record.args = (record.args[0], f"[{count} parameter(s) withheld]")
        return True


def logging_config(settings: Settings) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of a serving process (uvicorn's ``log_config``)."""
    level = settings.log_level.upper()
    formatter = "json" if settings.log_format == "json" else "text"
    quiet = {"level": "WARNING", "handlers": [], "propagate": True}
    ours = {"level": level, "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": f"{__name__}.JsonFormatter"},
            "text": {"()": f"{__name__}.TextFormatter"},
        },
        "filters": {"withhold_parameters": {"()": f"{__name__}.WithholdParameters"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": formatter,
                "filters": ["withhold_parameters"],
            }
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": {
            "nextgen_gql": ours,
            "tortoise": ours,
            "uvicorn": ours,
            "uvicorn.error": ours,
            # Replaced by the request log; uvicorn's "trace" level (bodies) is never set.
            "uvicorn.access": quiet,
            # At debug it prints every call with its arguments and results: never.
            "aiosqlite": quiet,
            "asyncio": quiet,
        },
    }


_requests = logging.getLogger("nextgen_gql.request")


def log_request(record: RequestRecord) -> None:
    """One line for a finished request (``nextgen_gql.request``)."""
    level = logging.DEBUG if record.route in PROBES else logging.INFO
    if not _requests.isEnabledFor(level):
        return
    fields = {
        "request_id": record.request_id,
        "method": record.method,
        "path": record.path[:200],
        "status": record.status,
        "duration_ms": round(record.duration * 1000, 3),
        "client": record.client,
        "court": record.court,
        "operation": record.operation[:100] if record.operation else record.operation,
        "operation_type": record.operation_type,
        "execution": record.execution,
        "persisted": record.persisted,
        "reads": record.reads,
        "account_id": record.account_id,
        "error_codes": record.error_codes or [],
    }
    trace_id = _trace_id()
    if trace_id is not None:
        fields["trace_id"] = trace_id
    # makeRecord and handle, not info(): no walk up the stack to find the caller, on every request.
    line = _requests.makeRecord(
        _requests.name,
        level,
        "",
        0,
        "%s %s %s",
        (record.method, fields["path"], record.status),
        None,
        extra={"fields": fields},
    )
    _requests.handle(line)


_security = logging.getLogger("nextgen_gql.security")
#: Events worth a warning: someone is being refused or locked out.
_WARNINGS = frozenset({"throttle.locked", "account.locked", "account.sign_in_refused"})


def log_event(event: Event) -> None:
    """One line for a domain event (``nextgen_gql.security``), with the request it happened in."""
    level = logging.WARNING if event.name in _WARNINGS else logging.INFO
    if not _security.isEnabledFor(level):
        return
    request = CURRENT.get()
    fields: dict[str, Any] = {
        "event": event.name,
        "request_id": request.request_id if request else None,
        "client": request.client if request else None,
        "court": event.court,
        "subject_id": event.subject_id,
        "actor_id": event.actor_id,
        **event.fields,
    }
    trace_id = _trace_id()
    if trace_id is not None:
        fields["trace_id"] = trace_id
    _security.log(level, "%s", event.name, extra={"fields": fields})


def _trace_id() -> str | None:
    return tracing.current_trace_id() if tracing.ACTIVE else None
