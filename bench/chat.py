"""Chat benchmark: time-to-first-token overhead of a durable, exactly-billed turn, throughput at
50 concurrent streams, and peak memory — beside LiteLLM's proxy when the `bench` extra is installed.

Calls the emulator with zero delays and 20-chunk replies. Overhead = first delta through our API
minus first delta calling the emulator directly (same HTTP client, same request); sequentially
also until the stream's end (for us that is after `done`: the turn settled and billed).
Pulse and LiteLLM take turns, round after round, so both sides' figures come from the same
minutes: this VM's speed drifts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from bench.peers import LITELLM_KEY, durable_peer, litellm_proxy
from bench.stack import (
    CORE_OURS,
    CORE_TEMPORAL,
    Stack,
    cpu_seconds,
    peak_rss_mb,
    running_stack,
    services_pinned,
)

SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "45"))  # over all rounds
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
CONCURRENT_TURNS = int(os.environ.get("BENCH_CONCURRENT_TURNS", "150"))  # per round
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
MODEL = "gpt-5-mini"
PROMPT = "اكتب جملة قصيرة عن عمّان"


# OpenAI-style streams open with a role chunk whose content is empty: not a token yet (it comes
# before the provider's time to first token, which the realistic-latency row makes visible).
EMPTY_CONTENT = (b'"content": ""', b'"content":""')


class Timing(NamedTuple):
    first: float  # seconds to the first delta
    end: float  # seconds to the end of the stream (Pulse: after `done`, once the turn is billed)


Ttft = Callable[[httpx.AsyncClient], Awaitable[Timing]]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")  # every call of a contender failed: its errors say so
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def first_delta(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body: dict[str, Any],
    marker: bytes,
    headers: dict[str, str] | None = None,
) -> Timing:
    """Seconds until the first line containing ``marker``, and until the stream's end."""
    begin = time.perf_counter()
    first = 0.0
    async with client.stream(method, url, json=body, headers=headers) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {(await response.aread())[:200]!r}")
        async for line in response.aiter_lines():
            raw = line.encode()
            if not first and marker in raw and not any(empty in raw for empty in EMPTY_CONTENT):
                first = time.perf_counter() - begin
    if not first:
        raise RuntimeError("no delta")
    return Timing(first, time.perf_counter() - begin)


def emulator_ttft(emulator_url: str) -> Ttft:
    body = {
        "model": MODEL,
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": PROMPT}],
        "max_completion_tokens": 20,
    }
    key = {"Authorization": "Bearer sk-emulator"}
    return lambda c: first_delta(c, "POST", f"{emulator_url}/v1/chat/completions", body, b'"content"', key)


def pulse_ttft(api_url: str, token: str) -> Ttft:
    body = {"model": MODEL, "message": PROMPT, "max_tokens": 20, "stream": True}
    auth = {"Authorization": f"Bearer {token}"}
    return lambda c: first_delta(c, "POST", f"{api_url}/v1/chat/complete", body, b"event: delta", auth)


def pulse_openai_ttft(api_url: str, key: str) -> Ttft:
    """The same turn in OpenAI's wire format, through /openai/v1 with a personal key."""
    body = {
        "model": MODEL,
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": 20,
    }
    auth = {"Authorization": f"Bearer {key}"}
    return lambda c: first_delta(c, "POST", f"{api_url}/openai/v1/chat/completions", body, b'"content"', auth)


def litellm_ttft(proxy_url: str) -> Ttft:
    body = {
        "model": MODEL,
        "stream": True,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": 20,
    }
    return lambda c: first_delta(
        c,
        "POST",
        f"{proxy_url}/v1/chat/completions",
        body,
        b'"content"',
        {"Authorization": f"Bearer {LITELLM_KEY}"},
    )


def peer_ttft(peer_url: str) -> Ttft:
    body = {"message": PROMPT}
    return lambda c: first_delta(c, "POST", f"{peer_url}/chat", body, b"event: delta")


async def sequential(ttft: Ttft, client: httpx.AsyncClient, n: int) -> list[Timing]:
    for _ in range(5):  # warm-up
        await ttft(client)
    return [await ttft(client) for _ in range(n)]


