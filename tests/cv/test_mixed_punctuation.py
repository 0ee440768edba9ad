"""Punctuation between Arabic and Latin words (issue #17): guillemets, a hyphen joining the
two scripts, parentheses, versions with digits, an email/URL inside Arabic, a slash. Each CV
renders, passes the self-check, and poppler's pdftotext (what a screening system reads) gives
the words whole and in logical order. A PDF printing the raw hyphen fails the check."""

from __future__ import annotations

import pytest

from core.cv import text as cv_text
from core.cv.render import RenderOptions, render_pdf
from core.cv.schema import CvContent, Template
from core.cv.text import Words
from core.cv.textcheck import check_text, extract_text, words
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
    for line in ARABIC:  # every bullet's words, in logical order
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


@pytest.mark.parametrize("template", list(Template))
def test_english_cv_with_arabic_in_guillemets_and_hyphenated(template: Template) -> None:
    cv, pdf = render("en", ENGLISH, template)
    result = check_text(pdf, cv, Words("en", "latin"))
    assert result.ok, (result.missing, result.out_of_order)
    raw = extract_text(pdf)
    assert "بنك\u2010الإسكان" in raw and "الإسكان-" not in raw  # not swapped around the hyphen
    assert contiguous(words(raw), ["Worked", "at", "بنك", "-", "الإسكان", "for", "two", "years"])


def test_a_pdf_printing_the_raw_hyphen_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the U+2010 substitution poppler reads "و Go-" and "الإسكان- بنك": the check sees
    the hyphen on the wrong side (it is a word of its own, compared in place) and fails."""
    monkeypatch.setattr(cv_text, "JOINING_HYPHEN", cv_text.re.compile("(?!)"))
    cv, pdf = render("ar", ["خبرة في Python و-Go منذ سنوات."], Template.ats)
    assert "Go-" in extract_text(pdf)
    assert check_text(pdf, cv, Words("ar", "latin")).missing == ["highlight"]
    cv, pdf = render("en", ["Worked at بنك-الإسكان for two years."], Template.ats)
    assert check_text(pdf, cv, Words("en", "latin")).missing == ["highlight"]


def test_the_normaliser_keeps_hyphens_and_script_order() -> None:
    assert words("و-Go") == ["و", "-", "Go"] == words("و\u2010Go") == words("و\u2011Go")
    assert words("و Go-") != words("و-Go")
    assert words("«Temporal»") == ["Temporal"] and words("Python 3.12") == ["Python", "3.12"]
    assert words("layla-k") == ["layla", "-", "k"]
