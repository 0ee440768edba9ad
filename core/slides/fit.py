"""The fit check: every text box measured with real font metrics (HarfBuzz shaping of the
project's Arabic/Latin face, IBM Plex Sans Arabic — wider than the Office faces named in the
PPTX, so a box that fits here fits there) against its box. Too long → the text shrinks, at most
to the box's floor; still too long → the caller has the model shorten that slide. Nothing is
ever clipped silently."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import uharfbuzz as hb

from core.cv.render import FONTS
from core.slides.layouts import LINE, PAD_X, PAD_Y, PARA_GAP, Box

FACES = {False: FONTS / "IBMPlexSansArabic-Regular.ttf", True: FONTS / "IBMPlexSansArabic-Bold.ttf"}
SAFETY = 0.95  # of the inner width: other renderers' line breaking differs a little
BULLET_INDENT = 1.3  # the hanging indent of a bullet, in font sizes
STEPS = (1.0, 0.92, 0.85, 0.78, 0.72, 0.66, 0.6)  # of the design size (never below the floor)


@lru_cache(maxsize=2)
def _font(bold: bool) -> tuple[hb.Font, int]:
    blob = hb.Blob.from_file_path(str(FACES[bold]))
    face = hb.Face(blob)
    return hb.Font(face), face.upem


@lru_cache(maxsize=50_000)
def advance(text: str, bold: bool = False) -> float:
    """The width of ``text`` at 1 pt, shaped (joining, ligatures, kerning)."""
    font, upem = _font(bold)
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(font, buffer, {"kern": True, "liga": True})
    return float(sum(position.x_advance for position in buffer.glyph_positions)) / upem


def line_count(text: str, width_pt: float, size: float, bold: bool = False) -> int:
    """Lines ``text`` takes when wrapped at spaces in ``width_pt`` at ``size`` pt; a word wider
    than the line counts the lines it would be broken into."""
    words = text.split()
    if not words:
        return 1
    space = advance(" ", bold) * size
    lines, used = 1, 0.0
    for word in words:
        width = advance(word, bold) * size
        if width > width_pt:  # a very long word: broken over lines
            extra = int(width // width_pt)
            lines += extra + (1 if used else 0)
            used = width - extra * width_pt
            continue
        needed = width if used == 0 else used + space + width
        if needed <= width_pt:
            used = needed
        else:
            lines += 1
            used = width
    return lines


def text_height(box: Box, size: float) -> float:
    indent = BULLET_INDENT * size if box.kind in ("bullets", "numbered") else 0.0
    width = (box.w - 2 * PAD_X) * SAFETY - indent
    lines = [line_count(p, width, size, box.bold) for p in box.paragraphs if p.strip()]
    gaps = max(0, len(lines) - 1) * PARA_GAP * size
    return sum(lines) * LINE * size + gaps


def table_fits(box: Box, size: float) -> bool:
    if not box.rows:
        return True
    columns = max(len(row) for row in box.rows)
    cell_w = (box.w / columns - 2 * PAD_X) * SAFETY
    row_h = box.h / len(box.rows) - 2 * PAD_Y
    return all(
        line_count(cell, cell_w, size, bold=(r == 0)) * LINE * size <= row_h
        for r, row in enumerate(box.rows)
        for cell in row
    )


def fits(box: Box, size: float) -> bool:
    if box.kind == "table":
        return table_fits(box, size)
    return text_height(box, size) <= box.h - 2 * PAD_Y


@dataclass(frozen=True)
class Fit:
    role: str
    size: float | None  # None: does not fit even at the floor

    @property
    def ok(self) -> bool:
        return self.size is not None


def fit_box(box: Box) -> Fit:
    for step in STEPS:
        size = round(max(box.floor, box.size * step), 1)
        if fits(box, size):
            return Fit(box.role, size)
        if size == box.floor:
            break
    if fits(box, box.floor):
        return Fit(box.role, box.floor)
    return Fit(box.role, None)


def fit_slide(found: list[Box]) -> dict[str, Fit]:
    return {box.role: fit_box(box) for box in found}


def overflowing(found: list[Box]) -> list[str]:
    return [role for role, fit in fit_slide(found).items() if not fit.ok]
