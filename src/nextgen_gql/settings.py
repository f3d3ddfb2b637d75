"""Typed settings, read once from the environment (and overridden by command-line options).

Every setting has a safe default so that ``nextgen-gql serve`` works on a fresh machine.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from nextgen_gql.outbound.addresses import IPNetwork, parse_networks

__all__ = ["Settings"]

_PREFIX = "NEXTGEN_GQL_"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(_PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{_PREFIX}{name} must be an integer, got {raw!r}") from None


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(_PREFIX + name)
    if raw is None or raw.strip() == "":
        return None
    return _int(env, name, 0)


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(_PREFIX + name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{_PREFIX}{name} must be true or false, got {raw!r}")


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list; ``none`` is the empty list."""
    raw = (env.get(_PREFIX + name) or "").strip()
    if raw == "":
        return default
    if raw.lower() == "none":
        return ()
    return tuple(item.strip() for item in raw.split(",") if item.strip())


_LOG_LEVELS = ("debug", "info", "warning", "error")


def _tenants_dir(env: Mapping[str, str]) -> Path | None:
    raw = env.get(_PREFIX + "TENANTS_DIR")
    if raw is None:
        return Path("tenants")
    return Path(raw) if raw.strip() else None


def _execution(env: Mapping[str, str]) -> bool:
    """NEXTGEN_GQL_EXECUTION: compiled (the default) or reference; NEXTGEN_GQL_COMPILED=false
    is the older spelling of reference."""
    raw = (env.get(_PREFIX + "EXECUTION") or "").strip().lower()
    if raw == "":
        return _bool(env, "COMPILED", True)
    if raw not in {"compiled", "reference"}:
        raise ValueError(f"{_PREFIX}EXECUTION must be compiled or reference, got {raw!r}")
    return raw == "compiled"


def _forwarded_allow_ips(env: Mapping[str, str]) -> tuple[str, ...]:
    """NEXTGEN_GQL_FORWARDED_ALLOW_IPS; the retired NEXTGEN_GQL_TRUST_FORWARDED without it
    stops the start, since it used to trust any peer's X-Forwarded-For."""
    given = (env.get(_PREFIX + "FORWARDED_ALLOW_IPS") or "").strip()
    if (env.get(_PREFIX + "TRUST_FORWARDED") or "").strip() and not given:
        raise ValueError(
            f"{_PREFIX}TRUST_FORWARDED is retired: list the proxies whose X-Forwarded-For and "
            f"X-Forwarded-Proto are believed in {_PREFIX}FORWARDED_ALLOW_IPS (addresses or networks, "
            "comma-separated; default 127.0.0.1,::1) and remove it"
        )
    return _list(env, "FORWARDED_ALLOW_IPS", ("127.0.0.1", "::1"))


_POSTGRES_SCHEMES = ("postgres://", "postgresql://", "asyncpg://")


