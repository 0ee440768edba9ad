"""Skill levels (1–5) print as a word in the CV's language after the skill's name, in every
template and both directions, and read back from the PDF as text in logical order
("Python · متقدم", "Power BI · Advanced"); the self-check compares the label too (issue #17)."""

from __future__ import annotations

from typing import Any

import pytest

from core.cv.render import RenderOptions, render_pdf
from core.cv.schema import CvContent, Template
from core.cv.text import Words
from core.cv.textcheck import check_text, extract_text
from tests.cv.samples import arabic_cv, english_cv

ARABIC_SKILLS = [
    {"name": "Python", "level": 4, "keywords": ["FastAPI"]},
    {"name": "تحليل البيانات", "level": 3},
    {"name": "Machine Learning", "level": 1},
    {"name": "Go", "keywords": ["gRPC"]},  # no level: printed as before levels were
    {"name": "Kubernetes", "level": 5},
]
ENGLISH_SKILLS = [
    {"name": "SQL", "level": 5},
    {"name": "Power BI", "level": 4, "keywords": ["DAX"]},
    {"name": "تحليل البيانات", "level": 2},
    {"name": "Go", "keywords": ["gRPC"]},
    {"name": "Excel", "level": 1},
]
# pdftotext's lines, literally and in this order (the CV's order)
ARABIC_LINES = [
    "Python · متقدم: FastAPI",
    "تحليل البيانات · متوسط",
    "Machine Learning · مبتدئ",
    "Go: gRPC",
    "Kubernetes · خبير",
]
ENGLISH_LINES = [
    "SQL · Expert",
    "Power BI · Advanced: DAX",
    "تحليل البيانات · Elementary",
    "Go: gRPC",
    "Excel · Beginner",
]
CASES = [(arabic_cv, ARABIC_SKILLS, ARABIC_LINES), (english_cv, ENGLISH_SKILLS, ENGLISH_LINES)]


def leveled(sample: Any, skills: list[dict[str, Any]], template: Template) -> CvContent:
    data = sample(template=template.value)
    data["skills"] = skills
    return CvContent.model_validate(data)


@pytest.mark.parametrize("template", list(Template))
@pytest.mark.parametrize(("sample", "skills", "expected"), CASES, ids=["ar", "en"])
def test_levels_read_back_as_words_in_logical_order(sample, skills, expected, template) -> None:
    cv = leveled(sample, skills, template)
    options = RenderOptions.of(cv)
    pdf = render_pdf(cv, options).pdf
    result = check_text(pdf, cv, Words(options.locale, options.digits))
    assert result.ok, (result.missing, result.out_of_order)
    lines = [line.strip() for line in extract_text(pdf).splitlines()]
    at = [lines.index(line) if line in lines else -1 for line in expected]
    assert -1 not in at, [line for line in lines if "·" in line or ":" in line]
    assert at == sorted(at), at


@pytest.mark.parametrize(
    ("locale", "labels"),
    [
        ("ar", ["مبتدئ", "أساسي", "متوسط", "متقدم", "خبير"]),
        ("en", ["Beginner", "Elementary", "Intermediate", "Advanced", "Expert"]),
    ],
)
def test_each_level_has_its_word_in_both_languages(locale: str, labels: list[str]) -> None:
    words_of = Words(locale, "latin")
    assert [words_of.skill_level(level) for level in range(1, 6)] == labels
    assert words_of.skill("Python", None) == "Python" and words_of.skill_level(None) == ""


def test_the_check_compares_the_level_label() -> None:
    """A PDF that prints another level than the CV's fails the check on that skill."""
    cv = leveled(arabic_cv, ARABIC_SKILLS, Template.ats)
    pdf = render_pdf(cv, RenderOptions.of(cv)).pdf
    other = cv.model_copy(deep=True)
    other.skills[0].level = 2
    result = check_text(pdf, other, Words("ar", "latin"))
    assert not result.ok and result.missing == ["skill"]
