"""The CV page in Chromium at 390 px, in Arabic: the guided steps build a CV, "Draft with AI"
suggests bullets that are accepted, the render's page-1 preview appears and the PDF downloads
and reads back (pdftotext) with the typed phone and email."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from core.cv.textcheck import extract_text
from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser


async def test_build_a_cv_through_the_steps_and_download_the_pdf(
    tab: Page, web_url: str, sign_in_tab: SignInTab
) -> None:
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/cv")
    await tab.get_by_label("الاسم الكامل").fill("ليلى أحمد الخطيب")
    await tab.get_by_label("المسمى الوظيفي").fill("مهندسة برمجيات")
    await tab.get_by_label("البريد الإلكتروني").fill("layla@example.com")
    await tab.get_by_label("الهاتف").fill("+962 7 9123 4567")
    await tab.get_by_label("المدينة").fill("عمّان")
    await check_page(tab, "cv-details", "ar")
    await tab.get_by_role("button", name="التالي").click()
    await tab.get_by_label("المنصب").fill("مهندسة برمجيات أولى")
    await tab.get_by_label("الشركة").fill("Acme Corp")
    await tab.get_by_label("من", exact=True).first.fill("2021-01")
    await tab.get_by_role("button", name="اكتبها بالذكاء الاصطناعي").click()
    suggestion = tab.locator("#cv-suggestion")
    await expect(suggestion).to_be_visible(timeout=60_000)
    await tab.get_by_role("button", name="استخدم هذه").click()
    await expect(tab.get_by_label("الإنجازات (واحد في كل سطر)")).not_to_have_value("")
    await tab.get_by_role("button", name="التالي").click()
    await tab.get_by_label("المؤسسة التعليمية").fill("الجامعة الأردنية")
    await tab.get_by_role("button", name="التالي").click()
    await tab.get_by_label("المهارات (مفصولة بفواصل)").fill("Python، PostgreSQL")
    await tab.get_by_role("button", name="التالي").click()
    await tab.get_by_role("button", name="احفظ وأنشئ ملف PDF").click()
    await expect(tab.locator("#cv-thumb")).to_be_visible(timeout=90_000)
    await expect(tab.locator("#cv-status")).to_have_text("ملف PDF جاهز.")
    await check_page(tab, "cv-preview", "ar")
    async with tab.expect_download() as info:
        await tab.get_by_test_id("cv-download").click()
    path = await (await info.value).path()
    pdf = await asyncio.to_thread(Path(path).read_bytes)
    assert pdf.startswith(b"%PDF")
    text = extract_text(pdf)
    assert "+962 7 9123 4567" in text and "layla@example.com" in text and "Acme Corp" in text
