"""Pagination of long CVs, checked on the laid-out pages (WeasyPrint's boxes) and the PDF: no
heading is the last thing of its page, no entry is split across pages, page 1 carries the start
of the CV's body in every template (the two-column template once moved both columns to page 2),
the page numbers sit in the bottom margin and read in order, and every section renders and
reads back in each template and language."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from weasyprint import CSS
from weasyprint.document import Document

from core.cv import render as cv_render
from core.cv.render import RenderOptions, layout, render_pdf
from core.cv.schema import CvContent, Template
from core.cv.text import Words
from core.cv.textcheck import check_text, extract_text, words
from tests.cv.samples import arabic_cv, english_cv

A4_POINTS = (595.28, 841.89)
BOTTOM_MARGIN = 17 / 25.4 * 72  # base.css: @page margin-block-end 17mm


def many_roles(sample: Any, roles: int = 16) -> CvContent:
    """Three pages; without `break-after: avoid` the education heading ends page 2 (checked)."""
    data = sample()
    data["work"] = [data["work"][0] | {"name": f"Company {i}"} for i in range(roles)]
    return CvContent.model_validate(data)


def _boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _boxes(child)


def layout_problems(document: Document) -> list[str]:
    """Headings whose next element starts on a later page, and entries on more than one page."""
    pages: dict[Element, list[int]] = {}
    for number, page in enumerate(document.pages):
        for box in _boxes(page._page_box):
            if box.element is not None and number not in pages.setdefault(box.element, []):
                pages[box.element].append(number)
    root = next(iter(pages))
    parent = {child: node for node in root.iter() for child in node}
    problems = []
    for element, seen in pages.items():
        if element.tag in ("h2", "h3") and element in parent:
            siblings = list(parent[element])
            after = siblings[siblings.index(element) + 1 :]
            if after and after[0] in pages and pages[after[0]][0] > seen[-1]:
                problems.append(f"heading alone at the end of page {seen[-1] + 1}")
        if "entry" in (element.get("class") or "").split() and len(seen) > 1:
            problems.append(f"entry split over pages {[n + 1 for n in seen]}")
    return problems


def page_text(pdf: bytes, page: int, *crop: str) -> str:
    """One page's text by pdftotext (optionally a crop box, in points), words joined by a space."""
    args = ["pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page), *crop, "-", "-"]
    out = subprocess.run(args, input=pdf, capture_output=True, check=True, timeout=30).stdout
    return " ".join(words(out.decode()))


@pytest.mark.parametrize("template", list(Template))
@pytest.mark.parametrize("sample", [arabic_cv, english_cv])
def test_three_pages_no_heading_ends_a_page_no_entry_split(sample: Any, template: Template) -> None:
    cv = many_roles(sample)
    options = RenderOptions.of(cv, template=template)
    document = layout(cv, options)
    assert len(document.pages) >= 3
    assert layout_problems(document) == []
    pdf = render_pdf(cv, options).pdf
    assert check_text(pdf, cv, Words(cv.locale, "latin")).ok
    # page 1 holds the start of the body, not the name alone
    first = page_text(pdf, 1)
    assert cv.basics.email in first and cv.work[0].position in first, first
    # the page numbers, in the bottom margin, read in logical order in the CV's language
    pages = len(document.pages)
    width, height = A4_POINTS
    for number in range(1, pages + 1):
        crop = ["-x", "0", "-y", str(int(height - BOTTOM_MARGIN)), "-W", str(int(width)), "-H", "60"]
        footer = page_text(pdf, number, *crop)
        expected = f"Page {number} of {pages}" if cv.locale == "en" else f"الصفحة {number} من {pages}"
        assert footer == f"{cv.basics.name} · {expected}", footer


@pytest.mark.parametrize(
    ("loosened", "problem"),
    [
        ("h2, h3 { break-after: auto !important }", "heading alone at the end of page"),
        (".entry { break-inside: auto !important }", "entry split over pages"),
    ],
)
def test_the_layout_check_sees_what_the_break_rules_prevent(
    monkeypatch: pytest.MonkeyPatch, loosened: str, problem: str
) -> None:
    """The check above is not vacuous: without the heading rule the same CV strands the
    education heading at the bottom of page 2; without the entry rule a role is split."""
    styles = cv_render._styles.__wrapped__

    def without_the_rule(*key: Any) -> Any:
        fonts, sheets = styles(*key)
        return fonts, [*sheets, CSS(string=loosened, font_config=fonts)]

    monkeypatch.setattr(cv_render, "_styles", without_the_rule)
    cv = many_roles(arabic_cv)
    problems = layout_problems(layout(cv, RenderOptions.of(cv, template=Template.ats)))
    assert any(found.startswith(problem) for found in problems), problems


def every_section(sample: Any) -> CvContent:
    data = sample()
    arabic = data["locale"] == "ar"
    data["projects"] = [
        {
            "name": "منصة Pulse للدفع" if arabic else "Pulse payments",
            "description": "بوابة دفع مفتوحة المصدر." if arabic else "An open-source payment gateway.",
            "highlights": ["10 آلاف مستخدم" if arabic else "10,000 users"],
            "url": "https://github.com/layla-k/pulse",
            "startDate": "2023-04",
        }
    ]
    data["volunteer"] = [
        {
            "organization": "تكية أم علي" if arabic else "Tkiyet Um Ali",
            "position": "متطوعة" if arabic else "Volunteer",
            "startDate": "2019",
            "highlights": ["نظمت توزيع 500 طرد" if arabic else "Organised 500 parcels"],
        }
    ]
    data["awards"] = [
        {
            "title": "جائزة الملكة رانيا" if arabic else "Queen Rania Award",
            "awarder": "وزارة التربية" if arabic else "Ministry of Education",
            "date": "2020-11-15",
        }
    ]
    data["references"] = [{"name": "د. سامي" if arabic else "Dr Sami", "reference": "متاحة عند الطلب"}]
    return CvContent.model_validate(data)


@pytest.mark.parametrize("template", list(Template))
@pytest.mark.parametrize("sample", [arabic_cv, english_cv])
def test_every_section_renders_and_reads_back_with_babel_dates(sample: Any, template: Template) -> None:
    cv = every_section(sample)
    pdf = render_pdf(cv, RenderOptions.of(cv, template=template)).pdf
    result = check_text(pdf, cv, Words(cv.locale, "latin"))
    assert result.ok, (result.missing, result.out_of_order)
    text = " ".join(words(extract_text(pdf)))
    if cv.locale == "ar":  # Babel, ar-JO: Levantine month names
        literals = ["كانون الثاني 2021", "تشرين الثاني 2020", "المشاريع", "العمل التطوعي"]
        literals += ["الجوائز", "المعرفون"]
    else:
        literals = ["March 2022", "November 2020", "Projects", "Volunteering", "Awards", "References"]
    assert [literal for literal in literals if literal not in text] == [], text
