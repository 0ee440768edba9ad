"""Small real MP4 files (H.264 in an MP4 container, PyAV's bundled FFmpeg): playable, with the
requested duration and aspect ratio, a moving bar so every frame differs."""

from __future__ import annotations

import io
from functools import lru_cache

import av
from PIL import Image, ImageDraw

FPS = 8
SHORT_SIDE = 144
RATIOS = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:3": (4, 3),
    "3:4": (3, 4),
    "21:9": (21, 9),
    "1280:720": (16, 9),
    "720:1280": (9, 16),
    "1920:1080": (16, 9),
    "1080:1920": (9, 16),
    "960:960": (1, 1),
}


def frame_size(aspect_ratio: str) -> tuple[int, int]:
    """Even width and height with the ratio's shape, short side ``SHORT_SIDE``."""
    wide, high = RATIOS.get(aspect_ratio, (16, 9))
    if wide >= high:
        return (round(SHORT_SIDE * wide / high) // 2 * 2, SHORT_SIDE)
    return (SHORT_SIDE, round(SHORT_SIDE * high / wide) // 2 * 2)


@lru_cache(maxsize=32)
def make_mp4(duration_s: int, aspect_ratio: str, seed: int = 0) -> bytes:
    width, height = frame_size(aspect_ratio)
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "35"}
        total = max(1, duration_s * FPS)
        for index in range(total):
            image = Image.new("RGB", (width, height), ((40 + seed * 37) % 256, 60, 110))
            x = int(width * index / total)
            ImageDraw.Draw(image).rectangle((x, 0, x + width // 10, height), fill=(240, 200, 60))
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
