"""The "My files" page: list, download and delete uploads (the list comes from GET /v1/files)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.auth import RequiredUser
from web.pages import page

router = APIRouter(include_in_schema=False)


@router.get("/files", response_class=HTMLResponse)
async def my_files(request: Request, user: RequiredUser) -> HTMLResponse:
    return page(request, "files.html", "files")
