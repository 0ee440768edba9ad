"""Shared emulator state: queued faults, per-provider call counts and timing.

One ``EmulatorState`` lives on ``app.state.emulator``; provider routers read it through
``get_state(request)``. Modules that keep state of their own register a reset hook with
``on_reset`` so ``POST /_emulator/reset`` clears them too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import Request

PROVIDERS = ("openai", "anthropic", "google")
STREAM_KINDS = {"stream_error", "truncate", "slow", "hang"}
REPLICATE_KINDS = {"prediction_failed", "webhook_lost", "webhook_duplicate", "webhook_slow"}
# invalid_json: a complete, well-formed reply that breaks the requested JSON schema
FAULT_KINDS = {"http_400", "http_429", "http_500", "http_529", "quota", "invalid_json", *STREAM_KINDS}
FAULT_KINDS |= {"refusal", *REPLICATE_KINDS}  # images: safety refusal; Replicate predictions
FAULT_KINDS |= {"video_failed", "video_filtered", "never_finish"}  # Veo and Runway renders
RESET_HOOKS: list[Callable[[], None]] = []


def on_reset(hook: Callable[[], None]) -> Callable[[], None]:
    """Register a callable run by ``POST /_emulator/reset`` (for modules with own state)."""
    RESET_HOOKS.append(hook)
    return hook


@dataclass
class Fault:
    provider: str
    kind: str  # http_<status> | quota | stream_error | truncate | slow | hang
    count: int = 1
    model: str | None = None
    after_tokens: int = 0
    retry_after_s: float | None = None
    delay_s: float = 0.5
    copies: int = 3  # webhook_duplicate: how many times the final webhook is delivered
    wait_s: float = 0.0  # chat: an HTTP-level fault is answered after this long (a slow error)

    async def wait(self) -> None:
        if self.wait_s > 0:
            await asyncio.sleep(self.wait_s)

    @property
    def status(self) -> int | None:
        """The HTTP status of an HTTP-level fault (``None`` for stream faults)."""
        if self.kind == "quota":
            return 429
        if self.kind.startswith("http_"):
            return int(self.kind.removeprefix("http_"))
        return None


@dataclass
class Calls:
    requests: int = 0  # every generation request received (faulted ones included)
    moderations: int = 0  # moderation requests (kept apart so chat tests count chat calls)
    completed: int = 0  # streams that ran to their normal end
    disconnects: int = 0  # streams the client closed before the end
    faults: int = 0  # requests that were given a fault
    active: int = 0  # streams in progress right now
    during_moderation: int = 0  # generation requests that came while a moderation was pending


@dataclass
class EmulatorState:
    ttft_ms: int = 300
    token_ms: int = 30
    moderation_ms: int = 0  # how long a moderation request takes to answer
    create_ms: int = 0  # how long a long job's create (Veo, Runway, Replicate) takes to answer
    faults: list[Fault] = field(default_factory=list)
    calls: dict[str, Calls] = field(default_factory=lambda: {name: Calls() for name in PROVIDERS})

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take_fault(self, provider: str, model: str | None = None, *, explicit: bool = False) -> Fault | None:
        """The first queued fault matching this call, with one use consumed.

        ``explicit`` calls (moderations) only take faults that name their model.
        """
        accepted = (model,) if explicit else (None, model)
        for fault in self.faults:
            if fault.provider == provider and fault.count > 0 and fault.model in accepted:
                fault.count -= 1
                if fault.count == 0:
                    self.faults.remove(fault)
                self.counts(provider).faults += 1
                return fault
        return None

    def counts(self, provider: str) -> Calls:
        return self.calls.setdefault(provider, Calls())

    def record_request(self, provider: str) -> None:
        self.counts(provider).requests += 1
        if self.moderating:
            self.counts(provider).during_moderation += 1

    def snapshot(self) -> dict[str, Any]:
        return {name: asdict(calls) for name, calls in self.calls.items()}

    def __post_init__(self) -> None:
        self.moderating = 0  # moderation requests being answered right now
        # what reset restores
        self.started = (self.ttft_ms, self.token_ms, self.moderation_ms, self.create_ms)

    def set_latency(
        self,
        ttft_ms: int | None,
        token_ms: int | None,
        moderation_ms: int | None,
        create_ms: int | None = None,
    ) -> None:
        self.ttft_ms = self.ttft_ms if ttft_ms is None else ttft_ms
        self.token_ms = self.token_ms if token_ms is None else token_ms
        self.moderation_ms = self.moderation_ms if moderation_ms is None else moderation_ms
        self.create_ms = self.create_ms if create_ms is None else create_ms

    def latency(self) -> dict[str, int]:
        return {
            "ttft_ms": self.ttft_ms,
            "token_ms": self.token_ms,
            "moderation_ms": self.moderation_ms,
            "create_ms": self.create_ms,
        }

    def reset(self) -> None:
        self.ttft_ms, self.token_ms, self.moderation_ms, self.create_ms = self.started
        self.faults.clear()
        self.calls = {name: Calls() for name in PROVIDERS}
        for hook in RESET_HOOKS:
            hook()

    async def creating(self) -> None:
        """A long job's create being answered: the job starts at the provider after this, even
        when the caller has gone away meanwhile (as a real provider's does)."""
        await asyncio.sleep(self.create_ms / 1000)

    async def first_token(self, fault: Fault | None) -> None:
        await asyncio.sleep(self.ttft_ms / 1000)

    async def between_tokens(self, fault: Fault | None) -> None:
        """Per-token pacing; always yields control, even with a zero delay."""
        delay = fault.delay_s if fault is not None and fault.kind == "slow" else self.token_ms / 1000
        await asyncio.sleep(delay)


def retry_headers(retry_after_s: float | None) -> dict[str, str]:
    """``retry-after`` (seconds) and ``retry-after-ms`` for a fault that asks for them."""
    if retry_after_s is None:
        return {}
    seconds = str(int(retry_after_s)) if float(retry_after_s).is_integer() else str(retry_after_s)
    return {"retry-after": seconds, "retry-after-ms": str(int(retry_after_s * 1000))}


def get_state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def api_key(request: Request, *headers: str) -> str:
    """The first non-empty credential among the given headers (``Bearer`` stripped)."""
    for name in headers:
        value = request.headers.get(name, "")
        if value.lower().startswith("bearer "):
            value = value[7:]
        if value.strip():
            return value.strip()
    return request.query_params.get("key", "")


def rejected_key(key: str) -> bool:
    """Missing keys and keys starting with ``invalid`` are refused with 401."""
    return not key or key.startswith("invalid")
