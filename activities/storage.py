"""File scan activities (FileScanWorkflow) and the orphan sweeper: check the upload arrived
whole, sniff its real type, stream it through clamd, then promote it to ``assets`` or delete it.

Each step is idempotent: a retry after a crash re-reads the object and re-records the same
outcome (``core.files`` keeps the first)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import structlog
from temporalio import activity

from activities.jobs import OutputRef, publish_progress
from core import files
from core.db import Database
from core.models.base import utcnow
from core.settings import Settings
from providers.scanner import ClamdScanner, ScanLimitExceeded
from providers.scanner.sniff import SNIFF_BYTES, matches, sniff
from providers.storage import ASSETS, QUARANTINE, ObjectMissing, Storage
from providers.streams import StreamBus

log = structlog.get_logger(__name__)
PROGRESS_EVERY = 4 * 1024 * 1024  # a progress event per 4 MiB scanned


@dataclass
class FileStepInput:
    file_id: str


@dataclass
class CheckResult:
    refusal: str | None = None  # a REJECT_REASONS code
    detected_type: str = ""


@dataclass
class ScanResult:
    refusal: str | None = None
    signature: str | None = None
    sha256: str = ""
    scanned_bytes: int = 0
    seconds: float = 0.0


@dataclass
class ScanPromoteInput:
    file_id: str
    sha256: str


@dataclass
class RejectInput:
    file_id: str
    code: str
    detail: str | None = None


@dataclass
class FileSweepInput:
    pending_grace_seconds: int = 3600
    limit: int = 200


@dataclass
class FileSweepResult:
    expired: int = 0
    deleted_objects: int = 0


class FileActivities:
    def __init__(
        self, settings: Settings, db: Database, bus: StreamBus, storage: Storage, scanner: ClamdScanner
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.storage = storage
        self.scanner = scanner

    async def _target(self, file_id: str) -> files.ScanTarget:
        async with self.db.reader() as session:
            target = await files.scan_target(session, file_id)
        if target is None:
            raise ObjectMissing(f"file {file_id}")
        return target

    @activity.defn(name="files.check")
    async def check(self, data: FileStepInput) -> CheckResult:
        """The object exists, has the declared size and its bytes are of the declared type."""
        target = await self._target(data.file_id)
        head = await self.storage.head(QUARANTINE, target.key)
        if head is None:
            return CheckResult("upload_missing")
        if head.size != target.size:
            return CheckResult("size_mismatch")
        if head.size > self.settings.clamd_max_bytes:
            return CheckResult("too_large_to_scan")
        first = b""
        async for chunk in self.storage.chunks(QUARANTINE, target.key, SNIFF_BYTES):
            first = chunk
            break
        detected = sniff(first)
        if not matches(target.content_type, detected):
            log.info(
                "files.type_mismatch", file_id=target.file_id, declared=target.content_type, detected=detected
            )
            return CheckResult("type_mismatch", detected)
        return CheckResult(None, detected)

    @activity.defn(name="files.scan")
    async def scan(self, data: FileStepInput) -> ScanResult:
        """Stream the object through clamd (heartbeating; clamd down → retried by Temporal)."""
        target = await self._target(data.file_id)
        digest = hashlib.sha256()
        started = time.perf_counter()
        heartbeat = asyncio.create_task(_heartbeat_every(1.0))
        try:
            result = await self.scanner.scan(self._counted(target, digest))
        except ScanLimitExceeded:
            return ScanResult("too_large_to_scan")
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        seconds = time.perf_counter() - started
        log.info(
            "files.scanned",
            file_id=target.file_id,
            clean=result.clean,
            bytes=result.scanned_bytes,
            seconds=round(seconds, 3),
        )
        if not result.clean:
            return ScanResult("infected", result.signature, digest.hexdigest(), result.scanned_bytes, seconds)
        return ScanResult(None, None, digest.hexdigest(), result.scanned_bytes, seconds)

    async def _counted(self, target: files.ScanTarget, digest: hashlib._Hash) -> AsyncIterator[bytes]:
        done = reported = 0
        async for chunk in self.storage.chunks(QUARANTINE, target.key):
            digest.update(chunk)
            done += len(chunk)
            if done - reported >= PROGRESS_EVERY or done == target.size:
                await publish_progress(self.bus, target.file_id, "scan", done, target.size)
                reported = done
            yield chunk

    @activity.defn(name="files.promote")
    async def promote(self, data: ScanPromoteInput) -> OutputRef:
        """Move the clean object to ``assets`` (same key) and mark the file ready."""
        target = await self._target(data.file_id)
        info = await self.storage.move(QUARANTINE, target.key, ASSETS)
        async with self.db.session() as session:
            await files.mark_ready(session, target.file_id, data.sha256)
        return OutputRef(target.name, target.key, target.content_type, info.size, ASSETS)

    @activity.defn(name="files.reject")
    async def reject(self, data: RejectInput) -> str:
        """Delete the object and record why; returns the English reason (the job's message)."""
        async with self.db.reader() as session:
            target = await files.scan_target(session, data.file_id)
        if target is not None and target.bucket == QUARANTINE:
            await self.storage.delete(QUARANTINE, target.key)
        async with self.db.session() as session:
            await files.mark_rejected(session, data.file_id, data.code, data.detail)
        log.info("files.rejected", file_id=data.file_id, code=data.code, detail=data.detail)
        return files.REJECT_REASONS.get(data.code, files.REJECT_REASONS["scan_failed"]).replace(
            "{detail}", data.detail or ""
        )

    @activity.defn(name="files.sweep")
    async def sweep(self, data: FileSweepInput) -> FileSweepResult:
        """Expire uploads never completed; re-delete objects of rejected files."""
        result = FileSweepResult()
        older_than = utcnow() - timedelta(seconds=data.pending_grace_seconds)
        async with self.db.reader() as session:
            orphans = await files.orphaned_uploads(session, older_than, data.limit)
            rejected = await files.rejected_in_quarantine(session, utcnow(), data.limit)
        for row in orphans:
            await self.storage.delete(QUARANTINE, row.key)
            async with self.db.session() as session:
                if await files.mark_rejected(session, row.id, "expired", None):
                    result.expired += 1
        for row in rejected:
            if await self.storage.exists(QUARANTINE, row.key):
                await self.storage.delete(QUARANTINE, row.key)
                result.deleted_objects += 1
        log.info("files.swept", expired=result.expired, deleted_objects=result.deleted_objects)
        return result


async def _heartbeat_every(seconds: float) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(seconds)
