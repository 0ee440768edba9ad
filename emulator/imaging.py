"""Real image bytes for the emulator: the requested size, a colour from the prompt, the prompt
written on it (a visible mark), in PNG, WebP or JPEG.

Edits paint the mask's transparent area with a second colour, so a test can see that the mask
was applied; the input image shows through elsewhere.
"""

from __future__ import annotations

import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

FORMATS = {"png": "PNG", "webp": "WEBP", "jpeg": "JPEG", "jpg": "JPEG"}
MIME = {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg", "jpg": "image/jpeg"}


def colour(seed: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(seed.encode()).digest()
    return (64 + digest[0] % 160, 64 + digest[1] % 160, 64 + digest[2] % 160)


def mark(prompt: str) -> str:
    """The text drawn on the image: the prompt's printable ASCII, then a short digest."""
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:8]
    ascii_text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in prompt).strip()
    return f"{ascii_text[:120]} #{digest}"


def _draw_mark(image: Image.Image, prompt: str, index: int) -> None:
    width, height = image.size
    draw = ImageDraw.Draw(image)
    size = max(10, min(width, height) // 16)
    font = ImageFont.load_default(size=size)
    lines = textwrap.wrap(mark(prompt), width=max(8, width // (size // 2 + 1)))[:6] + [f"[{index}]"]
    y = height // 8
    for line in lines:
        draw.text((width // 16, y), line, fill=(255, 255, 255), font=font)
        y += int(size * 1.3)
    draw.rectangle((0, height - height // 12, width, height), fill=colour(prompt + "band"))


def encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    kind = FORMATS.get(fmt, "PNG")
    if kind == "JPEG" and image.mode != "RGB":
        image = image.convert("RGB")
    image.save(out, format=kind, **({"compress_level": 1} if kind == "PNG" else {}))
    return out.getvalue()


def generate(prompt: str, width: int, height: int, fmt: str = "png", index: int = 0) -> bytes:
    image = Image.new("RGBA", (width, height), (*colour(f"{prompt}|{index}"), 255))
    _draw_mark(image, prompt, index)
    return encode(image, fmt)


def edit(
    prompt: str,
    source: bytes,
    mask: bytes | None,
    size: tuple[int, int] | None = None,
    fmt: str = "png",
    index: int = 0,
) -> bytes:
    """The source image (resized to ``size`` if given) with the masked area repainted."""
    base = Image.open(io.BytesIO(source)).convert("RGBA")
    if size is not None and base.size != size:
        base = base.resize(size)
    paint = Image.new("RGBA", base.size, (*colour(f"edit|{prompt}|{index}"), 255))
    if mask is not None:
        alpha = Image.open(io.BytesIO(mask)).convert("RGBA").resize(base.size).getchannel("A")
        holes = alpha.point(lambda value: 255 if value < 128 else 0)  # transparent = edit here
        base.paste(paint, (0, 0), holes)
    else:
        base = Image.blend(base, paint, 0.5)
    _draw_mark(base, prompt, index)
    return encode(base, fmt)


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size
