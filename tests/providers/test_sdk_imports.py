"""SDK imports off the event loop never overlap (providers/sdk_imports.py): two threads importing
overlapping packages at once can each see the other's module half initialised."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import pytest

from providers.sdk_imports import import_in_thread

SLOW_MODULE = """
import threading, time
from {log} import spans
start = time.monotonic()
time.sleep(0.2)
spans.append((start, time.monotonic(), threading.current_thread().name))
"""


async def test_imports_asked_for_at_once_run_one_after_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"slow_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{prefix}_log.py").write_text("spans = []\n")
    names = [f"{prefix}_{n}" for n in range(3)]
    for name in names:
        (tmp_path / f"{name}.py").write_text(SLOW_MODULE.format(log=f"{prefix}_log"))
    monkeypatch.syspath_prepend(str(tmp_path))
    await asyncio.gather(*(import_in_thread((name,)) for name in names))
    spans = sorted(sys.modules[f"{prefix}_log"].spans)
    threads = {thread for *_, thread in spans}
    assert len(spans) == 3 and len(threads) == 1 and "MainThread" not in threads  # off the loop
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:], strict=False))
