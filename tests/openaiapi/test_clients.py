"""Clients and processes: LiteLLM's SDK (an OpenAI-compatible client no one here wrote) against
our base_url, and one rpm limit enforced by two API processes (Redis)."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import openai
import pytest

from core.db import Database
from core.settings import Settings
from tests.conftest import free_port
from tests.openaiapi.conftest import KeyUser, reservation, sdk_for, turn_id_of
from tests.processes import pulse_process, settings_env, wait_ready

ARABIC = re.compile(r"[\u0600-\u06FF]")
ASK = [{"role": "user", "content": "ما عاصمة الأردن؟"}]


@pytest.mark.slow  # importing litellm costs ~9 s of CPU
async def test_litellm_sdk_with_an_openai_model_against_our_base_url(
    key_user: Any, db: Database, api_url: str
) -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch at import
    import litellm

    user: KeyUser = await key_user()
    common = {"api_base": f"{api_url}/openai/v1", "api_key": user.key, "num_retries": 0}
    for model in ("openai/claude-haiku-4-5",):  # an Anthropic model, answered in OpenAI's format
        whole = await litellm.acompletion(model=model, messages=ASK, max_tokens=200, **common)
        assert ARABIC.search(whole.choices[0].message.content)
        settled = await reservation(db, turn_id_of(whole.id))
        assert settled.status == "settled" and whole.usage.total_tokens > 0

        stream = await litellm.acompletion(
            model=model, messages=ASK, stream=True, stream_options={"include_usage": True}, **common
        )
        parts = [chunk async for chunk in stream]
        text = "".join(c.choices[0].delta.content or "" for c in parts if c.choices)
        assert ARABIC.search(text)
    with pytest.raises(litellm.exceptions.BadRequestError):
        await litellm.acompletion(model="openai/gpt-5-mini", messages=ASK, logit_bias={"1": 2}, **common)


@pytest.mark.slow
async def test_two_api_processes_enforce_one_rpm_limit(
    key_user: Any, settings: Settings, api_url: str, tmp_path: Path
) -> None:
    user: KeyUser = await key_user(rpm_limit=2)
    port = free_port()
    with pulse_process(["api"], settings_env(settings, http_port=port), tmp_path / "api.log"):
        other_url = f"http://127.0.0.1:{port}"
        await wait_ready(other_url)
        here, there = user.sdk, sdk_for(other_url, user.key)
        try:
            outcomes: list[str] = []
            for sdk in (here, there, here, there):
                try:
                    await sdk.chat.completions.create(model="gpt-5-mini", messages=ASK, max_tokens=64)
                    outcomes.append("ok")
                except openai.RateLimitError as error:
                    assert error.code == "rate_limit_exceeded"
                    outcomes.append("limited")
            assert outcomes == ["ok", "ok", "limited", "limited"]
        finally:
            await there.close()
    await asyncio.sleep(0)
