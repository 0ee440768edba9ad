"""Data export and account erasure: the activities behind DataExportWorkflow (one archive of a
person's data) and AccountErasureWorkflow (accounts past their grace period, expired archives).

The archive (``u/<user>/export/<job>/pulse-data.zip``, so a retry overwrites it) holds
``data.json`` (core/data_export.py), a short README in the person's language, and every ready
upload and job output under ``files/`` and ``outputs/``. It is written to a temporary file in
chunks, then stored (S3: a managed multipart upload), so its size is bounded by disk, not memory."""

from __future__ import annotations

import asyncio
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import structlog
from sqlalchemy import null
from temporalio import activity

from activities.jobs import OutputRef, publish_progress
from core import data_export, erasure
from core.db import Database
from core.i18n import translate
from core.models.base import utcnow
from providers.storage import ASSETS, Bucket, ObjectMissing, Storage, object_key
from providers.streams import StreamBus

log = structlog.get_logger(__name__)
README = (
    "Your data from Pulse AI Studio, exported on {date}. data.json holds your profile, "
    "conversations, jobs, files, payments and usage; files/ and outputs/ hold what you "
    "uploaded and what your jobs produced."
)


@dataclass
class ExportInput:
    job_id: str
    user_id: str
    locale: str = "ar"


@dataclass
class ErasureInput:
    limit: int = 100
    export_keep_days: int = data_export.EXPORT_KEEP.days


@dataclass
class ErasureResult:
    erased: list[str] = field(default_factory=list)
    objects_deleted: int = 0
    exports_expired: int = 0


def _heartbeat(detail: object) -> None:
    try:
        activity.heartbeat(detail)
    except RuntimeError:  # called outside an activity (the CLI)
        pass


class DataExportActivities:
    def __init__(self, db: Database, storage: Storage, bus: StreamBus) -> None:
        self.db = db
        self.storage = storage
        self.bus = bus

    @activity.defn(name="export.build")
    async def build(self, data: ExportInput) -> OutputRef:
        """Collect, zip and store the archive; its one output."""
        now = utcnow()
        async with self.db.session() as session:  # one transaction: a consistent picture
            document = await data_export.export_document(session, data.user_id, now)
            objects = await data_export.archive_objects(session, data.user_id)
        key = object_key(data.user_id, "export", data.job_id, data_export.ARCHIVE_NAME)
        with tempfile.TemporaryDirectory(prefix="pulse-export-") as folder:
            path = Path(folder) / data_export.ARCHIVE_NAME
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                body = json.dumps(document, ensure_ascii=False, indent=2)
                archive.writestr("data.json", body)
                archive.writestr("README.txt", translate(README, data.locale, date=now.date().isoformat()))
                for done, item in enumerate(objects, 1):
                    await self._add(archive, item)
                    _heartbeat(done)
                    await publish_progress(self.bus, data.job_id, "collecting", done, len(objects))
            size = (await self.storage.put_file(ASSETS, key, path, "application/zip")).size
        log.info("export.built", job_id=data.job_id, objects=len(objects), size=size)
        return OutputRef(data_export.ARCHIVE_NAME, key, "application/zip", size)

    async def _add(self, archive: zipfile.ZipFile, item: data_export.ArchiveObject) -> None:
        bucket: Bucket = item.bucket  # type: ignore[assignment]
        try:
            with archive.open(item.path, "w", force_zip64=True) as target:
                async for chunk in self.storage.chunks(bucket, item.key):
                    await asyncio.to_thread(target.write, chunk)
        except ObjectMissing:  # deleted meanwhile: the listing in data.json still names it
            log.warning("export.object_missing", key=item.key)

    @activity.defn(name="accounts.erase_due")
    async def erase_due(self, data: ErasureInput) -> ErasureResult:
        """Erase every account past its grace period (core/erasure.py's three steps), then
        delete data-export archives past their keep period. Idempotent: a rerun finishes what a
        crashed one started and does nothing more."""
        result = ErasureResult()
        async with self.db.session() as session:
            due = await erasure.accounts_to_erase(session, limit=data.limit)
        for user_id in due:
            deleted = await self.erase_account(user_id)
            if deleted is not None:
                result.erased.append(user_id)
                result.objects_deleted += deleted
            _heartbeat(user_id)
        result.exports_expired = await self.expire_exports(timedelta(days=data.export_keep_days))
        if result.erased or result.exports_expired:
            log.info("accounts.erased", accounts=len(result.erased), exports=result.exports_expired)
        return result

    async def erase_account(self, user_id: str) -> int | None:
        """One account: None when it is not due (undone meanwhile); else the objects deleted."""
        async with self.db.session() as session:
            if not await erasure.claim(session, user_id):
                return None
            await session.commit()
            objects = await erasure.owned_objects(session, user_id)
        for bucket, key in objects:
            await self.storage.delete(bucket, key)  # type: ignore[arg-type]
        async with self.db.session() as session:
            await erasure.erase_rows(session, user_id)
        return len(objects)

    async def expire_exports(self, keep: timedelta) -> int:
        async with self.db.session() as session:
            jobs = await erasure.expired_exports(session, keep)
            for job in jobs:
                for output in job.outputs or []:
                    await self.storage.delete(output.get("bucket", ASSETS), output["key"])
                job.outputs = null()
        return len(jobs)
