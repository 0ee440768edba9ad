"""SMTP delivery with the standard library (in a thread). With SES: host
``email-smtp.<region>.amazonaws.com``, port 587, STARTTLS, the SES SMTP username and password."""

from __future__ import annotations

import asyncio
import smtplib
import ssl

from core.settings import Settings
from providers.email import EmailMessage, EmailRejected
from providers.email.mime import build_mime


class SmtpEmailProvider:
    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage, *, key: str) -> str:
        try:
            return await asyncio.to_thread(self._send, message, key)
        except smtplib.SMTPRecipientsRefused as error:
            raise EmailRejected(f"recipient refused: {_codes(error.recipients)}") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            if 500 <= error.smtp_code < 600:
                raise EmailRejected(f"refused with {error.smtp_code}") from None
            raise
        except smtplib.SMTPAuthenticationError as error:
            raise EmailRejected(f"SMTP login refused ({error.smtp_code})") from None

    def _send(self, message: EmailMessage, key: str) -> str:
        s = self.settings
        mime = build_mime(message, sender=s.email_from, key=key)
        context = ssl.create_default_context(cafile=s.smtp_ca_file or None)
        smtp: smtplib.SMTP
        if s.smtp_ssl:
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=context)
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        with smtp:
            smtp.ehlo()
            if s.smtp_starttls and not s.smtp_ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_username, password)
            smtp.send_message(mime)
        return str(mime["Message-ID"])


def _codes(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(str(code) for code, _message in recipients.values())
