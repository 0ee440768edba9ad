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


class ApiKeyCreate(BaseModel):
    name: str = Field("", max_length=100)


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="the full key: shown once, store it now")
