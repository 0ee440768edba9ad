"""The slide-deck studio page: brief → outline editor → progress → thumbnails with downloads
(everything through the JSON API: /v1/slides, /v1/jobs/{id}/events)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.auth import RequiredUser
from web.pages import page

router = APIRouter(include_in_schema=False)


@router.get("/slides", response_class=HTMLResponse)
async def slides_studio(request: Request, user: RequiredUser) -> HTMLResponse:
    return page(request, "slides.html", "slides")
