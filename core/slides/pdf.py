"""Deck → PDF twin with WeasyPrint (the CV studio's renderer setup: the project's packaged
IBM Plex Sans Arabic, embedded and subset, packaged resources only) and per-slide thumbnails.
Every box sits where ``core.slides.layouts`` puts it, at the size the fit check chose, so the
PDF and the PPTX show the same slide."""

from __future__ import annotations

import base64
import io
import threading
from functools import lru_cache
from html import escape

import pypdfium2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from core.cv.render import FONTS, _fetcher  # the CV studio's packaged-only fetcher and fonts
from core.slides.fit import fit_slide, text_height
from core.slides.layouts import LINE, PAD_X, PAD_Y, PARA_GAP, SLIDE_H, SLIDE_W, Box, placed, placed_panel
from core.slides.model import Deck, Layout, SlideContent
from core.slides.pptx import THEMES, Theme

_LOCK = threading.Lock()
BASE_CSS = """
@font-face { font-family: Plex; src: url(%(fonts)s/IBMPlexSansArabic-Regular.ttf); font-weight: 400; }
@font-face { font-family: Plex; src: url(%(fonts)s/IBMPlexSansArabic-Bold.ttf); font-weight: 700; }
@page { size: %(w)spt %(h)spt; margin: 0; }
html { font-family: Plex, sans-serif; }
body { margin: 0; }
section { position: relative; width: %(w)spt; height: %(h)spt; overflow: hidden; break-after: page; }
.box { position: absolute; box-sizing: border-box; padding: %(py)spt %(px)spt; line-height: %(line)s; }
.box p, .box li { margin: 0; }
.box p + p, .box li + li { margin-block-start: %(gap)sem; }
.box ul, .box ol { margin: 0; padding-inline-start: 1.3em; }
.center { text-align: center; }
.panel { position: absolute; border-radius: 14pt; }
img.panel { object-fit: cover; }
.bar { position: absolute; left: 0; bottom: 0; width: %(w)spt; height: 18pt; }
table { width: 100%%; height: 100%%; border-collapse: collapse; table-layout: fixed; }
td, th { border: 0.75pt solid #ffffff; padding: %(py)spt %(px)spt; vertical-align: top; text-align: start; }
"""


@lru_cache(maxsize=1)
def _styles() -> tuple[FontConfiguration, CSS]:
    fonts = FontConfiguration()
    params = {"fonts": FONTS.as_uri(), "w": SLIDE_W, "h": SLIDE_H, "px": PAD_X, "py": PAD_Y}
    params |= {"line": LINE, "gap": PARA_GAP}
    return fonts, CSS(string=BASE_CSS % params, font_config=fonts, url_fetcher=_fetcher)


def render_html(deck: Deck, pictures: dict[int, bytes] | None = None) -> str:
    theme = THEMES.get(deck.theme, THEMES["ocean"])
    direction = "rtl" if deck.rtl else "ltr"
    pictures = pictures or {}
    sections = "".join(_slide_html(deck, s, theme, pictures.get(i)) for i, s in enumerate(deck.slides))
    return (
        f'<!doctype html><html lang="{deck.language}" dir="{direction}"><head><meta charset="utf-8">'
        f"<title>{escape(deck.title)}</title></head><body>{sections}</body></html>"
    )


def _slide_html(deck: Deck, slide: SlideContent, theme: Theme, picture: bytes | None) -> str:
    parts = [f'<section style="background:#{theme.background};color:#{theme.ink}">']
    rect = placed_panel(deck, slide)
    if rect is not None and picture is not None:
        source = "data:image/jpeg;base64," + base64.b64encode(picture).decode()
        parts.append(
            f'<img class="panel" src="{source}" alt="{escape(slide.heading)}" style="{_rect(*rect)}">'
        )
    elif rect is not None:
        x, y, w, h = rect
        parts.append(f'<div class="panel" style="{_rect(x, y, w, h)}background:#{theme.panel}"></div>')
    if slide.layout in (Layout.title, Layout.section, Layout.closing):
        parts.append(f'<div class="bar" style="background:#{theme.accent}"></div>')
    sizes = fit_slide(placed(deck, slide))
    for box in placed(deck, slide):
        size = sizes[box.role].size or box.floor
        parts.append(_box_html(deck, box, size, theme))
    parts.append("</section>")
    return "".join(parts)


def _rect(x: float, y: float, w: float, h: float) -> str:
    return f"left:{x}pt;top:{y}pt;width:{w}pt;height:{h}pt;"


def _box_html(deck: Deck, box: Box, size: float, theme: Theme) -> str:
    style = _rect(box.x, box.y, box.w, box.h) + f"font-size:{size}pt;"
    style += f"color:#{theme.accent};" if box.accent else ""
    style += "font-weight:700;" if box.bold else ""
    style += "font-style:italic;" if box.italic else ""
    classes = "box center" if box.center else "box"
    if box.center:  # vertically centred like the PPTX's middle anchor, from the measured height
        style += f"padding-top:{max(PAD_Y, (box.h - text_height(box, size)) / 2):.1f}pt;"
    if box.kind == "table":
        return f'<div class="{classes}" style="{style}padding:0">{_table_html(box, theme)}</div>'
    texts = [escape(p) for p in box.paragraphs if p.strip()]
    if box.kind == "bullets":
        inner = "<ul>" + "".join(f"<li>{t}</li>" for t in texts) + "</ul>"
    elif box.kind == "numbered":
        marker = "arabic-indic" if deck.rtl and deck.digits == "arabic" else "decimal"
        inner = f'<ol style="list-style-type:{marker}">' + "".join(f"<li>{t}</li>" for t in texts) + "</ol>"
    else:
        inner = "".join(f"<p>{t}</p>" for t in texts)
    return f'<div class="{classes}" style="{style}">{inner}</div>'


def _table_html(box: Box, theme: Theme) -> str:
    columns = max(len(row) for row in box.rows)
    rows = []
    for r, row in enumerate(box.rows):
        tag = "th" if r == 0 else "td"
        shade = theme.accent if r == 0 else theme.panel
        ink = "ffffff" if r == 0 else theme.ink
        texts = [escape(row[c]) if c < len(row) else "" for c in range(columns)]
        cells = "".join(f'<{tag} style="background:#{shade};color:#{ink}">{t}</{tag}>' for t in texts)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table>{''.join(rows)}</table>"


def render_pdf(deck: Deck, pictures: dict[int, bytes] | None = None) -> bytes:
    """The PDF twin: one page per slide, fonts embedded (subset), the same pictures."""
    with _LOCK:  # the font configuration is shared by the process
        fonts, css = _styles()
        document = HTML(string=render_html(deck, pictures), url_fetcher=_fetcher).render(
            stylesheets=[css], font_config=fonts
        )
        return bytes(document.write_pdf())


def thumbnails(pdf: bytes, width: int = 480) -> list[bytes]:
    """One PNG per page, ``width`` pixels wide."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        out = []
        for page in document:
            image = page.render(scale=width / page.get_width()).to_pil()
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
            out.append(buffer.getvalue())
        return out
    finally:
        document.close()
