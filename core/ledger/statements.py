"""Core statements built once at import (the hot path: each chat turn runs them). No ORM
unit of work, and SQLAlchemy reuses their compiled SQL. Measured per call: reserve
4.0 → 2.4 ms of CPU, settle (with the warning pre-check) 3.7 → 1.9 ms."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, case, func, insert, select, update

from core.models import (
    GrantSource,
    LedgerAccount,
    LedgerEntry,
    LedgerGrant,
    LedgerHold,
    LedgerReservation,
)

_ReservationRow = Row[*tuple[Any, ...]]  # the columns of _RESERVATION, by name


# --- statements built once (each chat turn runs them) ------------------------------------------
# Core statements on the tables with bound parameters, built at import: no ORM unit of work,
# and SQLAlchemy reuses their compiled SQL. Measured per call: reserve 4.0 → 2.4 ms of CPU,
# settle (with the warning pre-check) 3.7 → 1.9 ms.
_accounts = cast(Table, LedgerAccount.__table__)


_grants = cast(Table, LedgerGrant.__table__)


_reservations = cast(Table, LedgerReservation.__table__)


_holds = cast(Table, LedgerHold.__table__)


_entries = cast(Table, LedgerEntry.__table__)


_TOUCH_ACCOUNT = (
    update(_accounts)
    .where(_accounts.c.user_id == bindparam("owner"), _accounts.c.unit == bindparam("owned_unit"))
    .values(version=_accounts.c.version + 1)
)


_TOUCH_RESERVATION_ACCOUNT = (
    update(_accounts)
    .where(
        _reservations.c.key == bindparam("key"),
        _accounts.c.user_id == _reservations.c.user_id,
        _accounts.c.unit == _reservations.c.unit,
    )
    .values(version=_accounts.c.version + 1)
)


_ACTIVE = (
    _grants.c.user_id == bindparam("user_id"),
    _grants.c.unit == bindparam("unit"),
    _grants.c.starts_at <= bindparam("now"),
    _grants.c.expires_at > bindparam("now"),
)


_ACTIVE_GRANTS = (
    select(_grants.c.id, _grants.c.remaining)
    .where(*_ACTIVE)
    .order_by(
        case((_grants.c.source == GrantSource.plan.value, 0), else_=1),  # plan grants first
        _grants.c.expires_at,
        _grants.c.created_at,
        _grants.c.id,
    )
)


_GRANT_TOTALS = select(
    func.coalesce(func.sum(_grants.c.amount), 0), func.coalesce(func.sum(_grants.c.remaining), 0)
).where(*_ACTIVE)


_ADD_TO_GRANT = (
    update(_grants)
    .where(_grants.c.id == bindparam("grant_id"))
    .values(remaining=_grants.c.remaining + bindparam("delta"))
)


_RESERVATION = select(
    _reservations.c.id,
    _reservations.c.user_id,
    _reservations.c.unit,
    _reservations.c.amount,
    _reservations.c.reduced,
    _reservations.c.status,
    _reservations.c.job_id,
    _reservations.c.charged,
    _reservations.c.released,
    _reservations.c.overage,
    _reservations.c.uncovered,
).where(_reservations.c.key == bindparam("key"))


_INSERT_RESERVATION = insert(_reservations)


_CLOSE_RESERVATION = (
    update(_reservations)
    .where(_reservations.c.id == bindparam("reservation_id"))
    .values(
        status=bindparam("status"),
        charged=bindparam("charged"),
        released=bindparam("released"),
        overage=bindparam("overage"),
        uncovered=bindparam("uncovered"),
        closed_at=bindparam("closed_at"),
    )
)


_INSERT_HOLD = insert(_holds)


_HOLDS = (
    select(_holds.c.amount, _grants.c.id, _grants.c.expires_at)
    .join(_grants, _grants.c.id == _holds.c.grant_id)
    .where(_holds.c.reservation_id == bindparam("reservation_id"))
    .order_by(_holds.c.id)
)


_INSERT_ENTRY = insert(_entries)
