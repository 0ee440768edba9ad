from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class JobOutputOut(BaseModel):
    name: str
    content_type: str
    size: int
    url: str  # a short-lived signed download link


class JobErrorOut(BaseModel):
    code: str
    message: str  # in the caller's language


class JobOut(BaseModel):
    id: str
    kind: str
    status: str  # pending | running | succeeded | failed | cancelled
    error: JobErrorOut | None = None
    usage: dict[str, int]
    outputs: list[JobOutputOut]
    created_at: datetime
    updated_at: datetime
    events_url: str


class JobCancelOut(BaseModel):
    id: str
    status: str
