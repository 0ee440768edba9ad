"""Schema-based fuzzing (#15 item 11): schemathesis runs every operation of the live OpenAPI
schema — routes added later are covered automatically — as a signed-in user and as support,
with the checks ``not_a_server_error`` and ``response_schema_conformance``.

It runs as schemathesis's CLI in a subprocess against the API on this session's event loop (so
the API and its Temporal worker keep serving while it runs), with every rate limit raised and a
time budget per role; the whole test is bounded by ``TIME_BUDGET_S``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

import worker as worker_module
from core.accounts import grant_role
from core.settings import Settings
from tests.chat.helpers import read_events
from tests.conftest import SignedIn, serve_app

ROLE_BUDGET_S = 12  # schemathesis --max-time per role (the two roles run side by side)
OVERHEAD_S = 33  # past its budget a run gets this for start-up, schema load, a slow exit; then killed
SUMMARY = re.compile(r"^=+ (?P<outcome>.+) in [0-9.]+s =+$", re.MULTILINE)
UNLIMITED = "1000000/minute"
# Operations that end the caller's own sign-in: fuzzing them first would turn every later case
# into a 401. They are tested on their own in tests/accounts.
SIGNS_OUT = {
    ("POST", "/v1/auth/logout"),
    ("DELETE", "/v1/auth/sessions"),
    ("DELETE", "/v1/auth/sessions/{session_id}"),
}
# Event streams stay open until their job ends (a keep-alive ping resets any read timeout), so
# a generated case on a running job could hold the run for its whole budget: the user's run
# points them at a finished export job and chat turn of its own (``PULSE_FUZZ_STREAMS``, see
# hooks.py), where every generated header and query reaches the relay and the stream ends at
# once; the support run leaves them out. Their path ids are tested in tests/fuzz/test_excluded.py.
STREAMS = {("GET", "/v1/chat/turns/{turn_id}/events"), ("GET", "/v1/jobs/{job_id}/events")}
# The stateful phase (#15): payment and subscription operations chained through the links
# schemathesis infers (a checkout's ``payment_id`` into ``GET /v1/payments/{payment_id}`` …),
# bounded by examples and time so it stays a few seconds.
STATEFUL_PATHS = r"^/(v1/payments|v1/subscription|v1/admin/payments|billing)"
STATEFUL_EXAMPLES = 8
STATEFUL_BUDGET_S = 10
MIN_COVERAGE = 0.8  # share of the selected operations each role's run must get past sign-in
SCENARIOS = re.compile(r"Scenarios:\s+(?P<count>[0-9]+)")

ROOT = Path(__file__).resolve().parents[2]

# per-role time budgets: run alone; clamd up, so uploads are scanned rather than refused with 503
pytestmark = [pytest.mark.slow, pytest.mark.serial, pytest.mark.usefixtures("clamd")]


@pytest_asyncio.fixture
async def fuzz_api(settings: Settings, worker: worker_module.WorkerDeps) -> AsyncIterator[str]:
    """The API with every rate limit raised for the run (the session worker runs workflows)."""
    limits = {name: UNLIMITED for name in Settings.model_fields if name.startswith("rate_limit_")}
    async with serve_app(settings.model_copy(update=limits), run_worker=False) as url:
        yield url


async def test_no_input_to_any_operation_is_a_server_error(
    fuzz_api: str,
    sign_in: Callable[..., Awaitable[SignedIn]],
    worker: worker_module.WorkerDeps,
    tmp_path: Path,
) -> None:
    user, support, buyer = await sign_in(locale="en"), await sign_in(), await sign_in()
    async with worker.db.session() as session:
        await grant_role(session, support.email, "support")
    excluded = await operation_ids(fuzz_api, SIGNS_OUT | STREAMS)
    runs = await asyncio.gather(
        fuzz(
            fuzz_api,
            user.email,
            await operation_ids(fuzz_api, SIGNS_OUT),
            tmp_path / "user",
            streams=await finished_streams(user),
        ),
        fuzz(fuzz_api, support.email, excluded, tmp_path / "support"),
    )
    # then the stateful phase on its own (side by side, three schema loads starved each other),
    # as a user of its own (the role runs may revoke their session: ``DELETE /v1/auth/sessions/{id}``)
    stateful = ["--phases", "stateful", "--include-path-regex", STATEFUL_PATHS]
    runs.append(
        await fuzz(
            fuzz_api,
            buyer.email,
            excluded,
            tmp_path / "stateful",
            stateful,
            STATEFUL_EXAMPLES,
            STATEFUL_BUDGET_S,
        )
    )
    for role, (code, output) in zip(("user", "support", "stateful"), runs, strict=True):
        assert clean(code, output), f"schemathesis as {role} (exit {code}):\n{output[-8000:]}"
    for role in ("user", "support"):
        selected, reached = coverage(tmp_path / role)
        missed = sorted(selected - reached)
        print(f"fuzz coverage as {role}: {len(reached & selected)}/{len(selected)}; missed {missed}")
        assert len(reached & selected) >= MIN_COVERAGE * len(selected), (
            f"as {role} only {len(reached & selected)} of {len(selected)} operations got past "
            f"authentication; missed: {missed}"
        )
    scenarios = SCENARIOS.search(runs[2][1])
    assert scenarios and int(scenarios.group("count")) > 0, f"no stateful scenario ran:\n{runs[2][1][-4000:]}"


async def finished_streams(user: SignedIn) -> dict[str, dict[str, str]]:
    """A finished export job and chat turn of ``user``, for the stream operations."""
    job_id = (await user.client.post("/v1/account/export")).json()["job_id"]
    turn = await user.client.post("/v1/chat/turns", json={"model": "gpt-5-mini", "message": "hello"})
    turn_id = turn.json()["turn_id"]
    for url in (f"/v1/jobs/{job_id}/events", f"/v1/chat/turns/{turn_id}/events"):
        async with asyncio.timeout(30):
            assert (await read_events(user.client, url)).last.type in ("done", "error")
    return {
        "/v1/jobs/{job_id}/events": {"job_id": job_id},
        "/v1/chat/turns/{turn_id}/events": {"turn_id": turn_id},
    }


def coverage(report_dir: Path) -> tuple[set[str], set[str]]:
    """(operations selected, operations with at least one answer other than 401) from a run's
    ndjson report — an operation only answered 401 was never exercised past sign-in."""
    selected: set[str] = set()
    reached: set[str] = set()
    for report in report_dir.glob("*.ndjson"):
        for line in report.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if "SuiteStarted" in event or "ScenarioStarted" in event:
                continue
            finished = event.get("ScenarioFinished")
            if finished is None or finished["phase"] == "stateful":
                continue
            label = finished["recorder"]["label"]
            selected.add(label)
            for interaction in (finished["recorder"].get("interactions") or {}).values():
                response = interaction.get("response")
                if response is not None and response["status_code"] != 401:
                    reached.add(label)
    return selected, reached


def clean(code: int, output: str) -> bool:
    """No failures: exit 0, or a summary without failures or errors (schemathesis sometimes
    takes long to exit after printing it, and is then killed at the hard limit)."""
    found = SUMMARY.search(output)
    if found is None:
        return False
    outcome = found.group("outcome").lower()
    return code == 0 or not ("fail" in outcome or "error" in outcome)


async def operation_ids(api: str, wanted: set[tuple[str, str]]) -> list[str]:
    async with httpx.AsyncClient(base_url=api) as http:
        schema = (await http.get("/openapi.json")).json()
    return [
        operation["operationId"]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if (method.upper(), path) in wanted
    ]


async def fuzz(
    api: str,
    email: str,
    excluded: list[str],
    report_dir: Path,
    extra: list[str] | None = None,
    examples: int = 25,
    budget_s: int = ROLE_BUDGET_S,
    *,
    streams: dict[str, dict[str, str]] | None = None,
) -> tuple[int, str]:
    """One schemathesis run; (exit code, output)."""
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{api}/openapi.json",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--max-time",
        str(budget_s),
        "--max-examples",
        str(examples),
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--seed",
        "15",
        "--report",
        "ndjson",
        "--report-dir",
        str(report_dir),
        "--no-color",
    ]
    for operation_id in excluded:
        command += ["--exclude-operation-id", operation_id]
    command += extra or []
    await asyncio.to_thread(report_dir.mkdir, parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        "PYTHONPATH": str(ROOT),
        "PULSE_FUZZ_API": api,
        "PULSE_FUZZ_EMAIL": email,
        "PULSE_FUZZ_SIGN_INS": str(report_dir / "sign-ins.txt"),
        "NO_COLOR": "1",
        "PULSE_FUZZ_STREAMS": json.dumps(streams or {}),
    }
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=report_dir
    )
    assert process.stdout is not None
    lines: list[str] = []

    async def read() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            lines.append(line.decode(errors="replace"))

    try:
        async with asyncio.timeout(budget_s + OVERHEAD_S):
            await read()
            await process.wait()
    except TimeoutError:
        lines.append(f"\n(killed after {budget_s + OVERHEAD_S} s)\n")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return int(process.returncode if process.returncode is not None else -1), "".join(lines)


async def test_a_huge_history_cursor_is_a_422_not_a_500(sign_in: Callable[..., Awaitable[SignedIn]]) -> None:
    """The fuzzer's first find: ``before`` beyond BIGINT answered 500."""
    me = await sign_in()
    response = await me.client.get("/v1/usage/history", params={"before": "1056955967466078339072"})
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert json.loads(response.text)["fields"][0]["field"].endswith("before")
