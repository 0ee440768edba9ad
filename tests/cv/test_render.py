"""Rendering and the text self-check on real PDFs (WeasyPrint → poppler's pdftotext, pypdf,
pdfium): each template in Arabic and English reads back whole and in order, fonts are embedded
and subset, metadata is set, the page-1 thumbnail."""

from __future__ import annotations

import io
import subprocess

import pytest
from pypdf import PdfReader

from core.cv.render import RenderOptions, render_pdf
from core.cv.schema import CvContent, Template
from core.cv.text import Words
from core.cv.textcheck import check_text, extract_text, fonts_in, thumbnail_png, words
from tests.cv.samples import arabic_cv, english_cv


def rendered(data: dict, **options: object) -> tuple[CvContent, RenderOptions, bytes]:
    cv = CvContent.model_validate(data)
    chosen = RenderOptions.of(cv, **options)
    return cv, chosen, render_pdf(cv, chosen).pdf


@pytest.mark.parametrize(
    ("sample", "template"), [(arabic_cv, Template.two_column), (english_cv, Template.photo)]
)
def test_reads_back_in_logical_order_with_metadata(sample, template: Template) -> None:
    """(Each template × language is rendered through the HTTP API in test_cv_jobs.py.)"""
    cv, options, pdf = rendered(sample(), template=template)
    result = check_text(pdf, cv, Words(options.locale, options.digits))
    assert result.ok, (result.missing, result.out_of_order)
    text = words(extract_text(pdf))
    # the mixed-direction fields, literally: phone and email whole, Latin company inside Arabic
    joined = " ".join(text)
    assert " ".join(words(cv.basics.phone)) in joined and cv.basics.email in text
    fonts = fonts_in(pdf)
    assert fonts and all(f.embedded and f.subset for f in fonts), fonts
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == cv.basics.name and reader.metadata.author == cv.basics.name
    assert reader.trailer["/Root"]["/Lang"] == cv.locale


def test_arabic_digits_bilingual_headings_letter_paper() -> None:
    cv, options, pdf = rendered(arabic_cv(), digits="arabic", bilingual=True, paper="Letter")
    assert check_text(pdf, cv, Words("ar", "arabic"), bilingual=True).ok
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode()
    assert "٢٠٢١" in text and "2021" not in text and "Experience" in text and "الخبرة" in text
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert round(float(page.mediabox.width)) == 612 and round(float(page.mediabox.height)) == 792


def test_the_check_fails_when_the_pdf_says_something_else() -> None:
    cv, options, pdf = rendered(arabic_cv())
    other = CvContent.model_validate(arabic_cv())
    other.basics.phone = "+962 7 9999 0000"
    other.work[0].highlights.append("أطلقت تطبيقاً جديداً على iOS و Android")
    result = check_text(pdf, other, Words("ar", "latin"))
    assert not result.ok and result.missing == ["phone", "highlight"]


def long_cv() -> dict:
    data = arabic_cv()
    job = data["work"][0]
    data["work"] = [job | {"name": f"Company {i}", "highlights": job["highlights"] * 3} for i in range(14)]
    return data


def test_three_pages_read_back_and_thumbnail() -> None:
    """(Headings and entries at page ends: test_pagination.py, on the laid-out pages.)"""
    cv, options, pdf = rendered(long_cv())
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    assert check_text(pdf, cv, Words("ar", "latin")).ok
    png = thumbnail_png(pdf, width=400)
    assert png.startswith(b"\x89PNG")
    from PIL import Image

    assert Image.open(io.BytesIO(png)).size[0] == 400


def structure_roles(pdf: bytes) -> set[str]:
    root = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    roles: set[str] = set()
    pending = [root["/StructTreeRoot"].get_object()]
    while pending:
        node = pending.pop()
        roles.add(str(node.get("/S", "")))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid, dict):
                pending.append(kid)
    return roles


def test_tagged_pdf_ua_on_request_still_reads_back() -> None:
    cv, options, plain = rendered(arabic_cv())
    root = PdfReader(io.BytesIO(plain)).trailer["/Root"]
    assert "/StructTreeRoot" not in root and root["/Lang"] == "ar"  # the default: untagged
    cv, options, tagged = rendered(arabic_cv(), tagged=True)
    root = PdfReader(io.BytesIO(tagged)).trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"].value and root["/ViewerPreferences"]["/DisplayDocTitle"].value
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()
    assert {"/H1", "/H2", "/H3", "/P", "/L", "/LI", "/Sect"} <= structure_roles(tagged)
    assert check_text(tagged, cv, Words("ar", "latin")).ok
    assert all(f.embedded and f.subset for f in fonts_in(tagged))


MIXED_AR = [
    "استخدمت Python (مع Redis) و AWS، ثم Kubernetes.",
    "عملت في Google ثم Microsoft",
    "نظام Linux؟ نعم",
    "أداة Docker/Podman للحاويات",
    "Python أولاً ثم Rust",
]


@pytest.mark.parametrize("template", list(Template))
def test_single_latin_words_in_arabic_lines_read_back_without_isolation(template: Template) -> None:
    """A run that is one word of letters needs no <bdi> (fewer inline boxes, faster layout);
    words beside brackets, digits and Arabic punctuation still read back in order."""
    data = arabic_cv()
    data["work"][0]["highlights"] = MIXED_AR
    data["basics"]["summary"] = "خبير Python و SQL، Redis؛ (AWS)."
    cv, options, pdf = rendered(data, template=template)
    result = check_text(pdf, cv, Words("ar", "latin"))
    assert result.ok, (result.missing, result.out_of_order)


PASTED = [
    "خبرة \u202eFastAPI\u202c في الدفع",  # a right-to-left override: printed reversed before
    "خبير Kuber\u00adnetes منذ سنوات",  # a soft hyphen
    "تحليل\u200dالبيانات في SQL",  # a zero-width joiner
    "\ufeffخبرة في Python",  # a byte-order mark
]


def test_text_pasted_with_invisible_controls_reads_back() -> None:
    """Text pasted from a word processor or the web carries invisible controls; before, each of
    these failed the self-check (and so the render job): the override printed "IPAtsaF", the
    others were read back without the character the comparison still expected."""
    data = arabic_cv()
    data["work"][0]["highlights"] = PASTED
    cv, options, pdf = rendered(data)
    result = check_text(pdf, cv, Words("ar", "latin"))
    assert result.ok, (result.missing, result.out_of_order)
    assert "FastAPI" in extract_text(pdf) and "IPAtsaF" not in extract_text(pdf)
