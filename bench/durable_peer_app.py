"""The durable peer of `bench chat` (#23 §1): the shortest honest streaming chat on Pydantic AI's
Temporal integration, set up as its docs describe it, in one process.

- An `Agent` with the `TemporalDurability` capability, its model the emulator's OpenAI API
  through Pydantic AI's own OpenAI model (the official `openai` SDK underneath).
- A workflow per turn (`PeerTurn`) that runs the agent; Pydantic AI runs the model request as an
  activity and, because an `event_stream_handler` is set, streams it there and hands the events
  to the handler — which publishes each text delta to a Redis channel.
- A FastAPI endpoint, `POST /chat`, that subscribes to the turn's channel, starts the workflow and
  relays the deltas as SSE until the handler's end marker, then waits for the workflow's result
  (so a turn is over when it is durable, as ours is when it is billed).
- The Temporal worker (with `PydanticAIPlugin`/`AgentPlugin`) runs in the same process.

Nothing here is Pulse's code: no ledger, no history, no moderation. Run it as
``PEER_EMULATOR_URL=URL python -m bench.durable_peer_app --port P --temporal HOST:PORT --redis URL``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import redis.asyncio as aioredis
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from pydantic_ai.durable_exec.temporal import AgentPlugin, PydanticAIPlugin
from redis.asyncio.client import PubSub
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from bench import durable_peer
from bench.durable_peer import END, TASK_QUEUE, PeerTurn, agent


class ChatRequest(BaseModel):
    message: str


def build_app(client: Client) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/chat")
    async def chat(body: ChatRequest) -> StreamingResponse:
        channel = f"peer:{uuid.uuid4().hex}"
        assert durable_peer.redis is not None
        pubsub = durable_peer.redis.pubsub()
        await pubsub.subscribe(channel)  # before the start: no delta can be missed
        handle = await client.start_workflow(
            PeerTurn.run,
            args=[body.message, channel],
            id=f"peer-{channel}",
            task_queue=TASK_QUEUE,
            execution_timeout=timedelta(minutes=2),
        )
        return StreamingResponse(_relay(pubsub, handle), media_type="text/event-stream")

    return app


async def _relay(pubsub: PubSub, handle: WorkflowHandle[PeerTurn, str]) -> AsyncIterator[bytes]:
    try:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            text = message["data"].decode()
            if text == END:
                break
            yield f"event: delta\ndata: {json.dumps({'text': text})}\n\n".encode()
        await handle.result()
        yield b"event: done\ndata: {}\n\n"
    finally:
        await pubsub.aclose()


async def serve(args: argparse.Namespace) -> None:
    durable_peer.redis = aioredis.from_url(args.redis)
    client = await Client.connect(args.temporal, plugins=[PydanticAIPlugin()])
    worker = Worker(client, task_queue=TASK_QUEUE, workflows=[PeerTurn], plugins=[AgentPlugin(agent)])
    server = uvicorn.Server(
        uvicorn.Config(build_app(client), host="127.0.0.1", port=args.port, log_level="warning")
    )
    async with worker:
        with contextlib.suppress(asyncio.CancelledError):
            await server.serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--temporal", required=True)
    parser.add_argument("--redis", required=True)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
