"""Image calls asked through the OpenAI-compatible API: an ``image`` job (the studio's own
``ImageJobWorkflow``) plus an ``api_image_calls`` row naming the key, so the key's monthly
image budget is counted exactly from the ledger (``core.apikeys.family_images``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core import apikeys, jobs
from core.errors import AppError
from core.models import ApiImageCall, ApiKey
from core.subscriptions import ensure_current_period


class KeyImageBudgetExceeded(AppError):
    status_code = 429
    code = "budget_exceeded"
    message = (
        "This API key has used its monthly budget of {budget} images ({left} left, {asked} asked). "
        "It renews on {renews}."
    )


async def start_api_image_call(
    session: AsyncSession,
    *,
    key: ApiKey,
    job_id: str,
    workflow_id: str,
    model: str,
    max_images: int,
    end_user: str = "",
) -> None:
    """Record the call's job and its key; with an image budget, under the family's lock and only
    if what the family has counted plus this call's most (``n × cost``) fits."""
    family = apikeys.family_of(key)
    await ensure_current_period(session, key.user_id)  # the call falls in the period it is billed in
    if key.monthly_image_budget is not None:
        await apikeys.lock_family(session, family)
        start, end = await apikeys.budget_window(session, key.user_id)
        spent = await apikeys.family_images(session, family, start, end)
        left = key.monthly_image_budget - sum(m.images + m.held for m in spent)
        if left < max_images:
            raise KeyImageBudgetExceeded(
                budget=key.monthly_image_budget,
                left=max(left, 0),
                asked=max_images,
                renews=end.date().isoformat(),
            )
    await jobs.ensure_job(session, job_id=job_id, user_id=key.user_id, kind="image", workflow_id=workflow_id)
    await session.flush()
    session.add(
        ApiImageCall(
            id=job_id,
            user_id=key.user_id,
            api_key_id=key.id,
            family_id=family,
            model=model,
            max_images=max_images,
            end_user=end_user[:256],
        )
    )
    await session.flush()
