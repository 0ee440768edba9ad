"""The real type of a file from its first bytes (libmagic, the ``file`` command's database)."""

from __future__ import annotations

import magic

SNIFF_BYTES = 256 * 1024  # enough for libmagic to tell an OOXML (docx/pptx) from a plain zip
EXECUTABLES = frozenset(
    {
        "application/x-dosexec",
        "application/x-executable",
        "application/x-sharedlib",
        "application/x-pie-executable",
        "application/x-mach-binary",
        "application/x-msi",
    }
)
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/csv"})
_magic = magic.Magic(mime=True)


def sniff(head: bytes) -> str:
    """The MIME type libmagic reads in ``head``."""
    return str(_magic.from_buffer(head))


def matches(declared: str, detected: str) -> bool:
    """Whether bytes detected as ``detected`` may be stored as ``declared``. Text types accept
    any ``text/*`` reading (libmagic tells csv/markdown from plain text only loosely)."""
    if detected in EXECUTABLES:
        return False
    if declared in TEXT_TYPES:
        return detected.startswith("text/")
    return detected == declared
