"""What the domain tells whoever watches it: sign-ins, lockouts, audited changes, imports.

The services say what happened with ``emit``; they know nothing of who listens. The
service's observers (``nextgen_gql.observability``: the security log, the metrics) ``listen``
while the app runs. An event carries ids, codes and counts, never a secret: no password,
token, code or key reaches an event, so none can reach a log line or a metric label.

Events (``name``: what it means; ``fields``):

- every audited action (``account.sign_in``, ``account.locked``, ``cmecf.link``, ...): the
  audit row just written (``audit.record`` emits it), with ``detail`` when there is one;
- ``account.sign_in_failed``: also for a username that names no account (not audited);
- ``account.sign_in_refused``: a sign-in refused before the password was checked,
  ``reason`` ``account_locked`` or ``address_limited``;
- ``throttle.locked``: a brute-force counter reached its limit, ``policy`` (``services.throttle``'s
  kinds: ``acct_addr``, ``account``, ``address``, ``mfa``, ``cmecf``, ...) and ``key``;
- ``account.password_reset_invalid``: a reset token that does not work;
- ``import.rows``: rows written by an import, ``kind`` and ``rows``;
- ``mfa.challenge``: a second-factor challenge, ``outcome`` ``issued``, ``passed``,
  ``failed`` or ``expired``;
- ``subscription.opened`` / ``subscription.closed``: a GraphQL subscription began or ended;
- ``events.fanned_out``: ``count`` events delivered to open subscriptions.

The last two are told by the live updates (``api.live.connections``, ``services.event_hub``)
and counted by the metrics (``observability.metrics.count_event``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["Event", "emit", "listen"]

log = logging.getLogger("nextgen_gql.events")

Value = str | int | None


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, as the domain names it."""

    name: str
    #: The account it is about, and the account that did it (the same for a sign-in).
    subject_id: int | None = None
    actor_id: int | None = None
    court: str | None = None
    fields: Mapping[str, Value] = field(default_factory=dict)


Listener = Callable[[Event], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> Callable[[], None]:
    """Call ``listener`` with every event from now on; returns the function that stops it."""
    _listeners.append(listener)

    def stop() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return stop


def emit(
    name: str,
    *,
    subject_id: int | None = None,
    actor_id: int | None = None,
    court: str | None = None,
    **fields: Value,
) -> None:
    """Tell every listener. A listener that fails is logged; the domain never sees it fail."""
    if not _listeners:
        return
    event = Event(name, subject_id, actor_id, court, fields)
    for listener in tuple(_listeners):
        try:
            listener(event)
        except Exception:  # an observer must never break the request it observes
            log.exception("an event listener failed on %s", name)
