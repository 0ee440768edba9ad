from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class ModelOut(BaseModel):
    id: str
    provider: str
    name: str
    name_ar: str
    name_en: str
    context_window: int
    max_output_tokens: int
    token_weight: float
    capabilities: list[str]
    available: bool  # provider enabled and not retired
    retires_on: date | None = None  # the provider's end-of-life date, when announced


class TurnIn(BaseModel):
    conversation_id: str | None = Field(default=None, max_length=32)
    model: str = Field(min_length=1, max_length=64)
    message: str = Field(min_length=1, max_length=100_000)
    max_tokens: int | None = Field(default=None, ge=1, le=128_000)
    file_ids: list[str] = Field(default_factory=list, max_length=10)  # ready files (POST /v1/files)


class RegenerateIn(BaseModel):
    model: str | None = Field(default=None, min_length=1, max_length=64)  # default: the turn's
    max_tokens: int | None = Field(default=None, ge=1, le=128_000)


class EditIn(BaseModel):
    message: str = Field(min_length=1, max_length=100_000)  # the question's new text
    model: str | None = Field(default=None, min_length=1, max_length=64)  # default: the turn's
    max_tokens: int | None = Field(default=None, ge=1, le=128_000)


class TurnOut(BaseModel):
    turn_id: str
    conversation_id: str
    events_url: str


class CompleteIn(TurnIn):
    stream: bool = False


class UsageOut(BaseModel):
    input_tokens: int
    output_tokens: int
    studio_tokens: int


class CompleteOut(BaseModel):
    turn_id: str
    conversation_id: str
    model: str
    content: str
    stopped: bool
    usage: UsageOut


class ConversationOut(BaseModel):
    id: str
    title: str
    model: str
    created_at: datetime
    updated_at: datetime


class MessageFileOut(BaseModel):
    """A file a (user) message carried; ``content_url`` answers 302 to a fresh signed link."""

    id: str
    name: str
    content_type: str
    size: int
    content_url: str  # add ?inline=1 to show it in the page (a thumbnail)


class MessageOut(BaseModel):
    id: str
    turn_id: str
    role: str
    content: str
    model: str
    status: str
    studio_tokens: int
    created_at: datetime
    turn_status: str
    error_code: str | None
    error_message: str | None = None  # why the turn has no reply, in the caller's language
    files: list[MessageFileOut] = Field(default_factory=list)  # what the question came with


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]
    running_turn_id: str | None


class RenameIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
