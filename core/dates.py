"""Calendar helpers for billing periods (UTC)."""

from __future__ import annotations

import calendar
from datetime import datetime


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later, clamped to the month's last day (Jan 31 + 1 → Feb 28)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def stamp(moment: datetime) -> str:
    """A compact, sortable UTC timestamp for keys and workflow ids (``20261125T203000Z``)."""
    return moment.strftime("%Y%m%dT%H%M%SZ")
