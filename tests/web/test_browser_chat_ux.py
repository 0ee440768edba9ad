"""Issue 24 in Chromium, Arabic and English, at 390 px and 1280 px: the conversation drawer on
phones and the sidebar with an actions menu on desktop, search, the model selector with ×N
weights that fits, our own validation message, copy a code block (left-to-right inside Arabic),
edit a sent question (the conversation continues from it), Esc, export as Markdown and PDF,
and a message too long for the balance."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select, update

from core.db import Database
from core.models import User
from core.models.base import new_id, utcnow
from core.models.chat import ChatMessage, Conversation
from tests.chat.test_turns import leave_only
from tests.conftest import EmulatorControl
from tests.web.conftest import SCREENSHOTS, SignInTab, check_page

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
QUESTION = "ما عاصمة الأردن اليوم؟"  # the first question, edited
CODE_REPLY = "جرّب هذا:\n\n```python\nprint('مرحبا')\n```\n\nThat is all."
TEXT = {
    "ar": {
        "message": "الرسالة",
        "send": "إرسال",
        "toggle": re.compile(r"^المحادثات \(\d+\)$"),
        "empty": "اكتب رسالة أولًا.",
        "copy_code": "نسخ الشيفرة",
        "edit": "تعديل",
        "continues": "تُستأنف المحادثة من السؤال المعدّل",
        "search": "ابحث في المحادثات",
        "available": "الرموز المتاحة: ",
        "needs": re.compile(r"تحتاج هذه الرسالة إلى نحو \d+ رمز والمتبقي 20 فقط"),
        "rename": "إعادة التسمية",
    },
    "en": {
        "message": "Message",
        "send": "Send",
        "toggle": re.compile(r"^Conversations \(\d+\)$"),
        "empty": "Write a message first.",
        "copy_code": "Copy code",
        "edit": "Edit",
        "continues": "the conversation continues from the edited question",
        "search": "Search conversations",
        "available": "Tokens available: ",
        "needs": re.compile(r"needs about \d+ tokens but 20 are left"),
        "rename": "Rename",
    },
}


async def user_id(db: Database, email: str) -> str:
    async with db.session() as session:
        return str((await session.execute(select(User.id).where(User.email == email))).scalar_one())


async def add_conversations(db: Database, owner: str, count: int) -> None:
    """Older conversations with long titles (the sidebar must stay tidy with many)."""
    now = utcnow()
    async with db.session() as session:
        for index in range(count):
            moment = now - timedelta(hours=index + 1)
            title = f"محادثة رقم {index + 1} عن موضوع طويل جدًا يحتاج إلى سطرين في القائمة"
            session.add(
                Conversation(
                    id=new_id(),
                    user_id=owner,
                    title=title,
                    model="gpt-5-mini",
                    created_at=moment,
                    updated_at=moment,
                )
            )
        await session.commit()


async def give_reply_a_code_block(db: Database, conversation_id: str) -> None:
    async with db.session() as session:
        await session.execute(
            update(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id, ChatMessage.role == "assistant")
            .values(content=CODE_REPLY)
        )
        await session.commit()


def assert_arabic_font_embedded(pdf: bytes, name: str) -> None:
    """pdffonts (poppler) lists the UI font, embedded; page 1 is kept as a PNG to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert any("Plex-Arabic" in line and " yes " in line for line in fonts.splitlines()), fonts
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "70",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(path.with_suffix("")),
        ],
        check=True,
    )


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_chat_on_a_phone_and_a_desktop(
    tab: Page, web_url: str, sign_in_tab: SignInTab, db: Database, emulator: EmulatorControl, locale: str
) -> None:
    text = TEXT[locale]
    email = await sign_in_tab(locale)
    owner = await user_id(db, email)
    await add_conversations(db, owner, 13)
    await tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web_url)
    await tab.goto(f"{web_url}/chat?lang={locale}")

    # phone: the drawer is closed, the composer is on screen, our own message for an empty send
    toggle = tab.get_by_role("button", name=text["toggle"])
    await expect(toggle).to_be_visible()
    await expect(tab.locator("#chat-sidebar")).to_be_hidden()
    await expect(tab.locator("#composer-input")).to_be_in_viewport()
    options = await tab.locator("#chat-model option").all_text_contents()
    assert any(option.startswith("Claude Sonnet 4.6 · ") and "×8" in option for option in options)
    textbox = tab.get_by_role("textbox", name=text["message"])
    await textbox.fill("   ")
    await textbox.press("Enter")
    await expect(tab.locator("#chat-error")).to_have_text(text["empty"])
    assert await textbox.evaluate("el => el.validationMessage") == ""  # no browser bubble
    await check_page(tab, "chat-empty-390", locale)

    await textbox.fill("ما عاصمة الأردن؟")
    await textbox.press("Enter")
    reply = tab.locator(".message-assistant").last
    await expect(reply).to_have_attribute("data-state", "done", timeout=30_000)
    await expect(tab.get_by_test_id("chat-meter")).to_contain_text(text["available"])
    conversation_id = tab.url.rsplit("/", 1)[1]

    # edit the sent question and send it: the conversation continues from the edited question
    await tab.locator(".message-user").last.get_by_role("button", name=text["edit"]).click()
    await expect(tab.locator("#composer-editing")).to_contain_text(text["continues"])
    await textbox.fill(QUESTION)
    await textbox.press("Enter")
    await expect(tab.locator(".message-user .message-body")).to_have_text(QUESTION)  # in place
    await expect(tab.locator(".message-assistant")).to_have_count(1)
    await expect(tab.locator(".message-assistant")).to_have_attribute("data-state", "done", timeout=30_000)
    await expect(tab.locator("#composer-editing")).to_be_hidden()
    assert tab.url.endswith(conversation_id)
    await give_reply_a_code_block(db, conversation_id)
    await tab.reload()
    code = tab.locator(".message-assistant pre").last
    await expect(code).to_be_visible()
    assert await code.evaluate("el => getComputedStyle(el).direction") == "ltr"
    await tab.get_by_role("button", name=text["copy_code"]).click()
    assert await tab.evaluate("navigator.clipboard.readText()") == "print('مرحبا')\n"

    # edit a sent question: back in the composer; Esc leaves editing
    await tab.locator(".message-user").last.get_by_role("button", name=text["edit"]).click()
    await expect(tab.locator(".message-user")).to_have_count(1)  # after a reload too
    await expect(textbox).to_have_value(QUESTION)
    await expect(tab.locator("#composer-editing")).to_be_visible()
    await tab.keyboard.press("Escape")
    await expect(tab.locator("#composer-editing")).to_be_hidden()
    await textbox.fill("")
    await check_page(tab, "chat-code-390", locale)

    # the drawer: 14 conversations, search, an actions menu
    await toggle.click()
    sidebar = tab.locator("#chat-sidebar")
    await expect(sidebar).to_be_visible()
    await expect(sidebar.locator("li")).to_have_count(14)
    await sidebar.get_by_role("searchbox", name=text["search"]).fill("13")
    await expect(sidebar.locator("li")).to_have_count(1)
    await sidebar.locator("li summary").click()
    await expect(sidebar.get_by_role("button", name=text["rename"])).to_be_visible()
    await check_page(tab, "chat-drawer-390", locale)
    await tab.keyboard.press("Escape")  # closes the menu, then the drawer
    await sidebar.get_by_role("searchbox", name=text["search"]).fill("")
    await tab.keyboard.press("Escape")
    await expect(sidebar).to_be_hidden()

    # desktop: the sidebar is a column, each item's actions menu on the title's line
    await tab.set_viewport_size(DESKTOP)
    await expect(toggle).to_be_hidden()
    await expect(sidebar).to_be_visible()
    for item in (await sidebar.locator("li").all())[:3]:
        link, menu = await item.locator("a").bounding_box(), await item.locator("summary").bounding_box()
        assert (
            link
            and menu
            and menu["y"] < link["y"] + link["height"]
            and link["y"] < menu["y"] + menu["height"]
        )
    await check_page(tab, "chat-1280", locale)

    # export: Markdown with the code block, a PDF that embeds the Arabic font
    markdown = await tab.request.get(f"{web_url}/chat/{conversation_id}/export.md")
    assert (
        markdown.ok
        and QUESTION in await markdown.text()
        and (await markdown.text()).count("ما عاصمة الأردن؟") == 1  # the title only: the question was edited
        and "```python" in await markdown.text()
    )
    assert "attachment" in markdown.headers["content-disposition"]
    pdf = await tab.request.get(f"{web_url}/chat/{conversation_id}/export.pdf")
    assert pdf.ok and (await pdf.body()).startswith(b"%PDF")
    assert_arabic_font_embedded(await pdf.body(), f"chat-export-{locale}")

    # a message longer than the balance: needs vs left, and the text stays in the composer
    await leave_only(db, owner, tokens=20)
    await tab.set_viewport_size({"width": 390, "height": 844})
    long_message = "سؤال طويل " * 60
    await textbox.fill(long_message)
    await tab.get_by_role("button", name=text["send"]).click()
    await expect(tab.locator("#chat-error")).to_contain_text(text["needs"])
    await expect(textbox).to_have_value(long_message)
    await expect(tab.locator(".message-user")).to_have_count(1)  # the refused one is not shown
