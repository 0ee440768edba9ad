"""Plain data for image providers: what is asked, what comes back, a prediction's state."""

from __future__ import annotations

from dataclasses import dataclass, field

from providers.llm.errors import NonRetryableProviderError


@dataclass(frozen=True)
class ImageRequest:
    model: str
    prompt: str
    size: str  # "WxH", one of the catalog's sizes for the model
    n: int = 1
    inputs: list[bytes] = field(default_factory=list)  # images to edit (the first is the base)
    mask: bytes | None = None  # PNG whose transparent pixels mark where to edit
    quality: str = "auto"  # the catalog's quality for the model ("auto": the provider chooses)


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    content_type: str


@dataclass(frozen=True)
class PredictionState:
    """A long provider job (a Replicate prediction) as last seen."""

    id: str
    status: str  # starting | processing | succeeded | failed | canceled | aborted
    outputs: list[str] = field(default_factory=list)  # URLs to download at once (they expire)
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in {"succeeded", "failed", "canceled", "aborted"}


class ContentRefused(NonRetryableProviderError):
    """The provider's safety system refused the prompt or the images: nothing is billed."""

    def __init__(
        self, message: str, provider: str, status: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, provider, status, code or "content_refused")
