"""S3 (production): buckets ``assets`` and ``quarantine``, server-side encryption on every write.

boto3 in worker threads, not aiobotocore: measured against moto's server (300 put+head pairs,
10 concurrent, 64 KiB): boto3 + ``asyncio.to_thread`` 2.5–2.8 s and 3.2 ms client CPU per pair;
aiobotocore 3.10 4.9–8.6 s and 3.3–5.2 ms. boto3 is also already the project's AWS SDK (SES).
The client is built on first use (importing boto3 costs start-up time)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from core.settings import Settings
from providers.storage.base import (
    BUCKETS,
    CHUNK,
    Bucket,
    ObjectInfo,
    ObjectMissing,
    PresignedPost,
    content_disposition,
    move_object,
)

MISSING_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
MiB = 1024 * 1024
# put_file: parts of 8 MiB (S3's minimum is 5), 4 at a time; smaller files go in one PUT
MULTIPART_THRESHOLD = 8 * MiB
MULTIPART_CHUNK = 8 * MiB
MULTIPART_CONCURRENCY = 4


class S3Storage:
    name = "s3"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.buckets: dict[str, str] = {
            "assets": settings.s3_bucket_assets,
            "quarantine": settings.s3_bucket_quarantine,
        }
        self._client: Any = None
        self._signer: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make_client(self.settings.s3_endpoint_url)
            return self._client

    @property
    def signer(self) -> Any:
        """The client that signs what browsers use (forms, links): for ``s3_public_url`` when set."""
        public = self.settings.s3_public_url
        if not public or public == self.settings.s3_endpoint_url:
            return self.client
        with self._lock:
            if self._signer is None:
                self._signer = self._make_client(public)
            return self._signer

    def _make_client(self, endpoint: str) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            region_name=self.settings.s3_region,
            endpoint_url=endpoint or None,
            config=Config(
                signature_version="s3v4",
                max_pool_connections=20,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path"} if endpoint else None,
            ),
        )

    def _bucket(self, bucket: str) -> str:
        if bucket not in BUCKETS:
            raise ValueError(f"unknown bucket {bucket!r}")
        return self.buckets[bucket]

    def _encryption(self) -> dict[str, str]:
        extra: dict[str, str] = {"ServerSideEncryption": self.settings.s3_sse}
        if self.settings.s3_sse == "aws:kms" and self.settings.s3_kms_key_id:
            extra["SSEKMSKeyId"] = self.settings.s3_kms_key_id
        return extra

    async def _call(self, method: str, **params: Any) -> Any:
        return await asyncio.to_thread(getattr(self.client, method), **params)

    async def put(self, bucket: Bucket, key: str, data: bytes, content_type: str) -> ObjectInfo:
        await self._call(
            "put_object",
            Bucket=self._bucket(bucket),
            Key=key,
            Body=data,
            ContentType=content_type,
            **self._encryption(),
        )
        return ObjectInfo(bucket, key, len(data), content_type)

    async def put_file(
        self, bucket: Bucket, key: str, source: Path | BinaryIO, content_type: str
    ) -> ObjectInfo:
        """boto3's managed transfer: one PUT below the threshold, else a multipart upload (every
        part encrypted like ``put``; a failed transfer aborts its upload, leaving no object)."""
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_CHUNK,
            max_concurrency=MULTIPART_CONCURRENCY,
        )
        extra = {"ContentType": content_type, **self._encryption()}
        target = self._bucket(bucket)

        def _upload() -> None:
            if isinstance(source, Path):
                with source.open("rb") as handle:
                    self.client.upload_fileobj(handle, target, key, ExtraArgs=extra, Config=config)
            else:
                self.client.upload_fileobj(source, target, key, ExtraArgs=extra, Config=config)

        await asyncio.to_thread(_upload)
        info = await self.head(bucket, key)
        if info is None:
            raise ObjectMissing(f"{bucket}/{key}")
        return info

    async def _get_body(self, bucket: Bucket, key: str) -> Any:
        from botocore.exceptions import ClientError

        try:
            response = await self._call("get_object", Bucket=self._bucket(bucket), Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING_CODES:
                raise ObjectMissing(f"{bucket}/{key}") from None
            raise
        return response["Body"]

    async def get(self, bucket: Bucket, key: str) -> bytes:
        body = await self._get_body(bucket, key)
        try:
            data: bytes = await asyncio.to_thread(body.read)
        finally:
            body.close()
        return data

    async def chunks(self, bucket: Bucket, key: str, size: int = CHUNK) -> AsyncIterator[bytes]:
        body = await self._get_body(bucket, key)
        try:
            while chunk := await asyncio.to_thread(body.read, size):
                yield chunk
        finally:
            body.close()

    async def head(self, bucket: Bucket, key: str) -> ObjectInfo | None:
        from botocore.exceptions import ClientError

        try:
            response = await self._call("head_object", Bucket=self._bucket(bucket), Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING_CODES:
                return None
            raise
        return ObjectInfo(
            bucket,
            key,
            int(response["ContentLength"]),
            response.get("ContentType") or "application/octet-stream",
        )

    async def exists(self, bucket: Bucket, key: str) -> bool:
        return await self.head(bucket, key) is not None

    async def delete(self, bucket: Bucket, key: str) -> None:
        await self._call("delete_object", Bucket=self._bucket(bucket), Key=key)

    async def copy(self, src: Bucket, key: str, dst: Bucket, dst_key: str | None = None) -> ObjectInfo:
        info = await self.head(src, key)
        if info is None:
            raise ObjectMissing(f"{src}/{key}")
        target = dst_key or key
        # copy_object copies up to 5 GB in one request (uploads are far below); metadata copied
        await self._call(
            "copy_object",
            Bucket=self._bucket(dst),
            Key=target,
            CopySource={"Bucket": self._bucket(src), "Key": key},
            **self._encryption(),
        )
        return ObjectInfo(dst, target, info.size, info.content_type)

    async def move(self, src: Bucket, key: str, dst: Bucket, dst_key: str | None = None) -> ObjectInfo:
        return await move_object(self, src, key, dst, dst_key)

    async def presigned_post(
        self, bucket: Bucket, key: str, *, content_type: str, size: int, expires_in: int
    ) -> PresignedPost:
        encryption = self._encryption()
        fields = {
            "Content-Type": content_type,
            "x-amz-server-side-encryption": encryption["ServerSideEncryption"],
        }
        conditions: list[Any] = [
            ["content-length-range", size, size],
            {"Content-Type": content_type},
            ["starts-with", "$key", key.rsplit("/", 1)[0] + "/"],
            {"x-amz-server-side-encryption": encryption["ServerSideEncryption"]},
        ]
        if "SSEKMSKeyId" in encryption:
            fields["x-amz-server-side-encryption-aws-kms-key-id"] = encryption["SSEKMSKeyId"]
            conditions.append({"x-amz-server-side-encryption-aws-kms-key-id": encryption["SSEKMSKeyId"]})
        post = await asyncio.to_thread(
            self.signer.generate_presigned_post,
            Bucket=self._bucket(bucket),
            Key=key,
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=expires_in,
        )
        return PresignedPost(post["url"], {k: str(v) for k, v in post["fields"].items()})

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
        url: str = await asyncio.to_thread(
            self.signer.generate_presigned_url,
            "get_object",
            Params={
                "Bucket": self._bucket(bucket),
                "Key": key,
                "ResponseContentDisposition": content_disposition(filename, inline=inline),
                "ResponseContentType": content_type,
            },
            ExpiresIn=expires_in,
        )
        return url

    async def ensure_buckets(self) -> None:
        """Dev/test only (moto): production buckets are made by terraform, with policies."""
        from botocore.exceptions import ClientError

        for name in self.buckets.values():
            try:
                await self._call("head_bucket", Bucket=name)
            except ClientError:
                params: dict[str, Any] = {"Bucket": name}
                if self.settings.s3_region != "us-east-1":
                    params["CreateBucketConfiguration"] = {"LocationConstraint": self.settings.s3_region}
                await self._call("create_bucket", **params)

    async def aclose(self) -> None:
        for client in (self._client, self._signer):
            if client is not None:
                client.close()


def browser_origins(settings: Settings) -> tuple[str, ...]:
    """The origins browsers post upload forms to and load signed links from (for the CSP):
    the public or configured endpoint's, else AWS's hosts of both buckets (global and
    regional: boto3 signs for the global one; S3 may redirect a young bucket to its region)."""
    endpoint = settings.s3_public_url or settings.s3_endpoint_url
    if endpoint:
        parts = urlsplit(endpoint)
        return (f"{parts.scheme}://{parts.netloc}",)
    origins: list[str] = []
    for bucket in (settings.s3_bucket_assets, settings.s3_bucket_quarantine):
        origins += [
            f"https://{bucket}.s3.amazonaws.com",
            f"https://{bucket}.s3.{settings.s3_region}.amazonaws.com",
        ]
    return tuple(origins)
