"""The data-export archive on the S3 backend (moto's server): the person's stored objects are
read in chunks from S3 and the archive goes back as a managed upload, encrypted; erasure then
deletes the objects there (docs/web.md, "Your data")."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from sqlalchemy import update

from activities.data_export import DataExportActivities, ExportInput
from core.db import Database
from core.models import FileStatus, StoredFile, User
from core.models.base import new_id, utcnow
from providers.storage import ASSETS, object_key
from providers.storage.s3 import S3Storage


async def test_export_reads_and_writes_on_s3(db: Database, s3_storage: S3Storage, worker: Any) -> None:
    user_id, file_id, job_id = new_id(), new_id(), new_id()
    key = object_key(user_id, "upload", file_id, "notes.txt")
    body = "ملاحظات\n".encode() * 300_000  # ~4 MB: several chunks
    await s3_storage.put(ASSETS, key, body, "text/plain")
    async with db.session() as session:
        session.add(User(id=user_id, email=f"s3-{user_id}@example.com", locale="ar"))
        await session.flush()
        session.add(
            StoredFile(
                id=file_id,
                user_id=user_id,
                purpose="document",
                name="ملاحظات.txt",
                content_type="text/plain",
                size=len(body),
                status=FileStatus.ready.value,
                bucket=ASSETS,
                key=key,
            )
        )
    activities = DataExportActivities(db, s3_storage, worker.bus)
    archive_ref = await activities.build(ExportInput(job_id, user_id, "ar"))
    assert archive_ref.key == object_key(user_id, "export", job_id, "pulse-data.zip")
    head = await s3_storage.head(ASSETS, archive_ref.key)
    assert head is not None and head.size == archive_ref.size and head.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await s3_storage.get(ASSETS, archive_ref.key)))
    [listed] = json.loads(archive.read("data.json"))["files"]
    assert listed["name"] == "ملاحظات.txt" and archive.read(listed["path"]) == body
    response = s3_storage.client.head_object(Bucket=s3_storage._bucket(ASSETS), Key=archive_ref.key)
    assert response["ServerSideEncryption"] == "AES256"

    async with db.session() as session:  # past its grace period: erased, on S3 too
        await session.execute(update(User).where(User.id == user_id).values(delete_after=utcnow()))
    assert await activities.erase_account(user_id) == 1
    assert not await s3_storage.exists(ASSETS, key)
