"""Where each layout puts its text: boxes in points on a 16:9 slide (960 × 540 pt), given in
left-to-right coordinates and mirrored (x′ = W − x − w) for right-to-left decks. The PPTX and
the PDF twin both draw these boxes, at the sizes the fit check chose."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from core.slides.model import Deck, Layout, SlideContent

SLIDE_W, SLIDE_H = 960.0, 540.0
PAD_X, PAD_Y = 7.2, 3.6  # PowerPoint's default text insets (0.1 in, 0.05 in)
LINE = 1.2  # line height, in font sizes
PARA_GAP = 0.35  # space before a paragraph after the first, in font sizes
Kind = Literal["plain", "bullets", "numbered", "table"]


@dataclass(frozen=True)
class Box:
    role: str  # heading / subtitle / body / left / right / value-1 / label-1 / quote / table …
    x: float
    y: float
    w: float
    h: float
    size: float  # the design size in pt
    floor: float  # the smallest size the fit check may shrink to
    paragraphs: tuple[str, ...] = ()
    kind: Kind = "plain"
    bold: bool = False
    italic: bool = False
    accent: bool = False  # drawn in the theme's accent colour
    center: bool = False
    rows: tuple[tuple[str, ...], ...] = field(default=())  # tables only

    def mirrored(self) -> Box:
        return replace(self, x=SLIDE_W - self.x - self.w)


def _heading(slide: SlideContent) -> Box:
    return Box("heading", 48, 28, 864, 72, 32, 22, (slide.heading,), bold=True, accent=True)


def _body(role: str, x: float, y: float, w: float, h: float, items: list[str], kind: Kind = "bullets") -> Box:
    return Box(role, x, y, w, h, 22, 14, tuple(items), kind=kind)


def boxes(slide: SlideContent) -> list[Box]:
    """The slide's text boxes in left-to-right coordinates (empty texts are left out)."""
    layout = slide.layout
    if layout in (Layout.title, Layout.closing, Layout.section):
        big = 44 if layout is not Layout.section else 40
        placed = [
            Box("heading", 72, 150, 816, 150, big, 26, (slide.heading,), bold=True, accent=True, center=True),
            Box("subtitle", 72, 318, 816, 90, 24, 15, (slide.subtitle,), center=True),
        ]
    elif layout is Layout.comparison:
        placed = [
            _heading(slide),
            Box("left_title", 48, 118, 420, 48, 24, 16, (slide.left_title,), bold=True, accent=True),
            _body("left", 48, 170, 420, 330, slide.left),
            Box("right_title", 492, 118, 420, 48, 24, 16, (slide.right_title,), bold=True, accent=True),
            _body("right", 492, 170, 420, 330, slide.right),
        ]
    elif layout is Layout.numbers:
        placed = [_heading(slide)]
        count = max(1, len(slide.figures))
        width = 864 / count
        for i, figure in enumerate(slide.figures):
            x = 48 + i * width
            placed.append(
                Box(
                    f"value-{i + 1}",
                    x + 6,
                    160,
                    width - 12,
                    96,
                    48,
                    28,
                    (figure.value,),
                    bold=True,
                    accent=True,
                    center=True,
                )
            )
            placed.append(
                Box(f"label-{i + 1}", x + 6, 262, width - 12, 150, 20, 13, (figure.label,), center=True)
            )
    elif layout is Layout.quote:
        placed = [
            Box(
                "quote",
                96,
                110,
                768,
                250,
                32,
                18,
                (slide.quote or slide.heading,),
                italic=True,
                accent=True,
                center=True,
            ),
            Box("attribution", 96, 380, 768, 56, 20, 14, (slide.attribution,), center=True),
        ]
    elif layout is Layout.table:
        rows = tuple(tuple(row) for row in slide.table if row)
        placed = [_heading(slide), Box("table", 48, 120, 864, 380, 18, 11, kind="table", rows=rows)]
    elif layout is Layout.timeline:
        placed = [_heading(slide), _body("body", 48, 116, 864, 390, slide.bullets, kind="numbered")]
    elif layout is Layout.image_text:
        # the text half; the other half is a theme panel (images are optional and text-free)
        placed = [_heading(slide), _body("body", 48, 116, 520, 390, slide.bullets)]
    else:
        placed = [_heading(slide), _body("body", 48, 116, 864, 390, slide.bullets)]
    return [box for box in placed if box.paragraphs and any(p.strip() for p in box.paragraphs) or box.rows]


IMAGE_PANEL = (600.0, 116.0, 312.0, 390.0)  # x, y, w, h


def panel(slide: SlideContent) -> tuple[float, float, float, float] | None:
    """The picture's panel of an image + text slide (left-to-right coordinates): the picture
    when the deck has one for it, a plain theme shape otherwise."""
    return IMAGE_PANEL if slide.layout is Layout.image_text else None


def placed(deck: Deck, slide: SlideContent) -> list[Box]:
    """The boxes as drawn: mirrored in right-to-left decks."""
    found = boxes(slide)
    return [box.mirrored() for box in found] if deck.rtl else found


def placed_panel(deck: Deck, slide: SlideContent) -> tuple[float, float, float, float] | None:
    rect = panel(slide)
    if rect is None or not deck.rtl:
        return rect
    x, y, w, h = rect
    return (SLIDE_W - x - w, y, w, h)
