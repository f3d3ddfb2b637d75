"""Durable delivery's parts that know nothing of what is delivered: the retry schedule, one
guarded ``POST`` and what its answer means.

Webhooks (``nextgen_gql.webhooks``) use them today; the OpenID provider's back-channel logout
tokens will use them too. The rows that make deliveries durable (claimed with a lease, sent
with no transaction or connection held, the attempt recorded after) are the caller's.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpcore

from nextgen_gql.outbound.addresses import AddressRefused, Reach

__all__ = [
    "ATTEMPT_TIMEOUT_S",
    "SCHEDULE",
    "Answer",
    "next_attempt",
    "next_delay",
    "post",
    "retry_after",
]

#: Seconds to wait before each attempt (the first at once): 5 s, 5 min, 30 min, 2 h, 5 h,
#: 10 h and 10 h, Standard Webhooks' and Svix's schedule. Eight attempts over about 27 hours.
SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
#: Share of a delay added or taken at random, so that receivers that failed together are not
#: called again all at the same second.
JITTER = 0.1
#: A receiver answers within this many seconds (connecting included) or the attempt failed.
ATTEMPT_TIMEOUT_S = 15.0
#: The longest ``Retry-After`` honoured (a receiver cannot park a delivery for ever).
MAX_RETRY_AFTER_S = 36000.0
#: At most this much of an answer's body is read (it is recorded, never interpreted).
MAX_ANSWER_BYTES = 4096


def next_delay(attempts_made: int, rng: random.Random | None = None) -> float | None:
    """Seconds until the next attempt once ``attempts_made`` were made (None: the schedule
    has ended), with jitter."""
    if attempts_made >= len(SCHEDULE):
        return None
    base = SCHEDULE[attempts_made]
    spread = (rng or random).uniform(-JITTER, JITTER)
    return max(0.0, base * (1 + spread))


def retry_after(value: str | None, now: dt.datetime) -> float | None:
    """A ``Retry-After`` header's seconds (a number, or an HTTP date), bounded by
    ``MAX_RETRY_AFTER_S``; None when absent or not understood."""
    if not value:
        return None
    text = value.strip()
    seconds: float | None
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


@dataclass(frozen=True)
class Answer:
    """How one attempt went: the status (None: no answer), its duration, the ``Retry-After``
    header, and why it failed, in words (None: it succeeded)."""

    status: int | None
    duration_ms: int
    retry_after: str | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def post(
    pool: httpcore.AsyncConnectionPool,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    reach: Reach,
    *,
    timeout_s: float = ATTEMPT_TIMEOUT_S,
) -> Answer:
    """``POST`` ``body`` to ``url`` through ``pool`` (whose connections go to checked addresses
    only), checking the URL and its addresses first (``Reach.check``: DNS may have changed).
    Never raises for what the receiver or the network did: the ``Answer`` says it."""
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        await reach.check(url)
    except AddressRefused as exc:
        return Answer(None, took(), error=f"address not allowed: {exc}")
    request_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
    request_headers.append((b"content-length", str(len(body)).encode()))
    timeouts = {"connect": timeout_s, "read": timeout_s, "write": timeout_s, "pool": timeout_s}
    try:
        async with pool.stream(
            "POST", url, headers=request_headers, content=body, extensions={"timeout": timeouts}
        ) as response:
            read = 0
            async for chunk in response.aiter_stream():
                read += len(chunk)
                if read >= MAX_ANSWER_BYTES:
                    break
            status = response.status
            found = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
    except AddressRefused as exc:  # from the connection itself (DNS changed since the check)
        return Answer(None, took(), error=f"address not allowed: {exc}")
    except httpcore.TimeoutException:
        return Answer(None, took(), error=f"no answer within {timeout_s:g} s")
    except (httpcore.ConnectError, OSError) as exc:
        return Answer(None, took(), error=f"could not connect: {_short(exc)}")
    except httpcore.ProtocolError as exc:
        return Answer(None, took(), error=f"the answer was not HTTP: {_short(exc)}")
    except httpcore.NetworkError as exc:
        return Answer(None, took(), error=f"the connection failed: {_short(exc)}")
    elapsed = took()
    if 200 <= status < 300:
        return Answer(status, elapsed)
    if 300 <= status < 400:
        where = found.get("location", "")
        error = f"answered {status}, a redirect{f' to {where[:100]}' if where else ''}: redirects are not followed"
    else:
        error = f"answered {status}"
    return Answer(status, elapsed, retry_after=found.get("retry-after"), error=error)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]


def next_attempt(attempts_made: int, answer: Answer, ended: dt.datetime) -> dt.datetime | None:
    """When to try again after a failed attempt (``attempts_made`` made, the last ``answer``
    ended at ``ended``): the schedule's next delay, or a longer ``Retry-After`` on 429 and 503;
    None when the schedule is spent."""
    delay = next_delay(attempts_made)
    if delay is None:
        return None
    if answer.status in (429, 503):
        asked = retry_after(answer.retry_after, ended)
        if asked is not None:
            delay = max(delay, asked)
    return ended + dt.timedelta(seconds=delay)
