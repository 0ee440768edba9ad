"""FastAPI runs a plain ``def`` dependency or endpoint in its thread pool: a thread hop on every
request. Ours are all ``async def`` (they do no blocking work)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.app import create_app
from core.settings import Settings


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (kept whole since FastAPI 0.16x)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(list(included.routes))


def _calls(dependant: Dependant) -> Iterator[Any]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _runs_in_a_thread(call: Any) -> bool:
    target = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004
    return not (inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target))


def test_no_route_or_dependency_runs_in_the_thread_pool(settings: Settings) -> None:
    app = create_app(settings, run_worker=False)
    routes = list(_api_routes(list(app.routes)))
    assert len(routes) > 20
    threaded = sorted(
        {
            f"{route.path}: {getattr(call, '__qualname__', repr(call))}"
            for route in routes
            for call in _calls(route.dependant)
            if _runs_in_a_thread(call)
        }
    )
    assert threaded == []
