"""CV render: a 2-page Arabic CV (ATS template, A4) rendered to PDF again and again in this
process (fonts and stylesheets warm, as in a worker), then the text self-check and thumbnail.
Prints p50/p95 of render (HTML → PDF bytes), of the self-check (pdftotext + compare) and the
process's peak memory, with the render's CPU time beside its wall time (the CPU figure holds on
a loaded box) and the same for a tagged PDF/UA-1 render, beside the lean anchor (the reference
template of ``reference/bench-docs/cv_bench.py``: two Arabic pages, one CSS rule set, no
self-check) rendered interleaved in the same process, and the CPU ratio ours/anchor (figures are
only comparable within one run). Target: render p50 ≤ 150 ms on the 2-core dev box.

    python -m bench cv            # 30 warm renders (PULSE_BENCH_CV_RUNS=100 for more)"""

from __future__ import annotations

import os
import resource
import statistics
import time
from typing import Any

from core.cv.render import RenderOptions, render_pdf
from core.cv.schema import CvContent
from core.cv.text import Words
from core.cv.textcheck import check_text, thumbnail_png


def two_page_arabic_cv() -> CvContent:
    job = {
        "position": "مهندسة برمجيات أولى",
        "location": "عمّان",
        "highlights": [
            "قادت فريقاً من خمسة مهندسين لبناء منصة دفع تعالج 2.5 مليون معاملة شهرياً "
            "باستخدام Python و FastAPI.",
            "خفّضت زمن الاستجابة بنسبة 40% عبر التخزين المؤقت في Redis وإعادة تصميم الاستعلامات.",
            "صمّمت خط نشر مستمر على AWS يقلل وقت الإصدار من يومين إلى ساعة واحدة.",
        ],
    }
    work = [
        job
        | {
            "name": f"شركة رقم {i} للتقنية",
            "startDate": f"{2010 + i}-0{1 + i % 9}",
            "endDate": f"{2011 + i}-0{1 + i % 9}",
        }
        for i in range(8)
    ]
    return CvContent.model_validate(
        {
            "locale": "ar",
            "basics": {
                "name": "ليلى أحمد الخطيب",
                "label": "مهندسة برمجيات",
                "email": "layla@example.com",
                "phone": "+962 7 9123 4567",
                "location": {"city": "عمّان"},
                "summary": "مهندسة برمجيات بخبرة ثماني سنوات في بناء أنظمة موزعة عالية التوفر "
                "على Kubernetes.",
            },
            "work": work,
            "education": [
                {
                    "institution": "الجامعة الأردنية",
                    "area": "علم الحاسوب",
                    "studyType": "بكالوريوس",
                    "startDate": "2006-09",
                    "endDate": "2010-06",
                }
            ],
            "skills": [{"name": "Python", "keywords": ["FastAPI", "asyncio"]}, {"name": "PostgreSQL"}],
            "languages": [
                {"language": "العربية", "fluency": "native"},
                {"language": "الإنجليزية", "fluency": "C1"},
            ],
        }
    )


ANCHOR_ENTRY = """<section class="entry"><h3>مهندس برمجيات أول — شركة أمنية للاتصالات، عمّان</h3>
<p class="meta">كانون الثاني 2021 – الآن</p><ul>
<li>قاد فريقاً من ٥ مهندسين لبناء منصة دفع تعالج 2.5 مليون معاملة شهرياً باستخدام <bdi>Python</bdi>
و<bdi>FastAPI</bdi>.</li><li>خفّض زمن الاستجابة بنسبة 40٪ عبر التخزين المؤقت في <bdi>Redis</bdi>
وإعادة تصميم الاستعلامات.</li><li>صمّم خط نشر مستمر على <bdi>AWS</bdi> يقلل وقت الإصدار من يومين إلى
ساعة واحدة.</li></ul></section>"""
ANCHOR_HTML = f"""<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"></head><body>
<header><h1>ليلى أحمد الخطيب</h1><p>مهندسة برمجيات · عمّان، الأردن · <bdi>layla@example.com</bdi> ·
<bdi>+962 7 9123 4567</bdi></p></header><h2>الملخص</h2><p>مهندسة برمجيات بخبرة ثماني سنوات في بناء
أنظمة موزعة عالية التوفر، مع تركيز على المدفوعات والأمن.</p><h2>الخبرة العملية</h2>{ANCHOR_ENTRY * 6}
<h2>التعليم</h2><section class="entry"><h3>بكالوريوس علم الحاسوب — الجامعة الأردنية</h3>
<p class="meta">2012 – 2016</p></section><h2>المهارات</h2><p><bdi>Python, Go, PostgreSQL, Kubernetes,
Temporal</bdi></p></body></html>"""
ANCHOR_CSS = """@page { size: A4; margin: 16mm 14mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; line-height: 1.5; }
h1 { font-size: 20pt; margin: 0; } h2 { font-size: 12pt; border-bottom: 1px solid #999; break-after: avoid; }
.entry { break-inside: avoid; } .meta { color: #555; margin: 0; }
ul { margin: 0; padding-inline-start: 1.2em; }"""


