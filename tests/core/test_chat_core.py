from __future__ import annotations

from core.chat import estimate_tokens, make_title, trim_history


def test_estimate_is_local_and_grows_with_text() -> None:
    assert estimate_tokens("hi") < estimate_tokens("hello " * 50)
    assert estimate_tokens("مرحبا بك") > estimate_tokens("hi there")


def test_trim_keeps_newest_that_fit_and_always_the_last() -> None:
    history = [("user", "a" * 400), ("assistant", "b" * 400), ("user", "c" * 40)]
    assert trim_history(history, 10_000) == history
    assert trim_history(history, 120) == history[1:]
    assert trim_history(history, 1) == history[-1:]


def test_title_from_first_message() -> None:
    assert make_title("  خطة   سفر إلى البتراء ") == "خطة سفر إلى البتراء"
    long = make_title("x" * 100)
    assert len(long) == 60 and long.endswith("…")


def test_title_is_plain_text_cut_after_a_word() -> None:
    markdown = "## اكتب فقرة عن **البتراء** مع `code` و[رابط](https://example.jo)"
    assert make_title(markdown) == "اكتب فقرة عن البتراء مع code ورابط"
    assert make_title("> - explain __init__ and my_var") == "explain __init__ and my_var"
    assert make_title("1. first\n2. second") == "first second"
    assert make_title("#hashtag") == "#hashtag"
    assert make_title("**") == "**"  # nothing but marks: kept as typed
    sentence = "اكتب فقرة قصيرة عن البتراء، مع قائمة من ثلاث نقاط ونص عريض وكود برمجي قصير"
    title = make_title(sentence)
    assert title == "اكتب فقرة قصيرة عن البتراء، مع قائمة من ثلاث نقاط ونص عريض…"
    assert len(title) <= 60 and sentence.startswith(title[:-1])
