"""Ledger benchmark: reserve + settle (each its own transaction, as in the job saga) with N
concurrent users on PostgreSQL, in a throwaway database that is dropped afterwards.

    python -m bench.ledger [--users 50] [--ops 40] [--pool 10] [--dsn postgresql://…/postgres]

Prints reserve+settle p50/p95/p99 latency, throughput, and a hot-account run (all callers on
one user, where the per-user lock serializes them). Ends by checking the books are exact.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from dataclasses import dataclass, field

import asyncpg

from core import ledger, subscriptions
from core.db import Database
from core.migrate import upgrade_async
from core.models import User
from core.plans import Unit

DEFAULT_DSN = os.environ.get("PULSE_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
RESERVE, ACTUAL = 2_000, 1_500


@dataclass
class Timings:
    pairs: list[float] = field(default_factory=list)
    reserves: list[float] = field(default_factory=list)
    settles: list[float] = field(default_factory=list)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def make_users(db: Database, count: int) -> list[str]:
    ids: list[str] = []
    async with db.session() as session:
        for _ in range(count):
            user = User(email=f"bench-{uuid.uuid4().hex[:12]}@example.com")
            session.add(user)
            await session.flush()
            await subscriptions.set_plan(session, user.id, "creator", key=f"bench:{user.id}")
            ids.append(user.id)
    return ids


async def one_pair(db: Database, user_id: str, timings: Timings) -> None:
    key = uuid.uuid4().hex
    begin = time.perf_counter()
    async with db.session() as session:
        await ledger.reserve(session, user_id=user_id, unit=Unit.tokens, amount=RESERVE, key=key, job_id=key)
    reserved = time.perf_counter()
    async with db.session() as session:
        await ledger.settle(session, key=key, actual=ACTUAL)
    done = time.perf_counter()
    timings.reserves.append(reserved - begin)
    timings.settles.append(done - reserved)
    timings.pairs.append(done - begin)


async def run(db: Database, callers: list[str], ops: int) -> tuple[Timings, float]:
    timings = Timings()

    async def caller(user_id: str) -> None:
        for _ in range(ops):
            await one_pair(db, user_id, timings)

    begin = time.perf_counter()
    await asyncio.gather(*(caller(user_id) for user_id in callers))
    return timings, time.perf_counter() - begin


def report(label: str, timings: Timings, elapsed: float) -> None:
    count = len(timings.pairs)
    print(
        f"{label}: {count} reserve+settle in {elapsed:.2f} s → {count / elapsed:.0f} pairs/s\n"
        f"  reserve+settle p50 {pct(timings.pairs, 0.50):.1f} ms  p95 {pct(timings.pairs, 0.95):.1f} ms  "
        f"p99 {pct(timings.pairs, 0.99):.1f} ms  (mean {statistics.mean(timings.pairs) * 1000:.1f} ms)\n"
        f"  reserve p50 {pct(timings.reserves, 0.5):.1f} ms p95 {pct(timings.reserves, 0.95):.1f} ms · "
        f"settle p50 {pct(timings.settles, 0.5):.1f} ms p95 {pct(timings.settles, 0.95):.1f} ms",
        flush=True,
    )


async def check_books(db: Database, users: list[str], per_user: dict[str, int]) -> None:
    async with db.session() as session:
        for user_id in users:
            state = (await ledger.usage(session, user_id)).units["tokens"]
            expected = per_user[user_id] * ACTUAL
            if state.used != expected or state.reserved != 0 or state.remaining != 2_500_000 - expected:
                raise SystemExit(f"ledger drifted for {user_id}: {state} (expected used {expected})")


async def bench(dsn: str, users: int, ops: int, pool: int) -> None:
    name = f"pulse_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    db = Database(url, pool_size=pool)  # + as many overflow connections, like the app
    try:
        await upgrade_async(url)
        ids = await make_users(db, users)
        await run(db, ids[:5], 3)  # warm the pool and caches
        timings, elapsed = await run(db, ids, ops)
        print(
            f"PostgreSQL, {users} concurrent users, {ops} jobs each "
            f"(reserve {RESERVE}, settle {ACTUAL} tokens), pool {pool}+{pool} connections"
        )
        report("spread", timings, elapsed)
        hot = ids[0]
        hot_ops = max(ops // 4, 1)
        hot_timings, hot_elapsed = await run(db, [hot] * users, hot_ops)
        report(f"hot account ({users} callers on one user)", hot_timings, hot_elapsed)
        per_user = dict.fromkeys(ids, ops)
        for user_id in ids[:5]:
            per_user[user_id] += 3
        per_user[hot] += hot_ops * users
        await check_books(db, ids, per_user)
        print("books exact: used, reserved and remaining match every operation", flush=True)
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(
            f"machine: {os.cpu_count()} CPUs, load average {load} (figures scale with free CPU)", flush=True
        )
    finally:
        await db.dispose()
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger", description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--ops", type=int, default=40, help="reserve+settle pairs per user")
    parser.add_argument("--pool", type=int, default=10, help="pool size (PULSE_DATABASE_POOL_SIZE)")
    parser.add_argument("--dsn", default=DEFAULT_DSN, help="an admin DSN that may CREATE DATABASE")
    args = parser.parse_args(argv)
    asyncio.run(bench(args.dsn, args.users, args.ops, args.pool))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
