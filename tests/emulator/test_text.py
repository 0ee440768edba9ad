"""Generated text: deterministic, in the prompt's language, and schema-valid JSON on request."""

from __future__ import annotations

import json
import random
from typing import Any

import anthropic
import jsonschema
import openai
import pytest
from google import genai
from google.genai import types

from emulator import text
from tests.conftest import EmulatorControl

CV_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 3, "maxLength": 40},
        "email": {"type": "string", "format": "email"},
        "level": {"enum": ["junior", "senior"]},
        "years": {"type": "integer", "minimum": 1, "maximum": 5},
        "score": {"type": "number", "exclusiveMinimum": 0},
        "remote": {"type": "boolean"},
        "note": {"anyOf": [{"type": "null"}, {"type": "string"}]},
        "skills": {"type": "array", "items": {"$ref": "#/$defs/skill"}, "minItems": 1, "maxItems": 3},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    },
    "required": ["name", "email", "level", "years", "score", "remote", "note", "skills", "tags"],
    "additionalProperties": False,
    "$defs": {
        "skill": {
            "type": "object",
            "properties": {"title": {"type": "string"}, "stars": {"type": "integer", "maximum": 5}},
            "required": ["title", "stars"],
            "additionalProperties": False,
        }
    },
}
ARABIC_PROMPT = "اكتب لي فقرة قصيرة عن عمّان"


def test_language_follows_the_last_user_message() -> None:
    arabic = text.compose(model="m", texts=[ARABIC_PROMPT], last_user=ARABIC_PROMPT, limit=None)
    english = text.compose(model="m", texts=["Write about Amman"], last_user="Write about Amman", limit=None)
    assert text.is_arabic(arabic.text) and not text.is_arabic(english.text)
    assert arabic.output_tokens == english.output_tokens == text.DEFAULT_TOKENS
    mixed = text.compose(
        model="m", texts=[ARABIC_PROMPT, "now in English"], last_user="now in English", limit=3
    )
    assert not text.is_arabic(mixed.text) and mixed.output_tokens == 3 and mixed.truncated


def test_same_request_same_reply_and_estimate() -> None:
    first = text.compose(model="gpt-4o", texts=["hello"], last_user="hello", limit=None)
    again = text.compose(model="gpt-4o", texts=["hello"], last_user="hello", limit=None)
    assert first == again
    assert first.input_tokens == text.estimate_prompt(["hello"]) == 2 + 4
    assert text.estimate_tokens(ARABIC_PROMPT) == -(-len(ARABIC_PROMPT.encode()) // 4)


@pytest.mark.parametrize("seed", range(5))
def test_instances_are_valid(seed: int) -> None:
    for arabic in (False, True):
        instance = text.instance(CV_SCHEMA, random.Random(seed), arabic)
        jsonschema.validate(instance, CV_SCHEMA)


def test_gemini_openapi_style_schema() -> None:
    schema = {"type": "OBJECT", "properties": {"title": {"type": "STRING"}, "n": {"type": "INTEGER"}}}
    instance = text.instance(schema, random.Random(1), False)
    assert isinstance(instance["title"], str) and isinstance(instance["n"], int)


async def test_openai_json_schema(oai: openai.AsyncOpenAI, emulator: EmulatorControl) -> None:
    completion = await oai.chat.completions.create(
        model="gpt-5",
        messages=[{"role": "user", "content": ARABIC_PROMPT}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "cv", "schema": CV_SCHEMA, "strict": True},
        },
    )
    document = json.loads(completion.choices[0].message.content or "")
    jsonschema.validate(document, CV_SCHEMA)
    assert text.is_arabic(document["name"])


async def test_anthropic_tool_schema(claude: anthropic.AsyncAnthropic, emulator: EmulatorControl) -> None:
    tools: Any = [{"name": "cv", "description": "A CV", "input_schema": CV_SCHEMA}]
    async with claude.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=2000,
        messages=[{"role": "user", "content": "Fill the CV"}],
        tools=tools,
        tool_choice={"type": "tool", "name": "cv"},
    ) as stream:
        final = await stream.get_final_message()
    block = final.content[0]
    assert block.type == "tool_use" and block.name == "cv" and final.stop_reason == "tool_use"
    jsonschema.validate(block.input, CV_SCHEMA)


async def test_gemini_response_schema(gemini: genai.Client, emulator: EmulatorControl) -> None:
    response = await gemini.aio.models.generate_content(
        model="gemini-2.5-flash",
        contents=ARABIC_PROMPT,
        config=types.GenerateContentConfig(
            response_mime_type="application/json", response_json_schema=CV_SCHEMA
        ),
    )
    jsonschema.validate(json.loads(response.text or ""), CV_SCHEMA)
    typed = await gemini.aio.models.generate_content(
        model="gemini-2.5-flash",
        contents="list",
        config=types.GenerateContentConfig(
            response_mime_type="application/json",
            response_schema=types.Schema(type=types.Type.ARRAY, items=types.Schema(type=types.Type.STRING)),
        ),
    )
    document = json.loads(typed.text or "")
    assert isinstance(document, list) and all(isinstance(item, str) for item in document)


async def test_arabic_in_arabic_out_over_the_wire(
    oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic, gemini: genai.Client, emulator: EmulatorControl
) -> None:
    messages: Any = [{"role": "user", "content": ARABIC_PROMPT}]
    completion = await oai.chat.completions.create(model="gpt-4o", messages=messages)
    message = await claude.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=messages)
    response = await gemini.aio.models.generate_content(model="gemini-2.5-pro", contents=ARABIC_PROMPT)
    block = message.content[0]
    assert block.type == "text"
    for reply in (completion.choices[0].message.content or "", block.text, response.text or ""):
        assert text.is_arabic(reply)


def test_recursive_schema_terminates() -> None:
    tree = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["label", "children"],
            }
        },
        "$ref": "#/$defs/node",
    }
    instance = text.instance(tree, random.Random(3), False)
    jsonschema.validate(instance, tree)
    assert instance["children"]
