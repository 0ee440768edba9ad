"""A sample deck in every layout (Arabic), shared by the render tests and the benchmark."""

from __future__ import annotations

from core.slides.model import Deck, Figure, Layout, SlideContent


def arabic_deck(slides: int = 10, digits: str = "arabic") -> Deck:
    base = [
        SlideContent(
            layout=Layout.title,
            heading="خطة الربع الثالث 2026",
            subtitle="فريق المبيعات — عمّان",
            notes="ابدأ بالترحيب وعرّف بالفريق.",
        ),
        SlideContent(
            layout=Layout.bullets,
            heading="الأهداف",
            bullets=[
                "زيادة الإيرادات بنسبة 20٪ عبر قناة WhatsApp",
                "توسيع الفريق إلى 12 شخصاً",
                "إطلاق المتجر الإلكتروني",
            ],
            notes="ركّز على الهدف الأول.",
        ),
        SlideContent(
            layout=Layout.comparison,
            heading="قبل وبعد",
            left_title="قبل",
            left=["يدوي", "بطيء"],
            right_title="بعد",
            right=["آلي", "سريع"],
        ),
        SlideContent(
            layout=Layout.numbers,
            heading="بالأرقام",
            figures=[
                Figure(value="20٪", label="نمو الإيرادات"),
                Figure(value="12", label="موظفاً"),
                Figure(value="3", label="أسواق"),
            ],
        ),
        SlideContent(layout=Layout.timeline, heading="المراحل", bullets=["التخطيط", "التنفيذ", "المراجعة"]),
        SlideContent(
            layout=Layout.quote, heading="اقتباس", quote="الجودة ليست فعلاً بل عادة", attribution="أرسطو"
        ),
        SlideContent(
            layout=Layout.table,
            heading="المقارنة",
            table=[
                ["البند", "الربع الثاني", "الربع الثالث"],
                ["الإيرادات", "100", "120"],
                ["العملاء", "40", "55"],
            ],
        ),
        SlideContent(layout=Layout.image_text, heading="منتجنا", bullets=["سهل الاستخدام", "آمن"]),
        SlideContent(layout=Layout.section, heading="الخطوات التالية", subtitle="ما نحتاجه منكم"),
        SlideContent(layout=Layout.closing, heading="شكراً", subtitle="أسئلة؟", notes="اشكر الحضور."),
    ]
    middle = base[1:-1]
    chosen = [base[0]] + [middle[i % len(middle)] for i in range(slides - 2)] + [base[-1]]
    return Deck(title="خطة الربع الثالث", language="ar", digits=digits, slides=chosen)
