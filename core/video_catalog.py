"""The video model catalog: which video models the studio offers, the durations, aspect ratios
and resolutions each takes, whether it starts from an image, its polling pace (within the
provider's rate limits) and the ceiling after which a render is cancelled, and its cost in
``videos`` units per video."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.catalog import ModelUnavailable
from core.settings import Settings

VideoProvider = Literal["google", "runway", "replicate"]
DEFAULT_VIDEO_MODEL = "veo-3.0-fast-generate-001"


@dataclass(frozen=True)
class VideoModel:
    id: str
    provider: VideoProvider
    provider_model: str  # the provider's model id
    display_name_ar: str
    display_name_en: str
    durations: tuple[int, ...]  # seconds
    aspect_ratios: dict[str, str]  # ours ("16:9") -> the provider's ratio parameter
    resolution: str  # e.g. "720p"
    text_to_video: bool
    image_to_video: bool
    cost: int = 1  # videos units per video
    first_poll_s: float = 10.0  # first poll after submit (Runway suggests ~5 s; Veo ~10 s)
    max_poll_s: float = 30.0  # polling backoff cap
    ceiling_s: float = 20 * 60  # past this the provider job is cancelled and the hold released

    def display_name(self, locale: str | None) -> str:
        return self.display_name_en if locale == "en" else self.display_name_ar

    @property
    def default_duration(self) -> int:
        return self.durations[-1]

    @property
    def default_aspect_ratio(self) -> str:
        return next(iter(self.aspect_ratios))


LANDSCAPE_PORTRAIT = {"16:9": "16:9", "9:16": "9:16"}
RUNWAY_RATIOS = {"16:9": "1280:720", "9:16": "720:1280"}


def _veo(model_id: str, ar: str, en: str, durations: tuple[int, ...] = (8,)) -> VideoModel:
    return VideoModel(
        model_id, "google", model_id, ar, en, durations, LANDSCAPE_PORTRAIT, "720p",
        text_to_video=True, image_to_video=True, first_poll_s=10, max_poll_s=20, ceiling_s=15 * 60,
    )  # fmt: skip


VIDEO_MODELS: dict[str, VideoModel] = {
    model.id: model
    for model in (
        _veo("veo-3.0-fast-generate-001", "Veo 3 Fast", "Veo 3 Fast"),
        _veo("veo-3.0-generate-001", "Veo 3", "Veo 3"),
        _veo("veo-3.1-fast-generate-preview", "Veo 3.1 Fast (معاينة)", "Veo 3.1 Fast (preview)", (4, 6, 8)),
        _veo("veo-3.1-generate-preview", "Veo 3.1 (معاينة)", "Veo 3.1 (preview)", (4, 6, 8)),
        VideoModel(
            "runway/veo3.1_fast", "runway", "veo3.1_fast", "Runway · Veo 3.1 Fast", "Runway · Veo 3.1 Fast",
            (4, 6, 8), RUNWAY_RATIOS, "720p", text_to_video=True, image_to_video=True,
            first_poll_s=5, max_poll_s=15, ceiling_s=15 * 60,
        ),
        VideoModel(
            "runway/gen4_turbo", "runway", "gen4_turbo",
            "Runway Gen-4 Turbo (من صورة)", "Runway Gen-4 Turbo (from an image)",
            (5, 10), RUNWAY_RATIOS, "720p", text_to_video=False, image_to_video=True,
            first_poll_s=5, max_poll_s=15, ceiling_s=10 * 60,
        ),
        VideoModel(
            "bytedance/seedance-1-lite", "replicate", "bytedance/seedance-1-lite",
            "Seedance 1 Lite", "Seedance 1 Lite",
            (5, 10), {"16:9": "16:9", "9:16": "9:16", "1:1": "1:1"}, "720p",
            text_to_video=True, image_to_video=True, first_poll_s=5, max_poll_s=30, ceiling_s=15 * 60,
        ),
    )
}  # fmt: skip


def video_provider_enabled(provider: VideoProvider, settings: Settings) -> bool:
    enabled: bool = getattr(settings, f"{provider}_enabled")
    return enabled


def resolve_video_model(model_id: str, settings: Settings) -> VideoModel:
    model = VIDEO_MODELS.get(model_id.strip())
    if model is None or not video_provider_enabled(model.provider, settings):
        raise ModelUnavailable(model_id)
    return model


def available_video_models(settings: Settings) -> list[VideoModel]:
    return [m for m in VIDEO_MODELS.values() if video_provider_enabled(m.provider, settings)]
