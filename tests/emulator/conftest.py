"""Official SDK clients pointed at the in-process emulator (retries off)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import openai
import pytest
import pytest_asyncio
from google import genai
from google.genai import types


@pytest_asyncio.fixture
async def oai(emulator_url: str) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(api_key="test-key", base_url=f"{emulator_url}/v1", max_retries=0)
    yield client
    await client.close()


@pytest_asyncio.fixture
async def claude(emulator_url: str) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(api_key="test-key", base_url=emulator_url, max_retries=0)
    yield client
    await client.close()


@pytest.fixture
def gemini(emulator_url: str) -> genai.Client:
    return genai.Client(
        api_key="test-key", http_options=types.HttpOptions(base_url=emulator_url, api_version="v1beta")
    )
