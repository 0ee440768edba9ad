"""CV render: a 2-page Arabic CV (ATS template, A4) rendered to PDF again and again in this
process (fonts and stylesheets warm, as in a worker), then the text self-check and thumbnail.
Prints p50/p95 of render (HTML → PDF bytes), of the self-check (pdftotext + compare) and the
process's peak memory, with the render's CPU time beside its wall time (the CPU figure holds on
a loaded box) and the same for a tagged PDF/UA-1 render. Target: render p50 ≤ 150 ms on the
2-core dev box.

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
    renders, cpu, tagged, tagged_cpu, checks = [], [], [], [], []
    for _ in range(runs):  # plain and PDF/UA renders interleaved: the same load for both
        rendered = timed(renders, cpu, render_pdf, cv, options)
        timed(tagged, tagged_cpu, render_pdf, cv, tagged_options)
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
    print(f"check   p50={statistics.median(checks) * ms:.0f} ms p95={pct(checks, 0.95) * ms:.0f} ms")
    print(f"thumbnail {thumb * ms:.0f} ms; peak RSS {peak_mib:.0f} MiB")
    return 0 if rendered.pages == 2 else 1
