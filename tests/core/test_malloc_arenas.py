"""`pulse api` and `pulse worker` cap glibc's malloc arenas: threads share two instead of one each."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Eight threads each allocate with malloc while all of them are alive, then glibc reports its
# arenas ("<heap nr=…>" in malloc_info).
COUNT_ARENAS = """
import ctypes, ctypes.util, os, sys, tempfile, threading
import cli
if sys.argv[1] == "limit":
    assert cli.limit_malloc_arenas()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
allocated, release = threading.Barrier(9), threading.Event()
def allocate():
    libc.malloc(4096)
    allocated.wait()
    release.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
allocated.wait()
path = os.path.join(tempfile.mkdtemp(), "malloc.xml")
stream = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, stream)
libc.fclose(stream)
release.set()
print(open(path).read().count("<heap nr="))
"""


def _arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", COUNT_ARENAS, mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip())


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not ctypes.util.find_library("c"), reason="glibc only"
)
def test_threads_share_two_arenas_when_limited() -> None:
    assert _arenas("default") > 2  # the check can fail: without the cap threads get arenas
    assert _arenas("limit") <= 2


def test_environment_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    import cli

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert cli.limit_malloc_arenas() is False