async def concurrent(
    ttfts: list[Ttft], client: httpx.AsyncClient, concurrency: int, total: int
) -> tuple[list[Timing], int, float]:
    """``concurrency`` streams at once (runner i acts as caller i), ``total`` turns in all."""
    results: list[Timing] = []
    errors = 0
    queue = iter(range(total))

    async def runner(ttft: Ttft) -> None:
        nonlocal errors
        for _ in queue:
            try:
                results.append(await ttft(client))
            except Exception:  # noqa: BLE001 - counted and reported
                errors += 1

    begin = time.perf_counter()
    await asyncio.gather(*(runner(ttfts[i % len(ttfts)]) for i in range(concurrency)))
    return results, errors, time.perf_counter() - begin


async def sign_in(stack: Stack, count: int) -> list[str]:
    """``count`` users on the Creator plan, each with a session token (made through core.accounts
    directly: the magic-link flow is not what this benchmark measures)."""
    from datetime import UTC, datetime

    from core import accounts
    from core.db import Database
    from core.subscriptions import set_plan

    db = Database(stack.settings.database_url)
    tokens = []
    async with db.session() as session:
        for i in range(count):
            user = await accounts.get_or_create_user(session, f"bench-{time.time_ns()}-{i}@example.com", "ar")
            await set_plan(
                session,
                user.id,
                "creator",
                datetime.now(UTC),
                f"bench-{user.id}",
                actor="bench",
                reason="benchmark",
            )
            issued = await accounts.create_session(session, stack.settings, user, user_agent="bench")
            tokens.append(issued.access_token)
    await db.dispose()
    return tokens


async def personal_keys(stack: Stack, count: int) -> list[str]:
    """``count`` more Creator-plan users, each with a personal API key."""
    from datetime import UTC, datetime

    from core import accounts
    from core.db import Database
    from core.subscriptions import set_plan

    db = Database(stack.settings.database_url)
    keys = []
    async with db.session() as session:
        for i in range(count):
            user = await accounts.get_or_create_user(
                session, f"bench-key-{time.time_ns()}-{i}@example.com", "ar"
            )
            await set_plan(
                session,
                user.id,
                "creator",
                datetime.now(UTC),
                f"bench-{user.id}",
                actor="bench",
                reason="benchmark",
            )
            keys.append((await accounts.create_api_key(session, user.id, "bench")).key)
    await db.dispose()
    return keys


def _median_ms(timings: list[Timing]) -> float:
    return statistics.median(t.first for t in timings) * 1000


def _overheads(values: list[float], base: list[float]) -> list[float]:
    return [(value - statistics.median(base)) * 1000 for value in values]


def report(
    name: str,
    seq: list[Timing],
    base_seq: list[Timing],
    conc: list[Timing],
    base_conc: list[Timing],
    errors: int,
    rate: float,
    rss: float,
) -> str:
    """Overheads over calling the emulator directly: time to the first delta (sequential and
    concurrent) and, sequentially, time until the stream has ended (for us: billed, `done`)."""
    seq_over = _overheads([t.first for t in seq], [t.first for t in base_seq])
    end_over = _overheads([t.end for t in seq], [t.end for t in base_seq])
    conc_over = _overheads([t.first for t in conc], [t.first for t in base_conc])
    return (
        f"{name:<10} sequential overhead p50 {pct(seq_over, 0.5):7.1f} ms  "
        f"p95 {pct(seq_over, 0.95):7.1f} ms, to the stream's end p50 {pct(end_over, 0.5):6.1f} ms | "
        f"{CONCURRENCY} concurrent: overhead p95 {pct(conc_over, 0.95):7.1f} ms, "
        f"{rate:6.1f} turns/s, errors {errors} | peak RSS {rss:6.0f} MB"
    )


@dataclass
class Contender:
    """One side of the comparison, with what its rounds measured."""

    name: str
    calls: list[Ttft]  # call i acts as concurrent caller i
    processes: tuple[str, ...]  # whose CPU counts for it
    seq: list[Timing] = field(default_factory=list)
    conc: list[Timing] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds in its concurrent rounds

    def cpu_ms_per_turn(self) -> dict[str, float]:
        turns = max(1, len(self.conc))
        return {name: self.cpu.get(name, 0.0) * 1000 / turns for name in self.processes}


