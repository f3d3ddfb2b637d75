"""Outgoing mail: one RFC 5322 ``.eml`` file a message in the mail folder, or SMTP.

Services that mail take a ``Mailer`` explicitly and send only after their transaction
has committed, so a rolled-back change never mails anyone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["Mailer"]


@dataclass(frozen=True)
class Mailer:
    mail_dir: Path
    smtp_url: str | None = None
    sender: str = "NextGen CM/ECF <noreply@nextgen-gql.localhost>"

    def _message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
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
        await asyncio.to_thread(self._deliver, self._message(to, subject, body))
