"""Text of an attached document, for a model's context: PDF (pypdf), DOCX (python-docx), plain
text. Well-kept readers, not hand-written parsers; a document they cannot read yields ""."""

from __future__ import annotations

import io

import structlog

log = structlog.get_logger(__name__)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/csv"})
MAX_CHARS = 400_000  # far above any context window; the chat trims to its budget


def extractable(content_type: str) -> bool:
    return content_type in TEXT_TYPES or content_type in (DOCX, "application/pdf")


def extract_text(data: bytes, content_type: str) -> str:
    try:
        if content_type == "application/pdf":
            return _pdf(data)[:MAX_CHARS]
        if content_type == DOCX:
            return _docx(data)[:MAX_CHARS]
        if content_type in TEXT_TYPES:
            return data.decode("utf-8", errors="replace")[:MAX_CHARS]
    except Exception as error:  # noqa: BLE001 - a damaged document is sent without its text
        log.warning("extract.failed", content_type=content_type, error=str(error))
    return ""


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = []
    for page in reader.pages:
        pages.append(page.extract_text() or "")
        if sum(map(len, pages)) > MAX_CHARS:
            break
    return "\n\n".join(text.strip() for text in pages if text.strip())


def _docx(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(line for line in lines if line.strip())
