from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.models import FilePurpose


class FileIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=127)
    size: int = Field(ge=0, le=5 * 1024**3)
    purpose: FilePurpose = FilePurpose.chat


class UploadForm(BaseModel):
    """POST ``fields`` then the file (as the last field, named ``file``) to ``url``."""

    url: str
    fields: dict[str, str]


class FileReason(BaseModel):
    code: str
    message: str  # in the caller's language


class FileOut(BaseModel):
    id: str
    name: str
    content_type: str
    size: int
    purpose: str
    status: str  # pending | scanning | ready | rejected
    reason: FileReason | None = None
    created_at: datetime
    ready_at: datetime | None = None
    content_url: str | None = None  # ready files: 302 to a short-lived signed link
    job_id: str | None = None  # the scan job, once completed (GET /v1/jobs/{id}, its events)
    events_url: str | None = None


class FileCreated(BaseModel):
    file_id: str
    upload: UploadForm
    file: FileOut


class StorageUsageOut(BaseModel):
    used_bytes: int
    limit_bytes: int
