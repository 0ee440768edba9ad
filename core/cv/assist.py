"""AI assist for CVs: what to ask the model, the JSON schema its reply must follow, and how a
valid reply becomes a *suggestion* (never applied here: the person accepts or rejects it).

Actions: ``draft_summary`` / ``polish_summary`` (from notes or the current summary),
``draft_bullets`` (one role's bullets from notes), ``translate`` (the whole CV ar⇄en) and
``tailor`` (summary, bullets and skills aimed at a pasted job description).

Translation sends text segments only: emails, phones, URLs, dates and levels never go to the
model and are copied as they are; a segment whose numbers changed is flagged for review."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from core.catalog import estimate_input_tokens
from core.cv.schema import CvContent

NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# Arabic-Indic digits and the Arabic decimal/thousands separators: "١٫٢" is the number 1.2
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩٫٬", "0123456789.,")
LANGUAGE = {"ar": "Arabic (Modern Standard Arabic, professional register)", "en": "English"}


class AssistAction(StrEnum):
    draft_summary = "draft_summary"
    polish_summary = "polish_summary"
    draft_bullets = "draft_bullets"
    translate_cv = "translate"  # (a member named "translate" would shadow str.translate)
    tailor = "tailor"


class InvalidReply(ValueError):
    """The model's reply does not follow the schema (retried, never half-applied)."""


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SummaryReply(_Reply):
    summary: str = Field(min_length=1, max_length=1200)


class BulletsReply(_Reply):
    bullets: list[str] = Field(min_length=1, max_length=8)


class TailoredRole(_Reply):
    index: int = Field(ge=0)
    bullets: list[str] = Field(min_length=1, max_length=8)


class TailorReply(_Reply):
    summary: str = Field(min_length=1, max_length=1200)
    roles: list[TailoredRole] = Field(max_length=30)
    skills: list[str] = Field(max_length=30)


@dataclass(frozen=True)
class AssistRequest:
    action: AssistAction
    target_locale: str  # the language the suggestion is written in
    notes: str = ""
    work_index: int | None = None
    job_description: str = ""


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str  # the instruction (the last message)
    schema: dict[str, Any]
    reply_model: type[BaseModel]
    max_output_tokens: int
    material: str = ""  # the text to work on, sent before the instruction

    def messages(self) -> list[tuple[str, str]]:
        material = [("user", self.material)] if self.material else []
        return [("system", self.system), *material, ("user", self.user)]

    def input_estimate(self) -> int:
        return estimate_input_tokens([text for _role, text in self.messages()])


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's schema made strict-mode friendly (every object closed, every field required)."""
    if schema.get("type") == "object":
        schema["additionalProperties"] = False
        schema["required"] = list(schema.get("properties", {}))
    for value in list(schema.get("properties", {}).values()) + list(schema.get("$defs", {}).values()):
        _strict(value)
    if isinstance(schema.get("items"), dict):
        _strict(schema["items"])
    schema.pop("title", None)
    return schema


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return _strict(model.model_json_schema())


# --- translation segments ---------------------------------------------------------------


def segments(cv: CvContent) -> dict[str, str]:
    """Every translatable text of the CV by a stable path (``work.0.highlights.1`` …)."""
    out: dict[str, str] = {}

    def add(path: str, text: str) -> None:
        if text.strip():
            out[path] = text

    basics = cv.basics
    for name in ("name", "label", "summary"):
        add(f"basics.{name}", getattr(basics, name))
    add("basics.location.city", basics.location.city)
    for section, fields in TEXT_FIELDS.items():
        for i, item in enumerate(getattr(cv, section)):
            for name in fields:
                value = getattr(item, name)
                if isinstance(value, list):
                    for j, text in enumerate(value):
                        add(f"{section}.{i}.{name}.{j}", text)
                else:
                    add(f"{section}.{i}.{name}", value)
    return out


TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "work": ("name", "position", "location", "summary", "highlights"),
    "volunteer": ("organization", "position", "summary", "highlights"),
    "education": ("institution", "area", "studyType", "courses"),
    "awards": ("title", "awarder", "summary"),
    "certificates": ("name", "issuer"),
    "skills": ("name", "keywords"),
    "languages": ("language",),
    "projects": ("name", "description", "highlights"),
    "references": ("name", "reference"),
}


def segment_model(paths: list[str]) -> type[BaseModel]:
    """A reply model with one required string per segment (keys s0, s1 … in path order)."""
    fields: dict[str, Any] = {f"s{i}": (str, Field(min_length=1, max_length=4000)) for i in range(len(paths))}
    inner = create_model("Segments", __base__=_Reply, **fields)
    return create_model("TranslateReply", __base__=_Reply, segments=(inner, ...))


def apply_segments(cv: CvContent, translated: dict[str, str], locale: str) -> CvContent:
    data = cv.model_dump(mode="json")
    for path, text in translated.items():
        target: Any = data
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if last.isdigit():
            target[int(last)] = text
        else:
            target[last] = text
    data["locale"] = locale
    return CvContent.model_validate(data)


def changed_numbers(source: str, translated: str) -> bool:
    def numbers(text: str) -> list[str]:
        return sorted(NUMBER.findall(text.translate(DIGITS)))

    return numbers(source) != numbers(translated)


