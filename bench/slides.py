"""Slide-deck render: a 12-slide Arabic deck (every layout, Arabic-Indic numbering) rendered in
this process, warm (fonts, shaping caches), as in a documents worker; model time excluded.
Prints p50/p95 of the PPTX (python-pptx, fit check included), of the PDF twin (WeasyPrint,
fonts embedded) and of the thumbnails (pdfium), the same deck with a picture on each image +
text slide (cut to its panel: included), and the process's peak memory.

    python -m bench slides        # 10 warm renders each (PULSE_BENCH_SLIDES_RUNS=30 for more)"""

from __future__ import annotations

import io
import os
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw

from core.slides.layouts import IMAGE_PANEL
from core.slides.model import Layout
from core.slides.pdf import render_pdf, thumbnails
from core.slides.pictures import fit_to_panel
from core.slides.pptx import render_pptx
from core.slides.samples import arabic_deck


def timed(work: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, result


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"{name:<11} p50 {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ordered)})"


def picture() -> bytes:
    """A 1024 × 1536 PNG like an image model's (gpt-image-1's portrait size)."""
    image = Image.new("RGB", (1024, 1536), (40, 120, 180))
    draw = ImageDraw.Draw(image)
    for i in range(0, 1536, 48):
        draw.ellipse((i % 700, i, i % 700 + 300, i + 300), fill=(i % 255, 160, 90))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def main() -> int:
    runs = int(os.environ.get("PULSE_BENCH_SLIDES_RUNS", "10"))
    deck = arabic_deck(12)
    started = time.perf_counter()
    first_pdf = render_pdf(deck)
    render_pptx(deck)
    print(f"first (cold) PPTX + PDF: {(time.perf_counter() - started) * 1000:.0f} ms")
    pptx_ms, pptx = timed(lambda: render_pptx(deck), runs)
    pdf_ms, pdf = timed(lambda: render_pdf(deck), runs)
    png_ms, pngs = timed(lambda: thumbnails(first_pdf), runs)
    print(summary("pptx", pptx_ms))
    print(summary("pdf twin", pdf_ms))
    print(summary("thumbnails", png_ms))
    print(f"sizes: pptx {len(pptx) // 1024} KiB, pdf {len(pdf) // 1024} KiB, {len(pngs)} thumbnails")
    source = picture()
    slots = [i for i, s in enumerate(deck.slides) if s.layout is Layout.image_text]

    def with_pictures() -> tuple[bytes, bytes]:
        cut = {i: fit_to_panel(source, IMAGE_PANEL[2], IMAGE_PANEL[3]) for i in slots}
        return render_pptx(deck, cut), render_pdf(deck, cut)

    both_ms, (pptx, pdf) = timed(with_pictures, runs)
    print(summary(f"+{len(slots)} pics", both_ms) + "   (cut + PPTX + PDF twin)")
    print(f"sizes with pictures: pptx {len(pptx) // 1024} KiB, pdf {len(pdf) // 1024} KiB")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")
    return 0
