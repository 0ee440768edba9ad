from __future__ import annotations

from core.errors import AppError, Conflict, NotFound


class DeckNotFound(NotFound):
    code = "slides_not_found"
    message = "This slide deck was not found."


class OutlineNotAwaited(Conflict):
    code = "slides_outline_not_awaited"
    message = "This deck is not waiting for an outline."


class DeckNotReady(Conflict):
    code = "slides_not_ready"
    message = "This deck has no finished version yet."


class SlideOutOfRange(AppError):
    status_code = 422
    code = "slides_no_such_slide"
    message = "This deck has no slide with that number."


class SlideEditInvalid(AppError):
    status_code = 422
    code = "slides_edit_invalid"
    message = "This slide's layout has no place for: {fields}."
