"""With PULSE_OTEL_ENDPOINT set, a chat turn is one trace from the HTTP request through the
Temporal workflow to its activities, exported over OTLP/HTTP to a collector (here: a small
real OTLP receiver in the test process). The API runs as its own process, as in production."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.settings import Settings
from tests.conftest import EmulatorControl, free_port
from tests.processes import pulse_process, settings_env, wait_ready

pytestmark = pytest.mark.slow
TURN_SPANS = {
    "StartWorkflow:ChatTurnWorkflow",
    "RunWorkflow:ChatTurnWorkflow",
    "StartActivity:chat.stream_reply",
    "RunActivity:chat.stream_reply",
    "CompleteWorkflow:ChatTurnWorkflow",
}


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    attributes: dict[str, Any]


@contextlib.asynccontextmanager
async def otlp_receiver() -> AsyncIterator[tuple[str, list[ReceivedSpan]]]:
    received: list[ReceivedSpan] = []

    async def traces(request: Request) -> Response:
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: a.value.string_value or a.value.int_value for a in span.attributes}
                    received.append(
                        ReceivedSpan(
                            resource.get("service.name", ""),
                            span.name,
                            span.trace_id,
                            span.span_id,
                            span.parent_span_id,
                            attributes,
                        )
                    )
        return Response(b"", media_type="application/x-protobuf")

    port = free_port()
    app = Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        server.should_exit = True
        await task


async def test_a_chat_turn_is_one_trace_from_http_to_its_activities(
    settings: Settings, sign_in: Any, emulator: EmulatorControl, tmp_path: Path
) -> None:
    me = await sign_in()
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"otel{uuid.uuid4().hex[:6]}-"})
    async with otlp_receiver() as (collector, received):
        port = free_port()
        env = {**settings_env(own, http_port=port, otel_endpoint=collector), "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with pulse_process(["api"], env, tmp_path / "api.log"):
            url = f"http://127.0.0.1:{port}"
            await wait_ready(url)
            headers = {"Authorization": f"Bearer {me.token}"}
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as api:
                response = await api.post(
                    "/v1/chat/complete", json={"model": "gpt-5-mini", "message": "مرحبا"}
                )
                assert response.status_code == 200, response.text
            wanted = {"POST /v1/chat/complete", *TURN_SPANS}
            for _ in range(100):
                if wanted <= {span.name for span in received}:
                    break
                await asyncio.sleep(0.1)

    request = next(span for span in received if span.name == "POST /v1/chat/complete")
    assert request.service == "pulse-api" and request.attributes["http.route"] == "/v1/chat/complete"
    trace = [span for span in received if span.trace_id == request.trace_id]
    names = {span.name for span in trace}
    assert TURN_SPANS <= names, names
    parents = {span.span_id: span.parent_span_id for span in trace}
    activity = next(span for span in trace if span.name == "RunActivity:chat.stream_reply")
    chain, at = [], activity.span_id
    while at:
        chain.append(at)
        at = parents.get(at, b"")
    assert chain[-1] == request.span_id  # the activity's span descends from the request's
    assert not {span.name for span in received} & {"GET /readyz", "GET /metrics"}  # probes untraced
    assert all("مرحبا" not in str(span.attributes) for span in received)  # no message text
