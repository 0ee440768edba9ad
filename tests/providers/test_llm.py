"""Each adapter through its official SDK against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import pickle
from typing import Any

import jsonschema
import pytest

from core.catalog import ModelUnavailable, estimate_input_tokens
from core.settings import Settings
from emulator.text import is_arabic
from providers.llm import (
    ChatEvent,
    ChatMessage,
    ChatRequest,
    LLMClient,
    NonRetryableProviderError,
    RetryableProviderError,
    TextDelta,
    Usage,
)
from tests.conftest import EmulatorControl, free_port, make_settings, provider_overrides

MODELS = {"openai": "gpt-5-mini", "anthropic": "claude-haiku-4-5", "google": "gemini-2.5-flash"}
PROVIDERS = list(MODELS)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "bullets": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["title", "bullets", "confidence"],
    "additionalProperties": False,
}


def request(model: str, prompt: str = "Write a short note", **options: Any) -> ChatRequest:
    messages = [ChatMessage("system", "You are helpful."), ChatMessage("user", prompt)]
    return ChatRequest(
        model=model, messages=messages, max_output_tokens=options.pop("max_output_tokens", 200), **options
    )


async def collect(llm: LLMClient, chat: ChatRequest) -> list[ChatEvent]:
    return [event async for event in llm.stream_chat(chat)]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("prompt", ["Write a short note about Petra", "اكتب ملاحظة قصيرة عن البتراء"])
async def test_stream_text_then_usage(
    llm: LLMClient, emulator: EmulatorControl, provider: str, prompt: str
) -> None:
    chat = request(MODELS[provider], prompt)
    events = await collect(llm, chat)
    deltas = [e for e in events[:-1] if isinstance(e, TextDelta)]
    usage = events[-1]
    assert isinstance(usage, Usage) and len(deltas) == len(events) - 1
    assert usage.output_tokens == len(deltas) == 20  # one token per delta: the sum of deltas
    assert usage.input_tokens == estimate_input_tokens(m.content for m in chat.messages)
    assert is_arabic("".join(d.text for d in deltas)) == is_arabic(prompt)
    calls = await emulator.settled()
    assert calls[provider]["requests"] == 1 and calls[provider]["completed"] == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_output_limit_and_prefixed_model(
    llm: LLMClient, emulator: EmulatorControl, provider: str
) -> None:
    text, usage = await llm.complete(request(f"{provider}:{MODELS[provider]}", max_output_tokens=5))
    assert usage.output_tokens == 5 and text


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_schema_valid_json(llm: LLMClient, emulator: EmulatorControl, provider: str) -> None:
    text, usage = await llm.complete(request(MODELS[provider], json_schema=SCHEMA, max_output_tokens=1000))
    jsonschema.validate(json.loads(text), SCHEMA)
    assert usage.output_tokens > 0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_temperature_is_passed_where_allowed(
    llm: LLMClient, emulator: EmulatorControl, provider: str
) -> None:
    _text, usage = await llm.complete(
        request(MODELS[provider].replace("gpt-5-mini", "gpt-5"), temperature=0.3)
    )
    assert usage.output_tokens == 20  # gpt-5 would answer 400 if we sent it


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("kind", "retryable"),
    [
        ("http_429", True),
        ("http_500", True),
        ("http_529", True),
        ("http_408", True),
        ("http_409", True),
        ("http_400", False),
        ("http_403", False),
        ("http_404", False),
        ("quota", False),
    ],
)
async def test_http_faults_are_classified(
    llm: LLMClient, emulator: EmulatorControl, provider: str, kind: str, retryable: bool
) -> None:
    await emulator.fault(provider, kind, retry_after_s=3)
    expected = RetryableProviderError if retryable else NonRetryableProviderError
    with pytest.raises(expected) as caught:
        await collect(llm, request(MODELS[provider]))
    error = caught.value
    assert error.provider == provider and error.status is not None
    if kind == "http_429":
        assert isinstance(error, RetryableProviderError) and error.retry_after == 3
    if kind == "quota":
        assert error.code in ("insufficient_quota", "enforced_spend_limit_reached")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", ["stream_error", "truncate"])
async def test_broken_streams_are_retryable(
    llm: LLMClient, emulator: EmulatorControl, provider: str, kind: str
) -> None:
    await emulator.fault(provider, kind, after_tokens=4)
    received: list[str] = []
    with pytest.raises(RetryableProviderError) as caught:
        async for event in llm.stream_chat(request(MODELS[provider])):
            assert isinstance(event, TextDelta)
            received.append(event.text)
    assert len(received) == 4
    assert caught.value.code == ("incomplete_stream" if kind == "truncate" else caught.value.code)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_early_close_is_a_disconnect(llm: LLMClient, emulator: EmulatorControl, provider: str) -> None:
    await emulator.fault(provider, "slow", delay_s=0.05)  # still streaming when we leave
    stream = llm.stream_chat(request(MODELS[provider]))
    received = 0
    async for event in stream:
        assert isinstance(event, TextDelta)
        received += 1
        if received == 3:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    calls = await emulator.settled()
    assert calls[provider]["disconnects"] == 1 and calls[provider]["completed"] == 0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_cancel_during_hang_is_a_disconnect(
    llm: LLMClient, emulator: EmulatorControl, provider: str
) -> None:
    await emulator.fault(provider, "hang", after_tokens=2)
    received: list[ChatEvent] = []
    two = asyncio.Event()

    async def consume() -> None:
        async for event in llm.stream_chat(request(MODELS[provider])):
            received.append(event)
            if len(received) == 2:
                two.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(two.wait(), 5)
    await asyncio.sleep(0.05)  # nothing more arrives while the provider hangs
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    calls = await emulator.settled()
    assert calls[provider]["disconnects"] == 1 and len(received) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_connection_refused_is_retryable(provider: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    client = LLMClient.from_settings(make_settings(**provider_overrides(dead)))
    try:
        with pytest.raises(RetryableProviderError) as caught:
            await collect(client, request(MODELS[provider]))
        assert caught.value.code == "connection_error"
    finally:
        await client.aclose()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_bad_key_is_not_retryable(
    llm_settings: Settings, emulator: EmulatorControl, provider: str
) -> None:
    settings = llm_settings.model_copy(
        update={f"{provider}_api_key": llm_settings.openai_api_key.__class__("invalid")}
    )
    client = LLMClient.from_settings(settings)
    try:
        with pytest.raises(NonRetryableProviderError) as caught:
            await collect(client, request(MODELS[provider]))
        assert caught.value.status in (400, 401)
    finally:
        await client.aclose()


async def test_unknown_and_disabled_models(llm_settings: Settings, emulator: EmulatorControl) -> None:
    client = LLMClient.from_settings(llm_settings.model_copy(update={"anthropic_enabled": False}))
    try:
        with pytest.raises(ModelUnavailable):
            await collect(client, request("claude-haiku-4-5"))
        with pytest.raises(ModelUnavailable):
            await collect(client, request("gpt-3.5-turbo"))
        assert (await client.complete(request("gemini-2.5-pro")))[1].output_tokens == 20
    finally:
        await client.aclose()
    assert (await emulator.calls())["anthropic"]["requests"] == 0


async def test_moderation(llm: LLMClient, llm_settings: Settings, emulator: EmulatorControl) -> None:
    clean = await llm.moderate("مرحبا، كيف حالك؟")
    assert clean.flagged is False and clean.categories == []
    flagged = await llm.moderate("please emulator-flag this [flag:self-harm/intent]")
    assert flagged.flagged and flagged.categories == ["self-harm/intent", "violence"]
    off = LLMClient.from_settings(llm_settings.model_copy(update={"moderation_enabled": False}))
    assert (await off.moderate("emulator-flag")).flagged is False
    await off.aclose()
    calls = (await emulator.calls())["openai"]
    assert calls["moderations"] == 2 and calls["requests"] == 0


async def test_moderation_only_takes_faults_naming_its_model(
    llm: LLMClient, emulator: EmulatorControl
) -> None:
    await emulator.fault("openai", "http_500")  # meant for the chat call, not the moderation before it
    assert (await llm.moderate("hello")).flagged is False
    with pytest.raises(RetryableProviderError):
        await llm.complete(request("gpt-4o"))
    await emulator.fault("openai", "http_429", model="omni-moderation-latest", retry_after_s=2)
    with pytest.raises(RetryableProviderError) as caught:
        await llm.moderate("hello")
    assert caught.value.retry_after == 2


async def test_errors_survive_pickling(llm: LLMClient, emulator: EmulatorControl) -> None:
    await emulator.fault("openai", "http_429", retry_after_s=1.5)
    with pytest.raises(RetryableProviderError) as caught:
        await llm.complete(request("gpt-4o"))
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, RetryableProviderError) and copy.retry_after == 1.5 and copy.status == 429
    assert str(copy) == str(caught.value)


async def test_aclosing_closes_on_an_error_between_deltas(llm: LLMClient, emulator: EmulatorControl) -> None:
    await emulator.fault("anthropic", "slow", delay_s=0.05)
    with pytest.raises(RuntimeError):
        async with contextlib.aclosing(llm.stream_chat(request("claude-haiku-4-5"))) as events:
            async for _event in events:
                raise RuntimeError("our own code failed while the provider was streaming")
    calls = await emulator.settled()
    assert calls["anthropic"]["disconnects"] == 1
