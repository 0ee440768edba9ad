from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from core.cv.schema import CvContent
from core.cv.service import CvRecord


class CvSummaryOut(BaseModel):
    id: str
    title: str
    locale: str
    version: int
    updated_at: datetime


class CvOut(CvSummaryOut):
    created_at: datetime
    content: CvContent

    @classmethod
    def of(cls, record: CvRecord) -> CvOut:
        return cls(
            id=record.id,
            title=record.title,
            locale=record.locale,
            version=record.version,
            updated_at=record.updated_at,
            created_at=record.created_at,
            content=record.content,
        )


class VersionOut(BaseModel):
    version: int
    created_at: datetime
