"""Run every benchmark in ``bench/`` (a module with a ``main``), or the ones named:
``python -m bench`` / ``python -m bench ledger chat``.

``main`` may be sync or async, with no parameters or one (``argv``, given ``[]``)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import sys
import traceback
from pathlib import Path
from typing import Any


def discover() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def run_one(entry: Any) -> int:
    args: list[Any] = [[]] if inspect.signature(entry).parameters else []
    result = entry(*args)
    if inspect.isawaitable(result):
        result = asyncio.run(result)  # type: ignore[arg-type]
    return int(result or 0)


def main(argv: list[str]) -> int:
    status = 0
    for name in argv or discover():
        module = importlib.import_module(f"bench.{name}")
        entry = getattr(module, "main", None)
        if entry is None:
            continue
        print(f"== bench {name} ==", flush=True)
        try:
            status |= run_one(entry)
        except Exception:  # noqa: BLE001 - report it and go on with the other benches
            traceback.print_exc()
            status |= 1
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
