"""What the CV templates print, prepared for both directions: dates formatted by Babel for
ar-JO/en, the user's digit choice, section headings (gettext domain ``cv``), and runs of the
other script isolated with ``<bdi>`` so mixed lines keep their logical order."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from babel.dates import format_date
from markupsafe import Markup, escape

from core.cv.bidimark import CARRIER_LTR, CARRIER_RTL, STRIP
from core.i18n import babel_locale, translate

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Invisible controls pasted text brings along, dropped from what the templates print: bidi
# embeddings, overrides and isolates (an override prints its run reversed, so the PDF reads
# back reversed), the soft hyphen (a break there prints "-" at a line end), the BOM.
PASTED = STRIP | dict.fromkeys(map(ord, "\u00ad\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
ARABIC_LETTERS = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
# A run of Latin text (words, numbers, emails, URLs, versions) inside an Arabic line, and the
# other way round. Spaces and ASCII punctuation between the run's words stay inside the run.
# "Latin" is any letter or digit of a left-to-right script (accented Latin as in "Nestlé",
# Greek, Cyrillic, CJK …) with its combining marks: not the right-to-left blocks.
_LTR_CHAR = r"(?:[^\W_\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]|[\u0300-\u036f])"
_LTR_WORD = rf"(?:{_LTR_CHAR}|[+@#$])(?:{_LTR_CHAR}|[+@#$&._:/%'\-])*"
LATIN_RUN = re.compile(rf"{_LTR_WORD}(?:[ ,]+{_LTR_WORD})*")
ARABIC_RUN = re.compile(rf"[{ARABIC_LETTERS}]+(?:[ ]+[{ARABIC_LETTERS}]+)*")
# In an Arabic line, Arabic-Indic digits end a run for extractors as Latin digits do.
LTR_IN_RTL = re.compile(
    f"{LATIN_RUN.pattern}|[\u0660-\u0669\u06f0-\u06f9]+(?:[.,\u066b\u066c/][\u0660-\u0669\u06f0-\u06f9]+)*"
)
# Not part of a run: the separators and the sentence's own punctuation after it, which take the
# line's direction (an Arabic sentence's full stop stands at its left end).
RUN_TRAILING = " ,.;:!?"
# Separators poppler classes with numbers (bidi CS/ES/ET: . , : / + % ، ٪ …) followed by a space:
# in an Arabic line they are read after the space ("كلمة .كلمة") unless a mark follows them.
NUMERIC_SEPARATOR = re.compile(
    "(["
    + "".join(
        re.escape(chr(c))
        for c in range(0x20, 0x3000)
        if unicodedata.bidirectional(chr(c)) in ("CS", "ES", "ET")
    )
    + r"])(?=\s)"
)
# A hyphen touching an Arabic letter ("و-Go", "بنك-الإسكان"). Extractors (poppler, and the
# ATS readers built the same way) class ASCII "-" with numbers, so it breaks the right-to-left
# run it sits in and is read back on the wrong side of the word ("و Go-", "الإسكان- بنك").
# U+2010 HYPHEN looks the same, is a plain neutral to them, and the font has it.
JOINING_HYPHEN = re.compile(rf"(?<=[{ARABIC_LETTERS}])-|-(?=[{ARABIC_LETTERS}])")
HYPHEN = "\u2010"

HEADINGS = {
    "summary": "Summary",
    "work": "Experience",
    "education": "Education",
    "skills": "Skills",
    "languages": "Languages",
    "projects": "Projects",
    "certificates": "Certificates",
    "awards": "Awards",
    "volunteer": "Volunteering",
    "references": "References",
    "contact": "Contact",
}
FLUENCY = {
    "native": "Native",
    "A1": "Beginner (A1)",
    "A2": "Elementary (A2)",
    "B1": "Intermediate (B1)",
    "B2": "Upper intermediate (B2)",
    "C1": "Advanced (C1)",
    "C2": "Proficient (C2)",
}
# Skill levels 1-5 as the words a screener reads ("Python · Advanced"), not as dots or bars.
SKILL_LEVELS = {1: "Beginner", 2: "Elementary", 3: "Intermediate", 4: "Advanced", 5: "Expert"}
PRESENT = "Present"


class Words:
    """Formatting for one CV render (its locale and digit choice)."""

    def __init__(self, locale: str, digits: str) -> None:
        self.locale = locale
        self.rtl = locale == "ar"
        self.arabic_digits = digits == "arabic"

    def tr(self, message: str) -> str:
        return translate(message, self.locale)

    def digits(self, text: str) -> str:
        return text.translate(ARABIC_INDIC) if self.arabic_digits else text

    def heading(self, section: str, *, bilingual: bool) -> str:
        english = HEADINGS[section]
        own = translate(english, self.locale)
        return f"{own} · {english}" if bilingual and own != english else own

    def fluency(self, level: str | None) -> str:
        return self.tr(FLUENCY[level]) if level else ""

    def skill_level(self, level: int | None) -> str:
        return self.tr(SKILL_LEVELS[level]) if level else ""

    def skill(self, name: str, level: int | None) -> str:
        """The skill as printed before its keywords: ``Python · متقدم`` / ``Python · Advanced``;
        without a level, the name alone (as before levels were printed)."""
        return " · ".join(part for part in (name, self.skill_level(level)) if part)

    def date(self, value: str) -> str:
        """``2021-01`` → ``كانون الثاني 2021`` / ``January 2021``; ``2021`` stays a year."""
        if not value:
            return ""
        parts = [int(p) for p in value.split("-")]
        if len(parts) == 1:
            return self.digits(str(parts[0]))
        text = format_date(date(parts[0], parts[1], 1), "LLLL y", locale=babel_locale(self.locale))
        return self.digits(text)

    def span(self, start: str, end: str) -> str:
        if not start and not end:
            return ""
        first = self.date(start)
        last = self.date(end) if end else self.tr(PRESENT)
        return f"{first} – {last}" if first else last

    @property
    def dir(self) -> str:
        return "rtl" if self.rtl else "ltr"

    def dir_for(self, text: str) -> str:
        """The direction a field's own block takes: the other script's when the field has no
        letter of the CV's own script (an English skill line in an Arabic CV, two Arabic names
        joined by "·" in an English one), else the CV's. Its words then keep their order on the
        page and when the PDF is read back."""
        own = ("R", "AL") if self.rtl else ("L",)
        other = ("L",) if self.rtl else ("R", "AL")
        kinds = {unicodedata.bidirectional(char) for char in text}
        if kinds.intersection(other) and not kinds.intersection(own):
            return "ltr" if self.rtl else "rtl"
        return self.dir

    @staticmethod
    def dir_of(text: str) -> str:
        """The direction of ``text``'s first strong character (HTML's ``dir=auto`` rule, which
        would skip a ``<bdi>`` and so cannot be left to the browser here)."""
        for char in text:
            kind = unicodedata.bidirectional(char)
            if kind == "L":
                return "ltr"
            if kind in ("R", "AL"):
                return "rtl"
        return "rtl" if not text else "ltr"

    @property
    def mark(self) -> str:
        """The direction-mark carrier of the CV's direction (``bidimark.py``)."""
        return CARRIER_RTL if self.rtl else CARRIER_LTR

    @staticmethod
    def _other(mark: str) -> str:
        return {CARRIER_RTL: CARRIER_LTR, CARRIER_LTR: CARRIER_RTL}.get(mark, "")

    @staticmethod
    def _between(text: str, mark: str) -> str:
        """Escaped text between runs; a separator that extractors class with numbers (the
        Arabic comma, a full stop, a colon…) gets the mark when a space follows it."""
        return NUMERIC_SEPARATOR.sub(rf"\1{mark}", str(escape(text))) if mark else str(escape(text))

    def iso(self, text: str, base: str | None = None) -> Markup:
        """Escape ``text``, isolate runs of the other script (than ``base``, by default the CV's
        direction) in ``<bdi dir>`` and end each with a direction mark; a hyphen joining an
        Arabic word is printed as U+2010.

        The mark (in logical order right after the run, before the space or punctuation that
        follows it) is what keeps extractors from reading that space or punctuation before the
        run ("« »Temporal", "Pythonو"); see ``bidimark.py``. It is written only in blocks of the
        CV's own direction: extractors take each page's direction from its majority script, and
        a block of the other direction (``dir_for``) already reads back in order without it."""
        text = JOINING_HYPHEN.sub(HYPHEN, text.translate(PASTED))
        rtl = self.rtl if base is None else base == "rtl"
        mark = self.mark if rtl == self.rtl else ""
        pattern, run_dir = (LTR_IN_RTL, "ltr") if rtl else (ARABIC_RUN, "rtl")
        out: list[str] = []
        last = 0
        for match in pattern.finditer(text):
            run = match.group(0).rstrip(RUN_TRAILING)
            if not run:
                continue
            out.append(self._between(text[last : match.start()], mark))
            if run.isalnum():  # one word or number: the bidi algorithm keeps it whole
                out.append(f"{escape(run)}{mark}")
            else:  # the mark leads the isolate, on the page the run's far side too, in the same
                # text object as its first glyph (a sub-point overlap makes poppler split the
                # line); the other direction's mark after it keeps a leading number (UAX #9 W2)
                out.append(f'<bdi dir="{run_dir}">{mark}{self._other(mark)}{escape(run)}</bdi>')
            last = match.start() + len(run)
        out.append(self._between(text[last:], mark))
        return Markup("".join(out))
