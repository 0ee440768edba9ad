"""``python -m emulator --port P [--ttft-ms N] [--token-ms N] [--moderation-ms N]``."""

from __future__ import annotations

import argparse

from emulator.app import DEFAULT_TOKEN_MS, DEFAULT_TTFT_MS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="emulator", description="Offline provider emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--ttft-ms", type=int, default=DEFAULT_TTFT_MS, help="time to first token")
    parser.add_argument("--token-ms", type=int, default=DEFAULT_TOKEN_MS, help="delay between tokens")
    parser.add_argument("--moderation-ms", type=int, default=0, help="time to answer a moderation")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.ttft_ms, args.token_ms, args.moderation_ms)


def serve(host: str, port: int, ttft_ms: int, token_ms: int, moderation_ms: int = 0) -> None:
    import uvicorn

    from emulator.app import create_app

    app = create_app(ttft_ms=ttft_ms, token_ms=token_ms, moderation_ms=moderation_ms)
    uvicorn.run(app, host=host, port=port, access_log=False)


if __name__ == "__main__":
    main()
