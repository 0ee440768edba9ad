"""The payload converter: Temporal's pydantic converter, with its type adapters built once per
process rather than once per workflow run.

The SDK makes a fresh payload converter for every workflow instance, and the pydantic one keeps
its ``TypeAdapter`` cache on the instance, so each chat turn rebuilt the pydantic schema of its
input and of each activity result: about 5 % of the API process's CPU at 50 concurrent turns.
The adapters here live in one process-wide LRU cache instead (``lru_cache`` is thread-safe;
workflow activations run on the SDK's thread pool)."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

_type_adapters: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(maxsize=512)(TypeAdapter)


class _SharedAdaptersJSONConverter(PydanticJSONPlainPayloadConverter):
    def __init__(self) -> None:
        super().__init__()
        self._type_adapter = _type_adapters


class PulsePayloadConverter(CompositePayloadConverter):
    """Temporal's default encodings, with JSON through pydantic (dataclasses, datetimes, models)."""

    def __init__(self) -> None:
        json_converter = _SharedAdaptersJSONConverter()
        super().__init__(
            *(
                json_converter if isinstance(converter, JSONPlainPayloadConverter) else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


pulse_data_converter = DataConverter(payload_converter_class=PulsePayloadConverter)
