"""Slide-deck render: a 12-slide Arabic deck (every layout, Arabic-Indic numbering) rendered in
this process, warm (fonts, shaping caches), as in a documents worker; model time excluded.
Prints p50/p95 of the PPTX (python-pptx, fit check included), of the PDF twin (WeasyPrint,
fonts embedded) and of the thumbnails (pdfium), and the process's peak memory.

    python -m bench slides        # 10 warm renders each (PULSE_BENCH_SLIDES_RUNS=30 for more)"""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

from core.slides.pdf import render_pdf, thumbnails
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
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")
    return 0
