"""Personal API keys (``/v1/auth/api-keys``): create (shown once), list, set limits, rotate,
revoke, and the spend of the current budget window."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.auth.deps import CurrentUser
from api.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyLimitsIn,
    ApiKeyModelUsage,
    ApiKeyPublic,
    ApiKeyUsage,
)
from api.deps import SessionDep
from core import accounts, apikeys
from core.catalog import MODELS
from core.image_catalog import IMAGE_MODELS
from core.models import ApiKey
from core.models.base import utcnow

router = APIRouter(prefix="/v1/auth/api-keys", tags=["auth"])


def limits_of(body: ApiKeyLimitsIn) -> apikeys.KeyLimits:
    unknown = sorted(set(body.allowed_models or ()) - set(MODELS) - set(IMAGE_MODELS))
    if unknown:
        raise apikeys.InvalidKeyLimits(detail=", ".join(unknown))
    if body.expires_at is not None and body.expires_at <= utcnow():
        raise apikeys.InvalidKeyLimits(detail="expires_at")
    models = list(dict.fromkeys(body.allowed_models)) if body.allowed_models is not None else None
    return apikeys.KeyLimits(
        body.rpm_limit,
        body.tpm_limit,
        body.monthly_budget,
        models,
        body.expires_at,
        body.monthly_image_budget,
    )


def created_out(created: accounts.CreatedApiKey) -> ApiKeyCreated:
    return ApiKeyCreated(**ApiKeyPublic.model_validate(created.api_key).model_dump(), key=created.key)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyCreate, user: CurrentUser, session: SessionDep) -> ApiKeyCreated:
    return created_out(await apikeys.create_key(session, user.id, body.name, limits_of(body)))


@router.get("", response_model=list[ApiKeyPublic])
async def list_api_keys(user: CurrentUser, session: SessionDep) -> list[ApiKeyPublic]:
    return [ApiKeyPublic.model_validate(row) for row in await accounts.list_api_keys(session, user.id)]


@router.patch("/{key_id}", response_model=ApiKeyPublic)
async def set_limits(
    key_id: str, body: ApiKeyLimitsIn, user: CurrentUser, session: SessionDep
) -> ApiKeyPublic:
    """Replace the key's limits (a field left out or null: no limit)."""
    row = await apikeys.update_limits(session, user.id, key_id, limits_of(body))
    return ApiKeyPublic.model_validate(row)


@router.post("/{key_id}/rotate", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def rotate_api_key(key_id: str, user: CurrentUser, session: SessionDep) -> ApiKeyCreated:
    """A new secret with the same name, limits and budget window; the old key stops at once."""
    return created_out(await apikeys.rotate_key(session, user.id, key_id))


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: str, user: CurrentUser, session: SessionDep) -> None:
    await accounts.revoke_api_key(session, user.id, key_id)


@router.get("/{key_id}/usage", response_model=ApiKeyUsage)
async def api_key_usage(key_id: str, user: CurrentUser, session: SessionDep) -> ApiKeyUsage:
    """Spend in the current budget window, exact from the ledger (a rotated-away key answers too)."""
    row = await apikeys.owned_key(session, user.id, key_id, live=False)
    return await usage_of(session, row)


async def usage_of(session: SessionDep, row: ApiKey) -> ApiKeyUsage:
    family = apikeys.family_of(row)
    spend = await apikeys.family_spend(session, row.user_id, family)
    budget, image_budget = row.monthly_budget, row.monthly_image_budget
    images = await apikeys.family_images(session, family, spend.period_start, spend.period_end)
    images_used, images_held = sum(m.images for m in images), sum(m.held for m in images)
    return ApiKeyUsage(
        api_key_id=row.id,
        family_id=family,
        period_start=spend.period_start,
        period_end=spend.period_end,
        monthly_budget=budget,
        studio_tokens_used=spend.charged,
        studio_tokens_held=spend.held,
        remaining=max(0, budget - spend.counted) if budget is not None else None,
        requests=sum(m.requests for m in spend.models) + sum(m.requests for m in images),
        input_tokens=sum(m.input_tokens for m in spend.models),
        output_tokens=sum(m.output_tokens for m in spend.models),
        models=[
            ApiKeyModelUsage(
                model=m.model,
                requests=m.requests,
                input_tokens=m.input_tokens,
                output_tokens=m.output_tokens,
                studio_tokens=m.studio_tokens,
            )
            for m in spend.models
        ]
        + [
            ApiKeyModelUsage(
                model=m.model,
                requests=m.requests,
                input_tokens=0,
                output_tokens=0,
                studio_tokens=0,
                images=m.images,
            )
            for m in images
        ],
        monthly_image_budget=image_budget,
        images_used=images_used,
        images_held=images_held,
        images_remaining=max(0, image_budget - images_used - images_held)
        if image_budget is not None
        else None,
    )
