"""Completions through the official openai SDK: each provider, streamed and whole, in Arabic;
usage equal to what the ledger settled; JSON schema output; no conversation stored."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import openai
import pytest

from core.db import Database
from tests.openaiapi.conftest import KeyUser, reservation, tokens, turn_id_of

ARABIC = re.compile(r"[\u0600-\u06FF]")
MODELS = ["gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash"]
QUESTION = [{"role": "system", "content": "أجب باختصار."}, {"role": "user", "content": "مرحبا، كيف حالك؟"}]


@pytest.mark.parametrize("model", MODELS)
async def test_each_provider_streamed_and_whole_in_arabic_billed_as_the_ledger_settled(
    key_user: Any, db: Database, model: str
) -> None:
    user: KeyUser = await key_user()
    whole = await user.sdk.chat.completions.create(model=model, messages=QUESTION, max_tokens=200)
    text = whole.choices[0].message.content or ""
    assert ARABIC.search(text) and whole.model == model and whole.object == "chat.completion"
    assert whole.choices[0].finish_reason in ("stop", "length")
    settled = await reservation(db, turn_id_of(whole.id))
    assert settled.status == "settled"
    assert whole.usage is not None and whole.usage.model_extra is not None
    assert whole.usage.model_extra["studio_tokens"] == settled.charged > 0
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens

    stream = await user.sdk.chat.completions.create(
        model=model, messages=QUESTION, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert ARABIC.search(streamed)
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] in ("stop", "length")
    settled = await reservation(db, turn_id_of(chunks[0].id))
    assert chunks[-1].usage.model_extra is not None
    assert chunks[-1].usage.model_extra["studio_tokens"] == settled.charged > 0

    balance = await tokens(db, user.me.user_id)
    assert balance.reserved == 0
    assert (
        balance.used
        == whole.usage.model_extra["studio_tokens"] + chunks[-1].usage.model_extra["studio_tokens"]
    )
    conversations = (await user.me.client.get("/v1/chat/conversations")).json()
    assert conversations == [], "an API call stores no conversation"


async def test_json_schema_output_and_sampling_options(key_user: Any) -> None:
    user: KeyUser = await key_user()
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    for model in ("gpt-5-mini", "claude-haiku-4-5"):
        reply = await user.sdk.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "أكبر مدينة في الأردن؟"}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "city", "schema": schema, "strict": True},
            },
            temperature=1,
            top_p=1,
            stop=["###"],
        )
        parsed = json.loads(reply.choices[0].message.content or "")
        assert isinstance(parsed["city"], str) and isinstance(parsed["population"], int)
    for model in ("gemini-2.5-flash", "gpt-5-mini"):
        whole = await user.sdk.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "أعطني كائن JSON فيه اسم مدينة أردنية"}],
            response_format={"type": "json_object"},
        )
        assert isinstance(json.loads(whole.choices[0].message.content or ""), dict), model


async def test_models_list_and_the_key_model_list(key_user: Any) -> None:
    user: KeyUser = await key_user(allowed_models=["gpt-5-mini", "gemini-2.5-flash"])
    listed = await user.sdk.models.list()
    assert sorted((m.id, m.owned_by) for m in listed.data) == [
        ("gemini-2.5-flash", "google"),
        ("gpt-5-mini", "openai"),
    ]
    with pytest.raises(openai.PermissionDeniedError) as refused:
        await user.sdk.chat.completions.create(model="claude-haiku-4-5", messages=QUESTION)
    assert refused.value.code == "model_not_allowed" and refused.value.param == "model"
    with pytest.raises(openai.NotFoundError) as unknown:
        await user.sdk.chat.completions.create(model="gpt-9-ultra", messages=QUESTION)
    assert unknown.value.code == "model_not_found"
    everything: KeyUser = await key_user()
    listed_all = {m.id: m.owned_by for m in (await everything.sdk.models.list()).data}
    assert set(listed_all.values()) == {"openai", "anthropic", "google", "replicate"}
    assert listed_all["gpt-image-1"] == "openai" and listed_all["claude-haiku-4-5"] == "anthropic"
    flux = await everything.sdk.models.retrieve("black-forest-labs/flux-schnell")
    assert flux.owned_by == "replicate"


@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools", "unsupported_parameter"),
        ({"n": 2}, "n", "unsupported_parameter"),
        ({"logit_bias": {"1": 5}}, "logit_bias", "unsupported_parameter"),
        ({"temperature": 3}, "temperature", "invalid_value"),
        ({"max_tokens": 10_000_000}, "max_tokens", "invalid_value"),
    ],
)
async def test_unsupported_or_invalid_parameters_are_openai_shaped_400s(
    key_user: Any, db: Database, extra: dict[str, Any], param: str, code: str
) -> None:
    user: KeyUser = await key_user(locale="en")
    with pytest.raises(openai.BadRequestError) as refused:
        await user.sdk.chat.completions.create(model="gpt-5-mini", messages=QUESTION, **extra)
    error = refused.value
    assert error.status_code == 400 and error.code == code and error.param == param
    assert error.type == "invalid_request_error" and isinstance(error.body, dict) and error.body["message"]
    assert (await tokens(db, user.me.user_id)).used == 0


async def test_revoked_and_expired_keys_are_401(key_user: Any, db: Database) -> None:
    user: KeyUser = await key_user()
    assert (await user.me.client.delete(f"/v1/auth/api-keys/{user.key_id}")).status_code == 204
    with pytest.raises(openai.AuthenticationError) as revoked:
        await user.sdk.models.list()
    assert revoked.value.code == "invalid_api_key"
    assert ARABIC.search(str(revoked.value.body)), "the message is in the caller's language"

    soon: KeyUser = await key_user(expires_at="2099-01-01T00:00:00Z")
    assert len((await soon.sdk.models.list()).data) >= 3
    past = await soon.me.client.patch(
        f"/v1/auth/api-keys/{soon.key_id}", json={"expires_at": "2001-01-01T00:00:00Z"}
    )
    assert past.status_code == 422 and past.json()["code"] == "invalid_key_limits"
    async with db.session() as session:
        from sqlalchemy import text

        await session.execute(
            text("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": soon.key_id},
        )
    with pytest.raises(openai.AuthenticationError):
        await soon.sdk.chat.completions.create(model="gpt-5-mini", messages=QUESTION)
    with pytest.raises(openai.AuthenticationError):
        await openai.AsyncOpenAI(
            api_key="pulse_nope_x", base_url=str(user.sdk.base_url), max_retries=0
        ).models.list()
    await asyncio.sleep(0)


def tiny_png() -> str:
    """A real 1×1 PNG as a data URL."""
    import base64
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


@pytest.mark.parametrize(
    ("model", "image_tokens"), [("gpt-5-mini", 85), ("claude-haiku-4-5", 1600), ("gemini-2.5-flash", 258)]
)
async def test_image_input_reaches_each_provider(key_user: Any, model: str, image_tokens: int) -> None:
    user: KeyUser = await key_user()
    question = "ماذا في الصورة؟"
    plain = await user.sdk.chat.completions.create(
        model=model, messages=[{"role": "user", "content": question}]
    )
    parts = [{"type": "text", "text": question}, {"type": "image_url", "image_url": {"url": tiny_png()}}]
    seen = await user.sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": parts}])
    assert plain.usage and seen.usage
    assert seen.usage.prompt_tokens - plain.usage.prompt_tokens == image_tokens, (
        "the emulator counted the image"
    )
    with pytest.raises(openai.BadRequestError) as remote:
        link = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
        await user.sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": link}])
    assert remote.value.param == "messages[0].content[0].image_url"
