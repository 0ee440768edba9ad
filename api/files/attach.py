"""Files attached to a chat turn: the person's own, scanned clean, images only for models whose
catalog entry says ``vision``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core import files
from core.catalog import ModelInfo
from core.errors import AppError
from core.extract import extractable
from core.models import StoredFile

MAX_ATTACHMENTS = 10


class ModelCannotSeeImages(AppError):
    status_code = 422
    code = "model_not_vision"
    message = "This model can't read images. Choose a model that can, or remove the image."


class AttachmentNotSupported(AppError):
    status_code = 422
    code = "attachment_not_supported"
    message = "This kind of file can't be attached to a message."


async def turn_files(
    session: AsyncSession, user_id: str, model: ModelInfo, file_ids: Sequence[str]
) -> list[StoredFile]:
    """Check the files before the turn is recorded (404 another user's, 409 not ready yet)."""
    rows = await files.ready_files(session, user_id, file_ids)
    for row in rows:
        if row.content_type.startswith("image/"):
            if "vision" not in model.capabilities:
                raise ModelCannotSeeImages()
        elif not extractable(row.content_type):
            raise AttachmentNotSupported()
    return rows
