"""Starting a clamd of our own (``pulse dev`` and the tests): a config under ``var/clamd`` with
the socket ``clamd_socket_path``, clamd in the foreground, ready once it answers PING.

Signatures: production runs Debian's clamd with ``freshclam``'s databases; the tests and an
offline dev machine use ``infra/clamav/test-signatures`` (the EICAR test string and one custom
signature), so nothing is downloaded."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

from core.settings import ROOT, Settings
from providers.scanner.clamd import ClamdScanner, ScannerUnavailable

TEST_SIGNATURES = ROOT / "infra" / "clamav" / "test-signatures"
SYSTEM_DATABASE = Path("/var/lib/clamav")


def clamd_binary() -> str | None:
    return shutil.which("clamd") or (shutil.which("clamd", path="/usr/sbin:/sbin") or None)


def database_dir() -> Path:
    """freshclam's databases when present, else the shipped test signatures."""
    if any(SYSTEM_DATABASE.glob("*.c[lv]d")):
        return SYSTEM_DATABASE
    return TEST_SIGNATURES


def write_config(settings: Settings, database: Path) -> Path:
    directory = Path(settings.clamd_socket_path).parent
    directory.mkdir(parents=True, exist_ok=True)
    megabytes = max(1, settings.clamd_max_bytes // (1024 * 1024))
    config = directory / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                f"LocalSocket {settings.clamd_socket_path}",
                f"DatabaseDirectory {database}",
                "Foreground yes",
                f"StreamMaxLength {megabytes}M",
                f"MaxFileSize {megabytes}M",
                f"MaxScanSize {megabytes * 4}M",
                "AlertExceedsMax yes",  # what exceeds a limit is reported, never passed unscanned
                f"LogFile {directory / 'clamd.log'}",
                f"TemporaryDirectory {directory}",
                "",
            ]
        )
    )
    return config


def spawn_clamd(settings: Settings, database: Path | None = None) -> subprocess.Popen[bytes]:
    binary = clamd_binary()
    if binary is None:
        raise ScannerUnavailable("clamd is not installed (apt-get install clamav-daemon)")
    Path(settings.clamd_socket_path).unlink(missing_ok=True)
    config = write_config(settings, database or database_dir())
    return subprocess.Popen(
        [binary, f"--config-file={config}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def start_clamd(
    settings: Settings, database: Path | None = None, timeout: float = 60
) -> subprocess.Popen[bytes]:
    """Start clamd and wait until it answers; raises ScannerUnavailable when it cannot start."""
    process = await asyncio.to_thread(spawn_clamd, settings, database)
    scanner = ClamdScanner(settings)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await scanner.ping()
            return process
        except ScannerUnavailable:
            if process.poll() is not None or asyncio.get_running_loop().time() > deadline:
                process.kill()
                raise ScannerUnavailable("clamd did not start (see clamd.log beside its socket)") from None
            await asyncio.sleep(0.1)
