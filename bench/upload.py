"""Upload-and-scan benchmark: a 10 MB file through the whole path on a real stack (`pulse api`
+ `pulse worker` processes, PostgreSQL, Redis, Temporal dev server, clamd with the shipped test
signatures, local storage): create → POST the form → complete → FileScanWorkflow → ready.

Prints, per round and as medians: the upload, time from complete to ``ready``, the scan
activity's own seconds, and clamd's INSTREAM throughput (MB/s) measured directly as well.
``python -m bench upload`` (``BENCH_UPLOAD_ROUNDS``, default 5)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time

import httpx

from bench.chat import sign_in
from bench.stack import running_stack
from providers.scanner import ClamdScanner
from providers.scanner.daemon import TEST_SIGNATURES, start_clamd

SIZE = 10 * 1024 * 1024
WORDS = "تقرير الربع السنوي عمّان إيرادات نمو Pulse report quarterly revenue growth".split()


def document(size: int = SIZE) -> bytes:
    """``size`` bytes of UTF-8 text (a real document type for the type check)."""
    rng = random.Random(7)
    lines = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(400)]
    block = ("\n".join(lines) + "\n").encode()
    return (block * (size // len(block) + 1))[:size]


async def wait_ready(client: httpx.AsyncClient, events_url: str) -> dict[str, object]:
    async with client.stream("GET", events_url, timeout=120) as response:
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event in ("done", "error"):
                data: dict[str, object] = json.loads(line[6:])
                if event == "error":
                    raise RuntimeError(f"scan failed: {data}")
                return data
    raise RuntimeError("the event stream ended without an outcome")


async def one_round(client: httpx.AsyncClient, body: bytes) -> dict[str, float]:
    begin = time.perf_counter()
    created = (
        await client.post(
            "/v1/files",
            json={
                "name": "report.txt",
                "content_type": "text/plain",
                "size": len(body),
                "purpose": "document",
            },
        )
    ).json()
    form = created["upload"]
    async with httpx.AsyncClient(timeout=120) as anonymous:
        posted = await anonymous.post(form["url"], data=form["fields"], files={"file": ("report.txt", body)})
    posted.raise_for_status()
    uploaded = time.perf_counter()
    completed = (await client.post(f"/v1/files/{created['file_id']}/complete")).json()
    done = await wait_ready(client, completed["events_url"])
    ready = time.perf_counter()
    scan_seconds = float(done.get("scan_seconds", 0.0))  # type: ignore[arg-type]
    return {
        "upload_s": uploaded - begin,
        "complete_to_ready_s": ready - uploaded,
        "scan_activity_s": scan_seconds,
        "total_s": ready - begin,
    }


async def clamd_throughput(scanner: ClamdScanner, body: bytes) -> float:
    async def chunks() -> object:
        for start in range(0, len(body), 1024 * 1024):
            yield body[start : start + 1024 * 1024]

    begin = time.perf_counter()
    result = await scanner.scan(chunks())  # type: ignore[arg-type]
    assert result.clean
    return len(body) / (1024 * 1024) / (time.perf_counter() - begin)


async def main() -> int:
    rounds = int(os.environ.get("BENCH_UPLOAD_ROUNDS", "5"))
    body = document()
    async with running_stack() as stack:
        clamd = await start_clamd(stack.settings, TEST_SIGNATURES)
        try:
            [token] = await sign_in(stack, 1)
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=120) as client:
                await one_round(client, body[: 64 * 1024])  # warm-up (imports, first workflow)
                results = [await one_round(client, body) for _ in range(rounds)]
            scanner = ClamdScanner(stack.settings)
            speeds = [await clamd_throughput(scanner, body) for _ in range(rounds)]
        finally:
            clamd.terminate()
            clamd.wait(timeout=15)
    for index, result in enumerate(results, 1):
        print(f"round {index}: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items()))
    print(f"file: {SIZE / 1048576:.0f} MB text/plain, {rounds} rounds, local storage, test signatures")
    for key in results[0]:
        print(f"median {key}: {statistics.median(r[key] for r in results):.3f}")
    activity = statistics.median(r["scan_activity_s"] for r in results)
    print(f"scan activity throughput (read + sha256 + INSTREAM): {SIZE / 1048576 / activity:.1f} MB/s")
    print(f"clamd INSTREAM alone: median {statistics.median(speeds):.1f} MB/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
