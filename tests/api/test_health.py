from __future__ import annotations

import httpx
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from tests.conftest import DEV_SERVER_STARTUP, make_settings, serve_app
from workflows import SEARCH_ATTRIBUTES
from workflows.client import binary, dev_server_args


async def test_healthz(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_readyz_when_everything_answers(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "temporal": "ok", "redis": "ok"}


async def test_readyz_names_a_stopped_temporal(settings: Settings) -> None:
    """A second dev server is started, the app connects to it, then it is stopped."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=dev_server_args(),
        dev_server_startup_timeout=DEV_SERVER_STARTUP,
    )
    address = env.client.service_client.config.target_host
    own = settings.model_copy(update={"temporal_address": address})
    async with serve_app(own, run_worker=False) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/readyz")).status_code == 200
        await env.shutdown()
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["failing"] == ["temporal"]
        assert response.json()["checks"]["database"] == "ok"


async def test_readyz_names_an_unreachable_database(temporal_address: str) -> None:
    broken = make_settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none", temporal_address=temporal_address
    )
    async with serve_app(broken, run_worker=False) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["failing"] == ["database"]


async def test_errors_are_localized_json(http: httpx.AsyncClient) -> None:
    response = await http.get("/no-such-page", headers={"accept-language": "en"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["message"] == "Not found."
    arabic = await http.get("/no-such-page")
    assert arabic.json()["code"] == "not_found"
    assert arabic.json()["message"] != "Not found."
