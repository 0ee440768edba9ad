"""The CV document: JSON Resume (https://jsonresume.org/schema) sections plus what the studio
adds (locale, template, paper, digits, section order and visibility). Everything a user types is
a plain string; ``import_json_resume``/``export_json_resume`` translate to and from the standard."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

Text = str
SHORT = 200
LONG = 4000


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Template(StrEnum):
    ats = "ats"
    two_column = "two_column"
    photo = "photo"


class SectionName(StrEnum):
    summary = "summary"
    work = "work"
    education = "education"
    skills = "skills"
    languages = "languages"
    projects = "projects"
    certificates = "certificates"
    awards = "awards"
    volunteer = "volunteer"
    references = "references"


DEFAULT_ORDER = [s.value for s in SectionName]
# ISO-8601 partial dates as JSON Resume writes them: YYYY, YYYY-MM or YYYY-MM-DD.
DATE_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"


class Profile(_Item):
    network: str = Field(default="", max_length=60)
    username: str = Field(default="", max_length=SHORT)
    url: str = Field(default="", max_length=500)


class Location(_Item):
    address: str = Field(default="", max_length=SHORT)
    city: str = Field(default="", max_length=100)
    region: str = Field(default="", max_length=100)
    countryCode: str = Field(default="", max_length=2)


class Basics(_Item):
    name: str = Field(default="", max_length=SHORT)
    label: str = Field(default="", max_length=SHORT)
    image: str = Field(default="", max_length=500, description="a photo URL (text, never fetched)")
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=40)
    url: str = Field(default="", max_length=500)
    summary: str = Field(default="", max_length=LONG)
    location: Location = Field(default_factory=Location)
    profiles: list[Profile] = Field(default_factory=list, max_length=10)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and ("@" not in value or " " in value):
            raise ValueError("not an email address")
        return value


class Dated(_Item):
    startDate: str = Field(default="", pattern=DATE_PATTERN + "|^$")
    endDate: str = Field(default="", pattern=DATE_PATTERN + "|^$")


class Work(Dated):
    name: str = Field(default="", max_length=SHORT)
    position: str = Field(default="", max_length=SHORT)
    location: str = Field(default="", max_length=SHORT)
    url: str = Field(default="", max_length=500)
    summary: str = Field(default="", max_length=LONG)
    highlights: list[str] = Field(default_factory=list, max_length=20)


class Volunteer(Dated):
    organization: str = Field(default="", max_length=SHORT)
    position: str = Field(default="", max_length=SHORT)
    url: str = Field(default="", max_length=500)
    summary: str = Field(default="", max_length=LONG)
    highlights: list[str] = Field(default_factory=list, max_length=20)


class Education(Dated):
    institution: str = Field(default="", max_length=SHORT)
    area: str = Field(default="", max_length=SHORT)
    studyType: str = Field(default="", max_length=SHORT)
    score: str = Field(default="", max_length=40)
    url: str = Field(default="", max_length=500)
    courses: list[str] = Field(default_factory=list, max_length=30)


class Award(_Item):
    title: str = Field(default="", max_length=SHORT)
    date: str = Field(default="", pattern=DATE_PATTERN + "|^$")
    awarder: str = Field(default="", max_length=SHORT)
    summary: str = Field(default="", max_length=LONG)


class Certificate(_Item):
    name: str = Field(default="", max_length=SHORT)
    date: str = Field(default="", pattern=DATE_PATTERN + "|^$")
    issuer: str = Field(default="", max_length=SHORT)
    url: str = Field(default="", max_length=500)


class Skill(_Item):
    name: str = Field(default="", max_length=100)
    level: int | None = Field(default=None, ge=1, le=5, description="1 (basic) … 5 (expert)")
    keywords: list[str] = Field(default_factory=list, max_length=30)


CEFR = Literal["A1", "A2", "B1", "B2", "C1", "C2", "native"]


class Language(_Item):
    language: str = Field(default="", max_length=60)
    fluency: CEFR | None = None


class Project(Dated):
    name: str = Field(default="", max_length=SHORT)
    description: str = Field(default="", max_length=LONG)
    highlights: list[str] = Field(default_factory=list, max_length=20)
    url: str = Field(default="", max_length=500)


class Reference(_Item):
    name: str = Field(default="", max_length=SHORT)
    reference: str = Field(default="", max_length=LONG)


class Layout(_Item):
    """How the CV is rendered (the studio's part; not in JSON Resume)."""

    template: Template = Template.ats
    paper: Literal["A4", "Letter"] = "A4"
    digits: Literal["latin", "arabic"] = "latin"
    bilingual_headings: bool = False
    tagged: bool = False  # PDF/UA-1: a tagged structure tree for screen readers (~10 % more render CPU)
    order: list[SectionName] = Field(default_factory=lambda: [SectionName(s) for s in DEFAULT_ORDER])
    hidden: list[SectionName] = Field(default_factory=list)

    @field_validator("order")
    @classmethod
    def _complete_order(cls, value: list[SectionName]) -> list[SectionName]:
        seen = list(dict.fromkeys(value))
        return seen + [SectionName(s) for s in DEFAULT_ORDER if SectionName(s) not in seen]


class CvContent(_Item):
    """A whole CV: JSON Resume's sections, its locale and its layout."""

    locale: Literal["ar", "en"] = "ar"
    title: str = Field(default="", max_length=SHORT)
    basics: Basics = Field(default_factory=Basics)
    work: list[Work] = Field(default_factory=list, max_length=30)
    volunteer: list[Volunteer] = Field(default_factory=list, max_length=20)
    education: list[Education] = Field(default_factory=list, max_length=20)
    awards: list[Award] = Field(default_factory=list, max_length=20)
    certificates: list[Certificate] = Field(default_factory=list, max_length=30)
    skills: list[Skill] = Field(default_factory=list, max_length=40)
    languages: list[Language] = Field(default_factory=list, max_length=15)
    projects: list[Project] = Field(default_factory=list, max_length=20)
    references: list[Reference] = Field(default_factory=list, max_length=10)
    layout: Layout = Field(default_factory=Layout)
    # The photo the photo template shows: an uploaded file (purpose ``cv_photo``), scanned clean,
    # owned by the CV's owner (checked on save and on render).
    photo_file_id: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")

    def visible_sections(self) -> list[str]:
        """Sections to render, in the user's order, skipping hidden and empty ones."""
        hidden = set(self.layout.hidden)
        return [
            s.value
            for s in self.layout.order
            if s not in hidden
            and (self.basics.summary if s is SectionName.summary else getattr(self, s.value))
        ]


JSON_RESUME_SECTIONS = (
    "work",
    "volunteer",
    "education",
    "awards",
    "certificates",
    "skills",
    "languages",
    "projects",
    "references",
)


def import_json_resume(document: dict[str, Any], *, locale: str = "ar") -> CvContent:
    """A JSON Resume document → our CV (unknown keys are ignored; ``meta.pulse`` keeps our layout)."""
    meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
    pulse = meta.get("pulse", {}) if isinstance(meta, dict) else {}
    data: dict[str, Any] = {
        key: document[key] for key in ("basics", *JSON_RESUME_SECTIONS) if key in document
    }
    for language in data.get("languages", []) or []:
        if isinstance(language, dict) and language.get("fluency") not in (None, *get_args(CEFR)):
            language["fluency"] = None  # free-text fluency ("Fluent") has no CEFR level
    data["locale"] = pulse.get("locale", locale)
    if "layout" in pulse:
        data["layout"] = pulse["layout"]
    for key in ("title", "photo_file_id"):
        if key in pulse:
            data[key] = pulse[key]
    return CvContent.model_validate(data)


def export_json_resume(cv: CvContent) -> dict[str, Any]:
    """Our CV → a JSON Resume document; the studio's own fields travel in ``meta.pulse``."""
    document = cv.model_dump(mode="json", include={"basics", *JSON_RESUME_SECTIONS})
    document["$schema"] = "https://raw.githubusercontent.com/jsonresume/resume-schema/v1.0.0/schema.json"
    document["meta"] = {
        "version": "v1.0.0",
        "pulse": {
            "locale": cv.locale,
            "title": cv.title,
            "layout": cv.layout.model_dump(mode="json"),
            "photo_file_id": cv.photo_file_id,
        },
    }
    return document
