"""Accounts housekeeping: delete sign-in links and sessions that are long dead."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from core import accounts
from core.db import Database


@dataclass
class PurgeAuthInput:
    keep_days: int


@dataclass
class PurgeAuthResult:
    sessions: int
    magic_links: int


class AccountsActivities:
    def __init__(self, db: Database) -> None:
        self.db = db

    @activity.defn(name="accounts.purge_auth")
    async def purge_auth(self, data: PurgeAuthInput) -> PurgeAuthResult:
        async with self.db.session() as session:
            counts = await accounts.purge_expired(session, keep_days=data.keep_days)
        return PurgeAuthResult(sessions=counts["sessions"], magic_links=counts["magic_links"])
