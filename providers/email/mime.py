"""A multipart/alternative MIME message (plain text + HTML, UTF-8) for SMTP."""

from __future__ import annotations

import email.message
import email.utils
import hashlib

from providers.email import EmailMessage


def sender_domain(sender: str) -> str:
    address = email.utils.parseaddr(sender)[1]
    return address.rpartition("@")[2] or "pulse.local"


def message_id(key: str, sender: str) -> str:
    """A stable Message-ID per idempotency key (a re-sent copy is recognisably the same)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{sender_domain(sender)}>"


def build_mime(message: EmailMessage, *, sender: str, key: str) -> email.message.EmailMessage:
    mime = email.message.EmailMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.formatdate(localtime=False)
    mime["Message-ID"] = message_id(key, sender)
    mime["Content-Language"] = message.locale
    mime.set_content(message.text, charset="utf-8")
    mime.add_alternative(message.html, subtype="html", charset="utf-8")
    return mime
