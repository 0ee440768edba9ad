"""The CV page in Chromium at 390 px, in Arabic (RTL): the guided steps build a CV with two roles
and two schools (entries added, reordered and removed), a photo uploaded and scanned, "Draft with
AI" bullets accepted and a second suggestion turned down, sections reordered and one hidden; the
page-1 preview appears and the PDF downloads and reads back (pdftotext, pypdf: the photo is
embedded) in the chosen order; an older version is restored; the CV is duplicated as English.
Screenshots in var/screenshots/."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect
from pypdf import PdfReader

from core.cv.textcheck import extract_text
from tests.storage.helpers import png_bytes
from tests.web.conftest import SignInTab, check_page

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clamd")]
LONG = 90_000


def entries(tab: Page, section: str) -> Locator:
    return tab.locator(f'.cv-list[data-section="{section}"] fieldset.cv-entry')


async def settled(tab: Page, target: Locator) -> None:
    """Wait for ``target`` or the page's error line; a shown error fails with its text."""
    error = tab.locator("#cv-error:not([hidden])")
    await expect(target.or_(error).first).to_be_visible(timeout=LONG)
    assert not await error.is_visible(), await error.text_content()


async def add_entry(tab: Page, section: str, heading: str, **fields: str) -> None:
    await tab.get_by_role("button", name=f"أضف: {heading}").click()
    entry = entries(tab, section).last
    for label, value in fields.items():
        await entry.get_by_label(label, exact=True).fill(value)


async def next_step(tab: Page) -> None:
    await tab.get_by_role("button", name="التالي").click()


async def fill_details(tab: Page, photo: Path) -> None:
    await tab.get_by_label("الاسم الكامل").fill("ليلى أحمد الخطيب")
    await tab.get_by_label("المسمى الوظيفي").fill("مهندسة برمجيات")
    await tab.get_by_label("البريد الإلكتروني").fill("layla@example.com")
    await tab.get_by_label("الهاتف").fill("+962 7 9123 4567")
    await tab.get_by_label("المدينة").fill("عمّان")
    await tab.locator("#cv-photo").set_input_files(str(photo))
    await expect(tab.locator("#cv-photo-status")).to_have_text("الصورة جاهزة.", timeout=LONG)
    await expect(tab.locator("#cv-photo-preview")).to_be_visible()


async def fill_experience(tab: Page) -> None:
    work = "الخبرة العملية"
    await add_entry(tab, "work", work, المنصب="مهندسة برمجيات", الشركة="Zain Jordan", من="2016-09")
    await entries(tab, "work").last.get_by_label("إلى (فارغ: حتى الآن)").fill("2020-12")
    await add_entry(tab, "work", work, المنصب="مهندسة برمجيات أولى", الشركة="Acme Corp", من="2021-01")
    # the newest role first: move the second entry up
    await tab.get_by_role("button", name="إلى الأعلى · الخبرة العملية · البند 2").click()
    await expect(entries(tab, "work").first.get_by_label("الشركة")).to_have_value("Acme Corp")
    await tab.get_by_role("button", name="اكتبها بالذكاء الاصطناعي · الخبرة العملية · البند 1").click()
    await settled(tab, tab.locator("#cv-suggestion"))
    await check_page(tab, "cv-experience", "ar")
    await tab.get_by_role("button", name="استخدم هذه").click()
    await expect(entries(tab, "work").first.get_by_label("الإنجازات (واحد في كل سطر)")).not_to_have_value("")
    # a suggestion turned down changes nothing
    await tab.get_by_role("button", name="اكتبها بالذكاء الاصطناعي · الخبرة العملية · البند 2").click()
    await settled(tab, tab.locator("#cv-suggestion"))
    await tab.get_by_role("button", name="أبقِ ما كتبت").click()
    await expect(tab.locator("#cv-suggestion")).to_have_count(0)
    await expect(entries(tab, "work").last.get_by_label("الإنجازات (واحد في كل سطر)")).to_have_value("")
    await add_entry(tab, "projects", "المشاريع", الاسم="مشروع مؤقت")
    await tab.get_by_role("button", name="إزالة · المشاريع · البند 1").click()
    await expect(entries(tab, "projects")).to_have_count(0)


