"""CV → PDF: a pure function (no I/O beyond the packaged fonts). Jinja2 fills an HTML template,
WeasyPrint lays it out with the project's Arabic/Latin font (IBM Plex Sans Arabic from its
fontpkg wheel), embedded and subset. Fonts and stylesheets are parsed once per process."""

from __future__ import annotations

import base64
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import fontpkg_ibm_plex_sans_arabic
import weasyprint.pdf
from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from core.cv import bidimark
from core.cv.schema import CvContent, SectionName, Template
from core.cv.text import Words
from core.i18n import translate

TEMPLATES = Path(__file__).resolve().parent / "templates"
FONTS = fontpkg_ibm_plex_sans_arabic.ROOT / "files"
ACCENT = {Template.ats: "#1d1d1f", Template.two_column: "#0b5cad", Template.photo: "#0f6e5a"}
SIDE_SECTIONS = frozenset({SectionName.skills.value, SectionName.languages.value})
PHOTO_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}

_jinja = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html.j2"]), trim_blocks=False
)


@dataclass(frozen=True)
class RenderOptions:
    template: Template = Template.ats
    locale: str = "ar"
    paper: str = "A4"
    digits: str = "latin"
    bilingual: bool = False
    tagged: bool = False  # PDF/UA-1 (structure tree, marked content, pdfuaid in XMP)

    @classmethod
    def of(cls, cv: CvContent, **overrides: Any) -> RenderOptions:
        given = {key: value for key, value in overrides.items() if value is not None}
        base = {
            "template": cv.layout.template,
            "locale": cv.locale,
            "paper": cv.layout.paper,
            "digits": cv.layout.digits,
            "bilingual": cv.layout.bilingual_headings,
            "tagged": cv.layout.tagged,
        }
        return cls(**(base | given))


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    pages: int


def render_html(cv: CvContent, options: RenderOptions, photo: bytes | None = None) -> str:
    words = Words(options.locale, options.digits)
    return _jinja.get_template("cv.html.j2").render(
        cv=cv,
        w=words,
        template=options.template.value,
        title=cv.title or cv.basics.name or "CV",
        sections=cv.visible_sections(),
        side=SIDE_SECTIONS,
        bilingual=options.bilingual,
        photo=_data_url(photo) if options.template is Template.photo else None,
    )


def render_pdf(cv: CvContent, options: RenderOptions, photo: bytes | None = None) -> RenderedPdf:
    """The CV as PDF bytes in the given template, direction (from its locale) and paper size.
    Thread-safe (one render at a time per process: the font configuration is shared)."""
    with _RENDER_LOCK:
        return _render_pdf(cv, options, photo)


_RENDER_LOCK = threading.Lock()


def layout(cv: CvContent, options: RenderOptions, photo: bytes | None = None) -> Document:
    """The CV laid out in pages (WeasyPrint's boxes), before writing: what the pagination
    tests inspect. Same lock as ``render_pdf``."""
    with _RENDER_LOCK:
        return _layout(cv, options, photo)


def _layout(cv: CvContent, options: RenderOptions, photo: bytes | None) -> Document:
    fonts, stylesheets = _styles(options.template, options.paper, options.digits, options.locale)
    html = HTML(string=render_html(cv, options, photo), url_fetcher=_fetcher, base_url=str(TEMPLATES))
    return html.render(stylesheets=stylesheets, font_config=fonts)


def _render_pdf(cv: CvContent, options: RenderOptions, photo: bytes | None) -> RenderedPdf:
    document = _layout(cv, options, photo)
    for page in document.pages:  # the outline's titles (h1-h3) without the mark carriers
        page.bookmarks = [
            (level, label.translate(bidimark.STRIP), *rest) for level, label, *rest in page.bookmarks
        ]
    # PDF/UA-1 on request: WeasyPrint's tags hold up (H1-H3, P, L/LI, Sect; the self-check
    # passes) for ~10 % more CPU; /Lang, title and author are set either way.
    pdf = document.write_pdf(pdf_variant="pdf/ua-1") if options.tagged else document.write_pdf()
    return RenderedPdf(pdf=pdf, pages=len(document.pages))


@lru_cache(maxsize=24)
def _styles(template: Template, paper: str, digits: str, locale: str) -> tuple[FontConfiguration, list[CSS]]:
    fonts = FontConfiguration()
    params = {
        "page_word": translate("Page", locale),
        "of_word": translate("of", locale),
        "fonts": FONTS.as_uri(),
        "paper": paper,
        "counter": "arabic-indic" if digits == "arabic" else "decimal",
        "accent": ACCENT[template],
        "mark_font": bidimark.font_data_url(FONTS / "IBMPlexSansArabic-Regular.ttf"),
        "mark": Words(locale, digits).mark,
    }
    sheets = [
        CSS(string=_jinja.get_template(name).render(**params), font_config=fonts, url_fetcher=_fetcher)
        for name in ("base.css", f"{template.value}.css")
    ]
    return fonts, sheets


def _data_url(photo: bytes | None) -> str | None:
    if not photo:
        return None
    kind = next((mime for magic, mime in PHOTO_TYPES.items() if photo.startswith(magic)), None)
    return f"data:{kind};base64,{base64.b64encode(photo).decode()}" if kind else None


class PackagedOnly(URLFetcher):  # type: ignore[misc]
    """Only the packaged fonts and inline images: a CV's URLs are text, never fetched."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("data:") or url.startswith(FONTS.as_uri()):
            return super().fetch(url, headers)
        raise ValueError("external resources are not loaded in CVs")


_fetcher = PackagedOnly(allowed_protocols=("file", "data"))


# --- ToUnicode of right-to-left ligatures -------------------------------------------------
# A ligature glyph (lam-alef, the font's nun-yeh …) maps to several characters. WeasyPrint
# writes them in logical order; text extractors that rebuild an RTL line by reversing its
# glyphs (poppler's pdftotext, pdfium) then reverse inside the glyph too, so "الآن" reads back
# as "اآلن". Writing an all-RTL cluster in visual order makes those extractors return logical
# text; single-character glyphs (the vast majority) are untouched.
# The same hook gives the direction-mark carriers' glyphs their real marks (bidimark.py).

_build_fonts_dictionary = weasyprint.pdf.build_fonts_dictionary


def _rtl_cluster(text: str) -> bool:
    return len(text) > 1 and all(unicodedata.bidirectional(c) in ("AL", "R", "NSM") for c in text)


def _fonts_with_visual_rtl_clusters(pdf: Any, fonts: Any, *args: Any, **kwargs: Any) -> Any:
    for font in fonts.values():
        for glyph, text in list(font.to_unicode.items()):
            if _rtl_cluster(text):
                font.to_unicode[glyph] = text[::-1]
            elif text in bidimark.MARKS:
                font.to_unicode[glyph] = bidimark.MARKS[text]
    return _build_fonts_dictionary(pdf, fonts, *args, **kwargs)


if getattr(weasyprint.pdf.build_fonts_dictionary, "__name__", "") != _fonts_with_visual_rtl_clusters.__name__:
    weasyprint.pdf.build_fonts_dictionary = _fonts_with_visual_rtl_clusters
