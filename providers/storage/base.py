"""The storage interface: what every backend (S3, local files) offers, and the key rule.

Buckets are logical: ``assets`` (scanned files and job outputs) and ``quarantine`` (uploads
before their scan). Keys are derived from owner, kind and job (``object_key``), so a retried
activity overwrites its own object and never writes a second one."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal, Protocol
from urllib.parse import quote

Bucket = Literal["assets", "quarantine"]
ASSETS: Bucket = "assets"
QUARANTINE: Bucket = "quarantine"
BUCKETS: tuple[Bucket, ...] = (ASSETS, QUARANTINE)
CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ObjectMissing(Exception):
    """The object does not exist (or was already deleted)."""


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    content_type: str


@dataclass(frozen=True)
class PresignedPost:
    """A browser form: POST ``fields`` then the file (last) as multipart to ``url``. A relative
    ``url`` (the local backend) is relative to the API's origin."""

    url: str
    fields: dict[str, str] = field(default_factory=dict)


def safe_name(name: str, default: str = "file") -> str:
    """A key-safe version of a file name (ASCII letters, digits, ``._-``; at most 100 chars)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_name).strip("._")[:100]
    return cleaned or default


def object_key(user_id: str, kind: str, job_id: str, name: str) -> str:
    """``u/<user>/<kind>/<job>/<name>``: the one key of a job's output (or an upload)."""
    for part in (user_id, kind, job_id):
        if not part or "/" in part:
            raise ValueError(f"invalid key part {part!r}")
    return f"u/{user_id}/{kind}/{job_id}/{safe_name(name)}"


def user_prefix(user_id: str) -> str:
    return f"u/{user_id}/"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''…`` (RFC 6266 + RFC 5987)."""
    fallback = safe_name(filename, "download").replace('"', "")
    encoded = quote(filename, safe="")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


class Storage(Protocol):
    """One interface, two backends (``S3Storage``, ``LocalStorage``)."""

    name: str

    async def put(self, bucket: Bucket, key: str, data: bytes, content_type: str) -> ObjectInfo: ...

    async def put_file(
        self, bucket: Bucket, key: str, source: Path | BinaryIO, content_type: str
    ) -> ObjectInfo:
        """Store a file (a path, or a binary file object read from its position) without holding
        it in memory: S3 uploads it in parts, local files copy it in chunks. The stored object's
        info (its size as stored)."""
        ...

    async def get(self, bucket: Bucket, key: str) -> bytes:
        """The whole object (raises ObjectMissing). For big objects use ``chunks``."""
        ...

    def chunks(self, bucket: Bucket, key: str, size: int = CHUNK) -> AsyncIterator[bytes]:
        """The object's bytes in chunks of at most ``size`` (raises ObjectMissing)."""
        ...

    async def head(self, bucket: Bucket, key: str) -> ObjectInfo | None: ...

    async def exists(self, bucket: Bucket, key: str) -> bool: ...

    async def delete(self, bucket: Bucket, key: str) -> None:
        """Delete; deleting a missing object is not an error (idempotent)."""
        ...

    async def copy(self, src: Bucket, key: str, dst: Bucket, dst_key: str | None = None) -> ObjectInfo:
        """Copy ``key`` from ``src`` to ``dst`` (same key unless ``dst_key``); idempotent."""
        ...

    async def move(self, src: Bucket, key: str, dst: Bucket, dst_key: str | None = None) -> ObjectInfo:
        """Copy then delete the source. A retry after the delete finds the copy and succeeds."""
        ...

    async def presigned_post(
        self, bucket: Bucket, key: str, *, content_type: str, size: int, expires_in: int
    ) -> PresignedPost:
        """An upload form for exactly ``size`` bytes of ``content_type`` to ``key``."""
        ...

    async def signed_get_url(
        self,
        bucket: Bucket,
        key: str,
        *,
        filename: str,
        content_type: str,
        expires_in: int,
        inline: bool = False,
    ) -> str:
        """A short-lived download link that names the file (Content-Disposition)."""
        ...

    async def ensure_buckets(self) -> None:
        """Create what the backend needs (dirs; buckets in dev/test only)."""
        ...

    async def aclose(self) -> None: ...


async def move_object(
    storage: Storage, src: Bucket, key: str, dst: Bucket, dst_key: str | None = None
) -> ObjectInfo:
    """Shared ``move``: copy (unless a previous attempt already did), then delete the source."""
    target = dst_key or key
    source = await storage.head(src, key)
    if source is None:
        existing = await storage.head(dst, target)
        if existing is None:
            raise ObjectMissing(f"{src}/{key}")
        return existing  # an earlier attempt copied and deleted
    info = await storage.copy(src, key, dst, target)
    await storage.delete(src, key)
    return info
