from __future__ import annotations

from core.errors import AppError, Conflict, NotFound


class CvNotFound(NotFound):
    code = "cv_not_found"
    message = "This CV was not found."


class CvVersionConflict(Conflict):
    code = "cv_version_conflict"
    message = "This CV was changed elsewhere. Reload it and try again."


class CvInvalid(AppError):
    status_code = 422
    code = "cv_invalid"
    message = "The CV has missing or invalid fields."


class CvTextCheckFailed(AppError):
    """The rendered PDF's text does not read back as the CV says (a template bug, never the user's)."""

    status_code = 500
    code = "cv_text_check_failed"
    message = "The PDF did not pass its text check. We have been told; please try again later."
