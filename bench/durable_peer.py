"""The durable peer of `bench chat` (#23 §1): the agent and the workflow, on Pydantic AI's
Temporal integration as its docs set it up. The server is `bench.durable_peer_app`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable
from dataclasses import dataclass

from pydantic_ai import Agent, RunContext
from pydantic_ai.durable_exec.temporal import (
    PydanticAIWorkflow,
    TemporalDurability,
)
from pydantic_ai.messages import AgentStreamEvent, PartDeltaEvent, PartStartEvent, TextPart, TextPartDelta
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from temporalio import workflow

# Third-party modules the workflow sandbox need not re-import on every run (the SDK's advice).
with workflow.unsafe.imports_passed_through():
    import redis.asyncio as aioredis

TASK_QUEUE = "durable-peer"
END = "\x00end"  # the handler's last message on a turn's channel
redis: aioredis.Redis | None = None  # set by the server at start: the process's one client


@dataclass
class PeerDeps:
    channel: str  # the Redis channel this turn's deltas go to


def _text(event: AgentStreamEvent) -> str:
    if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
        return event.part.content
    if isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
        return event.delta.content_delta
    return ""


async def publish_deltas(ctx: RunContext[PeerDeps], events: AsyncIterable[AgentStreamEvent]) -> None:
    """Runs inside the model activity: every text delta to the turn's channel, then the end."""
    assert redis is not None
    async for event in events:
        if text := _text(event):
            await redis.publish(ctx.deps.channel, text)
    await redis.publish(ctx.deps.channel, END)


# Module level, as the docs have it: the workflow sandbox re-imports this module to find them.
agent = Agent(
    OpenAIChatModel(
        "gpt-5-mini",
        provider=OpenAIProvider(
            base_url=f"{os.environ.get('PEER_EMULATOR_URL', 'http://127.0.0.1:8090')}/v1",
            api_key="sk-emulator",
        ),
    ),
    name="peer",
    deps_type=PeerDeps,
    model_settings={"max_tokens": 20},
    capabilities=[TemporalDurability(event_stream_handler=publish_deltas)],
)


@workflow.defn(name="PeerTurn")
class PeerTurn(PydanticAIWorkflow):
    __pydantic_ai_agents__ = (agent,)

    @workflow.run
    async def run(self, prompt: str, channel: str) -> str:
        result = await agent.run(prompt, deps=PeerDeps(channel=channel))
        return result.output
