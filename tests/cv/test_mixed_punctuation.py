"""Punctuation between Arabic and Latin words (issue #17): guillemets, a hyphen joining the
two scripts, parentheses, versions with digits, an email/URL inside Arabic, a slash. Each CV
renders, passes the (strict) self-check, and poppler's pdftotext (what a screening system
reads) gives each line exactly, spaces and punctuation in place. Without the direction marks
(bidimark.py) or with the raw hyphen, the check fails."""

from __future__ import annotations

import io

import pypdfium2
import pytest
from pypdf import PdfReader

from core.cv import text as cv_text
from core.cv.render import RenderOptions, render_pdf
from core.cv.schema import CvContent, Template
from core.cv.text import Words
from core.cv.textcheck import BIDI_CONTROLS, _find, check_text, extract_text, words
from tests.cv.samples import arabic_cv, english_cv

ARABIC = [
    "عملت على «Temporal» لتنسيق المهام.",
    "خبرة في Python و-Go منذ سنوات.",
    "بنيت خدمات (FastAPI) و(Django) للدفع.",
    "رقّيت المشروع إلى Python 3.12 وPostgreSQL 16.",
    "راسلني على layla@example.com أو زر https://layla.example.com/cv للمزيد.",
    "واجهات React/Vue مع TypeScript.",
    "مشروع «Pulse AI» للذكاء الاصطناعي.",
]
ENGLISH = ["Led the «مشروع» rollout in Amman.", "Worked at بنك-الإسكان for two years."]


def render(locale: str, highlights: list[str], template: Template) -> tuple[CvContent, bytes]:
    data = arabic_cv() if locale == "ar" else english_cv()
    data["work"][0]["highlights"] = highlights
    cv = CvContent.model_validate(data)
    return cv, render_pdf(cv, RenderOptions.of(cv, template=template)).pdf


def contiguous(haystack: list[str], needle: list[str]) -> bool:
    return any(haystack[i : i + len(needle)] == needle for i in range(len(haystack)))


@pytest.mark.parametrize("template", list(Template))
def test_arabic_cv_with_mixed_punctuation_renders_and_reads_back(template: Template) -> None:
    cv, pdf = render("ar", ARABIC, template)
    result = check_text(pdf, cv, Words("ar", "latin"))
    assert result.ok, (result.missing, result.out_of_order)
    found = words(extract_text(pdf))
    for line in ARABIC:  # every bullet exactly: words, spaces and punctuation in logical order
        assert contiguous(found, words(line)), line
    raw = extract_text(pdf)
    for literal in (
        "Python 3.12",
        "PostgreSQL 16",
        "layla@example.com",
        "https://layla.example.com/cv",
        "React/Vue",
        "FastAPI",
        "Django",
        "Pulse AI",
        "Temporal",
    ):
        assert literal in raw, literal
    assert "و\u2010" in raw and "Go-" not in raw  # the hyphen stays on و's side, before Go
    # pdfium (Chrome's reader) too, where its own rules allow: it mirrors brackets at right-to-left
    # levels and reads a line with more Latin than Arabic letters left to right (docs/cv.md)
    assert "خبرة في Python و\u2010Go منذ سنوات." in pdfium_text(pdf)


def pdfium_text(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document).translate(BIDI_CONTROLS)
    finally:
        document.close()


@pytest.mark.parametrize("template", list(Template))
def test_english_cv_with_arabic_in_guillemets_and_hyphenated(template: Template) -> None:
    cv, pdf = render("en", ENGLISH, template)
    result = check_text(pdf, cv, Words("en", "latin"))
    assert result.ok, (result.missing, result.out_of_order)
    raw = extract_text(pdf)
    assert "بنك\u2010الإسكان" in raw and "الإسكان-" not in raw  # not swapped around the hyphen
    assert contiguous(words(raw), words(ENGLISH[0])) and contiguous(words(raw), words(ENGLISH[1]))
    assert "Worked at بنك\u2010الإسكان for two years." in pdfium_text(pdf)


def test_without_the_direction_marks_the_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The renders before the marks: pdftotext read "« »Temporalلتنسيق" and "Pythonو‐ Go"
    (the space and punctuation after a Latin run moved before it); the strict check fails."""
    monkeypatch.setattr(cv_text.Words, "mark", property(lambda self: ""))
    cv, pdf = render("ar", ARABIC[:2], Template.ats)
    raw = extract_text(pdf)
    assert "« »Temporal" in raw and "Pythonو" in raw and "2021الآن" in raw
    missing = check_text(pdf, cv, Words("ar", "latin")).missing
    assert {"summary", "dates", "highlight", "fluency"} <= set(missing), missing


def test_a_pdf_printing_the_raw_hyphen_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the U+2010 substitution poppler reads "و Go-": the hyphen on the wrong side."""
    monkeypatch.setattr(cv_text, "JOINING_HYPHEN", cv_text.re.compile("(?!)"))
    cv, pdf = render("ar", ["خبرة في Python و-Go منذ سنوات."], Template.ats)
    assert "Go-" in extract_text(pdf)
    assert check_text(pdf, cv, Words("ar", "latin")).missing == ["highlight"]


def test_the_comparison_is_exact_inside_a_field_and_lenient_at_its_edges() -> None:
    assert words("و-Go") == ["و-Go"] == words("و\u2010Go") == words("و\u2011Go")
    line = words("عملت على «Temporal» لتنسيق")
    assert _find(words("• عملت على «Temporal» لتنسيق المهام."), line, 0) == 1
    assert _find(words("عملت على « »Temporalلتنسيق"), line, 0) == -1  # poppler before the marks
    assert _find(words("خبرة في Pythonو‐ Go"), words("خبرة في Python و-Go"), 0) == -1
    assert _find(words("Python: FastAPI, asyncio"), ["FastAPI"], 0) == 1  # the template's ", "
    assert _find(words("متقدم ()C1"), words("متقدم (C1)"), 0) == -1
    assert _find(words("Acme Corp·عمان"), words("Acme Corp"), 0) == -1  # glued to the next field


def test_outline_titles_carry_no_mark_carriers() -> None:
    """The carriers are drawn invisible; the PDF's outline (bookmarks from h1-h3) is text a viewer
    shows as is, so they are taken out of it."""
    data = arabic_cv()
    data["work"][0]["position"] = "مهندسة Python أولى"
    cv = CvContent.model_validate(data)
    outline = PdfReader(io.BytesIO(render_pdf(cv, RenderOptions.of(cv)).pdf)).outline
    titles, stack = [], list(outline)
    while stack:
        item = stack.pop()
        stack.extend(item) if isinstance(item, list) else titles.append(item.title)
    assert "مهندسة Python أولى" in titles, titles


OTHER_LTR = ["عملت في Nestlé لمدة سنتين.", "مشروع Ελληνικά للترجمة", "درست في Zürich ثم عدت."]


@pytest.mark.parametrize("template", list(Template))
def test_accented_latin_and_other_left_to_right_scripts_in_arabic_lines(template: Template) -> None:
    """A run ends where its left-to-right letters end, accented ones included: before, "Nestlé"
    was cut at "é" and read back "Nestl éلمدة" (and Greek as "Ελληνικάللترجمة"), failing the job."""
    cv, pdf = render("ar", OTHER_LTR, template)
    result = check_text(pdf, cv, Words("ar", "latin"))
    assert result.ok, (result.missing, result.out_of_order)
    found = words(extract_text(pdf))
    for line in OTHER_LTR:
        assert contiguous(found, words(line)), line
