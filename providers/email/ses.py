"""Amazon SES v2 API (boto3 ``sesv2.send_email``); ``ses_endpoint_url`` points tests at moto.

boto3 is imported and the client built on the first send, not at start-up: a process that
never sends an email (the API's interactive-queue worker) loads neither boto3 nor the SES model."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from core.settings import Settings
from providers.email import EmailMessage, EmailRejected

# SES v2 errors that a retry cannot fix (throttling, 5xx and network errors are retried).
PERMANENT_ERRORS = {
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "BadRequestException",
    "NotFoundException",
    "AccountSuspendedException",
    "SendingPausedException",
}


class SesEmailProvider:
    name = "ses"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Any = None
        self._lock = threading.Lock()  # sends run in threads; build one client

    @property
    def client(self) -> Any:
        """The ``sesv2`` client, built on first use."""
        with self._lock:
            if self._client is None:
                import boto3

                self._client = boto3.client(
                    "sesv2",
                    region_name=self.settings.ses_region,
                    endpoint_url=self.settings.ses_endpoint_url or None,
                )
            return self._client

    async def send(self, message: EmailMessage, *, key: str) -> str:
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> str:
        from botocore.exceptions import ClientError

        request: dict[str, Any] = {
            "FromEmailAddress": self.settings.email_from,
            "Destination": {"ToAddresses": [message.to]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                }
            },
        }
        if self.settings.ses_configuration_set:
            request["ConfigurationSetName"] = self.settings.ses_configuration_set
        try:
            response = self.client.send_email(**request)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in PERMANENT_ERRORS:
                raise EmailRejected(f"SES refused the message: {code}") from None
            raise
        return str(response.get("MessageId", ""))
