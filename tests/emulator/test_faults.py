"""Each fault kind on each provider, seen through the official SDKs, and the control API."""

from __future__ import annotations

import asyncio
import time

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import errors, types

from tests.conftest import EmulatorControl

USER = [{"role": "user", "content": "Tell me something"}]


async def openai_stream(oai: openai.AsyncOpenAI, model: str = "gpt-5-mini") -> list[str]:
    stream = await oai.chat.completions.create(
        model=model, messages=USER, stream=True, stream_options={"include_usage": True}
    )
    return [c.choices[0].delta.content or "" async for c in stream if c.choices]


async def test_http_429_carries_retry_after(
    oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic, gemini: genai.Client, emulator: EmulatorControl
) -> None:
    for provider in ("openai", "anthropic", "google"):
        await emulator.fault(provider, "http_429", retry_after_s=7)
    with pytest.raises(openai.RateLimitError) as oai_error:
        await oai.chat.completions.create(model="gpt-4o", messages=USER)
    assert oai_error.value.response.headers["retry-after"] == "7"
    with pytest.raises(anthropic.RateLimitError) as claude_error:
        await claude.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=USER)
    assert claude_error.value.response.headers["retry-after"] == "7"
    with pytest.raises(errors.ClientError) as gemini_error:
        await gemini.aio.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert gemini_error.value.code == 429 and gemini_error.value.status == "RESOURCE_EXHAUSTED"
    assert "7s" in str(gemini_error.value.details)
    # one use each: the next calls succeed
    assert (await oai.chat.completions.create(model="gpt-4o", messages=USER)).choices
    calls = await emulator.calls()
    assert calls["openai"]["requests"] == 2 and calls["openai"]["faults"] == 1


async def test_overload_per_provider(
    oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic, gemini: genai.Client, emulator: EmulatorControl
) -> None:
    for provider in ("openai", "anthropic", "google"):
        await emulator.fault(provider, "http_529")
    with pytest.raises(openai.InternalServerError) as oai_error:
        await oai.chat.completions.create(model="gpt-4o", messages=USER)
    assert oai_error.value.status_code == 503
    with pytest.raises(anthropic.OverloadedError):
        await claude.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=USER)
    with pytest.raises(errors.ServerError) as gemini_error:
        await gemini.aio.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert gemini_error.value.code == 503 and gemini_error.value.status == "UNAVAILABLE"


async def test_http_500_and_400(oai: openai.AsyncOpenAI, emulator: EmulatorControl) -> None:
    await emulator.fault("openai", "http_500")
    await emulator.fault("openai", "http_400")
    with pytest.raises(openai.InternalServerError):
        await oai.chat.completions.create(model="gpt-4o", messages=USER)
    with pytest.raises(openai.BadRequestError):
        await oai.chat.completions.create(model="gpt-4o", messages=USER)


async def test_quota_faults(
    oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic, emulator: EmulatorControl
) -> None:
    await emulator.fault("openai", "quota")
    await emulator.fault("anthropic", "quota")
    with pytest.raises(openai.RateLimitError) as oai_error:
        await oai.chat.completions.create(model="gpt-4o", messages=USER)
    assert oai_error.value.code == "insufficient_quota"
    with pytest.raises(anthropic.RateLimitError) as claude_error:
        await claude.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=USER)
    body = claude_error.value.body
    assert isinstance(body, dict) and body["error"]["details"]["error_code"] == "enforced_spend_limit_reached"


async def test_fault_matches_model(oai: openai.AsyncOpenAI, emulator: EmulatorControl) -> None:
    await emulator.fault("openai", "http_500", count=2, model="gpt-5")
    assert (await oai.chat.completions.create(model="gpt-4o", messages=USER)).choices
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            await oai.chat.completions.create(model="gpt-5", messages=USER)
    assert (await oai.chat.completions.create(model="gpt-5", messages=USER)).choices


async def test_stream_error_mid_stream(
    oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic, gemini: genai.Client, emulator: EmulatorControl
) -> None:
    for provider in ("openai", "anthropic", "google"):
        await emulator.fault(provider, "stream_error", after_tokens=3)
    seen: list[str] = []
    with pytest.raises(openai.APIError) as oai_error:
        stream = await oai.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")
    assert len([s for s in seen if s]) == 3 and not isinstance(oai_error.value, openai.APIStatusError)

    with pytest.raises(anthropic.APIStatusError) as claude_error:
        async with claude.messages.stream(model="claude-haiku-4-5", max_tokens=50, messages=USER) as stream:
            async for _text in stream.text_stream:
                pass
    body = claude_error.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "overloaded_error"

    with pytest.raises(errors.ServerError) as gemini_error:
        async for _chunk in await gemini.aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents="x"
        ):
            pass
    assert gemini_error.value.code == 503
    calls = await emulator.settled()
    assert all(calls[p]["completed"] == 0 and calls[p]["disconnects"] == 0 for p in ("openai", "google"))


