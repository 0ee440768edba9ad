"""Deck rows beside their build job: a deck keeps its own status (drafting → awaiting_outline →
generating → ready | failed | expired | cancelled), so a build job ended from outside its
workflow (the job sweeper) must end its deck too, or the page waits for ever."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import SlideDeck

BUILDING = ("drafting", "awaiting_outline", "generating")


async def fail_building_deck(session: AsyncSession, job_id: str) -> bool:
    """The deck whose current build is ``job_id`` becomes ``failed`` if it was still being
    built (a deck whose newer build or a finished one is left as it is). True if one changed."""
    result = await session.execute(
        update(SlideDeck)
        .where(SlideDeck.job_id == job_id, SlideDeck.status.in_(BUILDING))
        .values(status="failed")
    )
    return bool(getattr(result, "rowcount", 0))
