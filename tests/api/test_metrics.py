"""GET /metrics: Prometheus text with HTTP, chat, ledger counters; token-protected when set."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from core.settings import Settings
from tests.chat.helpers import read_events
from tests.conftest import EmulatorControl, serve_app


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def test_a_chat_turn_shows_in_the_metrics(sign_in: Any, emulator: EmulatorControl) -> None:
    me = await sign_in()
    before = await scrape(me.client)
    response = await me.client.post("/v1/chat/turns", json={"model": "gpt-5-mini", "message": "مرحبا"})
    assert response.status_code == 202
    stream = await read_events(me.client, response.json()["events_url"])
    billed = stream.of("usage")[0].data["studio_tokens"]
    turn_labels = {"provider": "openai", "model": "gpt-5-mini", "outcome": "succeeded"}
    for _ in range(50):  # the turn is counted just after its `done` is published
        after = await scrape(me.client)
        if value(after, "pulse_chat_turns_total", **turn_labels) > value(
            before, "pulse_chat_turns_total", **turn_labels
        ):
            break
        await asyncio.sleep(0.1)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("pulse_http_requests_total", method="POST", route="/v1/chat/turns", status="202") == 1
    assert grew("pulse_http_response_start_seconds_count", method="POST", route="/v1/chat/turns") == 1
    assert grew("pulse_chat_turns_total", provider="openai", model="gpt-5-mini", outcome="succeeded") >= 1
    assert grew("pulse_chat_studio_tokens_total", provider="openai", model="gpt-5-mini") >= billed
    assert grew("pulse_chat_first_delta_seconds_count", provider="openai") >= 1
    assert grew("pulse_ledger_operations_total", operation="reserve", outcome="reserved") >= 1
    assert grew("pulse_ledger_operations_total", operation="settle", outcome="settled") >= 1
    # ids never become labels: the events route is counted under its template
    events_route = "/v1/chat/turns/{turn_id}/events"
    assert grew("pulse_http_requests_total", method="GET", route=events_route, status="200") == 1
    assert all("turn_id" not in dict(labels) for _name, labels in after)


async def test_metrics_need_the_token_when_one_is_set(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr("scrape-me")})
    async with serve_app(guarded, run_worker=False) as url, httpx.AsyncClient(base_url=url) as client:
        refused = await client.get("/metrics", headers={"Accept-Language": "ar"})
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        allowed = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert allowed.status_code == 200 and "pulse_http_requests_total" in allowed.text


async def test_metrics_without_a_token_are_refused_in_prod(settings: Settings) -> None:
    """#15 item 10 (model_copy skips validation: the prod app, without a metrics token)."""
    from core.settings import Env

    prod = settings.model_copy(update={"env": Env.prod, "metrics_token": None})
    async with serve_app(prod, run_worker=False) as url, httpx.AsyncClient(base_url=url) as client:
        refused = await client.get("/metrics")
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
