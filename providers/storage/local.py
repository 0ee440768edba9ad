"""Local files under ``var/storage/<bucket>/<key>`` (the embedded default).

Uploads and downloads go through the API (``/v1/storage/upload``, ``/v1/storage/objects/…``)
with HMAC-signed, expiring parameters, so the browser does exactly what it does against S3:
POST the form fields and the file, follow a link to download."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode

from providers.storage.base import (
    BUCKETS,
    CHUNK,
    Bucket,
    ObjectInfo,
    ObjectMissing,
    PresignedPost,
    move_object,
)

UPLOAD_PATH = "/v1/storage/upload"
DOWNLOAD_PATH = "/v1/storage/objects"
POST_FIELDS = ("bucket", "key", "Content-Type", "size", "expires")


class SignatureInvalid(Exception):
    """A form or link that was not signed by us, was altered, or has expired."""


class LocalStorage:
    name = "local"

    def __init__(self, root: Path, secret: str) -> None:
        self.root = root
        self._key = hashlib.sha256(b"pulse-storage:" + secret.encode()).digest()

    # --- paths and metadata ---

    def path(self, bucket: str, key: str) -> Path:
        if bucket not in BUCKETS:
            raise ValueError(f"unknown bucket {bucket!r}")
        target = (self.root / bucket / key).resolve()
        if not target.is_relative_to((self.root / bucket).resolve()) or key.endswith("/"):
            raise ValueError(f"invalid key {key!r}")
        return target

    def _meta_path(self, bucket: str, key: str) -> Path:
        return self.root / ".meta" / bucket / f"{key}.json"

    def _info(self, bucket: str, key: str) -> ObjectInfo | None:
        path = self.path(bucket, key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        try:
            meta = json.loads(self._meta_path(bucket, key).read_text())
        except (FileNotFoundError, ValueError):
            meta = {}
        return ObjectInfo(bucket, key, size, meta.get("content_type", "application/octet-stream"))

    def _write(self, bucket: str, key: str, source: Any, content_type: str) -> ObjectInfo:
        """Atomically write a file-like ``source`` (or bytes) and its content type."""
        path = self.path(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as handle:
            if isinstance(source, bytes | bytearray):
                handle.write(source)
            else:
                shutil.copyfileobj(source, handle, CHUNK)
        meta = self._meta_path(bucket, key)
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({"content_type": content_type}))
        os.replace(temp, path)
        info = self._info(bucket, key)
        assert info is not None
        return info

    # --- the Storage interface ---

    async def put(self, bucket: Bucket, key: str, data: bytes, content_type: str) -> ObjectInfo:
        return await asyncio.to_thread(self._write, bucket, key, data, content_type)

    async def put_file(
        self, bucket: Bucket, key: str, source: Path | BinaryIO, content_type: str
    ) -> ObjectInfo:
        def _copy() -> ObjectInfo:
            if isinstance(source, Path):
                with source.open("rb") as handle:
                    return self._write(bucket, key, handle, content_type)
            return self._write(bucket, key, source, content_type)

        return await asyncio.to_thread(_copy)

    async def get(self, bucket: Bucket, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self.path(bucket, key).read_bytes)
        except FileNotFoundError:
            raise ObjectMissing(f"{bucket}/{key}") from None

    async def chunks(self, bucket: Bucket, key: str, size: int = CHUNK) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(self.path(bucket, key).open, "rb")
        except FileNotFoundError:
            raise ObjectMissing(f"{bucket}/{key}") from None
        try:
            while chunk := await asyncio.to_thread(handle.read, size):
                yield chunk
        finally:
            handle.close()

    async def head(self, bucket: Bucket, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._info, bucket, key)

    async def exists(self, bucket: Bucket, key: str) -> bool:
        return await self.head(bucket, key) is not None

    async def delete(self, bucket: Bucket, key: str) -> None:
        def _delete() -> None:
            self.path(bucket, key).unlink(missing_ok=True)
            self._meta_path(bucket, key).unlink(missing_ok=True)

        await asyncio.to_thread(_delete)

    async def copy(self, src: Bucket, key: str, dst: Bucket, dst_key: str | None = None) -> ObjectInfo:
        info = await self.head(src, key)
        if info is None:
            raise ObjectMissing(f"{src}/{key}")

        def _copy() -> ObjectInfo:
            with self.path(src, key).open("rb") as handle:
                return self._write(dst, dst_key or key, handle, info.content_type)

        return await asyncio.to_thread(_copy)

    async def move(self, src: Bucket, key: str, dst: Bucket, dst_key: str | None = None) -> ObjectInfo:
        """A rename (same filesystem): no copy of the bytes. A retry after it finds the target."""

        def _rename() -> bool:
            source, target = self.path(src, key), self.path(dst, dst_key or key)
            target.parent.mkdir(parents=True, exist_ok=True)
            meta_target = self._meta_path(dst, dst_key or key)
            meta_target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(source, target)
            except FileNotFoundError:
                return False
            with contextlib.suppress(FileNotFoundError):
                os.replace(self._meta_path(src, key), meta_target)
            return True

        if not await asyncio.to_thread(_rename):
            return await move_object(self, src, key, dst, dst_key)  # already moved, or missing
        info = await self.head(dst, dst_key or key)
        assert info is not None
        return info

    async def presigned_post(
        self, bucket: Bucket, key: str, *, content_type: str, size: int, expires_in: int
    ) -> PresignedPost:
        self.path(bucket, key)  # validates
        fields = {
            "bucket": bucket,
            "key": key,
            "Content-Type": content_type,
            "size": str(size),
            "expires": str(int(time.time()) + expires_in),
        }
        fields["signature"] = self._sign("post", *(fields[name] for name in POST_FIELDS))
        return PresignedPost(UPLOAD_PATH, fields)

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
        expires = str(int(time.time()) + expires_in)
        disposition = "inline" if inline else "attachment"
        params = {
            "filename": filename,
            "type": content_type,
            "disposition": disposition,
            "expires": expires,
        }
        params["signature"] = self._sign("get", bucket, key, filename, content_type, disposition, expires)
        return f"{DOWNLOAD_PATH}/{bucket}/{key}?{urlencode(params)}"

    async def ensure_buckets(self) -> None:
        for bucket in BUCKETS:
            await asyncio.to_thread((self.root / bucket).mkdir, parents=True, exist_ok=True)

    async def aclose(self) -> None:
        return None

    # --- what the API's upload and download routes check ---

    def _sign(self, *parts: str) -> str:
        message = "\n".join(parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _check(self, signature: str, expires: str, *parts: str) -> None:
        if not hmac.compare_digest(self._sign(*parts), signature or ""):
            raise SignatureInvalid("signature does not match")
        if not expires.isdigit() or int(expires) < time.time():
            raise SignatureInvalid("link expired")

    def verify_post(self, fields: dict[str, str]) -> tuple[Bucket, str, str, int]:
        """The signed form's (bucket, key, content type, exact size), or SignatureInvalid."""
        values = [fields.get(name, "") for name in POST_FIELDS]
        self._check(fields.get("signature", ""), fields.get("expires", ""), "post", *values)
        bucket, key, content_type, size, _expires = values
        if bucket not in BUCKETS:
            raise SignatureInvalid("unknown bucket")
        return bucket, key, content_type, int(size)

    def verify_get(self, bucket: str, key: str, params: dict[str, str]) -> tuple[str, str, str]:
        """A signed link's (filename, content type, disposition), or SignatureInvalid."""
        filename = params.get("filename", "")
        content_type = params.get("type", "")
        disposition = params.get("disposition", "")
        self._check(
            params.get("signature", ""),
            params.get("expires", ""),
            "get",
            bucket,
            key,
            filename,
            content_type,
            disposition,
            params.get("expires", ""),
        )
        return filename, content_type, disposition
