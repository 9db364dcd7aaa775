"""The dependencies every route may ask for, as ``Annotated`` types.

    def route(engine: EngineDep, kb: KbDep, now: NowDep) -> ...

``create_app`` puts the settings, the engine and the knowledge base on
``app.state``; these read them from there. ``NowDep`` is this moment in the
server's time zone (its calendar day is the "today" of a command); tests fix
it with ``app.dependency_overrides[current_time] = lambda: moment``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy import Engine

from isotrack.knowledge.base import KnowledgeBase
from isotrack.settings import Settings


def app_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def app_engine(request: Request) -> Engine:
    return cast(Engine, request.app.state.engine)


def app_knowledge(request: Request) -> KnowledgeBase:
    return cast(KnowledgeBase, request.app.state.kb)


def current_time() -> datetime:
    """This moment, aware, in the server's local time zone."""
    return datetime.now(UTC).astimezone()


def request_id(request: Request) -> str:
    """The id of this request (X-Request-ID), set by the request middleware."""
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else ""


SettingsDep = Annotated[Settings, Depends(app_settings)]
EngineDep = Annotated[Engine, Depends(app_engine)]
KbDep = Annotated[KnowledgeBase, Depends(app_knowledge)]
NowDep = Annotated[datetime, Depends(current_time)]
RequestIdDep = Annotated[str, Depends(request_id)]
