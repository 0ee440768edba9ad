"""An ``LLMClient`` pointed at the in-process emulator (no database or Temporal needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from core.settings import Settings
from providers.llm import LLMClient
from tests.conftest import make_settings, provider_overrides


@pytest.fixture(scope="session")
def llm_settings(emulator_url: str) -> Settings:
    return make_settings(**provider_overrides(emulator_url))


@pytest_asyncio.fixture
async def llm(llm_settings: Settings) -> AsyncIterator[LLMClient]:
    client = LLMClient.from_settings(llm_settings)
    yield client
    await client.aclose()
