"""Amazon SES v2 API (boto3 ``sesv2.send_email``); ``ses_endpoint_url`` points tests at moto."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
from botocore.exceptions import ClientError

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
        self.client: Any = boto3.client(
            "sesv2", region_name=settings.ses_region, endpoint_url=settings.ses_endpoint_url or None
        )

    async def send(self, message: EmailMessage, *, key: str) -> str:
        try:
            return await asyncio.to_thread(self._send, message)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in PERMANENT_ERRORS:
                raise EmailRejected(f"SES refused the message: {code}") from None
            raise

    def _send(self, message: EmailMessage) -> str:
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
        response = self.client.send_email(**request)
        return str(response.get("MessageId", ""))
