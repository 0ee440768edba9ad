"""Wire shapes: the official SDKs parse every emulator response, streamed or not."""

from __future__ import annotations

import json

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types

from tests.conftest import EmulatorControl

USER = [{"role": "user", "content": "Say hello"}]


async def test_openai_chat_non_stream(oai: openai.AsyncOpenAI, emulator: EmulatorControl) -> None:
    completion = await oai.chat.completions.create(model="gpt-4o", messages=USER, max_completion_tokens=100)
    choice = completion.choices[0]
    assert completion.object == "chat.completion" and choice.finish_reason == "stop"
    assert choice.message.role == "assistant" and choice.message.content
    assert completion.usage is not None and completion.usage.completion_tokens == 20
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 20


async def test_openai_stream_has_usage_chunk_then_done(emulator_url: str, emulator: EmulatorControl) -> None:
    body = {
        "model": "gpt-5-mini",
        "messages": USER,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_completion_tokens": 50,
    }
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{emulator_url}/v1/chat/completions", json=body, headers={"authorization": "Bearer k"}
        )
    frames = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert frames[-1] == "[DONE]" and all(not f.startswith("event:") for f in frames)
    chunks = [json.loads(frame) for frame in frames[:-1]]
    assert all(chunk["usage"] is None for chunk in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 20
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


async def test_openai_sdk_stream(oai: openai.AsyncOpenAI, emulator: EmulatorControl) -> None:
    stream = await oai.chat.completions.create(
        model="gpt-5", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    pieces = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    assert len(pieces) == 20
    calls = await emulator.settled()
    assert calls["openai"]["requests"] == 1 and calls["openai"]["completed"] == 1


async def test_gpt5_rejects_max_tokens_and_temperature(
    oai: openai.AsyncOpenAI, emulator: EmulatorControl
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.chat.completions.create(model="gpt-5", messages=USER, max_tokens=10)
    assert caught.value.code == "unsupported_parameter" and caught.value.param == "max_tokens"
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.chat.completions.create(model="gpt-5-mini", messages=USER, temperature=0.2)
    assert caught.value.param == "temperature"
    ok = await oai.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=5, temperature=0.2)
    assert ok.usage is not None and ok.usage.completion_tokens == 5
    assert ok.choices[0].finish_reason == "length"


async def test_openai_models_and_errors(oai: openai.AsyncOpenAI, emulator_url: str) -> None:
    models = await oai.models.list()
    assert "gpt-5" in [model.id for model in models.data]
    with pytest.raises(openai.NotFoundError):
        await oai.chat.completions.create(model="davinci-002", messages=USER)
    bad = openai.AsyncOpenAI(api_key="invalid-key", base_url=f"{emulator_url}/v1", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        await bad.chat.completions.create(model="gpt-4o", messages=USER)
    await bad.close()


async def test_openai_moderations(oai: openai.AsyncOpenAI) -> None:
    clean = await oai.moderations.create(model="omni-moderation-latest", input="a kind message")
    assert clean.results[0].flagged is False
    flagged = await oai.moderations.create(input="emulator-flag [flag:hate/threatening]")
    result = flagged.results[0]
    assert result.flagged and result.categories.violence and result.categories.hate_threatening
    assert not result.categories.sexual
    keys = result.categories.model_dump(by_alias=True)
    assert "self-harm/intent" in keys and "illicit/violent" in keys


async def test_anthropic_non_stream(claude: anthropic.AsyncAnthropic, emulator: EmulatorControl) -> None:
    message = await claude.messages.create(
        model="claude-sonnet-4-6", max_tokens=7, system="Be brief.", messages=USER
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens == 7
    assert message.content[0].type == "text" and message.content[0].text


async def test_anthropic_event_sequence(emulator_url: str, emulator: EmulatorControl) -> None:
    body = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": USER, "stream": True}
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{emulator_url}/v1/messages", json=body, headers={"x-api-key": "k"})
    events = []
    for frame in response.text.strip().split("\n\n"):
        name_line, data_line = frame.split("\n")
        name = name_line.removeprefix("event: ")
        assert json.loads(data_line.removeprefix("data: "))["type"] == name
        events.append(name)
    deltas = events.count("content_block_delta")
    assert deltas == 20
    assert events == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * deltas,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


async def test_anthropic_sdk_stream_helper(
    claude: anthropic.AsyncAnthropic, emulator: EmulatorControl
) -> None:
    async with claude.messages.stream(model="claude-sonnet-4-6", max_tokens=100, messages=USER) as stream:
        pieces = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert len(pieces) == final.usage.output_tokens == 20
    assert final.stop_reason == "end_turn" and final.content[0].type == "text"
    assert final.content[0].text == "".join(pieces)


async def test_anthropic_errors(claude: anthropic.AsyncAnthropic, emulator_url: str) -> None:
    with pytest.raises(anthropic.NotFoundError):
        await claude.messages.create(model="gpt-4o", max_tokens=5, messages=USER)
    bad = anthropic.AsyncAnthropic(api_key="invalid", base_url=emulator_url, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        await bad.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=USER)
    assert (
        isinstance(caught.value.body, dict) and caught.value.body["error"]["type"] == "authentication_error"
    )
    await bad.close()


async def test_gemini_non_stream(gemini: genai.Client, emulator: EmulatorControl) -> None:
    response = await gemini.aio.models.generate_content(
        model="gemini-2.5-pro",
        contents="Say hello",
        config=types.GenerateContentConfig(system_instruction="Be brief.", max_output_tokens=300),
    )
    assert response.text and response.candidates
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert usage is not None and usage.candidates_token_count == 20
    assert usage.total_token_count == (usage.prompt_token_count or 0) + 20


async def test_gemini_stream(gemini: genai.Client, emulator: EmulatorControl) -> None:
    chunks = [
        chunk
        async for chunk in await gemini.aio.models.generate_content_stream(
            model="gemini-2.5-flash",
            contents="Say hello",
            config=types.GenerateContentConfig(max_output_tokens=8),
        )
    ]
    assert len(chunks) == 8 and all(chunk.text for chunk in chunks)
    assert all(chunk.usage_metadata is None for chunk in chunks[:-1])
    last = chunks[-1]
    assert last.candidates and last.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert last.usage_metadata is not None and last.usage_metadata.candidates_token_count == 8
    calls = await emulator.settled()
    assert calls["google"]["completed"] == 1


async def test_gemini_errors(gemini: genai.Client, emulator_url: str) -> None:
    from google.genai import errors

    with pytest.raises(errors.ClientError) as caught:
        await gemini.aio.models.generate_content(model="palm-2", contents="hi")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"
