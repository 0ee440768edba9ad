"""Chat under faults at the original review's lengths (issue 16): 50 turns at once under
provider faults for a minute, PostgreSQL black-holed for 90 s mid-turn, and PostgreSQL refused
for 90 s while a turn fails (past the ~70 s after which the old failure path gave up).

The scenarios are the chaos suite's own (tests/chaos/test_chat_load.py and the black-hole case
of tests/chaos/test_chat_faults.py, in the production shape of tests/chaos/stack.py), run with
their durations raised; the tests run them bounded (15 s of load, a 12 s black hole). Prints the
suite's ``chaos: …`` figures (turns, faults, extra provider calls, recovery times).

``python -m bench chaos``; ``BENCH_CHAOS_LOAD_SECONDS`` (60),
``BENCH_CHAOS_PG_BLACKHOLE_SECONDS`` (90) and ``BENCH_CHAOS_PG_FAILURE_OUTAGE_SECONDS`` (90)
change the lengths."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = [
    "tests/chaos/test_chat_faults.py::test_a_turn_failing_during_a_postgres_outage_ends_once_it_is_back",
    "tests/chaos/test_chat_faults.py::test_postgres_blackholed_mid_turn_fails_fast_and_the_turn_ends_done",
    "tests/chaos/test_chat_load.py::test_50_turns_at_once_under_provider_faults",
]


def main(argv: list[str]) -> int:
    env = {
        **os.environ,
        "PULSE_CHAOS_LOAD_SECONDS": os.environ.get("BENCH_CHAOS_LOAD_SECONDS", "60"),
        "PULSE_CHAOS_PG_BLACKHOLE_SECONDS": os.environ.get("BENCH_CHAOS_PG_BLACKHOLE_SECONDS", "90"),
        "PULSE_CHAOS_PG_FAILURE_OUTAGE_SECONDS": os.environ.get(
            "BENCH_CHAOS_PG_FAILURE_OUTAGE_SECONDS", "90"
        ),
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-chaos-") as basetemp:  # pytest's own is shared
        command = [sys.executable, "-m", "pytest", "-q", "-s", "--reruns", "0", "-p", "no:cacheprovider"]
        command += [f"--basetemp={basetemp}", *SCENARIOS, *argv]
        run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    for line in run.stdout.splitlines():
        if line.startswith("chaos:") or " passed" in line or " failed" in line or line.startswith("FAILED"):
            print(line.removeprefix("."), flush=True)
    if run.returncode:
        print(run.stdout[-4000:], run.stderr[-2000:], sep="\n")
    print(f"bench chaos: {time.monotonic() - started:.0f} s in all", flush=True)
    return run.returncode
