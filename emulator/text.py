"""Deterministic placeholder output: text in the prompt's language, JSON for a schema.

One chunk is one "token": the emulator's usage counts equal the number of chunks it sent, so
the delta counts a client sees always add up to the reported usage. Input tokens are a local
estimate (UTF-8 bytes / 4, plus 4 per message), the same formula as ``core.catalog``.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from dataclasses import dataclass
from typing import Any

ARABIC_LETTERS = re.compile(
    r"[\u0620-\u064A\u0671-\u06D3\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFC]"
)
DEFAULT_TOKENS = 20
JSON_PIECE = 6  # characters of JSON per streamed token

ENGLISH = (
    "This is a deterministic reply from the Pulse provider emulator.",
    "It speaks the real wire protocol so the official SDKs run unchanged.",
    "Every answer depends only on the request, which keeps tests repeatable.",
    "Tokens arrive one by one with a configurable delay between them.",
    "Faults such as rate limits and broken streams can be injected on demand.",
)
ARABIC = (
    "هذا ردّ ثابت من محاكي مزوّدي الذكاء الاصطناعي في بلس.",
    "يتحدث المحاكي بروتوكول الشبكة الحقيقي لتعمل المكتبات الرسمية دون تعديل.",
    "يعتمد كل جواب على الطلب وحده فتبقى الاختبارات قابلة للتكرار.",
    "تصل الرموز واحدًا تلو الآخر مع تأخير قابل للضبط بينها.",
    "يمكن افتعال أعطال مثل حدود المعدّل وانقطاع البث عند الطلب.",
)


@dataclass(frozen=True)
class Reply:
    """What a call answers: the streamed pieces, the prompt size and why it stopped."""

    chunks: list[str]
    input_tokens: int
    truncated: bool  # stopped by the output-token limit

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def output_tokens(self) -> int:
        return len(self.chunks)


def is_arabic(text: str) -> bool:
    return ARABIC_LETTERS.search(text) is not None


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 4)


def estimate_prompt(texts: list[str]) -> int:
    """Input tokens of a prompt made of these messages (system prompt included)."""
    return sum(estimate_tokens(text) + 4 for text in texts)


def seed_of(*parts: Any) -> int:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def compose(
    *,
    model: str,
    texts: list[str],
    last_user: str,
    limit: int | None,
    schema: dict[str, Any] | None = None,
    images: int = 0,
    image_tokens: int | None = None,
) -> Reply:
    """The reply to a request: same request, same reply. A reply to a request with image parts
    (in any user message: the history's too) first says how many it saw (so a test can tell
    they arrived). ``image_tokens``: what
    the request's images count as input (each provider's per-image figure; else IMAGE_TOKENS each)."""
    seed = seed_of(model, texts, schema, images)
    arabic = is_arabic(last_user)
    if schema is not None:
        document = json.dumps(instance(schema, random.Random(seed), arabic), ensure_ascii=False)
        chunks = [document[i : i + JSON_PIECE] for i in range(0, len(document), JSON_PIECE)]
    else:
        chunks = saw_images(images, arabic) + words(seed, arabic, DEFAULT_TOKENS)
    truncated = limit is not None and len(chunks) > limit
    if limit is not None:
        chunks = chunks[: max(limit, 0)]
    input_tokens = estimate_prompt(texts) + (images * IMAGE_TOKENS if image_tokens is None else image_tokens)
    return Reply(chunks=chunks, input_tokens=input_tokens, truncated=truncated)


IMAGE_TOKENS = 258  # what Gemini counts per image (the default for a caller that gives no figure)


def saw_images(count: int, arabic: bool) -> list[str]:
    if count <= 0:
        return []
    if arabic:
        return [f"رأيتُ {count} ", "صورة. " if count == 1 else "صور. "]
    return [f"I saw {count} ", "image. " if count == 1 else "images. "]


def words(seed: int, arabic: bool, count: int) -> list[str]:
    """``count`` words of readable sentences, the first without a leading space."""
    sentences = ARABIC if arabic else ENGLISH
    start = seed % len(sentences)
    pool: list[str] = []
    index = start
    while len(pool) < count:
        pool.extend(sentences[index % len(sentences)].split())
        index += 1
    return [word if i == 0 else f" {word}" for i, word in enumerate(pool[:count])]


def instance(schema: dict[str, Any], rng: random.Random, arabic: bool) -> Any:
    """A valid instance of a JSON schema (the subset providers accept for structured output)."""
    return _Builder(schema, rng, arabic).build(schema, depth=0)


class _Builder:
    def __init__(self, root: dict[str, Any], rng: random.Random, arabic: bool) -> None:
        self.root = root
        self.rng = rng
        self.arabic = arabic

    def build(self, schema: dict[str, Any], depth: int) -> Any:
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                options = [self._resolve(option) for option in schema[key]]
                preferred = [option for option in options if _type_of(option) != "null"] or options
                return self.build(preferred[0], depth)
        if schema.get("allOf"):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self._resolve(part))
            return self.build(merged, depth)
        kind = _type_of(schema)
        builder = getattr(self, f"_{kind}", None)
        return builder(schema, depth) if builder else self._string(schema, depth)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        target: Any = self.root
        for part in ref[2:].split("/"):
            target = target[part]
        return self._resolve({**target, **{k: v for k, v in schema.items() if k != "$ref"}})

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties") or {}
        if depth > 6:
            properties = {k: v for k, v in properties.items() if k in schema.get("required", [])}
        return {name: self.build(sub, depth + 1) for name, sub in properties.items()}

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        low = int(schema.get("minItems", 1 if depth < 4 else 0))
        high = int(schema.get("maxItems", max(low, 2)))
        count = low if depth > 6 else max(low, min(2, high))  # deep (recursive) schemas stop
        items = schema.get("items") or {"type": "string"}
        return [self.build(items, depth + 1) for _ in range(count)]

    def _string(self, schema: dict[str, Any], depth: int) -> str:
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2026-01-01T00:00:00Z"
        if fmt == "date":
            return "2026-01-01"
        if fmt == "email":
            return "user@example.com"
        if fmt in ("uri", "url"):
            return "https://example.com/"
        if fmt == "uuid":
            return "00000000-0000-4000-8000-000000000000"
        text = "".join(words(self.rng.getrandbits(32), self.arabic, 4))
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        while len(text) < low:
            text += " " + text
        return text[: int(high)] if high is not None else text

    def _integer(self, schema: dict[str, Any], depth: int) -> int:
        low = math.ceil(schema["minimum"]) if "minimum" in schema else 0
        if "exclusiveMinimum" in schema:
            low = math.floor(schema["exclusiveMinimum"]) + 1
        high = math.floor(schema["maximum"]) if "maximum" in schema else low + 100
        if "exclusiveMaximum" in schema:
            high = math.ceil(schema["exclusiveMaximum"]) - 1
        return max(low, min(high, low + self.rng.randint(0, 9)))

    def _number(self, schema: dict[str, Any], depth: int) -> float:
        return float(self._integer(schema, depth))

    def _boolean(self, schema: dict[str, Any], depth: int) -> bool:
        return True

    def _null(self, schema: dict[str, Any], depth: int) -> None:
        return None


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [str(k).lower() for k in kind]
        kind = next((k for k in kinds if k != "null"), "null")
    if kind is None:
        return "object" if "properties" in schema else "string"
    if schema.get("nullable") and str(kind).lower() == "null":
        return "null"
    return str(kind).lower()
