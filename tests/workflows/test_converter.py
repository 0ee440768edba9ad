"""The data converter: pydantic JSON with type adapters shared by every workflow run, and the
optional AES-GCM codec."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr, TypeAdapter

from tests.conftest import make_settings
from workflows.client import data_converter
from workflows.converter import PulsePayloadConverter


@dataclass
class _Sample:
    title: str
    at: datetime
    tokens: list[int]


SAMPLE = _Sample("عنوان", datetime(2026, 11, 26, 3, 0, tzinfo=UTC), [1, 2, 3])


def test_round_trips_dataclasses_with_datetimes_and_arabic() -> None:
    converter = PulsePayloadConverter()
    [payload] = converter.to_payloads([SAMPLE])
    assert payload.metadata["encoding"] == b"json/plain"
    assert converter.from_payloads([payload], [_Sample]) == [SAMPLE]


def test_a_new_converter_per_workflow_run_reuses_the_type_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK makes a converter per workflow instance; the schema must not be rebuilt each time."""
    [payload] = PulsePayloadConverter().to_payloads([SAMPLE])
    PulsePayloadConverter().from_payloads([payload], [_Sample])
    built: list[object] = []
    build = TypeAdapter.__init__

    def counting_init(self: TypeAdapter[object], *args: Any, **kwargs: Any) -> None:
        built.append(args[0])
        build(self, *args, **kwargs)

    monkeypatch.setattr(TypeAdapter, "__init__", counting_init)
    for _ in range(5):
        assert PulsePayloadConverter().from_payloads([payload], [_Sample]) == [SAMPLE]
    assert built == []


async def test_codec_key_encrypts_payloads() -> None:
    converter = data_converter(make_settings(payload_codec_key=SecretStr("ab" * 32)))
    [payload] = await converter.encode([SAMPLE])
    assert payload.metadata["encoding"] == b"binary/encrypted"
    assert "عنوان".encode() not in payload.data
    assert await converter.decode([payload], [_Sample]) == [SAMPLE]
