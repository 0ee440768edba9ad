"""The quota ledger: grants, reserve, settle, release, adjust — exact under concurrency.

Every mutating operation first locks the user's row in ``ledger_accounts`` for that unit
(an UPDATE, which holds a row lock on PostgreSQL and takes the write lock on SQLite), then
reads the grants and changes them. So one user's changes to one unit are serialized, and
``remaining >= 0`` (also a CHECK constraint) can never be broken. A reservation takes its
amount out of grants at once (plan grants first, then add-ons and adjustments by earliest
expiry) and remembers which grants it holds, so settle and release return the rest exactly.

Functions take an ``AsyncSession`` and never commit: the caller owns the transaction.
Every operation is idempotent by its key and writes an entry to ``ledger_entries``.

The package: one file per operation (``reserve``, ``settle``, ``release``, ``adjust``,
``grants``), ``entries`` is the one place that writes an entry, ``statements`` holds the
prebuilt hot-path statements. Every public name is importable from ``core.ledger``.
"""

from __future__ import annotations

from core.ledger.accounts import insert_ignore, lock_account
from core.ledger.adjust import adjust
from core.ledger.errors import (
    AdjustTooLarge,
    InvalidAmount,
    InvalidUnit,
    KeyInUse,
    QuotaExceeded,
    ReasonRequired,
    ReservationNotFound,
    as_unit,
)
from core.ledger.grants import expire_due_grants, expire_plan_grants, grant_addon, grant_period
from core.ledger.history import history
from core.ledger.reads import available, usage
from core.ledger.release import release
from core.ledger.reservations import OpenReservation, job_reservations, open_reservations, reservation_owner
from core.ledger.reserve import reserve
from core.ledger.results import (
    ADDON_VALIDITY_MONTHS,
    ADJUST_VALIDITY_MONTHS,
    WARNING_PERCENT,
    Reservation,
    SettleResult,
    UnitUsage,
    UsageSummary,
)
from core.ledger.settle import settle
from core.ledger.usage_warning import WarningNotice, near_warning, record_warning, warning_due

__all__ = [
    "ADDON_VALIDITY_MONTHS",
    "ADJUST_VALIDITY_MONTHS",
    "AdjustTooLarge",
    "InvalidAmount",
    "InvalidUnit",
    "KeyInUse",
    "OpenReservation",
    "QuotaExceeded",
    "ReasonRequired",
    "Reservation",
    "ReservationNotFound",
    "SettleResult",
    "UnitUsage",
    "UsageSummary",
    "WARNING_PERCENT",
    "WarningNotice",
    "adjust",
    "as_unit",
    "available",
    "expire_due_grants",
    "expire_plan_grants",
    "grant_addon",
    "grant_period",
    "history",
    "job_reservations",
    "insert_ignore",
    "lock_account",
    "near_warning",
    "open_reservations",
    "record_warning",
    "release",
    "reservation_owner",
    "reserve",
    "settle",
    "usage",
    "warning_due",
]