async def alternate(
    contenders: list[Contender], direct: Ttft, client: httpx.AsyncClient, cpu: Callable[[], dict[str, float]]
) -> tuple[list[Timing], list[Timing]]:
    """Run the contenders by turns, ROUNDS times, so that every figure comes from the same
    minutes (this VM's speed drifts); returns the direct-to-emulator baselines."""
    base_seq: list[Timing] = []
    base_conc: list[Timing] = []
    for _ in range(ROUNDS):
        base_seq += await sequential(direct, client, SEQUENTIAL // ROUNDS)
        for contender in contenders:
            contender.seq += await sequential(contender.calls[0], client, SEQUENTIAL // ROUNDS)
    for _ in range(ROUNDS):
        base_conc += (await concurrent([direct], client, CONCURRENCY, CONCURRENT_TURNS))[0]
        for contender in contenders:
            before = cpu()
            results, errors, elapsed = await concurrent(
                contender.calls, client, CONCURRENCY, CONCURRENT_TURNS
            )
            after = cpu()
            contender.conc += results
            contender.errors += errors
            contender.elapsed += elapsed
            for name in contender.processes:
                contender.cpu[name] = (
                    contender.cpu.get(name, 0.0) + after.get(name, 0.0) - before.get(name, 0.0)
                )
    return base_seq, base_conc


def cpu_line(contender: Contender) -> str:
    per_turn = contender.cpu_ms_per_turn()
    return (
        f"           CPU ms per turn at {CONCURRENCY} concurrent: "
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(per_turn.items(), key=lambda kv: -kv[1]))
        + f" (total {sum(per_turn.values()):.1f}; {os.cpu_count()} cores)"
    )


@dataclass
class Row:
    """One line of the targets table: what was measured, the target, met or not."""

    name: str
    measured: str
    target: str
    met: bool | None  # None: not measured in this run


@dataclass
class Pass:
    """What one stack (unpinned or pinned) measured."""

    contenders: list[Contender]
    rates: dict[str, float] = field(default_factory=dict)
    realistic_ms: float | None = None  # Pulse's first-token overhead, realistic latencies
    seq_p50: float = 0.0
    seq_p95: float = 0.0
    base_seq: list[Timing] = field(default_factory=list)  # the emulator called directly


REALISTIC = {"moderation_ms": 150, "ttft_ms": 400, "token_ms": 0}  # production-like, §3
REALISTIC_TURNS = int(os.environ.get("BENCH_REALISTIC_TURNS", "12"))
PROFILE_TURNS = int(os.environ.get("BENCH_PROFILE_TURNS", "600"))  # enough samples at 100 Hz


async def realistic_overhead(stack: Stack, client: httpx.AsyncClient, pulse: Contender) -> float:
    """Pulse's first delta minus the provider's own, with moderation 150 ms and time to first
    token 400 ms: moderation beside the completion should cost (almost) nothing."""
    await client.post(f"{stack.emulator_url}/_emulator/latency", json=REALISTIC)
    direct = emulator_ttft(stack.emulator_url)
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(REALISTIC_TURNS):  # alternating, one by one
        theirs.append((await direct(client)).first)
        ours.append((await pulse.calls[0](client)).first)
    await client.post(f"{stack.emulator_url}/_emulator/reset")
    return (statistics.median(ours) - statistics.median(theirs)) * 1000


async def profiled_round(stack: Stack, client: httpx.AsyncClient, pulse: Contender, out: Path) -> None:
    """One more round of Pulse at 50 concurrent under py-spy (API and worker, raw stacks into
    ``out``): `BENCH_PROFILE=dir python -m bench chat`. Not part of the figures above."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out.mkdir(parents=True, exist_ok=True)
    spies = [
        subprocess.Popen(
            [
                spy,
                "record",
                "-p",
                str(stack.processes[name].pid),
                "-r",
                "100",
                "-f",
                "raw",
                "--nonblocking",
                "-o",
                str(out / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in ("api", "worker")
    ]
    await asyncio.sleep(1)
    await concurrent(pulse.calls, client, CONCURRENCY, PROFILE_TURNS)
    for process in spies:
        process.send_signal(2)  # SIGINT: py-spy writes what it sampled
        process.wait(timeout=30)
    print(f"-- py-spy profiles of one more concurrent round in {out}")


async def run_pass(*, pinned: bool) -> Pass:
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY * 2)
    if pinned:
        os.sched_setaffinity(0, CORE_TEMPORAL)  # the bench client beside Temporal and the emulator
    try:
        async with running_stack(pinned=pinned) as stack:
            return await _measure(stack, limits, pinned=pinned)
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


async def _measure(stack: Stack, limits: httpx.Limits, *, pinned: bool) -> Pass:
    tokens = await sign_in(stack, CONCURRENCY)  # 50 concurrent streams = 50 people
    label = " pinned" if pinned else ""
    async with (
        httpx.AsyncClient(timeout=120, limits=limits) as plain,
        litellm_proxy(stack.emulator_url, cores=CORE_OURS if pinned else None) as proxy,
        _peer_unless(pinned, stack) as peer,
    ):
        pulse = Contender(
            "pulse",
            [pulse_ttft(stack.api_url, token) for token in tokens],
            ("api", "worker", "temporal", "postgres", "redis", "emulator", "bench"),
        )
        contenders = [pulse]
        if not pinned:
            keys = await personal_keys(stack, CONCURRENCY)
            contenders.append(
                Contender(
                    "pulse-oai", [pulse_openai_ttft(stack.api_url, key) for key in keys], pulse.processes
                )
            )
        if proxy is not None:
            contenders.append(
                Contender("litellm", [litellm_ttft(proxy[0])], ("litellm", "emulator", "bench"))
            )

        if peer is not None:
            contenders.append(
                Contender("peer", [peer_ttft(peer[0])], ("peer", "temporal", "redis", "emulator", "bench"))
            )

        def cpu() -> dict[str, float]:
            usage = stack.cpu()
            if proxy is not None:
                usage["litellm"] = cpu_seconds(proxy[1].pid)
            if peer is not None:
                usage["peer"] = cpu_seconds(peer[1].pid)
            return usage

        pinning: contextlib.AbstractContextManager[list[int]] = (
            services_pinned(CORE_OURS) if pinned else contextlib.nullcontext([])
        )
        with pinning as services:
            if pinned:
                print(f"pinned: PostgreSQL + Redis processes on core 1: {len(services)}")
            base_seq, base_conc = await alternate(contenders, emulator_ttft(stack.emulator_url), plain, cpu)
        measured = Pass(contenders, base_seq=base_seq)
        rss = stack.peak_rss()
        print(
            f"--{label} emulator direct: first delta p50 {_median_ms(base_seq):.1f} ms sequential, "
            f"{_median_ms(base_conc):.1f} ms at {CONCURRENCY} concurrent "
            f"({ROUNDS} rounds, the contenders taking turns)"
        )
        peaks = {"pulse": rss.get("api", 0) + rss.get("worker", 0)}
        peaks["pulse-oai"] = peaks["pulse"]
        if proxy is not None:
            peaks["litellm"] = peak_rss_mb(proxy[1].pid)
        if peer is not None:
            peaks["peer"] = peak_rss_mb(peer[1].pid)
        for contender in contenders:
            rate = len(contender.conc) / max(contender.elapsed, 1e-9)
            measured.rates[contender.name] = rate
            print(
                report(
                    contender.name,
                    contender.seq,
                    base_seq,
                    contender.conc,
                    base_conc,
                    contender.errors,
                    rate,
                    peaks[contender.name],
                )
            )
            print(cpu_line(contender))
        seq_over = _overheads([t.first for t in pulse.seq], [t.first for t in base_seq])
        measured.seq_p50, measured.seq_p95 = pct(seq_over, 0.5), pct(seq_over, 0.95)
        if proxy is None:
            print("litellm    not installed (uv sync --extra bench to compare)")
        if peer is None and not pinned:
            print("peer       not installed (uv sync --extra bench to compare)")
        if not pinned and os.environ.get("BENCH_PROFILE"):
            await profiled_round(stack, plain, pulse, Path(os.environ["BENCH_PROFILE"]))
        if not pinned:
            measured.realistic_ms = await realistic_overhead(stack, plain, pulse)
            print(
                f"-- realistic latency (moderation 150 ms, ttft 400 ms): pulse first-token overhead "
                f"{measured.realistic_ms:.1f} ms over calling the provider directly"
            )
        return measured


def _peer_unless(pinned: bool, stack: Stack) -> contextlib.AbstractAsyncContextManager[Any]:
    """The durable peer runs in the unpinned pass only (#23: its rows are unpinned)."""
    return contextlib.nullcontext(None) if pinned else durable_peer(stack)


def targets(free: Pass, pinned: Pass) -> list[Row]:
    rows = [
        Row("sequential overhead p50 (unpinned)", f"{free.seq_p50:.1f} ms", "<= 20 ms", free.seq_p50 <= 20),
        Row("sequential overhead p95 (unpinned)", f"{free.seq_p95:.1f} ms", "<= 30 ms", free.seq_p95 <= 30),
    ]
    if free.realistic_ms is not None:
        rows.append(
            Row(
                "realistic first-token overhead",
                f"{free.realistic_ms:.1f} ms",
                "<= 30 ms",
                free.realistic_ms <= 30,
            )
        )
    by_name = {c.name: c for c in free.contenders}
    if "litellm" in by_name:
        ours = sum(v for k, v in by_name["pulse"].cpu_ms_per_turn().items() if k in ("api", "worker"))
        theirs = by_name["litellm"].cpu_ms_per_turn()["litellm"]
        rows.append(
            Row(
                "API+worker CPU per turn / LiteLLM's",
                f"{ours:.1f} / {theirs:.1f} ms = {ours / theirs:.2f}x",
                "<= 0.80x",
                ours / theirs <= 0.8,
            )
        )
    if "litellm" in pinned.rates:
        ours_rate, theirs_rate = pinned.rates["pulse"], pinned.rates["litellm"]
        rows.append(
            Row(
                "pinned turns/s, Pulse vs LiteLLM",
                f"{ours_rate:.1f} vs {theirs_rate:.1f}",
                "Pulse >= LiteLLM",
                ours_rate >= theirs_rate,
            )
        )
    rows += peer_rows(free)
    return rows


def peer_rows(free: Pass) -> list[Row]:
    """§1: Pulse against the durable peer (Pydantic AI's Temporal integration), same run."""
    if "peer" not in free.rates:
        return [Row("durable peer (Pydantic AI + Temporal)", "not installed", "--", None)]
    ours, theirs = free.rates["pulse"], free.rates["peer"]
    peer = next(c for c in free.contenders if c.name == "peer")
    base = [t.first for t in free.base_seq]
    peer_p50 = pct(_overheads([t.first for t in peer.seq], base), 0.5)
    return [
        Row(
            "turns/s, Pulse / durable peer",
            f"{ours:.1f} / {theirs:.1f} = {ours / theirs:.2f}x",
            ">= 1.50x",
            ours >= 1.5 * theirs,
        ),
        Row(
            "seq. overhead p50, Pulse / peer",
            f"{free.seq_p50:.1f} / {peer_p50:.1f} ms",
            "<= 1/2 the peer's",
            free.seq_p50 <= peer_p50 / 2,
        ),
    ]


def print_targets(rows: list[Row]) -> None:
    print("-- targets (docs/chat.md)")
    for row in rows:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[row.met]
        print(f"{row.name:<40} {row.measured:<28} target {row.target:<26} {verdict}")


async def run() -> None:
    free = await run_pass(pinned=False)
    pinned = await run_pass(pinned=True) if os.environ.get("BENCH_PINNED", "1") == "1" else Pass([])
    print_targets(targets(free, pinned))


def main(argv: list[str]) -> int:
    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
