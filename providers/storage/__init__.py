"""Object storage: one interface (``Storage``), two backends — S3 (production) and local files
under ``var/storage`` (the embedded default). See docs/storage.md."""

from __future__ import annotations

from core.settings import Settings
from providers.storage.base import (
    ASSETS,
    QUARANTINE,
    Bucket,
    ObjectInfo,
    ObjectMissing,
    PresignedPost,
    Storage,
    content_disposition,
    object_key,
    safe_name,
    user_prefix,
)
from providers.storage.local import LocalStorage, SignatureInvalid

__all__ = [
    "ASSETS",
    "QUARANTINE",
    "Bucket",
    "LocalStorage",
    "ObjectInfo",
    "ObjectMissing",
    "PresignedPost",
    "SignatureInvalid",
    "Storage",
    "browser_origins",
    "build_storage",
    "content_disposition",
    "object_key",
    "safe_name",
    "user_prefix",
]


def browser_origins(settings: Settings) -> tuple[str, ...]:
    """Other origins than ours that pages fetch from or post to for storage (none when local)."""
    if settings.storage_backend != "s3":
        return ()
    from providers.storage.s3 import browser_origins as s3_origins

    return s3_origins(settings)


def build_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        from providers.storage.s3 import S3Storage

        return S3Storage(settings)
    return LocalStorage(settings.storage_dir, settings.secret_key.get_secret_value())
