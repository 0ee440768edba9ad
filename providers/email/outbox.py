"""The dev outbox: each email is a JSON file under ``var/outbox`` (shared by the API and worker
processes), shown at ``/dev/mailbox``. The file is named by the idempotency key, so a retried
send overwrites its own copy."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from providers.email import EmailMessage


@dataclass(frozen=True)
class OutboxEntry:
    id: str
    to: str
    subject: str
    text: str
    html: str
    locale: str
    link: str | None
    sent_at: str  # ISO 8601, UTC


class OutboxEmailProvider:
    name = "outbox"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage, *, key: str) -> str:
        return await asyncio.to_thread(self._write, message, key)

    def _write(self, message: EmailMessage, key: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        entry_id = hashlib.sha256(key.encode()).hexdigest()[:24]
        existing = next(self.directory.glob(f"*-{entry_id}.json"), None)
        stamp = existing.name.split("-")[0] if existing else f"{time.time_ns():020d}"
        entry = OutboxEntry(
            id=entry_id,
            sent_at=datetime.now(UTC).isoformat(),
            **asdict(message),
        )
        target = self.directory / f"{stamp}-{entry_id}.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(entry), ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, target)
        return entry_id


def read_outbox(directory: Path, *, limit: int = 100) -> list[OutboxEntry]:
    """Newest first."""
    if not directory.is_dir():
        return []
    entries: list[OutboxEntry] = []
    for path in sorted(directory.glob("*.json"), reverse=True)[:limit]:
        try:
            entries.append(OutboxEntry(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue  # a file being replaced right now
    return entries


def find_entry(directory: Path, entry_id: str) -> OutboxEntry | None:
    if not entry_id.isalnum():
        return None
    path = next(directory.glob(f"*-{entry_id}.json"), None) if directory.is_dir() else None
    if path is None:
        return None
    return OutboxEntry(**json.loads(path.read_text(encoding="utf-8")))
