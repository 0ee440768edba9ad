"""The renderers on their own: the Arabic PPTX checked in its XML (presentation rtl, every
paragraph rtl + right-aligned, every run lang + a:cs, the theme's cs and Arabic slots, rtl
table, native notes, mirrored boxes) and opened + converted by LibreOffice headless (once per
session); the PDF twin with embedded fonts and its text extractable in logical order; the
HarfBuzz fit check shrinking within the floor and reporting what cannot fit."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pypdfium2
import pypdfium2.raw
import pytest
from lxml import etree
from pptx import Presentation

from core.cv.textcheck import fonts_in
from core.slides.fit import fit_box, overflowing
from core.slides.layouts import SLIDE_W, Box, boxes
from core.slides.model import Deck, Layout, SlideContent
from core.slides.pdf import render_pdf, thumbnails
from core.slides.pptx import OFFICE_FACE, render_pptx
from core.slides.samples import arabic_deck

NS = {
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "p": "http://schemas.openxmlformats.org/presentationml/2006/main",
}


def xml_parts(pptx: bytes, prefix: str) -> dict[str, etree._Element]:
    with zipfile.ZipFile(io.BytesIO(pptx)) as archive:
        return {
            name: etree.fromstring(archive.read(name))
            for name in archive.namelist()
            if name.startswith(prefix) and name.endswith(".xml")
        }


def check_rtl_pptx(pptx: bytes) -> None:
    """The Arabic PPTX invariants (also used by the API tests on downloaded decks)."""
    presentation = xml_parts(pptx, "ppt/presentation.xml")["ppt/presentation.xml"]
    assert presentation.get("rtl") == "1"
    texts = {**xml_parts(pptx, "ppt/slides/slide"), **xml_parts(pptx, "ppt/notesSlides/")}
    paragraphs = runs = 0
    for name, root in texts.items():
        for paragraph in root.iter(f"{{{NS['a']}}}p"):
            if not paragraph.findall("a:r", NS):
                continue
            if name.startswith("ppt/notesSlides/") and not "".join(paragraph.itertext()).strip():
                continue
            p_pr = paragraph.find("a:pPr", NS)
            assert p_pr is not None and p_pr.get("rtl") == "1", (name, etree.tostring(paragraph)[:200])
            assert p_pr.get("algn") in ("r", "ctr"), name
            paragraphs += 1
            for run in paragraph.findall("a:r", NS):
                r_pr = run.find("a:rPr", NS)
                assert r_pr is not None and r_pr.get("lang") == "ar-JO", name
                cs = r_pr.find("a:cs", NS)
                assert cs is not None and cs.get("typeface") == OFFICE_FACE, name
                # schema order: latin before cs
                children = [etree.QName(c).localname for c in r_pr]
                assert children.index("latin") < children.index("cs"), children
                runs += 1
    assert paragraphs > 10 and runs >= paragraphs
    for root in xml_parts(pptx, "ppt/slides/slide").values():
        for table in root.iter(f"{{{NS['a']}}}tbl"):
            assert table.find("a:tblPr", NS).get("rtl") == "1"
    theme = next(iter(xml_parts(pptx, "ppt/theme/").values()))
    for group in ("majorFont", "minorFont"):
        fonts = theme.find(f".//a:{group}", NS)
        assert fonts.find("a:cs", NS).get("typeface") == OFFICE_FACE
        assert any(
            f.get("script") == "Arab" and f.get("typeface") == OFFICE_FACE
            for f in fonts.findall("a:font", NS)
        )


@pytest.fixture(scope="module")
def deck() -> Deck:
    return arabic_deck()


@pytest.fixture(scope="module")
def pptx(deck: Deck) -> bytes:
    return render_pptx(deck)


def test_arabic_pptx_xml_is_rtl_with_lang_and_complex_script_faces(pptx: bytes, deck: Deck) -> None:
    check_rtl_pptx(pptx)
    reopened = Presentation(io.BytesIO(pptx))
    assert len(reopened.slides) == len(deck.slides)
    first = reopened.slides[0]
    assert first.has_notes_slide and "بالترحيب" in first.notes_slide.notes_text_frame.text
    # mirrored: the comparison's first column ("قبل") sits on the right half
    comparison = reopened.slides[2]
    left_title = next(s for s in comparison.shapes if s.name == "left_title")
    assert left_title.left > reopened.slide_width / 2
    # Arabic-Indic numbering on the timeline, a real bullet on bullets
    timeline = etree.tostring(reopened.slides[4].shapes._spTree).decode()
    assert 'type="hindiNumPeriod"' in timeline
    # every text is a native, editable text (no pictures)
    assert all(shape.shape_type != 13 for slide in reopened.slides for shape in slide.shapes)


def test_libreoffice_opens_and_converts_the_arabic_deck(pptx: bytes, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    assert soffice, "libreoffice-impress is installed by infra/dev/ensure-services.sh"
    source = tmp_path / "deck.pptx"
    source.write_bytes(pptx)
    done = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    converted = tmp_path / "deck.pdf"
    assert done.returncode == 0 and converted.exists(), done.stderr
    text = subprocess.run(["pdftotext", str(converted), "-"], capture_output=True, text=True).stdout
    # (words without lam-alef: poppler reverses ligature clusters of LibreOffice's PDFs)
    assert "المراحل" in text and "أرسطو" in text and "المقارنة" in text


def test_pdf_twin_embeds_fonts_and_reads_back_in_logical_order(deck: Deck, tmp_path: Path) -> None:
    pdf = render_pdf(deck)
    fonts = fonts_in(pdf)
    assert fonts and all(f.embedded and f.subset for f in fonts)
    path = tmp_path / "twin.pdf"
    path.write_bytes(pdf)
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(rf"^Pages:\s+{len(deck.slides)}$", pages, re.M), pages
    text = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", str(path), "-"], capture_output=True, text=True
    ).stdout
    assert "الأهداف" in text and "توسيع الفريق إلى" in text
    pngs = thumbnails(pdf, 320)
    assert len(pngs) == len(deck.slides) and all(p.startswith(b"\x89PNG") for p in pngs)


def test_fit_shrinks_within_the_floor_and_reports_what_cannot_fit() -> None:
    short = SlideContent(layout=Layout.bullets, heading="الأهداف", bullets=["نمو", "توسع"])
    assert overflowing(boxes(short)) == []
    assert fit_box(boxes(short)[0]).size == 32  # the design size when it fits
    wordy = "زيادة الإيرادات في جميع الأسواق الإقليمية عبر قنوات البيع الرقمية "
    medium = Box("heading", 48, 28, 864, 72, 32, 22, (wordy * 2,), bold=True)
    fitted = fit_box(medium)
    assert fitted.size is not None and 22 <= fitted.size < 32  # shrunk, not below the floor
    long = SlideContent(layout=Layout.bullets, heading=wordy * 4, bullets=[wordy * 8] * 6)
    assert set(overflowing(boxes(long))) == {"heading", "body"}
    english = Box(
        "body", 48, 116, 864, 390, 22, 14, ("Grow revenue 20% through WhatsApp",) * 3, kind="bullets"
    )
    assert fit_box(english).size == 22
    assert boxes(short)[0].mirrored().x == SLIDE_W - 48 - 864


def test_a_picture_sits_in_the_panel_mirrored_in_both_files(deck: Deck, tmp_path: Path) -> None:
    """An image + text slide's picture: cut to the panel's shape once, the same pixels in the
    PPTX (a picture shape with alt text, on the left in Arabic, on the right in English) and in
    the PDF twin; the Arabic XML invariants hold with it and LibreOffice still converts it."""
    from PIL import Image

    from core.slides.layouts import IMAGE_PANEL
    from core.slides.pictures import fit_to_panel, image_prompt, size_for

    buffer = io.BytesIO()
    Image.new("RGB", (1024, 1536), (40, 120, 180)).save(buffer, format="PNG")
    cut = fit_to_panel(buffer.getvalue(), IMAGE_PANEL[2], IMAGE_PANEL[3])
    assert Image.open(io.BytesIO(cut)).size == (624, 780)  # the panel's 0.8, at 2 px per pt
    assert size_for(["1024x1024", "1536x1024", "1024x1536"], IMAGE_PANEL[2], IMAGE_PANEL[3]) == "1024x1536"
    assert image_prompt("A calm harbour at dawn").endswith("signs or logos anywhere in the image.")
    slot = next(i for i, s in enumerate(deck.slides) if s.layout is Layout.image_text)
    x, _, w, _ = IMAGE_PANEL
    for language, left in (("ar", SLIDE_W - x - w), ("en", x)):
        variant = deck.model_copy(update={"language": language})
        pptx = render_pptx(variant, {slot: cut})
        if language == "ar":
            check_rtl_pptx(pptx)
            (tmp_path / "picture.pptx").write_bytes(pptx)
        shapes = Presentation(io.BytesIO(pptx)).slides[slot].shapes
        [picture] = [s for s in shapes if s.shape_type == 13]
        assert round(picture.left.pt) == round(left) and round(picture.width.pt) == round(w)
        assert picture._element.find(".//{*}cNvPr").get("descr") == deck.slides[slot].heading
        assert picture.image.blob == cut
    pdf = render_pdf(deck, {slot: cut})
    document = pypdfium2.PdfDocument(pdf)
    images = [len(list(page.get_objects(filter=[pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]))) for page in document]
    document.close()
    assert images == [int(i == slot) for i in range(len(deck.slides))]
    soffice = shutil.which("soffice")
    assert soffice
    done = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "picture.pptx"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0 and (tmp_path / "picture.pdf").exists(), done.stderr
