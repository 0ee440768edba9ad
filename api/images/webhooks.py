"""``POST /v1/webhooks/replicate``: a verified prediction webhook becomes a signal to the job's
workflow. Signature-checked (stale timestamps refused), recorded once by ``webhook-id`` and
answered 2xx once recorded, so Replicate's redeliveries and duplicates change nothing."""

from __future__ import annotations

import json

import structlog
from fastapi import APIRouter, Request, Response
from temporalio.service import RPCError

from api.deps import SessionDep, SettingsDep, TemporalDep
from api.images.deps import ImagesDep
from core import images as domain
from core.errors import AppError, Unavailable
from providers.images import WebhookRejected, verify_replicate_webhook
from providers.images.replicate_images import pipeline_status, state_of
from providers.llm.errors import ProviderError
from workflows.pipeline import ProviderUpdate, signal_provider_update

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class WebhookRefused(AppError):
    status_code = 401
    code = "webhook_signature_invalid"
    message = "The webhook signature is invalid."


class WebhookMalformed(AppError):
    status_code = 422
    code = "webhook_malformed"
    message = "The webhook body is not a prediction."


@router.post("/replicate", status_code=204)
async def replicate_webhook(
    request: Request, session: SessionDep, settings: SettingsDep, images: ImagesDep, client: TemporalDep
) -> Response:
    body = await request.body()
    try:
        secret = await images.webhook_secret()
    except ProviderError as error:  # Replicate unreachable: it redelivers on a non-2xx
        log.warning("images.webhook_secret_unavailable", error=str(error))
        raise Unavailable() from None
    try:
        webhook_id = verify_replicate_webhook(
            request.headers, body, secret, tolerance=settings.replicate_webhook_tolerance_seconds
        )
    except WebhookRejected as rejected:
        log.warning("images.webhook_rejected", reason=rejected.reason)
        raise WebhookRefused() from None
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict) or not payload.get("id") or not payload.get("status"):
            raise ValueError("not a prediction")
        state = state_of(payload)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise WebhookMalformed() from None
    first = await domain.record_webhook(session, webhook_id, state.id, state.status, payload)
    await session.commit()
    workflow_id = await domain.workflow_for_prediction(session, state.id)
    if not first or workflow_id is None:  # a duplicate, or a prediction that is not ours
        return Response(status_code=204)
    status, code = pipeline_status(state)
    try:
        await signal_provider_update(
            client, workflow_id, ProviderUpdate(state.id, status, state.outputs, code)
        )
    except RPCError:
        log.info("images.webhook_for_finished_job", prediction_id=state.id)  # its job already ended
    return Response(status_code=204)
