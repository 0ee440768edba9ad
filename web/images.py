"""The image studio page: prompt, model, size and count, live progress, the gallery with a
full view, download, delete and "edit this image" (a mask drawn in the browser, or an image
of one's own). The page's module talks to ``/v1/images`` and ``/v1/jobs``."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core.i18n import translate
from core.image_catalog import DEFAULT_IMAGE_MODEL, available_image_models
from web.auth import RequiredUser
from web.pages import page, page_locale

router = APIRouter(include_in_schema=False)

# Strings images.js shows (read from #images-i18n in the page's language).
JS_STRINGS = (
    "Starting…",
    "Checking the prompt…",
    "Drawing…",
    "Saving…",
    "Done",
    "Images left: {remaining}",
    "Delete this image?",
    "Edit this image",
    "Draw over the part to change.",
    "Your gallery is empty. Describe an image above to make your first one.",
    "Something went wrong on our side. Please try again.",
    "{done} of {total} saved",
    "Load more",
)
STEP_LABELS = {
    "started": "Starting…",
    "moderate": "Checking the prompt…",
    "render": "Drawing…",
    "store": "Saving…",
}


@dataclass(frozen=True)
class ModelChoice:
    id: str
    label: str
    sizes: list[str]
    max_outputs: int
    generates: bool
    edits: bool
    masks: bool
    default: bool


def model_choices(request: Request, locale: str) -> list[ModelChoice]:
    settings = request.app.state.pulse.settings
    return [
        ModelChoice(
            m.id,
            m.display_name(locale),
            list(m.sizes),
            m.max_outputs,
            m.generates,
            m.edits,
            m.masks,
            m.id == DEFAULT_IMAGE_MODEL,
        )
        for m in available_image_models(settings)
    ]


@router.get("/images", response_class=HTMLResponse)
async def images_page(request: Request, user: RequiredUser) -> HTMLResponse:
    locale = page_locale(request)
    strings = {text: translate(text, locale) for text in (*JS_STRINGS, *STEP_LABELS.values())}
    steps = {step: translate(label, locale) for step, label in STEP_LABELS.items()}
    return page(
        request, "images.html", "images", models=model_choices(request, locale), strings=strings, steps=steps
    )
