"""An uploaded document as a deck's source: which files may be one (PDF, DOCX, plain text,
Markdown; scanned clean, within a size bound), their text (the project's readers in
``core.extract``; Arabic presentation forms folded back to letters, so the model reads words,
not glyphs) and, per slide, the passages that matter to it (a word-overlap pick, so a content
prompt carries a short excerpt instead of the whole document)."""

from __future__ import annotations

import re
import unicodedata

from core.errors import AppError
from core.extract import DOCX, extract_text

SOURCE_TYPES = frozenset({"application/pdf", DOCX, "text/plain", "text/markdown"})
SOURCE_MAX_CHARS = 20_000  # what the outline prompt takes (the typed source text's bound too)
EXCERPT_CHARS = 1_200  # what one slide's content prompt takes
MIN_TEXT_CHARS = 20  # less than this is no text (a scanned image, a blank page)
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")
_TATWEEL_AND_MARKS = re.compile("[\u0640\u064b-\u065f\u0670]")
_WORD = re.compile(r"\w+")


class SourceUnsupported(AppError):
    status_code = 415
    code = "slides_source_unsupported"
    message = "A deck can be made from a PDF, Word (DOCX), text or Markdown document."


class SourceTooLarge(AppError):
    status_code = 413
    code = "slides_source_too_large"
    message = "This document is too large to make a deck from. The limit is {limit_mb} MB."


class SourceEmpty(AppError):
    status_code = 422
    code = "slides_source_empty"
    message = (
        "We found no text in this document. If it is a scanned image, upload a version whose text "
        "can be selected."
    )


def check_source(content_type: str, size: int, max_bytes: int) -> None:
    if content_type not in SOURCE_TYPES:
        raise SourceUnsupported()
    if size > max_bytes:
        raise SourceTooLarge(limit_mb=max(1, max_bytes // (1024 * 1024)))


def document_text(data: bytes, content_type: str) -> tuple[str, bool]:
    """The document's text for the outline (at most ``SOURCE_MAX_CHARS``) and whether it was cut;
    ``SourceEmpty`` when there is none to speak of."""
    text = extract_text(data.removeprefix(b"\xef\xbb\xbf"), content_type)
    text = _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = "\n".join(" ".join(line.split()) for line in text.replace("\ufffd", " ").splitlines())
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if sum(ch.isalnum() for ch in text) < MIN_TEXT_CHARS:
        raise SourceEmpty()
    if len(text) <= SOURCE_MAX_CHARS:
        return text, False
    cut = text[:SOURCE_MAX_CHARS]
    return cut[: cut.rfind(" ")] if " " in cut[-200:] else cut, True


def _words(text: str) -> set[str]:
    plain = _TATWEEL_AND_MARKS.sub("", text.lower())
    plain = plain.translate(str.maketrans("أإآىة", "ااايه"))
    return {w.removeprefix("ال") for w in _WORD.findall(plain) if len(w) > 2}


def excerpt(source: str, query: str, budget: int = EXCERPT_CHARS) -> str:
    """The passages of ``source`` sharing most words with ``query`` (a slide's heading and key
    message), in document order, within ``budget`` characters."""
    if len(source) <= budget:
        return source
    passages = [p.strip() for p in re.split(r"\n\s*\n|\n", source) if p.strip()]
    wanted = _words(query)
    ranked = sorted(range(len(passages)), key=lambda i: (-len(wanted & _words(passages[i])), i))
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if used + len(passages[i]) > budget:
            continue
        chosen.append(i)
        used += len(passages[i]) + 1
    if not chosen:
        return passages[ranked[0]][:budget]
    return "\n".join(passages[i] for i in sorted(chosen))