async def fill_education_and_skills(tab: Page) -> None:
    for school, degree in (("الجامعة الأردنية", "بكالوريوس"), ("جامعة اليرموك", "ماجستير")):
        fields = {"المؤسسة التعليمية": school, "الدرجة العلمية": degree}
        await add_entry(tab, "education", "التعليم", **fields)
    await next_step(tab)
    await add_entry(tab, "skills", "المهارات", المهارة="Python")
    level = entries(tab, "skills").last.get_by_label("المستوى")
    await level.select_option("4")
    # the menu names each level as the PDF prints it after the skill ("Python · متقدم")
    await expect(level.locator("option:checked")).to_have_text("4 · متقدم")
    await add_entry(tab, "languages", "اللغات", اللغة="الإنجليزية")
    await entries(tab, "languages").last.get_by_label("الإتقان").select_option("C1")
    await next_step(tab)


async def arrange_sections(tab: Page) -> None:
    await tab.get_by_label("التصميم").select_option("photo")
    # one label per field: the step's legend is "القالب والأقسام", the select is "التصميم"
    step = tab.locator('fieldset[data-step="4"]')
    assert await step.get_by_text("القالب", exact=True).count() == 0
    await tab.get_by_label("أظهر في ملف PDF · اللغات").uncheck()
    for _ in range(2):  # education: third → first
        await tab.get_by_role("button", name="إلى الأعلى · التعليم").click()
    await expect(tab.locator(".cv-section-row").first).to_have_attribute("data-section", "education")
    await check_page(tab, "cv-sections", "ar")


async def download_pdf(tab: Page) -> bytes:
    await tab.get_by_role("button", name="احفظ وأنشئ ملف PDF").click()
    await settled(tab, tab.locator("#cv-preview"))
    await expect(tab.locator("#cv-status")).to_have_text("ملف PDF جاهز.")
    await expect(tab.locator("#cv-thumb")).to_be_visible()
    await check_page(tab, "cv-preview", "ar")
    async with tab.expect_download() as info:
        await tab.get_by_test_id("cv-download").click()
    path = await (await info.value).path()
    return await asyncio.to_thread(Path(path).read_bytes)


def check_pdf(pdf: bytes) -> None:
    text = extract_text(pdf)
    typed = ("ليلى أحمد الخطيب", "مهندسة برمجيات", "+962 7 9123 4567", "layla@example.com")
    for value in (*typed, "Acme Corp", "Zain Jordan", "الجامعة الأردنية", "جامعة اليرموك"):
        assert value in text, value
    assert text.index("التعليم") < text.index("الخبرة العملية") < text.index("المهارات")
    assert text.index("Acme Corp") < text.index("Zain Jordan")
    assert "Python · متقدم" in text  # the level chosen in the editor, as a word
    assert "اللغات" not in text and "الإنجليزية" not in text  # the hidden section
    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert [image.image.size for image in images] == [(120, 90)]


async def restore_first_version(tab: Page) -> None:
    await tab.locator("#cv-history summary").click()
    versions = tab.locator("#cv-versions li")
    count = await versions.count()
    assert count >= 2
    await tab.get_by_role("button", name="استرجع · النسخة 1").click()
    await expect(tab.locator("#cv-status")).to_have_text("استُرجعت النسخة 1 وحُفظت نسخةً جديدة.")
    await expect(versions).to_have_count(count + 1)
    await expect(versions.first).to_contain_text("(الحالية)")
    await check_page(tab, "cv-history", "ar")
    # version 1 was saved before the schools were added (by "Draft with AI")
    await expect(entries(tab, "education")).to_have_count(0)
    await expect(entries(tab, "work")).to_have_count(2)


async def duplicate_as_english(tab: Page) -> None:
    await tab.get_by_role("button", name="أنشئ نسخة إنجليزية").click()
    await settled(tab, tab.get_by_text("نسختك الإنجليزية مفتوحة الآن"))
    await expect(tab.get_by_role("button", name="أنشئ نسخة عربية")).to_be_visible()
    options = tab.locator("#cv-picker option")
    await expect(options).to_have_count(3)  # two CVs and "new"
    await expect(options.first).not_to_contain_text("بلا عنوان")
    await expect(tab.get_by_label("البريد الإلكتروني")).to_have_value("layla@example.com")
    await check_page(tab, "cv-duplicate", "ar")


async def test_build_a_cv_through_the_steps_and_download_the_pdf(
    tab: Page, web_url: str, sign_in_tab: SignInTab, tmp_path: Path
) -> None:
    photo = tmp_path / "layla.png"
    photo.write_bytes(png_bytes(120, 90, (10, 120, 200)))
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/cv")
    await fill_details(tab, photo)
    await check_page(tab, "cv-details", "ar")
    await next_step(tab)
    await fill_experience(tab)
    await next_step(tab)
    await fill_education_and_skills(tab)
    await arrange_sections(tab)
    check_pdf(await download_pdf(tab))
    await restore_first_version(tab)
    await duplicate_as_english(tab)
