"""The text self-check: read the PDF back the way a screening system does (poppler's
``pdftotext``) and prove that every field the CV prints (name, phones, emails, URLs, dates,
titles, companies, bullets, Latin terms inside Arabic lines) comes back whole and in logical
order. Also the page-1 thumbnail (pdfium) and the font facts (embedded, subset) read from the PDF.

Comparison rules (strict: what a screener reads, space and punctuation included): both sides
are NFKC-normalised, bidi marks, Arabic diacritics (tashkeel) and tatweel are dropped (extractors
place a shadda on its own baseline), U+2010/U+2011 read as "-" (the template prints U+2010
beside Arabic letters), and the text is split at whitespace only. A field passes when its words
appear contiguously in the PDF's words, each exactly, except that the PDF's first and last word
of the field may carry punctuation the template adds around it (": " after a skill, "(" … ")",
"•"). So "«Temporal» لتنسيق" fails when the PDF reads "« »Temporalلتنسيق", "Python و-Go" when
it reads "Pythonو- Go", a date span when its dash moved. Fields of one section must also appear
in the order the CV gives them."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field

import pypdfium2
from pypdf import PdfReader

from core.cv.schema import CvContent
from core.cv.text import Words

BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
# Format characters extractors drop (or the templates do, text.PASTED): soft hyphen, zero-width
# space/joiners, word joiner, BOM. Ignored on both sides of the comparison.
INVISIBLE = BIDI_CONTROLS | dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
TASHKEEL = re.compile("[\u0640\u064b-\u065f\u0670\u06d6-\u06ed]")
EDGE_PUNCTUATION = ".,;:!?()[]{}«»\"'،؛…–—·|•*"
HYPHENS = str.maketrans("\u2010\u2011", "--")  # the template prints U+2010 beside Arabic letters


class ExtractorMissing(RuntimeError):
    pass


@dataclass
class CheckResult:
    words: int
    missing: list[str] = field(default_factory=list)  # the field kinds only, never their text
    out_of_order: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.out_of_order


def extract_text(pdf: bytes, footer_word: str | None = None) -> str:
    """The PDF's text in logical order, page by page; with ``footer_word`` ("Page"/"الصفحة"),
    without the page footers (the page's last line that has the word)."""
    binary = shutil.which("pdftotext")
    if binary is None:
        raise ExtractorMissing("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(
        [binary, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True, timeout=30
    ).stdout.decode()
    pages = out.translate(BIDI_CONTROLS).split("\f")
    return "\n".join(_without_footer(page, footer_word) for page in pages)


def _without_footer(page: str, footer_word: str | None) -> str:
    lines = page.rstrip().splitlines()
    if footer_word and lines and footer_word in lines[-1]:
        lines.pop()
    return "\n".join(lines)


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).translate(INVISIBLE).translate(HYPHENS)
    return TASHKEEL.sub("", text).split()


def expected_fields(
    cv: CvContent, words_of: Words, *, bilingual: bool = False
) -> list[list[tuple[str, str]]]:
    """Per printed block (header, then each visible section, which starts at its heading), its
    (kind, text) fields in order."""
    basics = cv.basics
    header = [
        ("name", basics.name),
        ("label", basics.label),
        ("phone", basics.phone),
        ("email", basics.email),
        ("url", basics.url),
        *(("profile", p.url or p.username) for p in basics.profiles),
        ("city", basics.location.city),
    ]
    blocks = [header]
    for section in cv.visible_sections():
        heading = ("heading", words_of.heading(section, bilingual=bilingual))
        blocks.append([heading, *_section_fields(cv, section, words_of)])
    return [[(kind, text) for kind, text in block if text.strip()] for block in blocks]


def _section_fields(cv: CvContent, section: str, w: Words) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    if section == "summary":
        return [("summary", cv.basics.summary)]
    if section == "work":
        for job in cv.work:
            fields += [
                ("position", job.position),
                ("company", job.name),
                ("location", job.location),
                ("dates", w.span(job.startDate, job.endDate)),
                ("summary", job.summary),
            ]
            fields += [("highlight", item) for item in job.highlights]
    elif section == "volunteer":
        for item in cv.volunteer:
            fields += [
                ("position", item.position),
                ("organization", item.organization),
                ("dates", w.span(item.startDate, item.endDate)),
                ("summary", item.summary),
            ]
            fields += [("highlight", h) for h in item.highlights]
    elif section == "education":
        for edu in cv.education:
            fields += [
                ("degree", f"{edu.studyType} {edu.area}"),
                ("institution", edu.institution),
                ("dates", w.span(edu.startDate, edu.endDate)),
                ("score", edu.score),
            ]
            fields += [("course", c) for c in edu.courses]
    elif section == "projects":
        for project in cv.projects:
            fields += [
                ("project", project.name),
                ("dates", w.span(project.startDate, project.endDate)),
                ("description", project.description),
            ]
            fields += [("highlight", h) for h in project.highlights] + [("url", project.url)]
    elif section == "skills":
        for skill in cv.skills:
            # the level's label with the name: proves "Python · متقدم" reads back in that order
            fields += [("skill", w.skill(skill.name, skill.level))]
            fields += [("keyword", k) for k in skill.keywords]
    elif section == "languages":
        for language in cv.languages:
            fields += [("language", language.language), ("fluency", w.fluency(language.fluency))]
    elif section == "certificates":
        for cert in cv.certificates:
            fields += [("certificate", cert.name), ("issuer", cert.issuer), ("date", w.date(cert.date))]
    elif section == "awards":
        for award in cv.awards:
            fields += [
                ("award", award.title),
                ("awarder", award.awarder),
                ("date", w.date(award.date)),
                ("summary", award.summary),
            ]
    elif section == "references":
        for ref in cv.references:
            fields += [("reference", ref.name), ("reference_text", ref.reference)]
    return fields


def check_text(pdf: bytes, cv: CvContent, words_of: Words, *, bilingual: bool = False) -> CheckResult:
    found = words(extract_text(pdf, footer_word=words_of.tr("Page")))
    result = CheckResult(words=len(found))
    for block in expected_fields(cv, words_of, bilingual=bilingual):
        cursor = 0
        for kind, text in block:
            needle = words(text)
            at = _find(found, needle, 0)
            if at < 0:
                result.missing.append(kind)
                continue
            after = _find(found, needle, cursor)
            if after < 0:
                result.out_of_order.append(kind)
            else:
                at = after
            cursor = at + len(needle)
    return result


def _find(haystack: list[str], needle: list[str], start: int) -> int:
    """Where ``needle`` starts in ``haystack`` at or after ``start`` (-1 if nowhere): inner words
    equal, the first and last allowed extra punctuation on their outer side only."""
    if not needle:
        return start
    size = len(needle)
    for index in range(start, len(haystack) - size + 1):
        window = haystack[index : index + size]
        if window[1:-1] == needle[1:-1] and _edges_match(window, needle):
            return index
    return -1


def _edges_match(window: list[str], needle: list[str]) -> bool:
    first, last = window[0], window[-1]
    if len(needle) == 1:
        at = first.find(needle[0])
        return at >= 0 and _punct(first[:at]) and _punct(first[at + len(needle[0]) :])
    return (
        first.endswith(needle[0])
        and _punct(first[: len(first) - len(needle[0])])
        and last.startswith(needle[-1])
        and _punct(last[len(needle[-1]) :])
    )


def _punct(text: str) -> bool:
    return all(char in EDGE_PUNCTUATION for char in text)


@dataclass(frozen=True)
class FontFacts:
    name: str
    embedded: bool
    subset: bool


def fonts_in(pdf: bytes) -> list[FontFacts]:
    """Every font the PDF uses, read from its font dictionaries (embedded = has a font file)."""
    facts: dict[str, FontFacts] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            name = str(target.get("/BaseFont", font.get("/BaseFont", "")))
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            facts[name] = FontFacts(
                name=name.lstrip("/"), embedded=embedded, subset=bool(re.match(r"/?[A-Z]{6}\+", name))
            )
    return list(facts.values())


def thumbnail_png(pdf: bytes, width: int = 480) -> bytes:
    """Page 1 as a PNG, ``width`` pixels wide."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        scale = width / page.get_width()
        image = page.render(scale=scale).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
    finally:
        document.close()
