"""Container health: `pulse api` answers /readyz with 200; a worker serves its metrics.

Run by the image's HEALTHCHECK (no curl in the slim image). A process is a worker when its
command line says so; it must then have PULSE_WORKER_METRICS_BIND set (compose and ECS do)."""

from __future__ import annotations

import os
import sys
import urllib.request


def target() -> str:
    cmdline = open("/proc/1/cmdline", "rb").read().split(b"\0") if os.path.exists("/proc/1/cmdline") else []
    if b"worker" in cmdline:
        bind = os.environ.get("PULSE_WORKER_METRICS_BIND", "")
        port = bind.rpartition(":")[2] or "9100"
        return f"http://127.0.0.1:{port}/metrics"
    return f"http://127.0.0.1:{os.environ.get('PULSE_HTTP_PORT', '8000')}/readyz"


def main() -> int:
    try:
        with urllib.request.urlopen(target(), timeout=4) as response:  # noqa: S310 (local URL)
            return 0 if response.status == 200 else 1
    except OSError as error:
        sys.stderr.write(f"unhealthy: {error}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
