"""Invisible direction marks that survive into the PDF's text layer (issue #17).

Extractors rebuild a mixed line from the glyphs' positions. poppler's ``pdftotext`` (and the
screening systems built on it) reverses a right-to-left line and copies each left-to-right
section as it finds it, where a section runs from a Latin letter or digit to the next Arabic
letter: the space or punctuation after a Latin run ends up *before* it ("« »Temporal",
"Pythonو"). A right-to-left mark right after the run (in logical order, so at its left edge on
the page) ends the section where the run ends; an English line needs a left-to-right mark
after each Arabic run the same way.

U+200F/U+200E cannot be typed into the HTML: Pango turns default-ignorable characters into
empty glyphs, which WeasyPrint writes as nothing. So the template types a *carrier* of the same
bidi class that no CV uses (``CARRIER_RTL`` is a Hebrew presentation form, strong R;
``CARRIER_LTR`` a private-use character, strong L), drawn by a tiny generated font whose only
glyphs are empty and zero-width ("Pulse Mark", after the text fonts in ``font-family``), and the
PDF's ToUnicode maps the carrier's glyph to the real mark (``render.py``). Pango draws a space
that follows a character with that character's font, so the mark font also has the text font's
spaces (same advance) and its vertical metrics (line heights unchanged). Nothing on the page
moves; the text layer reads ``Temporal\u200f»``."""

from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont

CARRIER_RTL = "\ufb4f"  # HEBREW LIGATURE ALEF LAMED: bidi R, not default-ignorable
CARRIER_LTR = "\ue000"  # private use: bidi L
MARKS = {CARRIER_RTL: "\u200f", CARRIER_LTR: "\u200e"}  # carrier → what the text layer says
STRIP = dict.fromkeys(map(ord, MARKS))  # for text outside the text layer (outline titles)
FAMILY = "Pulse Mark"
SPACES = (0x20, 0xA0, 0x2009, 0x202F)


@lru_cache(maxsize=2)
def font_data_url(text_font: Path) -> str:
    """The mark font as a ``data:`` URL for ``@font-face``: empty glyphs, zero-width for the
    carriers, ``text_font``'s advance for the spaces it has, ``text_font``'s vertical metrics."""
    source = TTFont(text_font, lazy=True)
    cmap, advances = source.getBestCmap(), source["hmtx"]
    spaces = {code: advances[cmap[code]][0] for code in SPACES if code in cmap}
    hhea, os2 = source["hhea"], source["OS/2"]
    builder = FontBuilder(source["head"].unitsPerEm, isTTF=True)
    glyphs = {".notdef": 0, "rlm": 0, "lrm": 0} | {f"space{code:04x}": w for code, w in spaces.items()}
    builder.setupGlyphOrder(list(glyphs))
    chars = {ord(CARRIER_RTL): "rlm", ord(CARRIER_LTR): "lrm"}
    builder.setupCharacterMap(chars | {code: f"space{code:04x}" for code in spaces})
    builder.setupGlyf({name: TTGlyphPen(None).glyph() for name in glyphs})
    builder.setupHorizontalMetrics({name: (width, 0) for name, width in glyphs.items()})
    builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent, lineGap=hhea.lineGap)
    builder.setupNameTable({"familyName": FAMILY, "styleName": "Regular"})
    builder.setupOS2(
        version=4,
        sTypoAscender=os2.sTypoAscender,
        sTypoDescender=os2.sTypoDescender,
        sTypoLineGap=os2.sTypoLineGap,
        usWinAscent=os2.usWinAscent,
        usWinDescent=os2.usWinDescent,
        fsSelection=os2.fsSelection & 0x80,  # USE_TYPO_METRICS as the text font says
    )
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return "data:font/ttf;base64," + base64.b64encode(out.getvalue()).decode()
