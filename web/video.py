"""The video studio page: prompt, model, duration and aspect ratio, a progress bar that
re-attaches after a reload or a closed tab (the job goes on in the worker; the page lists the
person's videos and follows any still rendering), a player with a poster, download, delete and
the videos left. The page's module talks to ``/v1/videos`` and ``/v1/jobs``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core.i18n import translate
from core.video_catalog import DEFAULT_VIDEO_MODEL, available_video_models
from web.auth import RequiredUser
from web.pages import page, page_locale

router = APIRouter(include_in_schema=False)

# Strings video.js shows (read from #video-i18n in the page's language).
JS_STRINGS = (
    "Starting…",
    "Waiting for the provider…",
    "Rendering…",
    "Saving the video…",
    "Done",
    "Videos left: {remaining}",
    "Delete this video?",
    "No videos yet. Describe a scene above to make your first one.",
    "Something went wrong on our side. Please try again.",
    "{seconds} s",
    "Cancel",
    "Download",
    "Delete",
)
STEP_LABELS = {
    "started": "Starting…",
    "queued": "Waiting for the provider…",
    "running": "Rendering…",
    "storing": "Saving the video…",
}


@dataclass(frozen=True)
class VideoModelChoice:
    id: str
    label: str
    durations: list[int]
    default_duration: int
    aspect_ratios: list[str]
    text_to_video: bool
    default: bool


def model_choices(request: Request, locale: str) -> list[VideoModelChoice]:
    settings = request.app.state.pulse.settings
    return [
        VideoModelChoice(
            m.id,
            m.display_name(locale),
            list(m.durations),
            m.default_duration,
            list(m.aspect_ratios),
            m.text_to_video,
            m.id == DEFAULT_VIDEO_MODEL,
        )
        for m in available_video_models(settings)
    ]


@router.get("/video", response_class=HTMLResponse)
async def video_page(request: Request, user: RequiredUser) -> HTMLResponse:
    locale = page_locale(request)
    strings = {text: translate(text, locale) for text in (*JS_STRINGS, *STEP_LABELS.values())}
    steps = {step: translate(label, locale) for step, label in STEP_LABELS.items()}
    return page(
        request, "video.html", "video", models=model_choices(request, locale), strings=strings, steps=steps
    )
