"""Deck → native PPTX with python-pptx: every text is a real, editable text box (no images of
text). Arabic decks get ``<p:presentation rtl="1">``, ``rtl="1"`` + right alignment on every
paragraph, ``lang="ar-JO"`` and an Office-safe Arabic face in the ``a:cs`` slot of every run and
of the theme, mirrored layouts, ``rtl="1"`` tables and (when chosen) Arabic-Indic numbering.
Speaker notes are native notes. python-pptx has no RTL API, so those attributes are set with lxml
(schema order respected, existing properties kept)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PresentationT
from pptx.slide import Slide
from pptx.text.text import TextFrame
from pptx.util import Pt

from core.slides.fit import fit_slide
from core.slides.layouts import PAD_X, PAD_Y, SLIDE_H, SLIDE_W, Box, placed, placed_panel
from core.slides.model import Deck, Layout, SlideContent

OFFICE_FACE = "Arial"  # Office-safe on Windows/macOS, has Arabic; LibreOffice substitutes metrically
LANG = {"ar": "ar-JO", "en": "en-US"}
CORNER = 14.0  # the panel's corner radius, pt (the PDF twin's border-radius)


@dataclass(frozen=True)
class Theme:
    background: str
    ink: str
    accent: str
    panel: str


THEMES = {
    "ocean": Theme("FFFFFF", "1D1D1F", "0B5CAD", "DCEAF7"),
    "sand": Theme("FBF7F0", "2B2620", "9A5B13", "F1E3CC"),
    "graphite": Theme("1F2328", "F2F2F2", "4FB3FF", "2E353D"),
}


def render_pptx(deck: Deck, pictures: dict[int, bytes] | None = None) -> bytes:
    """The deck; ``pictures`` (slide index → JPEG cut to its panel) fill image + text panels."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Pt(SLIDE_W), Pt(SLIDE_H)
    if deck.rtl:
        prs.part._element.set("rtl", "1")
    _theme_fonts(prs, deck)
    theme = THEMES.get(deck.theme, THEMES["ocean"])
    blank = prs.slide_layouts[6]
    for i, content in enumerate(deck.slides):
        slide = prs.slides.add_slide(blank)
        _background(slide, theme)
        _draw_slide(slide, deck, content, theme, (pictures or {}).get(i))
        if content.notes:
            notes = slide.notes_slide.notes_text_frame
            notes.text = content.notes
            _style_frame(notes, deck, size=None, align_center=False)
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()


def _draw_slide(slide: Slide, deck: Deck, content: SlideContent, theme: Theme, picture: bytes | None) -> None:
    found = placed(deck, content)
    sizes = fit_slide(found)
    rect = placed_panel(deck, content)
    if rect is not None and picture is not None:
        _picture(slide, rect, picture, content.heading)
    elif rect is not None:
        shape = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, *(Pt(v) for v in rect))
        shape.adjustments[0] = CORNER / min(rect[2:])
        shape.fill.solid()
        shape.fill.fore_color.rgb = _rgb(theme.panel)
        shape.line.fill.background()
    if content.layout in (Layout.title, Layout.section, Layout.closing):
        bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Pt(0), Pt(SLIDE_H - 18), Pt(SLIDE_W), Pt(18))
        bar.fill.solid()
        bar.fill.fore_color.rgb = _rgb(theme.accent)
        bar.line.fill.background()
    for box in found:
        size = sizes[box.role].size or box.floor
        if box.kind == "table":
            _table(slide, deck, box, size, theme)
        else:
            _text_box(slide, deck, box, size, theme)


def _picture(slide: Slide, rect: tuple[float, float, float, float], picture: bytes, alt: str) -> None:
    """The picture in the panel's place, with the panel's rounded corners and alt text."""
    image = slide.shapes.add_picture(io.BytesIO(picture), *(Pt(v) for v in rect))
    image.name = "image"
    image.auto_shape_type = MSO_SHAPE.ROUNDED_RECTANGLE
    element = image._element
    av_list = element.find(f"{qn('p:spPr')}/{qn('a:prstGeom')}/{qn('a:avLst')}")
    corner = round(CORNER / min(rect[2:]) * 100000)
    etree.SubElement(av_list, qn("a:gd"), name="adj", fmla=f"val {corner}")
    element.find(f"{qn('p:nvPicPr')}/{qn('p:cNvPr')}").set("descr", alt)


def _text_box(slide: Slide, deck: Deck, box: Box, size: float, theme: Theme) -> None:
    shape = slide.shapes.add_textbox(Pt(box.x), Pt(box.y), Pt(box.w), Pt(box.h))
    shape.name = box.role
    frame = shape.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.margin_left = frame.margin_right = Pt(PAD_X)
    frame.margin_top = frame.margin_bottom = Pt(PAD_Y)
    frame.vertical_anchor = MSO_ANCHOR.MIDDLE if box.center else MSO_ANCHOR.TOP
    for i, text in enumerate(p for p in box.paragraphs if p.strip()):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = text
        if i:
            paragraph.space_before = Pt(size * 0.35)
        font = paragraph.runs[0].font
        font.bold = box.bold
        font.italic = box.italic
        font.color.rgb = _rgb(theme.accent if box.accent else theme.ink)
    _style_frame(frame, deck, size=size, align_center=box.center)
    if box.kind in ("bullets", "numbered"):
        for paragraph in frame.paragraphs:
            _bullet(paragraph._p, deck, size, numbered=box.kind == "numbered")