async def test_truncate_drops_the_ending(
    emulator_url: str, oai: openai.AsyncOpenAI, emulator: EmulatorControl
) -> None:
    await emulator.fault("openai", "truncate", after_tokens=4)
    stream = await oai.chat.completions.create(
        model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert all(chunk.usage is None for chunk in chunks)
    assert all(choice.finish_reason is None for chunk in chunks for choice in chunk.choices)
    assert len([c for c in chunks if c.choices[0].delta.content]) == 4

    await emulator.fault("anthropic", "truncate", after_tokens=2)
    body = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": USER, "stream": True}
    async with httpx.AsyncClient() as http:
        text = (await http.post(f"{emulator_url}/v1/messages", json=body, headers={"x-api-key": "k"})).text
    assert (
        "message_delta" not in text
        and "message_stop" not in text
        and text.count("event: content_block_delta") == 2
    )

    await emulator.fault("google", "truncate", after_tokens=5)
    url = f"{emulator_url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    async with httpx.AsyncClient() as http:
        text = (
            await http.post(
                url, json={"contents": [{"parts": [{"text": "x"}]}]}, headers={"x-goog-api-key": "k"}
            )
        ).text
    assert "usageMetadata" not in text and "finishReason" not in text and text.count("data: ") == 5


async def test_slow_delays_each_token(oai: openai.AsyncOpenAI, emulator: EmulatorControl) -> None:
    started = time.perf_counter()
    await openai_stream(oai)
    fast = time.perf_counter() - started
    await emulator.fault("openai", "slow", delay_s=0.03)
    started = time.perf_counter()
    pieces = await openai_stream(oai)
    slow = time.perf_counter() - started
    assert len([p for p in pieces if p]) == 20
    assert slow >= 19 * 0.03 and slow > fast


async def test_hang_until_client_leaves_counts_a_disconnect(
    oai: openai.AsyncOpenAI, emulator: EmulatorControl
) -> None:
    await emulator.fault("openai", "hang", after_tokens=2)
    stream = await oai.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    received = []
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content)
    assert [piece for piece in received if piece] and len([p for p in received if p]) == 2
    assert (await emulator.calls())["openai"]["active"] == 1
    await stream.close()
    calls = await emulator.settled()
    assert calls["openai"]["disconnects"] == 1 and calls["openai"]["completed"] == 0


async def test_control_api(emulator_url: str, emulator: EmulatorControl) -> None:
    async with httpx.AsyncClient() as http:
        bad = await http.post(
            f"{emulator_url}/_emulator/faults", json={"provider": "openai", "kind": "explode"}
        )
        assert bad.status_code == 422
        queued = await http.post(
            f"{emulator_url}/_emulator/faults", json={"provider": "google", "kind": "http_503"}
        )
        assert queued.json()["queued"][0]["kind"] == "http_503"
    calls = await emulator.calls()
    assert set(calls) >= {"openai", "anthropic", "google"}
    counted = {"requests", "moderations", "completed", "disconnects", "faults", "active", "during_moderation"}
    assert set(calls["openai"]) == counted
    await emulator.reset()
    async with httpx.AsyncClient() as http:
        ok = await http.post(
            f"{emulator_url}/v1beta/models/gemini-2.5-flash:generateContent",
            json={"contents": [{"parts": [{"text": "x"}]}]},
            headers={"x-goog-api-key": "k"},
        )
    assert ok.status_code == 200  # the reset cleared the queued fault
    assert (await emulator.calls())["google"]["requests"] == 1


async def test_gemini_stream_with_types(gemini: genai.Client, emulator: EmulatorControl) -> None:
    """Faults on Google streaming: 429 before the stream starts is raised by the SDK call."""
    await emulator.fault("google", "http_429", retry_after_s=2)
    with pytest.raises(errors.ClientError) as caught:
        async for _chunk in await gemini.aio.models.generate_content_stream(
            model="gemini-2.5-pro", contents="x", config=types.GenerateContentConfig(max_output_tokens=5)
        ):
            pass
    assert caught.value.code == 429


async def test_an_http_fault_can_be_answered_late(
    oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic, gemini: genai.Client, emulator: EmulatorControl
) -> None:
    """``wait_s``: the error comes after a while (a provider that fails slowly), so a test can
    break something of ours while the call is still out."""
    for provider in ("openai", "anthropic", "google"):
        await emulator.fault(provider, "http_400", wait_s=0.4)
    calls = [
        oai.chat.completions.create(model="gpt-4o", messages=USER),
        claude.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=USER),
        gemini.aio.models.generate_content(model="gemini-2.5-flash", contents="hi"),
    ]
    for call, error in zip(
        calls, (openai.BadRequestError, anthropic.BadRequestError, errors.ClientError), strict=True
    ):
        started = time.monotonic()
        with pytest.raises(error):
            await call
        assert time.monotonic() - started >= 0.4