def _check_public_url(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError(
            f"{_PREFIX}PUBLIC_URL must be an https:// URL (http:// only for 127.0.0.1 or localhost), got {url!r}"
        )
    if not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{_PREFIX}PUBLIC_URL must be a plain URL without query or fragment, got {url!r}")


@dataclass(frozen=True)
class Settings:
    """What the service needs to run; docs/reference.md lists the environment variables."""

    database_url: str = "sqlite://nextgen.sqlite3"
    #: The court files applied at start; None (NEXTGEN_GQL_TENANTS_DIR set and empty): serve the
    #: database's catalog as it stands (fleets where one place applies changes).
    tenants_dir: Path | None = Path("tenants")
    mail_dir: Path = Path("mail")
    smtp_url: str | None = None
    mail_from: str = "NextGen CM/ECF <noreply@nextgen-gql.localhost>"
    password_reset_ttl_seconds: int = 3600
    cors_origins: tuple[str, ...] = ()
    db_pool_min: int = 1
    db_pool_max: int = 10
    session_ttl_seconds: int = 12 * 3600
    demo: bool = False
    graphiql: bool = True
    introspection: bool = True
    cookie_secure: bool = False
    #: The proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (``api.proxies``).
    forwarded_allow_ips: tuple[str, ...] = ("127.0.0.1", "::1")
    max_depth: int = 12
    max_aliases: int = 30
    #: Fragment spreads a document's operations may reach, each fragment's counted wherever it
    #: is spread (``api.limits``): over it, TOO_MANY_FRAGMENT_SPREADS.
    max_fragment_spreads: int = 100
    #: Fields one response key may merge (repeated, or through fragments): over it,
    #: TOO_MANY_REPEATED_FIELDS.
    max_field_repeats: int = 20
    max_tokens: int = 3000
    max_body_bytes: int = 64 * 1024
    #: The most list items one operation may return (``api.cost``): over it, QUERY_TOO_COSTLY.
    max_nodes: int = 5000
    #: Points per hour per account or service key (an anonymous address: a fifth); 0: no budgets.
    rate_limit_points: int = 5000
    #: GraphQL requests running per worker; more wait in the admission queue (``admission``);
    #: 0: twice ``db_pool_max``.
    max_in_flight: int = 0
    #: The longest a request may wait in the admission queue for a running place: one the
    #: queue's recent delay says could not start in time is refused at once (503 OVERLOADED);
    #: 0: no queue (refused whenever every place is taken).
    queue_target_ms: int = 500
    #: CSV exports streaming at once per worker (``admission.exports``): more, 503 OVERLOADED.
    max_exports: int = 2
    #: One deadline per request for every wait on the database (a pool connection on
    #: PostgreSQL, the connection's lock on SQLite): past it, 503 OVERLOADED before anything
    #: was written (``db_backends.deadline``).
    db_acquire_timeout_ms: int = 1000
    #: Queries run on compiled plans (``api/compiled``); false runs every request on the reference executor.
    compiled: bool = True
    #: Also run every compiled answer on the reference executor and refuse a difference (tests).
    compiled_check: bool = False
    #: "off": any valid document runs; "only": registered (trusted) documents alone (``api.persisted``).
    trusted_documents: str = "off"
    #: Live updates (``api/live``): how long events are kept for subscribers that resume (``after``).
    event_retention_seconds: int = 24 * 3600
    #: Subscriptions at once on one WebSocket; per account (per address when signed out) on one worker.
    subscriptions_per_connection: int = 20
    subscriptions_per_account: int = 50
    #: WebSockets open at once from one address (as the throttles see it, behind trusted proxies
    #: too; an IPv6 /64 is one address) on one worker: past it the handshake is closed ``4429``.
    max_websockets_per_address: int = 50
    #: Events waiting for one subscriber before it counts as too slow and is disconnected.
    subscription_queue: int = 256
    #: Seconds between keep-alive pings (WebSocket ``ping``, a comment on server-sent events).
    keepalive_seconds: int = 15
    #: Prometheus metrics counted and served at ``/metrics`` (``observability.metrics``).
    metrics: bool = True
    #: Addresses or networks that may read ``/metrics``; ``metrics_token`` admits from anywhere.
    metrics_allow: tuple[str, ...] = ("127.0.0.1", "::1")
    metrics_token: str | None = field(default=None, repr=False)
    #: The service's log level (its loggers, Tortoise's, uvicorn's) and line format.
    log_level: str = "info"
    log_format: str = "json"
    #: One log line per request (``observability.logs.log_request``).
    request_log: bool = True
    #: ``serve``: how long in-flight requests may take to finish after SIGTERM.
    shutdown_timeout_seconds: int = 30
    #: ``OTEL_EXPORTER_OTLP_ENDPOINT``: where traces go; None turns tracing off.
    otel_endpoint: str | None = None
    #: Encrypts secrets at rest (authenticator secrets) and keys the hashes of mailed and backup
    #: codes. None: a SQLite database keeps a generated one beside its file; PostgreSQL refuses
    #: to start (``services.crypto.resolve_secret_key``).
    secret_key: str | None = field(default=None, repr=False)
    #: Data lifecycle (``services.maintenance``): audit events older than this many days are
    #: deleted (None: kept forever); expired or revoked sessions are kept this many days.
    audit_retention_days: int | None = None
    session_retention_days: int = 30
    #: ``serve`` runs maintenance every this many seconds (0: never; run the command instead).
    maintenance_interval_s: int = 300
    #: ``serve`` looks for linking-reminder jobs to run every this many seconds (and at once
    #: when a job is started in the process); 0: this process runs none.
    reminder_interval_s: int = 5
    #: PostgreSQL: a statement on the request pool ends after this long (exports, migrations,
    #: maintenance and listeners use connections of their own, without it).
    statement_timeout_ms: int = 5000
    #: ``session`` (default): the service holds its own PostgreSQL sessions. ``transaction``:
    #: behind PgBouncer in transaction mode: no prepared-statement cache, nothing kept in a
    #: session, the statement timeout set on the role (``migrate`` does it), never at start-up.
    database_pooling: str = "session"
    #: The database itself, for what needs a session of its own (``LISTEN``, session advisory
    #: locks, migrations, maintenance). None: the database URL.
    direct_database_url: str | None = None
    #: A streaming replica of the PostgreSQL database: queries' data reads go to it while it is
    #: up and close enough (``nextgen_gql.replica``); None: every read goes to the database.
    replica_database_url: str | None = field(default=None, repr=False)
    #: How far behind the replica may be before it is left aside (its reads go to the database).
    replica_max_lag_ms: int = 5000
    #: Networks webhook deliveries may reach beyond public addresses, and by ``http://``
    #: (comma-separated, e.g. ``127.0.0.1/32`` for a local receiver); empty: public only.
    webhook_allow_networks: str = ""
    #: ``serve`` looks for webhook deliveries due every this many seconds (and at once when one
    #: is written, in this process or, on PostgreSQL, any); 0: this process sends none.
    webhook_interval_s: int = 2
    #: The OpenID Connect issuer: the service's public https:// URL (http:// only for
    #: 127.0.0.1 or localhost); None: the OpenID routes answer 404.
    public_url: str | None = None
    #: A rotated signing key is published this long before it signs.
    signing_key_publish_s: int = 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``NEXTGEN_GQL_*`` variables (``os.environ`` by default)."""
        env = os.environ if env is None else env
        origins = env.get(_PREFIX + "CORS_ORIGINS", "")
        return cls(
            database_url=env.get(_PREFIX + "DATABASE_URL") or cls.database_url,
            tenants_dir=_tenants_dir(env),
            mail_dir=Path(env.get(_PREFIX + "MAIL_DIR") or cls.mail_dir),
            smtp_url=env.get(_PREFIX + "SMTP_URL") or None,
            mail_from=env.get(_PREFIX + "MAIL_FROM") or cls.mail_from,
            password_reset_ttl_seconds=_int(
                env, "PASSWORD_RESET_TTL_SECONDS", cls.password_reset_ttl_seconds
            ),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            db_pool_min=_int(env, "DB_POOL_MIN", cls.db_pool_min),
            db_pool_max=_int(env, "DB_POOL_MAX", cls.db_pool_max),
            session_ttl_seconds=_int(env, "SESSION_TTL_SECONDS", cls.session_ttl_seconds),
            demo=_bool(env, "DEMO", False),
            graphiql=_bool(env, "GRAPHIQL", True),
            introspection=_bool(env, "INTROSPECTION", True),
            cookie_secure=_bool(env, "COOKIE_SECURE", False),
            forwarded_allow_ips=_forwarded_allow_ips(env),
            max_depth=_int(env, "MAX_DEPTH", cls.max_depth),
            max_aliases=_int(env, "MAX_ALIASES", cls.max_aliases),
            max_fragment_spreads=_int(env, "MAX_FRAGMENT_SPREADS", cls.max_fragment_spreads),
            max_field_repeats=_int(env, "MAX_FIELD_REPEATS", cls.max_field_repeats),
            max_tokens=_int(env, "MAX_TOKENS", cls.max_tokens),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", cls.max_body_bytes),
            max_nodes=_int(env, "MAX_NODES", cls.max_nodes),
            rate_limit_points=_int(env, "RATE_LIMIT_POINTS", cls.rate_limit_points),
            max_in_flight=_int(env, "MAX_IN_FLIGHT", cls.max_in_flight),
            queue_target_ms=_int(env, "QUEUE_TARGET_MS", cls.queue_target_ms),
            max_exports=_int(env, "MAX_EXPORTS", cls.max_exports),
            db_acquire_timeout_ms=_int(env, "DB_ACQUIRE_TIMEOUT_MS", cls.db_acquire_timeout_ms),
            compiled=_execution(env),
            compiled_check=_bool(env, "COMPILED_CHECK", False),
            trusted_documents=(env.get(_PREFIX + "TRUSTED_DOCUMENTS") or "off").strip().lower(),
            event_retention_seconds=_int(env, "EVENT_RETENTION_SECONDS", cls.event_retention_seconds),
            subscriptions_per_connection=_int(
                env, "SUBSCRIPTIONS_PER_CONNECTION", cls.subscriptions_per_connection
            ),
            subscriptions_per_account=_int(env, "SUBSCRIPTIONS_PER_ACCOUNT", cls.subscriptions_per_account),
            max_websockets_per_address=_int(
                env, "MAX_WEBSOCKETS_PER_ADDRESS", cls.max_websockets_per_address
            ),
            subscription_queue=_int(env, "SUBSCRIPTION_QUEUE", cls.subscription_queue),
            keepalive_seconds=_int(env, "KEEPALIVE_SECONDS", cls.keepalive_seconds),
            metrics=_bool(env, "METRICS", True),
            metrics_allow=_list(env, "METRICS_ALLOW", cls.metrics_allow),
            metrics_token=env.get(_PREFIX + "METRICS_TOKEN") or None,
            log_level=(env.get(_PREFIX + "LOG_LEVEL") or cls.log_level).strip().lower(),
            log_format=(env.get(_PREFIX + "LOG_FORMAT") or cls.log_format).strip().lower(),
            request_log=_bool(env, "REQUEST_LOG", True),
            shutdown_timeout_seconds=_int(env, "SHUTDOWN_TIMEOUT_SECONDS", cls.shutdown_timeout_seconds),
            otel_endpoint=(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "").strip() or None,
            secret_key=env.get(_PREFIX + "SECRET_KEY") or None,
            audit_retention_days=_optional_int(env, "AUDIT_RETENTION_DAYS"),
            session_retention_days=_int(env, "SESSION_RETENTION_DAYS", cls.session_retention_days),
            maintenance_interval_s=_int(env, "MAINTENANCE_INTERVAL_S", cls.maintenance_interval_s),
            reminder_interval_s=_int(env, "REMINDER_INTERVAL_S", cls.reminder_interval_s),
            statement_timeout_ms=_int(env, "STATEMENT_TIMEOUT_MS", cls.statement_timeout_ms),
            database_pooling=(env.get(_PREFIX + "DATABASE_POOLING") or cls.database_pooling).strip().lower(),
            direct_database_url=env.get(_PREFIX + "DIRECT_DATABASE_URL") or None,
            replica_database_url=(env.get(_PREFIX + "REPLICA_DATABASE_URL") or "").strip() or None,
            replica_max_lag_ms=_int(env, "REPLICA_MAX_LAG_MS", cls.replica_max_lag_ms),
            webhook_allow_networks=env.get(_PREFIX + "WEBHOOK_ALLOW_NETWORKS") or "",
            webhook_interval_s=_int(env, "WEBHOOK_INTERVAL_S", cls.webhook_interval_s),
            public_url=(env.get(_PREFIX + "PUBLIC_URL") or "").strip().rstrip("/") or None,
            signing_key_publish_s=_int(env, "SIGNING_KEY_PUBLISH_S", cls.signing_key_publish_s),
        )

    @property
    def webhook_networks(self) -> tuple[IPNetwork, ...]:
        """``webhook_allow_networks`` parsed (checked at start)."""
        return parse_networks(self.webhook_allow_networks)

    def __post_init__(self) -> None:
        for name in (
            "max_depth",
            "max_aliases",
            "max_fragment_spreads",
            "max_field_repeats",
            "max_tokens",
            "max_body_bytes",
            "max_nodes",
            "session_ttl_seconds",
            "event_retention_seconds",
            "subscriptions_per_connection",
            "subscriptions_per_account",
            "max_websockets_per_address",
            "subscription_queue",
            "keepalive_seconds",
            "session_retention_days",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{_PREFIX}{name.upper()} must be at least 1, got {getattr(self, name)}")
        if self.trusted_documents not in {"off", "only"}:
            raise ValueError(
                f"{_PREFIX}TRUSTED_DOCUMENTS must be off or only, got {self.trusted_documents!r}"
            )
        if self.log_level not in _LOG_LEVELS:
            raise ValueError(
                f"{_PREFIX}LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {self.log_level!r}"
            )
        if self.log_format not in {"json", "text"}:
            raise ValueError(f"{_PREFIX}LOG_FORMAT must be json or text, got {self.log_format!r}")
        if self.max_in_flight == 0:
            object.__setattr__(self, "max_in_flight", 2 * self.db_pool_max)
        if self.max_in_flight < 1:
            raise ValueError(f"{_PREFIX}MAX_IN_FLIGHT must be at least 1, got {self.max_in_flight}")
        if not 0 <= self.queue_target_ms <= 60_000:
            raise ValueError(
                f"{_PREFIX}QUEUE_TARGET_MS must be from 0 (no queue) to 60000 (milliseconds a request may "
                f"wait for a running place), got {self.queue_target_ms}"
            )
        if self.max_exports < 1:
            raise ValueError(
                f"{_PREFIX}MAX_EXPORTS must be at least 1 (CSV exports at once per worker), got {self.max_exports}"
            )
        if not 1 <= self.db_acquire_timeout_ms <= 600_000:
            raise ValueError(
                f"{_PREFIX}DB_ACQUIRE_TIMEOUT_MS must be from 1 to 600000 (milliseconds a request may wait for "
                f"the database in all), got {self.db_acquire_timeout_ms}"
            )
        if self.rate_limit_points < 0:
            raise ValueError(
                f"{_PREFIX}RATE_LIMIT_POINTS must be 0 (no budgets) or more, got {self.rate_limit_points}"
            )
        if self.shutdown_timeout_seconds < 0:
            raise ValueError(
                f"{_PREFIX}SHUTDOWN_TIMEOUT_SECONDS must be 0 or more, got {self.shutdown_timeout_seconds}"
            )
        for network in self.metrics_allow:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"{_PREFIX}METRICS_ALLOW: {network!r} is not an address or network "
                    "(write none to admit by token only)"
                ) from None
        for entry in self.forwarded_allow_ips:
            if entry == "*":
                raise ValueError(
                    f"{_PREFIX}FORWARDED_ALLOW_IPS: '*' is refused (any client could then name its own "
                    "address); list your proxies' addresses or networks"
                )
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{_PREFIX}FORWARDED_ALLOW_IPS: {entry!r} is not an address or network"
                ) from None
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            raise ValueError(f"{_PREFIX}METRICS_TOKEN must be at least 16 characters")

        if self.secret_key is not None and len(self.secret_key) < 32:
            raise ValueError(
                f"{_PREFIX}SECRET_KEY must be at least 32 characters (make one with: openssl rand -base64 48)"
            )
        if self.audit_retention_days is not None and self.audit_retention_days < 1:
            raise ValueError(
                f"{_PREFIX}AUDIT_RETENTION_DAYS must be at least 1 (days of audit events kept), got "
                f"{self.audit_retention_days}; leave it unset to keep the audit trail forever"
            )
        if self.maintenance_interval_s < 0:
            raise ValueError(
                f"{_PREFIX}MAINTENANCE_INTERVAL_S must be 0 (off) or more, got {self.maintenance_interval_s}"
            )
        if self.webhook_interval_s < 0:
            raise ValueError(
                f"{_PREFIX}WEBHOOK_INTERVAL_S must be 0 (off) or more, got {self.webhook_interval_s}"
            )
        try:
            parse_networks(self.webhook_allow_networks)
        except ValueError as exc:
            raise ValueError(f"{_PREFIX}WEBHOOK_ALLOW_NETWORKS: {exc}") from None
        if self.reminder_interval_s < 0:
            raise ValueError(
                f"{_PREFIX}REMINDER_INTERVAL_S must be 0 (off) or more, got {self.reminder_interval_s}"
            )
        if self.statement_timeout_ms < 0:
            raise ValueError(
                f"{_PREFIX}STATEMENT_TIMEOUT_MS must be 0 (no limit) or more, got {self.statement_timeout_ms}"
            )
        if self.database_pooling not in {"session", "transaction"}:
            raise ValueError(
                f"{_PREFIX}DATABASE_POOLING must be session or transaction (behind PgBouncer in "
                f"transaction mode), got {self.database_pooling!r}"
            )
        if self.database_pooling == "transaction" and not self.is_postgres:
            raise ValueError(
                f"{_PREFIX}DATABASE_POOLING=transaction needs a PostgreSQL {_PREFIX}DATABASE_URL "
                "(a PgBouncer in transaction mode); SQLite has no pooler: leave it at session"
            )
        if self.direct_database_url is not None and (
            self.direct_database_url.startswith(_POSTGRES_SCHEMES) != self.is_postgres
        ):
            raise ValueError(
                f"{_PREFIX}DIRECT_DATABASE_URL must name the same kind of database as "
                f"{_PREFIX}DATABASE_URL (PostgreSQL, the server itself rather than the pooler)"
            )
        self._check_replica()
        if self.public_url is not None:
            _check_public_url(self.public_url)
        if self.signing_key_publish_s < 0:
            raise ValueError(
                f"{_PREFIX}SIGNING_KEY_PUBLISH_S must be 0 or more, got {self.signing_key_publish_s}"
            )
        if not 1 <= self.db_pool_min <= self.db_pool_max:
            raise ValueError(
                f"{_PREFIX}DB_POOL_MIN ({self.db_pool_min}) must be at least 1 and at most "
                f"{_PREFIX}DB_POOL_MAX ({self.db_pool_max})"
            )

    def _check_replica(self) -> None:
        if self.replica_database_url is not None:
            if not self.is_postgres:
                raise ValueError(
                    f"{_PREFIX}REPLICA_DATABASE_URL is set but {_PREFIX}DATABASE_URL is SQLite: a read "
                    "replica is a PostgreSQL streaming replica of a PostgreSQL database. Unset it, or move "
                    'to PostgreSQL first (docs/operations.md, "Past one machine")'
                )
            if not self.replica_database_url.startswith(_POSTGRES_SCHEMES):
                raise ValueError(
                    f"{_PREFIX}REPLICA_DATABASE_URL must be a PostgreSQL URL (postgres://user@host:port/db), "
                    "the streaming replica's"
                )
        if not 1 <= self.replica_max_lag_ms <= 3_600_000:
            raise ValueError(
                f"{_PREFIX}REPLICA_MAX_LAG_MS must be from 1 to 3600000 (milliseconds the replica may be "
                f"behind before its reads go to the database), got {self.replica_max_lag_ms}"
            )

    @property
    def replica_connection_url(self) -> str | None:
        """The replica's URL as Tortoise is given it, with the request pool's size (None: no replica)."""
        url = self.replica_database_url
        if url is None or "maxsize=" in url:
            return url
        sep = "&" if "?" in url else "?"
        return f"{url}{sep}minsize={self.db_pool_min}&maxsize={self.db_pool_max}"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(_POSTGRES_SCHEMES)

    @property
    def direct_url(self) -> str:
        """The URL for what needs a session of its own: ``LISTEN``, session advisory locks,
        migrations and maintenance (the direct database URL, or the database URL)."""
        return self.direct_database_url or self.database_url

    @property
    def transaction_pooling(self) -> bool:
        return self.database_pooling == "transaction"

    @property
    def connection_url(self) -> str:
        """The database URL as Tortoise is given it: PostgreSQL gets the pool size."""
        url = self.database_url
        if not url.startswith(("postgres://", "postgresql://", "asyncpg://")) or "maxsize=" in url:
            return url
        sep = "&" if "?" in url else "?"
        return f"{url}{sep}minsize={self.db_pool_min}&maxsize={self.db_pool_max}"

    def with_(self, **changes: object) -> Settings:
        """A copy with some settings changed (command-line options, tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]