def _table(slide: Slide, deck: Deck, box: Box, size: float, theme: Theme) -> None:
    rows, cols = len(box.rows), max(len(row) for row in box.rows)
    shape = slide.shapes.add_table(rows, cols, Pt(box.x), Pt(box.y), Pt(box.w), Pt(box.h))
    shape.name = "table"
    table = shape.table
    properties = table._tbl.tblPr
    if deck.rtl and properties is not None:
        properties.set("rtl", "1")  # <a:tblPr rtl="1">: the first column on the right
    for r, row in enumerate(box.rows):
        for c in range(cols):
            cell = table.cell(r, c)
            cell.text = row[c] if c < len(row) else ""
            for paragraph in cell.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.bold = r == 0
            _style_frame(cell.text_frame, deck, size=size, align_center=False)


def _style_frame(frame: TextFrame, deck: Deck, *, size: float | None, align_center: bool) -> None:
    """Direction, alignment, language and faces on every paragraph and run of a frame."""
    for paragraph in frame.paragraphs:
        if align_center:
            paragraph.alignment = PP_ALIGN.CENTER
        elif deck.rtl:
            paragraph.alignment = PP_ALIGN.RIGHT
        else:
            paragraph.alignment = PP_ALIGN.LEFT
        p_pr = paragraph._p.get_or_add_pPr()
        if deck.rtl:
            p_pr.set("rtl", "1")
        for run in paragraph.runs:
            if size is not None:
                run.font.size = Pt(size)
            _run_faces(run._r.get_or_add_rPr(), deck)


def _run_faces(r_pr: etree._Element, deck: Deck) -> None:
    r_pr.set("lang", LANG[deck.language])
    r_pr.set("altLang", "en-US" if deck.rtl else "ar-JO")
    latin = r_pr.find(qn("a:latin"))
    if latin is None:
        latin = etree.SubElement(r_pr, qn("a:latin"))
        # schema order: ln, fill, effect, highlight, uLn*, uFill*, latin, ea, cs, sym, hlink…
        for name in ("a:ea", "a:cs", "a:sym", "a:hlinkClick", "a:hlinkMouseOver", "a:rtl", "a:extLst"):
            later = r_pr.find(qn(name))
            if later is not None:
                later.addprevious(latin)
                break
    latin.set("typeface", OFFICE_FACE)
    cs = r_pr.find(qn("a:cs"))
    if cs is None:
        cs = etree.Element(qn("a:cs"))
        ea = r_pr.find(qn("a:ea"))
        (ea if ea is not None else latin).addnext(cs)
    cs.set("typeface", OFFICE_FACE)


def _bullet(p: etree._Element, deck: Deck, size: float, *, numbered: bool) -> None:
    p_pr = p.get_or_add_pPr()
    indent = round(size * 1.3 * 12700)
    p_pr.set("marL", str(indent))  # PowerPoint writes marL for RTL bullets too (the start side)
    p_pr.set("indent", str(-indent))
    for name in ("a:buFont", "a:buChar", "a:buAutoNum", "a:buNone"):
        for old in p_pr.findall(qn(name)):
            p_pr.remove(old)
    font = etree.Element(qn("a:buFont"), typeface=OFFICE_FACE)
    if numbered:
        scheme = "hindiNumPeriod" if deck.rtl and deck.digits == "arabic" else "arabicPeriod"
        mark = etree.Element(qn("a:buAutoNum"), type=scheme)
    else:
        mark = etree.Element(qn("a:buChar"), char="•")
    # pPr children order: lnSpc, spcBef, spcAft, buClr*, buSz*, buFont*, bu*, tabLst, defRPr, extLst
    anchor = next(
        (p_pr.find(qn(n)) for n in ("a:tabLst", "a:defRPr", "a:extLst") if p_pr.find(qn(n)) is not None), None
    )
    if anchor is not None:
        anchor.addprevious(font)
        anchor.addprevious(mark)
    else:
        p_pr.append(font)
        p_pr.append(mark)


def _rgb(hex_code: str) -> RGBColor:
    return RGBColor(int(hex_code[0:2], 16), int(hex_code[2:4], 16), int(hex_code[4:6], 16))  # type: ignore[no-untyped-call]


def _background(slide: Slide, theme: Theme) -> None:
    fill = slide.background.fill
    fill.solid()
    fill.fore_color.rgb = _rgb(theme.background)


def _theme_fonts(prs: PresentationT, deck: Deck) -> None:
    """The theme's major/minor fonts: the Office-safe face in latin and cs, and in the Arabic
    script slot, so text typed later in PowerPoint gets it too."""
    part = prs.slide_master.part.part_related_by(RT.THEME)
    root = etree.fromstring(part.blob)
    for group in ("a:majorFont", "a:minorFont"):
        for font_group in root.iter(qn(group)):
            for slot in ("a:latin", "a:cs"):
                element = font_group.find(qn(slot))
                if element is not None:
                    element.set("typeface", OFFICE_FACE)
            arab = next((f for f in font_group.findall(qn("a:font")) if f.get("script") == "Arab"), None)
            if arab is None:
                arab = etree.SubElement(font_group, qn("a:font"), script="Arab")
            arab.set("typeface", OFFICE_FACE)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
