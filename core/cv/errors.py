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


class CvPhotoInvalid(AppError):
    """The photo is not one of the person's own uploads for a CV (or it was refused by the scan)."""

    status_code = 422
    code = "cv_photo_invalid"
    message = "The photo must be an image you uploaded for your CV (PNG, JPEG or WebP)."


class CvPhotoMissing(Conflict):
    code = "cv_photo_missing"
    message = "The CV's photo was deleted or is still being checked. Upload it again or remove it."
