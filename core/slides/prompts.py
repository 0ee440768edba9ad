"""What the model is asked for a deck, and the JSON schema each reply must follow (strict, with
the per-layout character and list budgets in the schema itself): the outline, one slide's
content, and a shorter rewrite of a slide that failed the fit check. The schema helper and the
invalid-reply contract are the CV studio's (``core.cv.assist``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError, create_model

from core.catalog import estimate_input_tokens
from core.cv.assist import LANGUAGE, InvalidReply, schema_of
from core.slides.model import LAYOUT_FIELDS, Brief, Figure, Layout, Outline, OutlineSlide, SlideContent
from core.slides.source import EXCERPT_CHARS, excerpt

SHORTEN_ATTEMPTS = 2  # a slide still too long after this many rewrites keeps the floor size, flagged
TONE = {
    "formal": "formal and precise",
    "friendly": "warm and plain",
    "persuasive": "persuasive and confident",
    "academic": "academic and measured",
}


IMAGE_ASK = (
    " In image_prompt describe, in English, a photograph or illustration for this slide: what is "
    "seen, the setting and the light. The picture must contain no text, letters, digits, signs or logos."
)


def _budgets(scale: float = 1.0) -> dict[str, Any]:
    def chars(n: int) -> int:
        return max(8, int(n * scale))

    return {
        "heading": (str, Field(max_length=chars(70))),
        "subtitle": (str, Field(max_length=chars(120))),
        "bullets": (
            list[str],
            Field(
                min_length=2,
                max_length=6,
                json_schema_extra={"items": {"type": "string", "maxLength": chars(110)}},
            ),
        ),
        "left_title": (str, Field(max_length=chars(40))),
        "left": (
            list[str],
            Field(
                min_length=2,
                max_length=5,
                json_schema_extra={"items": {"type": "string", "maxLength": chars(80)}},
            ),
        ),
        "right_title": (str, Field(max_length=chars(40))),
        "right": (
            list[str],
            Field(
                min_length=2,
                max_length=5,
                json_schema_extra={"items": {"type": "string", "maxLength": chars(80)}},
            ),
        ),
        "figures": (list[Figure], Field(min_length=2, max_length=4)),
        "quote": (str, Field(max_length=chars(200))),
        "attribution": (str, Field(max_length=chars(60))),
        "table": (
            list[list[str]],
            Field(
                min_length=2,
                max_length=6,
                json_schema_extra={
                    "items": {
                        "type": "array",
                        "minItems": 2,
                        "maxItems": 4,
                        "items": {"type": "string", "maxLength": chars(40)},
                    }
                },
            ),
        ),
        "notes": (str, Field(max_length=600)),
        "image_prompt": (str, Field(max_length=300)),
    }


def reply_model(layout: Layout, *, with_heading: bool = False, scale: float = 1.0) -> type[BaseModel]:
    budgets = _budgets(scale)
    names = (("heading",) if with_heading else ()) + LAYOUT_FIELDS[layout] + ("notes",)
    fields: dict[str, Any] = {name: budgets[name] for name in names}
    return create_model(f"Slide_{layout.value}", __config__={"extra": "forbid"}, **fields)


class OutlineItem(BaseModel):
    model_config = {"extra": "forbid"}
    heading: str = Field(max_length=80)
    key_message: str = Field(max_length=200)
    layout: Layout


def outline_model(count: int) -> type[BaseModel]:
    return create_model(
        "OutlineReply",
        __config__={"extra": "forbid"},
        title=(str, Field(max_length=120)),
        slides=(list[OutlineItem], Field(min_length=count, max_length=count)),
    )


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    reply_model: type[BaseModel]
    max_output_tokens: int

    @property
    def schema(self) -> dict[str, Any]:
        return schema_of(self.reply_model)

    def messages(self) -> list[tuple[str, str]]:
        return [("system", self.system), ("user", self.user)]

    def input_estimate(self) -> int:
        return estimate_input_tokens([self.system, self.user])


def _system(language: str, tone: str) -> str:
    return (
        "You write presentation slides. Write every text in "
        f"{LANGUAGE[language]}, in a {TONE.get(tone, TONE['formal'])} tone. Keep within the length limits "
        "of the schema: rephrase shorter, never cut a sentence off. Numbers stay exact. Reply with JSON only."
    )


def outline_prompt(brief: Brief) -> Prompt:
    layouts = ", ".join(layout.value for layout in Layout)
    source = f"\nSource material:\n{brief.source_text}" if brief.source_text else ""
    user = (
        f"Plan a deck of exactly {brief.slides} slides on: {brief.topic}\n"
        f"Audience: {brief.audience or '-'}\nPurpose: {brief.purpose or '-'}\n"
        f"For each slide give a heading, its key message and one layout of: {layouts}. "
        f"The first slide is the title slide, the last a closing slide.{source}"
    )
    return Prompt(
        _system(brief.language, brief.tone), user, outline_model(brief.slides), 120 + 90 * brief.slides
    )


def normalise_outline(reply: BaseModel, count: int) -> Outline:
    """The model's outline with the deck's frame enforced: a title slide first, a closing slide
    last, and neither in between."""
    data = reply.model_dump()
    slides = []
    for i, item in enumerate(data["slides"][:count]):
        layout = Layout(item["layout"])
        if i == 0:
            layout = Layout.title
        elif i == count - 1:
            layout = Layout.closing
        elif layout in (Layout.title, Layout.closing):
            layout = Layout.bullets
        slides.append(
            OutlineSlide(heading=item["heading"] or "-", key_message=item["key_message"], layout=layout)
        )
    return Outline(title=data["title"] or slides[0].heading, slides=slides)


def content_prompt(brief: Brief, outline: Outline, index: int) -> Prompt:
    slide = outline.slides[index]
    headings = "\n".join(f"{i + 1}. {s.heading}" for i, s in enumerate(outline.slides))
    user = (
        f"Deck: {outline.title} (topic: {brief.topic}; audience: {brief.audience or '-'})\n"
        f"All slides:\n{headings}\n\nWrite slide {index + 1} ({slide.layout.value}): {slide.heading}\n"
        f"Key message: {slide.key_message or '-'}\n"
        f"{_source_for(brief, slide)}"
        "Also write speaker notes (what the presenter says, 2–4 sentences)."
        f"{IMAGE_ASK if slide.layout is Layout.image_text else ''}"
    )
    return Prompt(_system(brief.language, brief.tone), user, reply_model(slide.layout), 700)


def _source_for(brief: Brief, slide: OutlineSlide) -> str:
    if not brief.source_text:
        return ""
    passages = excerpt(brief.source_text, f"{slide.heading} {slide.key_message}")
    return f"Source material (use its facts and numbers):\n{passages}\n"


def shorten_prompt(language: str, tone: str, slide: SlideContent, attempt: int) -> Prompt:
    scale = 0.7 if attempt == 1 else 0.5
    current = slide.model_dump(include={"heading", *LAYOUT_FIELDS[slide.layout], "notes"})
    user = (
        "This slide's text does not fit its boxes. Rewrite it clearly shorter, keeping the meaning "
        "and every number; keep the notes.\n" + json.dumps(current, ensure_ascii=False)
    )
    return Prompt(
        _system(language, tone), user, reply_model(slide.layout, with_heading=True, scale=scale), 700
    )


def parse(prompt: Prompt, text: str) -> BaseModel:
    try:
        return prompt.reply_model.model_validate(json.loads(text))
    except (ValueError, ValidationError) as error:
        raise InvalidReply(str(error)[:300]) from None


def apply_content(layout: Layout, heading: str, reply: BaseModel) -> SlideContent:
    data = reply.model_dump()
    return SlideContent(layout=layout, heading=data.pop("heading", heading) or heading, **data)


def reserve_estimate(brief: Brief) -> int:
    """Provider tokens a deck is expected to take: the outline, every slide at its output cap,
    and a rewrite for one slide in four (more is charged from what is left, as overage)."""
    outline = outline_prompt(brief)
    per_slide = 300 + 700  # the content prompt's input, the reply's cap
    if brief.source_text:  # each slide's excerpt of the source
        per_slide += estimate_input_tokens([brief.source_text[:EXCERPT_CHARS]])
    rewrites = -(-brief.slides // 4) * 1300
    return outline.input_estimate() + outline.max_output_tokens + brief.slides * per_slide + rewrites
