"""Page routes, static files (CSS, ES modules) and the Arabic UI font from its wheel."""

from __future__ import annotations

from pathlib import Path

import fontpkg_ibm_plex_sans_arabic
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from core import data_export
from core.errors import NotFound
from core.models.base import utcnow
from web import export
from web.auth import PageUser, RequiredUser, same_origin_path
from web.chat import MAX_MARKDOWN_CHARS, model_groups, render_markdown
from web.pages import page, page_locale
from web.plans import addon_offers, plan_offers
from web.usage import usage_view

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent / "static"
FONTS = fontpkg_ibm_plex_sans_arabic.ROOT / "files"
MEDIA_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".ico": "image/x-icon"}


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request, user: PageUser) -> HTMLResponse:
    locale = page_locale(request)
    return page(request, "landing.html", "landing", plans=plan_offers(locale), addons=addon_offers(locale))


@router.get("/signin", response_class=HTMLResponse, response_model=None)
async def signin(request: Request, user: PageUser) -> HTMLResponse | RedirectResponse:
    next_path = same_origin_path(request.query_params.get("next", "")[:500])
    if user is not None:
        return RedirectResponse(next_path or "/chat", status_code=303)
    return page(request, "signin.html", "signin", next_path=next_path)


@router.get("/usage", response_class=HTMLResponse)
async def usage(request: Request, user: RequiredUser) -> HTMLResponse:
    view = await usage_view(request.app.state.pulse, user.id, page_locale(request))
    return page(request, "usage.html", "usage", usage=view)


@router.get("/account", response_class=HTMLResponse)
async def account(request: Request, user: RequiredUser) -> HTMLResponse:
    changed = request.query_params.get("email") == "changed"
    return page(request, "account.html", "account", request_email_changed=changed)


@router.get("/chat", response_class=HTMLResponse)
async def chat(request: Request, user: RequiredUser) -> HTMLResponse:
    return _chat_page(request, None)


@router.get("/chat/{conversation_id}", response_class=HTMLResponse)
async def chat_conversation(request: Request, conversation_id: str, user: RequiredUser) -> HTMLResponse:
    """The conversation itself is loaded by the page's module (GET /v1/chat/conversations/{id})."""
    return _chat_page(request, conversation_id[:64])


def _chat_page(request: Request, conversation_id: str | None) -> HTMLResponse:
    settings = request.app.state.pulse.settings
    groups = model_groups(settings, page_locale(request))
    return page(request, "chat.html", "chat", model_groups=groups, conversation_id=conversation_id)


@router.get("/chat/{conversation_id}/export.{suffix}")
async def chat_export(request: Request, conversation_id: str, suffix: str, user: RequiredUser) -> Response:
    """The conversation as a Markdown file or an Arabic-correct PDF (the owner's only)."""
    if suffix not in ("md", "pdf"):
        raise NotFound()
    locale = page_locale(request)
    async with request.app.state.pulse.db.session() as session:
        item = await export.transcript(session, user.id, conversation_id[:64], utcnow())
    headers = {"Content-Disposition": export.filename(item, suffix), "Cache-Control": "no-store"}
    if suffix == "md":
        return Response(
            export.to_markdown(item, locale), media_type="text/markdown; charset=utf-8", headers=headers
        )
    return Response(await export.to_pdf(item, locale), media_type="application/pdf", headers=headers)


@router.get("/account/export/{job_id}")
async def data_export_download(request: Request, job_id: str, user: RequiredUser) -> RedirectResponse:
    """The data-export email's link: the owner gets a fresh short-lived signed link (another
    person's export answers 404; after the keep period 410)."""
    state = request.app.state.pulse
    async with state.db.reader() as session:
        job = await data_export.owned_export(session, user.id, job_id[:64])
    output = data_export.downloadable(job)
    url = await state.extras["storage"].signed_get_url(
        output.get("bucket", "assets"),
        output["key"],
        filename=output["name"],
        content_type=output["content_type"],
        expires_in=state.settings.storage_download_ttl_seconds,
    )
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


class MarkdownIn(BaseModel):
    text: str = Field(max_length=MAX_MARKDOWN_CHARS)


class MarkdownOut(BaseModel):
    html: str


@router.post("/web/markdown")
async def markdown(body: MarkdownIn, user: RequiredUser) -> MarkdownOut:
    """A reply's Markdown as sanitized HTML (nh3), for the chat page while and after it streams."""
    return MarkdownOut(html=str(render_markdown(body.text)))


@router.get("/static/fonts/{name}")
async def font(name: str) -> FileResponse:
    """A font file from the fontpkg wheel (only the files it ships)."""
    path = FONTS / name
    if "/" in name or not name.endswith(".ttf") or not path.is_file():
        raise NotFound()
    return FileResponse(path, media_type="font/ttf", headers={"Cache-Control": "public, max-age=31536000"})


@router.get("/static/{kind}/{name}")
async def static(kind: str, name: str) -> FileResponse:
    """CSS and ES modules from web/static (revalidated with ETag on each load)."""
    path = STATIC / kind / name
    if kind not in ("css", "js", "img") or "/" in name or name.startswith(".") or not path.is_file():
        raise NotFound()
    media_type = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})
