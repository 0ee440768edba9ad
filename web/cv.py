"""The CV page: guided steps (details → experience → education → skills and languages →
template and sections), entries added, removed and reordered in every section, sections
reordered and hidden, AI suggestions accepted or rejected, the photo uploaded through the files
API (scanned), version history with restore, duplicate as English/Arabic, a page-1 preview that
updates after each render and the PDF download. Everything it does goes through the CV, files
and job APIs (web/static/js/cv.js, web/static/js/cv-entries.js)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core.cv.schema import DEFAULT_ORDER
from core.cv.text import FLUENCY, HEADINGS
from core.i18n import translate
from web.auth import RequiredUser
from web.pages import page, page_locale

router = APIRouter(include_in_schema=False)

# Strings the page's scripts show (msgids are English; core/translations/ar/LC_MESSAGES/cv.po).
JS_STRINGS = (
    "Saving…",
    "Saved.",
    "Making your PDF…",
    "Writing suggestions…",
    "Your PDF is ready.",
    "We could not make the PDF. Please try again.",
    "Translating a copy…",
    "Your English copy is open. The original is unchanged.",
    "Your Arabic copy is open. The original is unchanged.",
    "Please check these parts of the translation: {parts}",
    "Duplicate as English",
    "Duplicate as Arabic",
    "Version {version}",
    "current",
    "Restore",
    "Restored version {version} as a new version.",
    "New CV",
    "Untitled CV",
    "Uploading the photo…",
    "Checking the photo…",
    "The photo is ready.",
    "Use these",
    "Keep mine",
    "Add",
    "Remove",
    "Move up",
    "Move down",
    "Show in the PDF",
    "Draft with AI",
    "Entry {n}",
    "Position",
    "Company",
    "Organization",
    "Location",
    "From",
    "To (empty: present)",
    "Date",
    "Achievements (one per line)",
    "Institution",
    "Degree",
    "Field of study",
    "Grade",
    "Courses (one per line)",
    "Name",
    "Description",
    "Link",
    "Issuer",
    "Title",
    "Awarded by",
    "Skill",
    "Level",
    "Keywords (separated by commas)",
    "Language",
    "Fluency",
    "What they can say about you",
    "Beginner",
    "Elementary",
    "Intermediate",
    "Advanced",
    "Expert",
    "Summary:",
    "Skills:",
)


def cv_strings(locale: str) -> dict[str, Any]:
    """The scripts' strings, section headings and CEFR labels in the page's language."""
    return {
        "t": {text: translate(text, locale) for text in JS_STRINGS},
        "headings": {name: translate(HEADINGS[name], locale) for name in DEFAULT_ORDER},
        "fluency": {level: translate(label, locale) for level, label in FLUENCY.items()},
        "sections": DEFAULT_ORDER,
    }


@router.get("/cv", response_class=HTMLResponse)
async def cv_page(request: Request, user: RequiredUser) -> HTMLResponse:
    return page(request, "cv.html", "cv", strings=cv_strings(page_locale(request)))
