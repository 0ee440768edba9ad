"""The deck model: a brief, its outline (what the person edits and approves) and the content of
each slide. PPTX and PDF are both rendered from this one model (``core.slides.layouts`` places
its text boxes), so the two files always say the same thing."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MIN_SLIDES, MAX_SLIDES = 3, 30
HEADING_MAX = 200  # what the person may type; the fit check shortens what does not fit


class Layout(StrEnum):
    title = "title"  # type: ignore[assignment]  # (shadows str.title; the value is what counts)
    section = "section"
    bullets = "bullets"
    comparison = "comparison"
    numbers = "numbers"
    timeline = "timeline"
    quote = "quote"
    table = "table"
    image_text = "image_text"
    closing = "closing"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _clean(text: str) -> str:
    return " ".join(text.split())


class Brief(_Closed):
    topic: str = Field(min_length=3, max_length=300)
    audience: str = Field(default="", max_length=200)
    purpose: str = Field(default="", max_length=300)
    language: Literal["ar", "en"] = "ar"
    slides: int = Field(default=8, ge=MIN_SLIDES, le=MAX_SLIDES)
    tone: Literal["formal", "friendly", "persuasive", "academic"] = "formal"
    source_text: str = Field(default="", max_length=20000)
    theme: Literal["ocean", "sand", "graphite"] = "ocean"
    digits: Literal["latin", "arabic"] = "latin"  # Arabic-Indic numbering in Arabic decks
    images: bool = False  # an image (the image studio's, billed as images) on image + text slides
    source_file_id: str | None = Field(default=None, max_length=64)  # an uploaded document
    # set by the API from that document (its text goes into source_text)
    source_name: str = Field(default="", max_length=255)
    source_truncated: bool = False

    @field_validator("topic", "audience", "purpose")
    @classmethod
    def _tidy(cls, value: str) -> str:
        return _clean(value)


class OutlineSlide(_Closed):
    heading: str = Field(min_length=1, max_length=HEADING_MAX)
    key_message: str = Field(default="", max_length=400)
    layout: Layout = Layout.bullets

    @field_validator("heading", "key_message")
    @classmethod
    def _tidy(cls, value: str) -> str:
        return _clean(value)


class Outline(_Closed):
    title: str = Field(min_length=1, max_length=HEADING_MAX)
    slides: list[OutlineSlide] = Field(min_length=MIN_SLIDES, max_length=MAX_SLIDES)

    @field_validator("title")
    @classmethod
    def _tidy(cls, value: str) -> str:
        return _clean(value)

    @model_validator(mode="after")
    def _non_blank(self) -> Outline:
        if not self.title or any(not slide.heading for slide in self.slides):
            raise ValueError("every heading needs text")
        return self


class Figure(_Closed):
    value: str = Field(max_length=12)
    label: str = Field(max_length=60)


class SlideContent(_Closed):
    """One slide's words. Which fields a layout uses: ``LAYOUT_FIELDS``."""

    layout: Layout
    heading: str
    subtitle: str = ""
    bullets: list[str] = Field(default_factory=list)
    left_title: str = ""
    left: list[str] = Field(default_factory=list)
    right_title: str = ""
    right: list[str] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    quote: str = ""
    attribution: str = ""
    table: list[list[str]] = Field(default_factory=list)  # first row = header
    notes: str = ""
    image_prompt: str = ""  # image + text slides: a picture with no text in it (English)
    image_key: str = ""  # the image made from it (assets bucket), placed in the panel
    shortened: bool = False  # the fit check had the model shorten it


class Deck(_Closed):
    title: str
    language: Literal["ar", "en"]
    theme: str = "ocean"
    digits: str = "latin"
    slides: list[SlideContent]

    @property
    def rtl(self) -> bool:
        return self.language == "ar"


# The fields the model writes per layout, with their budgets (characters, list lengths).
LAYOUT_FIELDS: dict[Layout, tuple[str, ...]] = {
    Layout.title: ("subtitle",),
    Layout.section: ("subtitle",),
    Layout.bullets: ("bullets",),
    Layout.comparison: ("left_title", "left", "right_title", "right"),
    Layout.numbers: ("figures",),
    Layout.timeline: ("bullets",),
    Layout.quote: ("quote", "attribution"),
    Layout.table: ("table",),
    Layout.image_text: ("bullets", "image_prompt"),
    Layout.closing: ("subtitle",),
}


Line = Annotated[str, Field(max_length=300)]
Short = Annotated[str, Field(max_length=120)]


class SlideEdit(_Closed):
    """The person's own words for one slide (only the fields given change). Which fields a slide
    takes depends on its layout (``LAYOUT_FIELDS`` + heading and notes)."""

    heading: str | None = Field(default=None, min_length=1, max_length=HEADING_MAX)
    subtitle: str | None = Field(default=None, max_length=300)
    bullets: list[Line] | None = Field(default=None, min_length=1, max_length=8)
    left_title: Short | None = None
    left: list[Line] | None = Field(default=None, max_length=8)
    right_title: Short | None = None
    right: list[Line] | None = Field(default=None, max_length=8)
    figures: list[Figure] | None = Field(default=None, min_length=1, max_length=4)
    quote: str | None = Field(default=None, max_length=400)
    attribution: Short | None = None
    table: list[Annotated[list[Short], Field(min_length=1, max_length=5)]] | None = Field(
        default=None, min_length=1, max_length=8
    )
    notes: str | None = Field(default=None, max_length=2000)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def outside(self, layout: Layout) -> list[str]:
        """Given fields this layout has no place for."""
        allowed = {"heading", "notes", *LAYOUT_FIELDS[layout]}
        return sorted(set(self.changes()) - allowed)
