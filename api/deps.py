"""Dependency aliases shared by every API package (``SessionDep``, ``SettingsDep`` …).

The request owns the unit of work: ``SessionDep`` commits when the handler returns and rolls
back when it raises."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.i18n import locale_dependency
from api.temporal import TemporalConnection
from core.db import Database
from core.errors import Unavailable
from core.settings import Settings
from providers.scanner import ClamdScanner
from providers.storage import Storage
from providers.streams import StreamBus


@dataclass
class AppState:
    settings: Settings
    db: Database
    bus: StreamBus
    temporal: TemporalConnection
    extras: dict[str, Any] = field(default_factory=dict)


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.pulse
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.db.session() as session:
        yield session


async def get_temporal(state: StateDep) -> Client:
    try:
        return await state.temporal.get(timeout=5.0)
    except TimeoutError:
        raise Unavailable() from None


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
# scope="function": commit before the response is sent (FastAPI's default for yield dependencies
# ends them after the response, so a client's next request could miss the write).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
TemporalDep = Annotated[Client, Depends(get_temporal)]
LocaleDep = Annotated[str, Depends(locale_dependency)]


async def get_storage(state: StateDep) -> Storage:
    storage: Storage = state.extras["storage"]
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]


async def get_scanner(state: StateDep) -> ClamdScanner:
    return ClamdScanner(state.settings)


ScannerDep = Annotated[ClamdScanner, Depends(get_scanner)]
