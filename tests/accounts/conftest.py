"""Accounts fixtures: an SMTP server (aiosmtpd), an SES API (moto's server), and apps served with
their own settings (tight rate limits, prod mode)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from moto.server import ThreadedMotoServer

from core.db import Database
from core.models import MagicLinkToken, User
from tests.conftest import free_port

SMTP_USER = "AKIASESSMTPUSER"
SMTP_PASSWORD = "ses-smtp-password"


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("bounce"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """aiosmtpd on a free port that requires SES-style LOGIN credentials."""
    sink = SmtpSink("127.0.0.1", free_port())
    controller = Controller(
        sink,
        hostname=sink.host,
        port=sink.port,
        authenticator=sink.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test credentials every AWS-speaking test uses. boto3's default session keeps the
    first credentials it resolves for the life of the process, so these must be the same as
    tests/storage's (no session token: SeaweedFS's gateway refuses an unknown one)."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


async def latest_token_row(db: Database, email: str) -> MagicLinkToken:
    from sqlalchemy import func, select

    async with db.session() as session:
        query = (
            select(MagicLinkToken)
            .join(User, User.id == MagicLinkToken.user_id)
            .where(func.lower(User.email) == email.lower())
            .order_by(MagicLinkToken.created_at.desc())
            .limit(1)
        )
        row = (await session.execute(query)).scalar_one()
    return row


@pytest_asyncio.fixture
async def redis_flush_prefix() -> AsyncIterator[list[str]]:
    """Prefixes registered here have their Redis keys deleted after the test."""
    prefixes: list[str] = []
    yield prefixes
    import redis.asyncio as redis

    client = redis.from_url("redis://127.0.0.1:6379/0")
    with contextlib.suppress(Exception):
        for prefix in prefixes:
            async for key in client.scan_iter(f"{prefix}*"):
                await client.delete(key)
    await client.aclose()


@contextlib.asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    """Serve an app built in the test (e.g. create_app + extra routes) with uvicorn on a free port."""
    import asyncio

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA) and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class TlsSmtpSink(SmtpSink):
    ca_file: str = ""


@pytest.fixture
def starttls_smtp_server(tmp_path: Path) -> Iterator[TlsSmtpSink]:
    """aiosmtpd like SES's SMTP endpoint on 587: STARTTLS required before AUTH LOGIN."""
    import ssl

    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = TlsSmtpSink("127.0.0.1", free_port(), ca_file=str(cert))
    controller = Controller(
        sink,
        hostname=sink.host,
        port=sink.port,
        authenticator=sink.authenticate,
        auth_required=True,
        auth_require_tls=True,
        require_starttls=True,
        tls_context=context,
    )
    controller.start()
    yield sink
    controller.stop()
