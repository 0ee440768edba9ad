"""The account a person manages: change the sign-in email (a link to the new address confirms
it), download their data (an archive built by DataExportWorkflow, announced by email) and
delete the account (a confirmation, then a grace period to undo). The display name and
language are ``PATCH /v1/auth/me``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from api.auth.deps import CurrentUser
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.i18n import request_locale
from api.ratelimit import LimiterDep
from core import account_changes, accounts
from core.i18n import translate
from workflows.starters import email_id, start_email

router = APIRouter(prefix="/v1/account", tags=["account"])
link_router = APIRouter(tags=["account"])


class EmailChangeIn(BaseModel):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^\s@]+@[^\s@]+\.[^\s@]+$")


class Accepted(BaseModel):
    message: str


class DeletionIn(BaseModel):
    confirm_email: str = Field(max_length=320)


class DeletionOut(BaseModel):
    delete_after: datetime | None
    message: str


@router.post("/email", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def change_email(
    body: EmailChangeIn,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    limiter: LimiterDep,
) -> Accepted:
    """Send a confirmation link to the new address; the email changes when it is opened."""
    await limiter.hit(settings.rate_limit_magic_link_email, "email-change", user.id)
    issued = await account_changes.request_email_change(session, settings, user, body.email)
    await session.commit()
    await start_email(
        temporal,
        settings,
        workflow_id=email_id(f"email-change-{issued.change_id}"),
        to=issued.new_email,
        template="email_change",
        locale=user.locale,
        context={"link_sealed": accounts.seal(settings, issued.url), "email": issued.new_email},
    )
    locale = request_locale(request)
    return Accepted(
        message=translate(
            "We sent a link to {email}. Open it to confirm the change.", locale, email=issued.new_email
        )
    )


@link_router.get("/account/email/confirm", include_in_schema=False)
async def confirm_email(
    session: SessionDep, token: Annotated[str, Query(max_length=200)] = ""
) -> RedirectResponse:
    """The emailed link: the new email takes effect (the page says so)."""
    await account_changes.confirm_email_change(session, token)
    await session.commit()
    return RedirectResponse("/account?email=changed", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/deletion", response_model=DeletionOut)
async def schedule_deletion(
    body: DeletionIn, request: Request, user: CurrentUser, session: SessionDep
) -> DeletionOut:
    scheduled = await account_changes.schedule_deletion(session, user, body.confirm_email)
    await session.commit()
    message = translate(
        "Your account will be deleted on {date}. You can undo this until then.",
        request_locale(request),
        date=scheduled.delete_after.date().isoformat() if scheduled.delete_after else "",
    )
    return DeletionOut(delete_after=scheduled.delete_after, message=message)


@router.delete("/deletion", response_model=DeletionOut)
async def cancel_deletion(request: Request, user: CurrentUser, session: SessionDep) -> DeletionOut:
    await account_changes.cancel_deletion(session, user)
    await session.commit()
    return DeletionOut(
        delete_after=None, message=translate("Your account will not be deleted.", request_locale(request))
    )
