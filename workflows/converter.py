"""The payload converter: Temporal's pydantic converter, with its type adapters built once per
process rather than once per workflow run.

The SDK makes a fresh payload converter for every workflow instance, and the pydantic JSON
converter keeps its ``TypeAdapter`` cache on itself, so each chat turn rebuilt the pydantic
schema of its input and of each activity result: about 5 % of the API process's CPU at 50
concurrent turns. Every ``PulsePayloadConverter`` here shares one JSON converter instead (it
has no per-run state; the SDK shares its default encoding converters the same way), and with
it one adapter cache (``lru_cache`` is thread-safe; workflow activations run on the SDK's
thread pool)."""

from __future__ import annotations

import contextlib

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

_json_converter = PydanticJSONPlainPayloadConverter(max_cached_type_adapters=512)


class PulsePayloadConverter(CompositePayloadConverter):
    """Temporal's default encodings, with JSON through pydantic (dataclasses, datetimes, models)."""

    def __init__(self) -> None:
        super().__init__(
            *(
                _json_converter if isinstance(converter, JSONPlainPayloadConverter) else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


pulse_data_converter = DataConverter(payload_converter_class=PulsePayloadConverter)


def warm_type_adapters(*types: type) -> None:
    """Build (and cache) the adapters for these payload types before the first workflow run
    needs them (docs/chat.md "Cold start"): each is built when first decoded, here from an
    empty payload that then fails validation."""
    empty = Payload(metadata={"encoding": _json_converter.encoding.encode()}, data=b"{}")
    for hint in types:
        with contextlib.suppress(ValueError):  # pydantic's ValidationError is a ValueError
            _json_converter.from_payload(empty, hint)
