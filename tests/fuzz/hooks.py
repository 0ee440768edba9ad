"""Schemathesis hooks for the fuzz runs (loaded by the ``st`` subprocess via SCHEMATHESIS_HOOKS).

Authentication signs in through the real magic-link flow as the run's account
(``PULSE_FUZZ_EMAIL``) and signs in again whenever a response is a 401 — a case that revokes the
caller's session (or schedules its erasure) no longer turns every later case into a 401.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx
import schemathesis

API = os.environ.get("PULSE_FUZZ_API", "")
EMAIL = os.environ.get("PULSE_FUZZ_EMAIL", "")
SIGN_INS = os.environ.get("PULSE_FUZZ_SIGN_INS", "")  # a file: one line per sign-in, for the test
# {path template: {parameter: value}}: the event streams are fuzzed on a finished job of the
# run's account (their headers and query reach the relay; a random id would stop at the 404)
STREAM_PATHS: dict[str, dict[str, str]] = json.loads(os.environ.get("PULSE_FUZZ_STREAMS") or "{}")


def sign_in(api: str, email: str, timeout: float = 20) -> str:
    """A fresh session token for ``email`` (request a link, read it from /dev/mailbox, verify)."""
    with httpx.Client(base_url=api, timeout=timeout) as http:
        seen = {message["id"] for message in http.get("/dev/mailbox.json", params={"to": email}).json()}
        response = http.post("/v1/auth/magic-link", json={"email": email, "locale": "en"})
        response.raise_for_status()
        deadline = time.monotonic() + timeout
        while True:
            messages = http.get("/dev/mailbox.json", params={"to": email}).json()
            link = next((m["link"] for m in messages if m["id"] not in seen and m.get("link")), None)
            if link is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"no sign-in email reached {email} within {timeout}s")
            time.sleep(0.05)
        verified = http.post("/v1/auth/magic-link/verify", json={"token": httpx.URL(link).params["token"]})
        verified.raise_for_status()
    if SIGN_INS:
        with open(SIGN_INS, "a", encoding="utf-8") as log:
            log.write(f"{email}\n")
    return str(verified.json()["access_token"])


if STREAM_PATHS:

    @schemathesis.hook
    def before_call(context: schemathesis.HookContext, case: schemathesis.Case, **kwargs: Any) -> None:
        """Point the stream operations at the finished job (they end at once, whatever the
        generated ``Last-Event-ID`` or ``after``)."""
        fixed = STREAM_PATHS.get(case.operation.path)
        if fixed is not None:
            case.path_parameters = {**(case.path_parameters or {}), **fixed}


if API and EMAIL:

    @schemathesis.auth(refresh_interval=3600, retry_on=[401])
    class ReSignIn:
        """The run's bearer token; refetched (signed in again) after any 401."""

        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
            return sign_in(API, EMAIL)

        def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
