"""Provider SDKs imported off the event loop, one import at a time, in one thread.

An SDK import takes a second or two, so the clients (providers/llm, images, video) import each
SDK in a thread the first time it is needed rather than stall every task on the loop. Those
imports overlap (openai, anthropic and google-genai all pull in aiohttp, httpx, pydantic …), and
two threads importing the same packages at once can each see the other's module half
initialised ("module 'aiohttp' has no attribute 'client_exceptions'", seen when a worker's
warm-up met its first turn). So every such import runs in this module's single thread, in turn.
"""

from __future__ import annotations

import asyncio
import importlib
from concurrent.futures import ThreadPoolExecutor

_importer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sdk-import")


def import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        importlib.import_module(name)


async def import_in_thread(modules: tuple[str, ...]) -> None:
    """Import ``modules`` (in order) in the importer thread; returns once they are loaded."""
    await asyncio.get_running_loop().run_in_executor(_importer, import_all, modules)
