"""Translation suggestions name the parts whose numbers the model changed (`review`), so the
page can point the person at them; numbers written in the other script's digits and decimal
separator ("١٫٢" for "1.2") are the same numbers, not a change."""

from __future__ import annotations

from core.cv.assist import AssistAction, AssistRequest, segment_model, segments, suggestion
from core.cv.schema import CvContent
from tests.cv.samples import arabic_cv, english_cv


def translated(cv: CvContent, target: str, replace: dict[str, str]) -> dict:
    paths = list(segments(cv))
    texts = {
        f"s{i}": replace.get(path, f"[{target}] {text}")
        for i, (path, text) in enumerate(segments(cv).items())
    }
    reply = segment_model(paths).model_validate({"segments": texts})
    return suggestion(cv, AssistRequest(AssistAction.translate_cv, target), reply)


def test_a_changed_number_is_named_for_review() -> None:
    cv = CvContent.model_validate(arabic_cv())
    changed = "Led five engineers building a platform for 3.5 million payments a month with Python."
    result = translated(cv, "en", {"work.0.highlights.0": changed})
    assert result["review"] == ["work.0.highlights.0"]
    assert result["content"]["work"][0]["highlights"][0] == changed
    assert result["content"]["basics"]["phone"] == "+962 7 9123 4567"  # never sent, copied


def test_the_same_numbers_in_arabic_indic_digits_are_not_a_change() -> None:
    cv = CvContent.model_validate(english_cv())
    same = {
        "work.0.highlights.0": "بنيت لوحة كشف الاحتيال التي يستخدمها ٤٠ مدير فرع.",
        "work.1.highlights.0": "نمذجت تسرّب ١٫٢ مليون مشترك.",
    }
    assert translated(cv, "ar", same)["review"] == []
    assert translated(cv, "ar", same | {"work.1.highlights.0": "نمذجت تسرّب ١٫٣ مليون مشترك."})["review"] == [
        "work.1.highlights.0"
    ]
