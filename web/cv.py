"""The CV page: guided steps (details → experience → education → skills and languages →
template), a page-1 preview that updates after each render, and the PDF download. Everything it
does goes through the CV API and the shared job API (web/static/js/cv.js)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.auth import RequiredUser
from web.pages import page

router = APIRouter(include_in_schema=False)


@router.get("/cv", response_class=HTMLResponse)
async def cv_page(request: Request, user: RequiredUser) -> HTMLResponse:
    return page(request, "cv.html", "cv")