def lean_anchor() -> Any:
    """The reference lean template as a render function (HTML and CSS parsed as in its script)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    css = CSS(string=ANCHOR_CSS, font_config=fonts)
    return lambda: HTML(string=ANCHOR_HTML).render(stylesheets=[css], font_config=fonts).write_pdf()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(wall: list[float], cpu: list[float], work: Any, *args: Any) -> Any:
    """Run ``work``; wall time and this process's CPU time (the CPU figure holds under load)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result = work(*args)
    wall.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
    return result


def main() -> int:
    runs = int(os.environ.get("PULSE_BENCH_CV_RUNS", "30"))
    cv = two_page_arabic_cv()
    options = RenderOptions.of(cv)
    first = time.perf_counter()
    rendered = render_pdf(cv, options)  # cold: fonts and stylesheets parsed once
    cold = time.perf_counter() - first
    tagged_options = RenderOptions.of(cv, tagged=True)
    render_pdf(cv, tagged_options)
    anchor = lean_anchor()
    anchor()
    renders, cpu, tagged, tagged_cpu, checks, lean, lean_cpu = [], [], [], [], [], [], []
    for _ in range(runs):  # plain, PDF/UA and anchor renders interleaved: the same load for all
        rendered = timed(renders, cpu, render_pdf, cv, options)
        timed(tagged, tagged_cpu, render_pdf, cv, tagged_options)
        timed(lean, lean_cpu, anchor)
        start = time.perf_counter()
        assert check_text(rendered.pdf, cv, Words("ar", "latin")).ok
        checks.append(time.perf_counter() - start)
    start = time.perf_counter()
    thumbnail_png(rendered.pdf)
    thumb = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ms = 1000
    print(
        f"pages={rendered.pages} pdf={len(rendered.pdf) / 1024:.0f} KiB runs={runs} cold={cold * ms:.0f} ms"
    )
    print(
        f"render  p50={statistics.median(renders) * ms:.0f} ms p95={pct(renders, 0.95) * ms:.0f} ms"
        f" (CPU p50={statistics.median(cpu) * ms:.0f} ms)"
    )
    print(
        f"tagged  p50={statistics.median(tagged) * ms:.0f} ms p95={pct(tagged, 0.95) * ms:.0f} ms"
        f" (CPU p50={statistics.median(tagged_cpu) * ms:.0f} ms; PDF/UA-1, on request)"
    )
    print(
        f"anchor  p50={statistics.median(lean) * ms:.0f} ms p95={pct(lean, 0.95) * ms:.0f} ms"
        f" (CPU p50={statistics.median(lean_cpu) * ms:.0f} ms); ours/anchor CPU"
        f" {statistics.median(cpu) / statistics.median(lean_cpu):.2f}"
    )
    print(f"check   p50={statistics.median(checks) * ms:.0f} ms p95={pct(checks, 0.95) * ms:.0f} ms")
    print(f"thumbnail {thumb * ms:.0f} ms; peak RSS {peak_mib:.0f} MiB")
    return 0 if rendered.pages == 2 else 1
