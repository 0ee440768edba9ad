"""The local backend's upload and download endpoints (HMAC-signed, expiring): the browser posts
the same form and follows the same kind of link as it does against S3. With S3 configured
these answer 404 (the browser talks to S3 directly)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from api.deps import StorageDep
from core.errors import AppError, NotFound
from providers.storage import LocalStorage, SignatureInvalid, content_disposition

router = APIRouter(prefix="/v1/storage", tags=["storage"], include_in_schema=False)
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the signed fields


class UploadRefused(AppError):
    status_code = 403
    code = "upload_refused"
    message = "This upload link is invalid or has expired."


class UploadSizeMismatch(AppError):
    status_code = 400
    code = "upload_size_mismatch"
    message = "The file is not the size that was declared."


def local_backend(storage: object) -> LocalStorage:
    if not isinstance(storage, LocalStorage):
        raise NotFound()
    return storage


@router.post("/upload", status_code=204)
async def upload(request: Request, storage: StorageDep) -> Response:
    """An upload form (fields, then ``file``). The signed size is exact: a larger request is
    refused before its body is read, a different file size after."""
    local = local_backend(storage)
    declared = request.headers.get("content-length")
    async with request.form(max_files=1, max_fields=20, max_part_size=64 * 1024) as form:
        fields = {name: value for name, value in form.items() if isinstance(value, str)}
        try:
            bucket, key, content_type, size = local.verify_post(fields)
        except (SignatureInvalid, ValueError):
            raise UploadRefused() from None
        if declared is not None and declared.isdigit() and int(declared) > size + FORM_OVERHEAD:
            raise UploadSizeMismatch()
        file = form.get("file")
        if not isinstance(file, UploadFile) or file.size != size:
            raise UploadSizeMismatch()
        await local.put_file(bucket, key, file.file, content_type)
    return Response(status_code=204)


@router.get("/objects/{bucket}/{key:path}")
async def download(bucket: str, key: str, request: Request, storage: StorageDep) -> Response:
    local = local_backend(storage)
    try:
        filename, content_type, disposition = local.verify_get(bucket, key, dict(request.query_params))
        path = local.path(bucket, key)
    except (SignatureInvalid, ValueError):
        raise UploadRefused("This download link is invalid or has expired.") from None
    if not path.is_file():
        raise NotFound()
    return FileResponse(
        path,
        media_type=content_type,
        headers={
            "Content-Disposition": content_disposition(filename, inline=disposition == "inline"),
            "Cache-Control": "private, max-age=60",
            "X-Content-Type-Options": "nosniff",
        },
    )