# --- prompts ----------------------------------------------------------------------------

SYSTEM = (
    "You write CV content for job seekers in Jordan. Write in {language}. Be specific and "
    "truthful: use only facts the person gave; never invent employers, numbers or dates. "
    "Start bullets with a strong verb, keep each under 30 words, keep numbers exactly as given. "
    "Answer only with JSON that follows the schema."
)


# The instruction is written in the target language (models answer in the instruction's).
TRANSLATE = {
    "en": "Translate every segment of the previous message into English, one reply key per "
    "segment key. Transliterate personal names; keep brand and product names (Python, AWS …), "
    "numbers and abbreviations exactly as they are.",
    "ar": "ترجم كل مقطع في الرسالة السابقة إلى العربية الفصحى بمفتاح الرد نفسه لكل مقطع. اكتب أسماء "
    "الأشخاص بالحروف العربية، وأبقِ أسماء العلامات والمنتجات (Python وAWS …) والأرقام والاختصارات كما هي.",
}


def build_prompt(cv: CvContent, request: AssistRequest) -> Prompt:
    language = LANGUAGE[request.target_locale]
    system = SYSTEM.format(language=language)
    action = request.action
    if action is AssistAction.translate_cv:
        paths = list(segments(cv))
        model = segment_model(paths)
        texts = {f"s{i}": segments(cv)[path] for i, path in enumerate(paths)}
        budget = 200 + 2 * sum(len(t) for t in texts.values())
        return Prompt(
            system,
            TRANSLATE[request.target_locale],
            schema_of(model),
            model,
            min(budget, 16000),
            material=json.dumps(texts, ensure_ascii=False),
        )
    if action in (AssistAction.draft_summary, AssistAction.polish_summary):
        what = (
            "Draft a 2–3 sentence professional summary"
            if action is AssistAction.draft_summary
            else ("Polish this professional summary (same facts, clearer, 2–3 sentences)")
        )
        user = f"{what}.\nCurrent summary: {cv.basics.summary}\nNotes: {request.notes}\n{_facts(cv)}"
        return Prompt(system, user, schema_of(SummaryReply), SummaryReply, 600)
    if action is AssistAction.draft_bullets:
        index = request.work_index or 0
        role = cv.work[index]
        user = (
            f"Write 3–5 achievement bullets for this role.\nRole: {role.position} at {role.name}\n"
            f"Current bullets: {json.dumps(role.highlights, ensure_ascii=False)}\nNotes: {request.notes}"
        )
        return Prompt(system, user, schema_of(BulletsReply), BulletsReply, 800)
    user = (
        "Tailor this CV to the job description: rewrite the summary, each role's bullets (by its "
        "index) and order the skills by relevance. Do not add experience the person does not have.\n"
        f"Job description: {request.job_description}\nCV: {json.dumps(_brief(cv), ensure_ascii=False)}"
    )
    return Prompt(system, user, schema_of(TailorReply), TailorReply, 2000)


def _facts(cv: CvContent) -> str:
    roles = "; ".join(f"{w.position} at {w.name}" for w in cv.work[:6])
    skills = ", ".join(s.name for s in cv.skills[:20])
    return f"Title: {cv.basics.label}\nRoles: {roles}\nSkills: {skills}"


def _brief(cv: CvContent) -> dict[str, Any]:
    return {
        "summary": cv.basics.summary,
        "roles": [
            {"index": i, "position": w.position, "company": w.name, "bullets": w.highlights}
            for i, w in enumerate(cv.work)
        ],
        "skills": [s.name for s in cv.skills],
    }


def parse_reply(prompt: Prompt, text: str) -> BaseModel:
    try:
        return prompt.reply_model.model_validate_json(text)
    except ValidationError as error:
        raise InvalidReply(f"{error.error_count()} schema errors") from None


def suggestion(cv: CvContent, request: AssistRequest, reply: BaseModel) -> dict[str, Any]:
    """The reply as a suggestion the web page shows for accept/reject (nothing is applied)."""
    action = request.action
    if action is AssistAction.translate_cv:
        paths = list(segments(cv))
        source = segments(cv)
        texts = reply.model_dump()["segments"]
        translated = {path: texts[f"s{i}"] for i, path in enumerate(paths)}
        content = apply_segments(cv, translated, request.target_locale)
        review = [path for path in paths if changed_numbers(source[path], translated[path])]
        return {"action": action.value, "content": content.model_dump(mode="json"), "review": review}
    if action in (AssistAction.draft_summary, AssistAction.polish_summary):
        assert isinstance(reply, SummaryReply)
        return {"action": action.value, "field": "basics.summary", "text": reply.summary}
    if action is AssistAction.draft_bullets:
        assert isinstance(reply, BulletsReply)
        index = request.work_index or 0
        return {"action": action.value, "field": f"work.{index}.highlights", "bullets": reply.bullets}
    assert isinstance(reply, TailorReply)
    roles = [r.model_dump() for r in reply.roles if r.index < len(cv.work)]
    return {"action": action.value, "summary": reply.summary, "roles": roles, "skills": reply.skills}
