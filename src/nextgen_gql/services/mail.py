"""Outgoing mail: one RFC 5322 ``.eml`` file a message in the mail folder, or SMTP.

Services that mail take a ``Mailer`` explicitly and send only after their transaction
has committed, so a rolled-back change never mails anyone.

Header values are built from data (a firm's name in a subject, an address in ``To``), so no
value may break a header: control characters and line breaks become spaces before the
header is set (:func:`header_value`), and a recipient that is not one address is not mailed
(logged), rather than failing a request whose change is already saved.

``send`` delivers before it returns; ``send_later`` hands the message to a task and returns
at once, so a request that mails only sometimes (``retrieveCmecfLogin``: only when the
address is on the roster) answers after the same steps either way. ``drain`` waits for
those tasks (the app's shutdown, and tests).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import smtplib
import unicodedata
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["Mailer", "drain", "header_value"]

log = logging.getLogger(__name__)

#: Messages handed to ``send_later`` and not yet delivered (a task kept here is not collected).
_PENDING: set[asyncio.Task[None]] = set()


def header_value(value: str) -> str:
    """``value`` fit for one header: every control character, line break and Unicode line or
    paragraph separator a space, runs of spaces one, no space at either end."""
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in value)
    return " ".join(cleaned.split())


def _one_address(value: str) -> bool:
    found = getaddresses([value])
    return len(found) == 1 and "@" in found[0][1]


async def drain(limit_s: float = 30.0) -> None:
    """Wait (at most ``limit_s`` seconds) for the messages ``send_later`` handed over."""
    pending = set(_PENDING)
    if pending:
        await asyncio.wait(pending, timeout=limit_s)


@dataclass(frozen=True)
class Mailer:
    mail_dir: Path
    smtp_url: str | None = None
    sender: str = "NextGen CM/ECF <noreply@nextgen-gql.localhost>"

    def _message(self, to: str, subject: str, body: str) -> EmailMessage | None:
        """The message, its headers made safe; None when ``to`` is not one address."""
        to = header_value(to)
        if not _one_address(to):
            log.warning("mail not sent: the recipient %r is not one email address", to)
            return None
        message = EmailMessage()
        message["From"] = header_value(self.sender)
        message["To"] = to
        message["Subject"] = header_value(subject)
        message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        message["Message-ID"] = make_msgid(domain="nextgen-gql.localhost")
        message.set_content(body)
        return message

    def _deliver(self, message: EmailMessage) -> None:
        if self.smtp_url:
            parts = urlsplit(self.smtp_url)
            with smtplib.SMTP(parts.hostname or "localhost", parts.port or 25, timeout=30) as smtp:
                smtp.send_message(message)
            return
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.mail_dir / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(message))
        tmp.replace(path)  # readers never see a half-written message

    async def send(self, to: str, subject: str, body: str) -> None:
        """Send one plain-text message (blocking I/O runs in a worker thread)."""
        message = self._message(to, subject, body)
        if message is not None:
            await asyncio.to_thread(self._deliver, message)

    def send_later(self, to: str, subject: str, body: str) -> None:
        """Send one plain-text message from a task of its own: the caller goes on (and its
        request answers) without waiting for the delivery. A failed delivery is logged."""
        message = self._message(to, subject, body)
        if message is None:
            return
        task = asyncio.get_running_loop().create_task(self._deliver_logged(message), name="mail")
        _PENDING.add(task)
        task.add_done_callback(_PENDING.discard)

    async def _deliver_logged(self, message: EmailMessage) -> None:
        try:
            await asyncio.to_thread(self._deliver, message)
        except Exception:
            log.exception("mail to %s not delivered", message["To"])
