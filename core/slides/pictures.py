"""Images on image + text slides: what the image studio is asked for (the slide's text-free
prompt, with the rule repeated — Arabic is always typeset by us, never drawn by an image model),
which of the model's sizes suits the panel, and the picture cut to the panel (cover, centred) at
twice its size, so the PPTX and the PDF twin embed the same pixels."""

from __future__ import annotations

import io

from PIL import Image

TEXT_FREE = " No text, letters, digits, captions, signs or logos anywhere in the image."
DPI_SCALE = 2  # pixels per point of the panel
MAX_PROMPT = 900


def image_prompt(prompt: str) -> str:
    return f"{' '.join(prompt.split())[:MAX_PROMPT].rstrip('. ')}.{TEXT_FREE}"


def size_for(sizes: list[str], width: float, height: float) -> str:
    """The model's size (``WxH``) whose aspect is nearest the panel's."""

    def distance(size: str) -> float:
        w, h = (int(v) for v in size.split("x"))
        return abs(w / h - width / height)

    return min(sizes, key=distance)


def fit_to_panel(data: bytes, width: float, height: float) -> bytes:
    """A JPEG of the picture cropped to the panel's aspect (centred) and scaled to it."""
    with Image.open(io.BytesIO(data)) as source:
        picture = source.convert("RGB")
    target = width / height
    w, h = picture.size
    if w / h > target:  # too wide: cut the sides
        cut = round(h * target)
        box = ((w - cut) // 2, 0, (w - cut) // 2 + cut, h)
    else:  # too tall: cut top and bottom
        cut = round(w / target)
        box = (0, (h - cut) // 2, w, (h - cut) // 2 + cut)
    size = (round(width * DPI_SCALE), round(height * DPI_SCALE))
    out = io.BytesIO()
    picture.crop(box).resize(size, Image.Resampling.LANCZOS).save(out, format="JPEG", quality=85)
    return out.getvalue()
