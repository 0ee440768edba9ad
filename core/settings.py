"""One settings class for the whole studio (env prefix ``PULSE_``).

Dev defaults are the embedded stack: SQLite and local files under ``var/``, the dev
outbox for email, in-memory bus and rate limits, and every provider pointed at the emulator.
Production refuses missing or placeholder secrets.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRETS = {"", "changeme", "changethis", "dev", "secret", "placeholder", "x"}
DEV_SECRET = "dev-only-secret-change-me-in-production-0123456789"
DEV_HYPERPAY_TOKEN = "dev-hyperpay-token"
DEV_HYPERPAY_WEBHOOK_SECRET = "0" * 63 + "1"
DEV_PROVIDER_KEY = "emulator-dev-key"
DEV_ENTITY_PREFIX = "8ac7a4c9dev"  # the emulator's entity ids (defaults below)
PROVIDER_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "google": "https://generativelanguage.googleapis.com",
}
EMULATOR_PATHS = {"openai": "/v1", "anthropic": "", "google": ""}


class Env(StrEnum):
    dev = "dev"
    test = "test"
    prod = "prod"


class EmailBackend(StrEnum):
    outbox = "outbox"  # dev: files under var/outbox, shown at /dev/mailbox
    smtp = "smtp"
    ses = "ses"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PULSE_", extra="forbid", env_file=None)

    # Unset means prod: a server started without PULSE_ENV never runs in a dev mode by accident
    # (no /dev/mailbox, Secure cookies, every secret and provider setting required).
    # `pulse dev` and the tests say dev/test explicitly.
    env: Env = Env.prod
    var_dir: Path = ROOT / "var"
    public_url: str = ""  # defaults to http://127.0.0.1:<http_port>

    # HTTP
    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=1, le=65535)

    # Database
    database_url: str = ""  # defaults to sqlite+aiosqlite under var/
    database_pool_size: int = Field(10, ge=1)
    # PostgreSQL that hangs (a partition, a black-holed failover) fails a statement after this
    # long and a new connection after the connect timeout: an outage, ridden out, never a hang.
    database_command_timeout_seconds: float = Field(10.0, gt=0)
    database_connect_timeout_seconds: float = Field(5.0, gt=0)

    # Temporal
    temporal_address: str = ""  # defaults to 127.0.0.1:<temporal_port>
    temporal_port: int = Field(7233, ge=1, le=65535)
    temporal_ui_port: int = Field(8233, ge=1, le=65535)
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_api_key: SecretStr | None = None
    temporal_task_queue_prefix: str = ""
    payload_codec_key: SecretStr | None = None  # hex AES-256 key; encrypts PII payloads

    # Secrets
    secret_key: SecretStr = SecretStr(DEV_SECRET)

    # Redis (stream bus, rate limits); memory when empty
    redis_url: str = ""
    redis_prefix: str = "pulse:"

    # Emulator (dev): providers default to it
    emulator_port: int = Field(8765, ge=1, le=65535)

    # --- accounts ---
    email_backend: EmailBackend = EmailBackend.outbox
    email_from: str = "Pulse AI Studio <no-reply@pulse.local>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True  # STARTTLS on 587 (SES SMTP); set smtp_ssl for implicit TLS on 465
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    smtp_ca_file: str = ""  # extra CA bundle for a private relay; system CAs otherwise
    ses_region: str = "eu-west-1"
    ses_endpoint_url: str = ""  # tests point this at moto's server
    ses_configuration_set: str = ""
    session_ttl_days: int = Field(30, ge=1)
    magic_link_ttl_minutes: int = Field(10, ge=1, le=60)
    cookie_secure: bool | None = None  # derived: Secure outside dev/test
    rate_limit_magic_link_email: str = "5/10 minutes"
    rate_limit_magic_link_ip: str = "20/10 minutes"
    rate_limit_verify_ip: str = "30/10 minutes"
    rate_limit_api_user: str = "600/minute"

    # --- payments ---
    hyperpay_base_url: str = ""  # defaults to the emulator: <emulator_url>/hyperpay
    hyperpay_access_token: SecretStr = SecretStr(DEV_HYPERPAY_TOKEN)
    hyperpay_entity_id: str = "8ac7a4c9dev0000000000000000visa"  # VISA MASTER
    hyperpay_entity_id_mada: str = "8ac7a4c9dev0000000000000000mada"  # MADA; empty disables it
    hyperpay_webhook_secret: SecretStr = SecretStr(DEV_HYPERPAY_WEBHOOK_SECRET)  # 64 hex chars
    hyperpay_test_mode: Literal["", "INTERNAL", "EXTERNAL"] = ""  # sent only to test hosts
    payments_checkout_timeout_s: float = Field(1800.0, gt=0)  # HyperPay checkouts live 30 min
    payments_dunning_days: list[float] = [1.0, 3.0, 7.0]  # renewal retries, days after the failure
    payments_poll_initial_s: float = Field(30.0, gt=0)  # pending: re-check after (x2, HyperPay 2/min)
    payments_retry_initial_s: float = Field(5.0, gt=0)  # HyperPay unreachable: first retry after
    payments_renewal_period_s: float = Field(0.0, ge=0)  # 0: calendar months; tests use seconds
    payments_return_wait_s: float = Field(8.0, ge=0)  # the return page waits this long for a result
    payments_webhook_max_bytes: int = Field(65536, gt=0)  # larger webhook bodies answer 413
    rate_limit_webhook_ip: str = "600/minute"  # HyperPay's deliveries per source address
    rate_limit_billing_return_ip: str = "60/minute"  # /billing/return per address

    @model_validator(mode="after")
    def _payments_defaults(self) -> Settings:
        if not self.hyperpay_base_url:
            self.hyperpay_base_url = f"{self.emulator_url}/hyperpay"
        self.hyperpay_base_url = self.hyperpay_base_url.rstrip("/")
        secret = self.hyperpay_webhook_secret.get_secret_value()
        if len(secret) != 64 or any(c not in "0123456789abcdefABCDEF" for c in secret):
            raise ValueError("PULSE_HYPERPAY_WEBHOOK_SECRET must be 64 hex characters")
        return self

    def _refuse_dev_payments(self) -> None:
        """In prod, payments never go to the emulator or use the public dev credentials."""
        real_host = self.hyperpay_base_url != f"{self.emulator_url}/hyperpay"
        secret = self.hyperpay_webhook_secret.get_secret_value()
        missing = [
            name
            for name, is_dev in (
                ("PULSE_HYPERPAY_BASE_URL", not real_host),
                (
                    "PULSE_HYPERPAY_ACCESS_TOKEN",
                    self.hyperpay_access_token.get_secret_value() == DEV_HYPERPAY_TOKEN,
                ),
                ("PULSE_HYPERPAY_WEBHOOK_SECRET", secret == DEV_HYPERPAY_WEBHOOK_SECRET),
                ("PULSE_HYPERPAY_ENTITY_ID", self.hyperpay_entity_id.startswith(DEV_ENTITY_PREFIX)),
            )
            if is_dev
        ]
        if missing:
            raise ValueError(f"{', '.join(missing)} must be set to the live HyperPay values in prod")
        if self.hyperpay_entity_id_mada.startswith(DEV_ENTITY_PREFIX):
            raise ValueError("PULSE_HYPERPAY_ENTITY_ID_MADA must be the live MADA entity (or empty) in prod")

    # --- providers ---
    # Empty base URLs point at the emulator in dev/test and at the real service in prod.
    openai_api_key: SecretStr = SecretStr(DEV_PROVIDER_KEY)
    openai_base_url: str = ""
    openai_enabled: bool = True
    anthropic_api_key: SecretStr = SecretStr(DEV_PROVIDER_KEY)
    anthropic_base_url: str = ""
    anthropic_enabled: bool = True
    google_api_key: SecretStr = SecretStr(DEV_PROVIDER_KEY)
    google_base_url: str = ""
    google_enabled: bool = True
    moderation_enabled: bool = True
    # Replicate (images): empty base URL → the emulator in dev/test, api.replicate.com in prod.
    replicate_api_token: SecretStr = SecretStr(DEV_PROVIDER_KEY)
    replicate_base_url: str = ""
    replicate_enabled: bool | None = None  # unset: on, except in prod without a real token
    replicate_webhooks: bool = True  # ask Replicate for a completion webhook (polling runs anyway)
    replicate_webhook_url: str = ""  # empty: <public_url> in prod, the request's origin in dev/test
    replicate_webhook_secret: SecretStr = SecretStr("")  # empty: fetched from the API once
    replicate_webhook_tolerance_seconds: int = Field(300, ge=1)  # older timestamps are refused
    image_poll_initial_seconds: float = Field(1.0, gt=0)  # first poll of a prediction after submit
    image_poll_max_seconds: float = Field(10.0, gt=0)  # polling backoff cap (webhook usually wins)
    # Video (docs/video.md): Runway, and overrides of the catalog's polling pace and ceiling.
    runway_api_key: SecretStr = SecretStr(DEV_PROVIDER_KEY)
    runway_base_url: str = ""  # empty: the emulator in dev/test, api.dev.runwayml.com in prod
    runway_enabled: bool | None = None  # unset: on, except in prod without a real key
    video_poll_initial_seconds: float | None = Field(None, gt=0)  # unset: the model's own
    video_poll_max_seconds: float | None = Field(None, gt=0)
    video_ceiling_seconds: float | None = Field(None, gt=0)  # unset: the model's own ceiling
    video_ready_email_after_seconds: int = Field(120, ge=0)  # renders longer than this send an email

    # --- ledger ---
    ledger_warning_percent: int = Field(80, ge=1, le=100)  # usage warning (banner + one email)
    ledger_sweep_interval_seconds: int = Field(300, ge=5)  # how often the sweeper schedule runs
    ledger_orphan_grace_seconds: int = Field(900, ge=0)  # a reservation is swept only after this
    ledger_sweep_batch: int = Field(200, ge=1)  # reservations checked per sweep
    ledger_sweeper_schedule: bool = True  # `pulse worker` creates/updates the sweeper schedule

    # --- chat under faults (docs/chat.md "Faults") ---
    # ledger/status steps retry forever, at most this far apart
    chat_bookkeeping_retry_cap_seconds: float = Field(10.0, gt=0)
    chat_heartbeat_timeout_seconds: float = Field(5.0, gt=0)  # a silent stream attempt is replaced
    chat_outage_budget_seconds: float = Field(120.0, gt=0)  # infrastructure errors ridden out this long
    job_orphan_grace_seconds: float = Field(30.0, gt=0)  # an unfinished row without workflow: repaired
    chat_streams_in_api: bool = True  # False: replies always stream on dedicated workers (with Redis)
    job_sweep_interval_seconds: float = Field(10.0, gt=0)  # how often `pulse worker` looks for such rows
    job_sweep_batch: int = Field(200, ge=1)  # rows one round checks (the next round goes on after them)
    # how often `pulse worker` (background queue) checks every paid period has its renewal workflow
    subscription_repair_interval_seconds: float = Field(600.0, gt=0)

    # --- accounts housekeeping ---
    auth_purge_schedule: bool = True  # `pulse worker` keeps a daily purge of dead links/sessions
    auth_purge_keep_days: int = Field(7, ge=0)  # dead rows are kept this long (for support)
    # `pulse worker` keeps a schedule that erases accounts past their deletion grace period and
    # deletes data-export archives past their keep period (workflows/data_export.py)
    account_erasure_schedule: bool = True
    account_erasure_interval_seconds: int = Field(3600, ge=5)
    rate_limit_data_export: str = "5/day"  # data exports a person may ask for

    # --- storage, uploads, scanning (docs/storage.md) ---
    storage_backend: Literal["local", "s3"] = "local"  # local: files under var/storage
    s3_endpoint_url: str = ""  # empty: AWS; tests point this at moto's server
    # where browsers reach S3 when it differs from s3_endpoint_url (upload forms and download
    # links are signed for it; the pages' CSP allows its origin); empty: as s3_endpoint_url
    s3_public_url: str = ""
    s3_region: str = "eu-west-1"
    s3_bucket_assets: str = "pulse-assets"
    s3_bucket_quarantine: str = "pulse-quarantine"
    s3_sse: Literal["AES256", "aws:kms"] = "AES256"  # server-side encryption of every object
    s3_kms_key_id: str = ""  # with s3_sse=aws:kms; empty: the bucket's default key
    storage_upload_ttl_seconds: int = Field(600, ge=30, le=3600)  # presigned POST lifetime
    storage_download_ttl_seconds: int = Field(300, ge=10, le=86400)  # signed GET lifetime
    clamd_socket: str = ""  # clamd's unix socket; empty: var/clamd/clamd.sock
    clamd_address: str = ""  # host:port of a clamd over TCP (wins over the socket when set)
    clamd_timeout_seconds: float = Field(60.0, gt=0)
    clamd_max_bytes: int = Field(25 * 1024 * 1024, ge=1)  # clamd's StreamMaxLength: bigger is refused
    files_max_bytes: dict[str, int] = {  # per purpose
        "chat": 20 * 1024 * 1024,
        "image_input": 10 * 1024 * 1024,
        "cv_photo": 5 * 1024 * 1024,
        "document": 20 * 1024 * 1024,
    }
    files_allowed_types: dict[str, list[str]] = {  # per purpose; sniffed from the bytes too
        "chat": [
            "image/png",
            "image/jpeg",
            "image/webp",
            "image/gif",
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "text/plain",
            "text/markdown",
            "text/csv",
        ],
        "image_input": ["image/png", "image/jpeg", "image/webp"],
        "cv_photo": ["image/png", "image/jpeg", "image/webp"],
        "document": [
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "text/plain",
            "text/markdown",
        ],
    }
    storage_plan_limits_mb: dict[str, int] = {"free": 100, "starter": 1024, "pro": 5120, "creator": 10240}
    files_plan_max_mb: dict[str, int] = {"free": 20, "starter": 25, "pro": 25, "creator": 25}  # one file
    files_pending_grace_seconds: int = Field(3600, ge=0)  # an upload never completed is swept after
    files_sweep_interval_seconds: int = Field(900, ge=5)
    files_sweeper_schedule: bool = True  # `pulse worker` keeps the orphan-upload sweeper schedule
    # Slide decks: an outline nobody approves ends the deck (and releases its reservation) after
    slides_outline_timeout_seconds: int = Field(24 * 3600, ge=5, le=30 * 86400)
    slides_image_model: str = "gpt-image-1"  # pictures on image + text slides (the image studio's)
    slides_source_max_bytes: int = Field(10 * 1024 * 1024, ge=1)  # an uploaded document as a deck's source

    # Logging
    log_level: str = "INFO"
    log_json: bool = True

    # Metrics (Prometheus; docs/operations.md)
    metrics_token: SecretStr | None = None  # when set, GET /metrics needs "Bearer <token>"
    worker_metrics_bind: str = ""  # host:port where `pulse worker` serves its metrics; empty: off
    temporal_metrics_bind: str = ""  # host:port for the Temporal SDK's own metrics; empty: off
    otel_endpoint: str = ""  # OTLP/HTTP collector base URL (http://collector:4318); empty: no tracing

    # Worker versioning (docs/deploy.md): with both set, workers join that Worker Deployment
    # Version and new workflows stay pinned to the version they started on.
    worker_deployment_name: str = ""
    worker_build_id: str = ""

    @model_validator(mode="after")
    def _derive_and_check(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.var_dir / 'pulse.db'}"
        if not self.temporal_address:
            self.temporal_address = f"127.0.0.1:{self.temporal_port}"
        if not self.public_url:
            self.public_url = f"http://127.0.0.1:{self.http_port}"
        if not self.database_url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError(
                "PULSE_DATABASE_URL must start with postgresql+asyncpg:// or sqlite+aiosqlite://"
            )
        if self.cookie_secure is None:
            self.cookie_secure = self.env == Env.prod
        self._check_rate_limits()
        for provider, real_url in PROVIDER_URLS.items():
            if not getattr(self, f"{provider}_base_url"):
                default = real_url if self.env == Env.prod else self.emulator_url + EMULATOR_PATHS[provider]
                setattr(self, f"{provider}_base_url", default)
        if self.env == Env.prod:
            self._refuse_placeholders()
        return self

    @model_validator(mode="after")
    def _derive_video(self) -> Settings:
        prod = self.env == Env.prod
        if not self.runway_base_url:
            self.runway_base_url = "https://api.dev.runwayml.com" if prod else self.emulator_url
        placeholder = self.runway_api_key.get_secret_value() in PLACEHOLDER_SECRETS | {DEV_PROVIDER_KEY}
        if self.runway_enabled is None:
            self.runway_enabled = not (prod and placeholder)
        if prod and self.runway_enabled and placeholder:
            raise ValueError(
                "PULSE_RUNWAY_API_KEY must be a real key in prod (or PULSE_RUNWAY_ENABLED=false)"
            )
        return self

    @model_validator(mode="after")
    def _derive_images(self) -> Settings:
        if not self.replicate_base_url:
            prod = self.env == Env.prod
            self.replicate_base_url = "https://api.replicate.com" if prod else self.emulator_url
        placeholder = self.replicate_api_token.get_secret_value() in PLACEHOLDER_SECRETS | {DEV_PROVIDER_KEY}
        if self.replicate_enabled is None:
            self.replicate_enabled = not (self.env == Env.prod and placeholder)
        if self.env == Env.prod and self.replicate_enabled and placeholder:
            raise ValueError(
                "PULSE_REPLICATE_API_TOKEN must be a real token in prod (or PULSE_REPLICATE_ENABLED=false)"
            )
        return self

    def _check_rate_limits(self) -> None:
        from limits import parse_many

        for name in type(self).model_fields:
            if name.startswith("rate_limit_"):
                try:
                    parse_many(getattr(self, name))
                except ValueError:
                    raise ValueError(f"{name}: expected a limit like '5/10 minutes'") from None

    def _refuse_placeholders(self) -> None:
        secret = self.secret_key.get_secret_value()
        if secret in PLACEHOLDER_SECRETS or secret == DEV_SECRET or len(secret) < 32:
            raise ValueError("PULSE_SECRET_KEY must be set to a random value of at least 32 characters")
        if self.database_url.startswith("sqlite"):
            raise ValueError("PULSE_DATABASE_URL must point at PostgreSQL in prod")
        if self.email_backend == EmailBackend.outbox:
            raise ValueError("PULSE_EMAIL_BACKEND must be smtp or ses in prod (the outbox is dev only)")
        self._refuse_dev_payments()
        for provider in PROVIDER_URLS:
            key: SecretStr = getattr(self, f"{provider}_api_key")
            if getattr(self, f"{provider}_enabled") and key.get_secret_value() in (
                PLACEHOLDER_SECRETS | {DEV_PROVIDER_KEY}
            ):
                name = f"PULSE_{provider.upper()}_API_KEY"
                raise ValueError(
                    f"{name} must be a real key in prod (or set PULSE_{provider.upper()}_ENABLED=false)"
                )

    @property
    def is_dev(self) -> bool:
        return self.env in (Env.dev, Env.test)

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def storage_dir(self) -> Path:
        return self.var_dir / "storage"

    @property
    def clamd_socket_path(self) -> str:
        return self.clamd_socket or str(self.var_dir / "clamd" / "clamd.sock")

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    def to_env(self) -> dict[str, str]:
        """These settings as ``PULSE_*`` variables, to configure a child process."""
        env: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, dict | list):
                value = json.dumps(value, default=str)  # pydantic-settings reads JSON for these
            env[f"PULSE_{name.upper()}"] = str(value)
        return env

    def task_queue(self, name: str) -> str:
        return f"{self.temporal_task_queue_prefix}{name}"


def describe_error(error: ValidationError) -> str:
    """One line naming the variable and what it expects."""
    first: dict[str, Any] = dict(error.errors()[0])
    loc = [str(part) for part in first.get("loc", ()) if part]
    name = f"PULSE_{loc[0].upper()}" if loc else "PULSE settings"
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        return f"{name}: unknown setting"
    if not loc:
        return message
    return f"{name}: {message} (got {first.get('input')!r})"


def unknown_variables(environ: dict[str, str]) -> list[str]:
    known = {f"PULSE_{name.upper()}" for name in Settings.model_fields}
    return sorted(key for key in environ if key.startswith("PULSE_") and key not in known)


def load_settings(**overrides: Any) -> Settings:
    """Build settings, or stop the process with one clear line."""
    unknown = unknown_variables(dict(os.environ))
    if unknown:
        sys.stderr.write(f"pulse: invalid setting: {unknown[0]}: unknown setting\n")
        raise SystemExit(2)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        sys.stderr.write(f"pulse: invalid setting: {describe_error(error)}\n")
        raise SystemExit(2) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
