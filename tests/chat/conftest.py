from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.chat.helpers import Emulator


@pytest_asyncio.fixture
async def emulator(emulator_url: str) -> AsyncIterator[Emulator]:
    control = Emulator(emulator_url)
    await control.reset()
    yield control
    await control.reset()
