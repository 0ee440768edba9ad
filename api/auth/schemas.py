from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class MagicLinkRequest(BaseModel):
    email: EmailStr
    locale: Literal["ar", "en"] | None = None
    next: str | None = Field(None, max_length=500)  # a same-origin path to land on after signing in


class MagicLinkAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: str


class VerifyRequest(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    locale: str
    role: str
    created_at: datetime


class UserUpdate(BaseModel):
    locale: Literal["ar", "en"] | None = None
    name: str | None = Field(None, max_length=200)


class SignedIn(BaseModel):
    user: UserPublic
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class SessionPublic(BaseModel):
    id: str
    created_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    current: bool


class RevokedCount(BaseModel):
    revoked: int


class ApiKeyLimitsIn(BaseModel):
    """A key's limits (absent or null: no limit)."""

    rpm_limit: int | None = Field(None, ge=1, le=100_000, description="requests per minute")
    tpm_limit: int | None = Field(None, ge=1, le=100_000_000, description="provider tokens per minute")
    monthly_budget: int | None = Field(
        None, ge=1, le=10_000_000_000, description="studio tokens per plan period"
    )
    allowed_models: list[str] | None = Field(
        None, max_length=50, description="catalog model ids (chat and image models)"
    )
    expires_at: datetime | None = None
    monthly_image_budget: int | None = Field(None, ge=1, le=1_000_000, description="images per plan period")


class ApiKeyCreate(ApiKeyLimitsIn):
    name: str = Field("", max_length=100)


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    family_id: str | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    monthly_budget: int | None = None
    allowed_models: list[str] | None = None
    expires_at: datetime | None = None
    monthly_image_budget: int | None = None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="the full key: shown once, store it now")


class ApiKeyModelUsage(BaseModel):
    model: str
    requests: int
    input_tokens: int
    output_tokens: int
    studio_tokens: int
    images: int = Field(0, description="images charged by the ledger (image models)")


class ApiKeyUsage(BaseModel):
    """A key's spend in the current budget window (its family's: rotation keeps the window)."""

    api_key_id: str
    family_id: str
    period_start: datetime
    period_end: datetime
    monthly_budget: int | None
    studio_tokens_used: int = Field(description="charged by the ledger")
    studio_tokens_held: int = Field(description="reserved for requests still running")
    remaining: int | None = Field(description="budget left (null: no budget)")
    requests: int
    input_tokens: int
    output_tokens: int
    monthly_image_budget: int | None = None
    images_used: int = Field(0, description="images charged by the ledger")
    images_held: int = Field(0, description="images reserved for calls still running")
    images_remaining: int | None = Field(None, description="image budget left (null: no budget)")
    models: list[ApiKeyModelUsage]
