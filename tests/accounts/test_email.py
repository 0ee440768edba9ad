"""Emails: Arabic RTL rendering, SMTP (aiosmtpd) and SES (moto's server) delivery, idempotency."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage as MimeMessage

import boto3
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

import worker as worker_module
from activities.email import EmailActivities, SendEmailInput, SendEmailResult
from core.accounts import seal
from core.db import Database
from core.emails import TEMPLATES, available_templates, render_email
from core.emails.deliveries import delivered
from core.settings import EmailBackend, Settings
from providers.email import build_email_provider
from providers.email.ses import SesEmailProvider
from providers.email.smtp import SmtpEmailProvider
from tests.accounts.conftest import SMTP_PASSWORD, SMTP_USER, SmtpSink, TlsSmtpSink
from workflows import BACKGROUND
from workflows.starters import start_email

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
LINK = "https://studio.example/auth/verify?token=abc"


def test_arabic_email_renders_rtl_with_an_arabic_font() -> None:
    email = render_email("magic_link", "ar", link=LINK, minutes=10, public_url="https://studio.example")
    assert email.subject == "رابط تسجيل دخولك إلى استوديو بلس للذكاء الاصطناعي"
    assert email.html.startswith('<!doctype html>\n<html lang="ar" dir="rtl">')
    assert "font-family:'IBM Plex Sans Arabic', 'Noto Sans Arabic'" in email.html
    assert "https://studio.example/static/fonts/IBMPlexSansArabic-Regular.ttf" in email.html
    assert "text-align:right" in email.html
    assert "تسجيل الدخول" in email.html and LINK.replace("&", "&amp;") in email.html
    assert "10 دقائق" in email.text and LINK in email.text


def test_english_email_renders_ltr() -> None:
    email = render_email("magic_link", "en", link=LINK, minutes=10)
    assert email.subject == "Your sign-in link for Pulse AI Studio"
    assert '<html lang="en" dir="ltr">' in email.html
    assert "expires in 10 minutes" in email.text


def test_html_is_escaped() -> None:
    email = render_email("magic_link", "en", link='https://x/"><script>alert(1)</script>', minutes=10)
    assert "<script>" not in email.html


def test_every_template_has_subject_text_and_html() -> None:
    assert "magic_link" in available_templates()
    for name in available_templates():
        assert (TEMPLATES / f"{name}.txt").is_file() and (TEMPLATES / f"{name}.html").is_file(), name


def smtp_settings(settings: Settings, sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "email_backend": EmailBackend.smtp,
            "smtp_host": sink.host,
            "smtp_port": sink.port,
            "smtp_username": SMTP_USER,
            "smtp_password": SecretStr(SMTP_PASSWORD),
            "smtp_starttls": False,
            "temporal_task_queue_prefix": f"smtp-{uuid.uuid4().hex[:8]}-",
        }
    )


async def test_send_email_workflow_over_smtp(
    client: Client, settings: Settings, smtp_server: SmtpSink
) -> None:
    own = smtp_settings(settings, smtp_server)
    deps = worker_module.build_deps(own)
    assert isinstance(build_email_provider(own), SmtpEmailProvider)
    workers = worker_module.build_workers(client, deps, [BACKGROUND])
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        workflow_id = f"email-test-{uuid.uuid4().hex}"
        context = {"link_sealed": seal(own, LINK), "minutes": 10}
        for _ in range(2):  # a second start with the same id is a no-op
            await start_email(
                client,
                own,
                workflow_id=workflow_id,
                to="reem@example.jo",
                template="magic_link",
                locale="ar",
                context=context,
            )
        result = await asyncio.wait_for(
            client.get_workflow_handle(workflow_id, result_type=SendEmailResult).result(), 30
        )
        assert result.backend == "smtp"
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await deps.aclose()
        for task in tasks:
            task.cancel()
    assert smtp_server.logins == [SMTP_USER]
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert isinstance(message, MimeMessage)
    assert message["To"] == "reem@example.jo"
    assert message["Subject"] == "رابط تسجيل دخولك إلى استوديو بلس للذكاء الاصطناعي"
    assert message["Content-Language"] == "ar"
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    assert '<html lang="ar" dir="rtl">' in html.get_content()
    assert LINK in text.get_content()


async def test_activity_sends_once_per_key(settings: Settings, db: Database, smtp_server: SmtpSink) -> None:
    own = smtp_settings(settings, smtp_server)
    activities = EmailActivities(own, db, SmtpEmailProvider(own))
    data = SendEmailInput(
        key=f"email-once-{uuid.uuid4().hex}",
        to="a@example.com",
        template="magic_link",
        locale="en",
        context={"link": LINK, "minutes": 10},
    )
    first = await activities.send(data)
    again = await activities.send(data)  # a retried attempt after the send went through
    assert not first.already_sent and again.already_sent
    assert again.provider_message_id == first.provider_message_id
    assert len(smtp_server.messages) == 1


async def test_ses_v2_through_moto(
    settings: Settings, db: Database, moto_url: str, aws_credentials: None
) -> None:
    from moto.ses.models import ses_backends

    own = settings.model_copy(
        update={
            "email_backend": EmailBackend.ses,
            "ses_endpoint_url": moto_url,
            "ses_region": "eu-west-1",
            "email_from": "Pulse <no-reply@pulse.example>",
        }
    )
    sesv2 = boto3.client("sesv2", region_name="eu-west-1", endpoint_url=moto_url)
    sesv2.create_email_identity(EmailIdentity="no-reply@pulse.example")
    provider = build_email_provider(own)
    assert isinstance(provider, SesEmailProvider)
    activities = EmailActivities(own, db, provider)
    data = SendEmailInput(
        key=f"email-ses-{uuid.uuid4().hex}",
        to="omar@example.jo",
        template="magic_link",
        locale="ar",
        context={"link": LINK, "minutes": 10},
        deliver_within_seconds=int(timedelta(minutes=10).total_seconds()),
    )
    result = await activities.send(data)
    assert result.backend == "ses" and result.provider_message_id
    sent = [
        m
        for m in ses_backends["123456789012"]["eu-west-1"].sent_messages
        if m.id == result.provider_message_id
    ]
    assert len(sent) == 1
    assert sent[0].subject == "رابط تسجيل دخولك إلى استوديو بلس للذكاء الاصطناعي"
    assert '<html lang="ar" dir="rtl">' in sent[0].body
    assert sent[0].destinations["ToAddresses"] == ["omar@example.jo"]


async def test_permanent_refusals_are_not_retried(
    settings: Settings, db: Database, smtp_server: SmtpSink, moto_url: str, aws_credentials: None
) -> None:
    smtp = EmailActivities(settings, db, SmtpEmailProvider(smtp_settings(settings, smtp_server)))
    bounce = SendEmailInput(
        key=f"email-bounce-{uuid.uuid4().hex}",
        to="bounce@example.com",
        template="magic_link",
        locale="ar",
        context={"link": LINK, "minutes": 10},
    )
    with pytest.raises(ApplicationError) as refused:
        await smtp.send(bounce)
    assert refused.value.non_retryable and refused.value.type == "EmailRejected"
    unverified = settings.model_copy(
        update={
            "ses_endpoint_url": moto_url,
            "email_from": f"nobody-{uuid.uuid4().hex[:6]}@unverified.example",
        }
    )
    ses = EmailActivities(unverified, db, SesEmailProvider(unverified))
    with pytest.raises(ApplicationError) as rejected:
        await ses.send(replace(bounce, key=f"email-unverified-{uuid.uuid4().hex}", to="a@example.com"))
    assert rejected.value.non_retryable
    async with db.session() as session:
        assert await delivered(session, bounce.key) is None


def test_every_email_sentence_has_arabic() -> None:
    """Each ``_("…")`` in every email template (any domain's) has an Arabic translation."""
    import re

    from core.i18n import translations

    catalog = translations("ar")
    pattern = re.compile(r"""_\(\s*"((?:[^"\\]|\\.)*)"|_\(\s*'((?:[^'\\]|\\.)*)'""")
    missing: list[str] = []
    checked = 0
    for path in sorted(TEMPLATES.iterdir()):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            msgid = match.group(1) or match.group(2)
            checked += 1
            if catalog.gettext(msgid) == msgid:
                missing.append(f"{path.name}: {msgid}")
    assert checked >= 8  # the magic-link email alone has eight sentences
    assert missing == []


async def test_smtp_with_starttls_like_ses(
    settings: Settings, db: Database, starttls_smtp_server: TlsSmtpSink
) -> None:
    sink = starttls_smtp_server
    own = smtp_settings(settings, sink).model_copy(
        update={"smtp_starttls": True, "smtp_ca_file": sink.ca_file}
    )
    activities = EmailActivities(own, db, build_email_provider(own))
    data = SendEmailInput(
        key=f"email-tls-{uuid.uuid4().hex}",
        to="hala@example.jo",
        template="magic_link",
        locale="ar",
        context={"link": LINK, "minutes": 10},
    )
    result = await activities.send(data)
    assert result.backend == "smtp"
    assert sink.logins == [SMTP_USER] and len(sink.messages) == 1
    plain = own.model_copy(update={"smtp_starttls": False})
    refused = EmailActivities(plain, db, SmtpEmailProvider(plain))
    # the server demands STARTTLS first: a configuration error, left retryable so a fix takes effect
    with pytest.raises(smtplib.SMTPNotSupportedError):
        await refused.send(replace(data, key=f"email-plain-{uuid.uuid4().hex}"))
    assert len(sink.messages) == 1
