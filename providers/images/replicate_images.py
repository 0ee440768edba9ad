"""Replicate: a prediction is a long provider job, split into ``submit`` (returns the prediction
id, kept in workflow state) and ``get`` (polled, or read from a verified webhook), ``cancel``,
and ``download`` of each output at once (Replicate deletes API outputs after an hour).

The SDK's ``RetryTransport`` retries GETs up to 10 times by itself; it is turned down to one
attempt so Temporal's retry policy owns backoff (a POST create is never retried by the SDK).
The SDK's ``ReplicateError`` drops the response's headers, so a response hook
(``raise_with_retry_after``) raises the typed error itself, ``retry-after`` included.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

import httpx

from core.image_catalog import ImageModel
from providers.images.types import ContentRefused, GeneratedImage, ImageRequest, PredictionState
from providers.llm.errors import (
    TRANSPORT_ERRORS,
    NonRetryableProviderError,
    ProviderError,
    RetryableProviderError,
    by_status,
    retry_after_from,
)

if TYPE_CHECKING:
    from replicate.client import Client

PROVIDER = "replicate"
REFUSAL_MARKERS = ("nsfw", "safety", "content policy", "flagged as sensitive")
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


def caught() -> tuple[type[Exception], ...]:
    """The exceptions a call can raise: the SDK's and the transport's."""
    from replicate.exceptions import ReplicateException

    return (ProviderError, ReplicateException, httpx.HTTPError, *TRANSPORT_ERRORS)


async def raise_with_retry_after(response: httpx.Response) -> None:
    """httpx response hook: an error response becomes our typed error with its ``retry-after``."""
    if response.status_code < 400:
        return
    from replicate.exceptions import ReplicateError

    await response.aread()
    error = ReplicateError.from_response(response)
    raise by_status(
        error.detail or error.title or "replicate error",
        PROVIDER,
        response.status_code,
        error.title,
        retry_after_from(response.headers),
    )


def classify(error: Exception) -> ProviderError:
    from replicate.exceptions import ReplicateError

    if isinstance(error, ProviderError):  # raised by ``raise_with_retry_after``
        return error
    if isinstance(error, ReplicateError):
        status = error.status or 500
        return by_status(
            error.detail or error.title or "replicate error", PROVIDER, status, error.title, None
        )
    if isinstance(error, (httpx.HTTPError, *TRANSPORT_ERRORS)):
        return RetryableProviderError(str(error) or "connection error", PROVIDER, None, "connection_error")
    return RetryableProviderError(str(error), PROVIDER, None, "unexpected_error")


def failure(state: PredictionState) -> ProviderError:
    """The typed error for a prediction that ended without output."""
    message = state.error or state.status
    if any(marker in message.lower() for marker in REFUSAL_MARKERS):
        return ContentRefused(message, PROVIDER)
    return NonRetryableProviderError(message, PROVIDER, None, f"prediction_{state.status}")


def prediction_input(model: ImageModel, request: ImageRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"prompt": request.prompt, "aspect_ratio": model.sizes[request.size]}
    if model.edits and request.inputs:
        encoded = base64.b64encode(request.inputs[0]).decode()
        params["input_image"] = f"data:image/png;base64,{encoded}"
        params["output_format"] = "png"
    else:
        params["num_outputs"] = request.n
        params["output_format"] = "webp"
    return params


def state_of(raw: Any) -> PredictionState:
    """A ``PredictionState`` from an SDK ``Prediction`` or a webhook's prediction JSON."""
    data = (
        raw
        if isinstance(raw, dict)
        else {k: getattr(raw, k, None) for k in ("id", "status", "output", "error")}
    )
    output = data.get("output")
    outputs = [output] if isinstance(output, str) else [str(item) for item in output or []]
    error = data.get("error")
    return PredictionState(str(data["id"]), str(data["status"]), outputs, str(error) if error else None)


def content_type_of(url: str) -> str:
    return CONTENT_TYPES.get(url.rsplit(".", 1)[-1].lower(), "image/webp")


class ReplicateImages:
    def __init__(self, client: Client, http: httpx.AsyncClient) -> None:
        self.client = client
        self.http = http

    async def submit(self, model: ImageModel, request: ImageRequest, webhook_url: str | None) -> str:
        extra: dict[str, Any] = {}
        if webhook_url:
            extra = {"webhook": webhook_url, "webhook_events_filter": ["completed"]}
        try:
            prediction = await self.client.predictions.async_create(
                model=model.id, input=prediction_input(model, request), **extra
            )
        except caught() as error:
            raise classify(error) from error
        return str(prediction.id)

    async def get(self, prediction_id: str) -> PredictionState:
        try:
            return state_of(await self.client.predictions.async_get(prediction_id))
        except caught() as error:
            raise classify(error) from error

    async def cancel(self, prediction_id: str) -> None:
        try:
            await self.client.predictions.async_cancel(prediction_id)
        except caught() as error:
            raise classify(error) from error

    async def download(self, url: str) -> tuple[bytes, str]:
        try:
            response = await self.http.get(url)
        except caught() as error:
            raise classify(error) from error
        if response.status_code >= 400:
            raise by_status(
                f"download failed: {response.status_code}", PROVIDER, response.status_code, None, None
            )
        kind = response.headers.get("content-type", "").split(";")[0] or content_type_of(url)
        return response.content, kind

    async def webhook_secret(self) -> str:
        try:
            secret = await self.client.webhooks.default.async_secret()
        except caught() as error:
            raise classify(error) from error
        return str(secret.key)

    async def generate(self, model: ImageModel, request: ImageRequest) -> list[GeneratedImage]:
        """Submit, poll to the end and download: the one-call form (the workflow splits it)."""
        prediction_id = await self.submit(model, request, None)
        delay = 0.05
        while not (state := await self.get(prediction_id)).finished:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        if state.status != "succeeded" or not state.outputs:
            raise failure(state)
        images = [await self.download(url) for url in state.outputs]
        return [GeneratedImage(data, kind) for data, kind in images]


def pipeline_status(state: PredictionState) -> tuple[str, str | None]:
    """A prediction's status and error code in the job pipeline's words: queued, running,
    succeeded, failed or canceled; content_refused, provider_timeout or provider_error."""
    if state.status in ("starting", "processing"):
        return ("queued" if state.status == "starting" else "running"), None
    if state.status == "succeeded":
        return ("succeeded", None) if state.outputs else ("failed", "provider_error")
    if state.status == "canceled":
        return "canceled", None
    if state.status == "aborted":
        return "failed", "provider_timeout"
    return "failed", "content_refused" if isinstance(failure(state), ContentRefused) else "provider_error"
