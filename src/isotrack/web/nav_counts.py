"""The count in a clinician's navigation: worklist items not yet resolved.

Read on every clinician page from every record (one ``read:summary`` audit row
under the clinician's name for the whole count, not one per record); a page that
has just read every record (the dashboard, the worklist) passes ``work_count`` in
its context instead. An error page shows no count; a database or record that
cannot be read gives no count rather than no page.
"""

from __future__ import annotations

from typing import cast

from fastapi import Request
from sqlalchemy import Engine

from isotrack.clinical.record import replay
from isotrack.errors import IsotrackError
from isotrack.http.deps import current_time
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import read_histories_for_summary
from isotrack.web.deps import WebUser
from isotrack.web.views.worklist import open_count


def worklist_count(request: Request, user: WebUser) -> int | None:
    """Items on the clinic's worklist not resolved today (None when unreadable)."""
    now_of = request.app.dependency_overrides.get(current_time, current_time)
    now = now_of()
    engine = cast(Engine, request.app.state.engine)
    kb = cast(KnowledgeBase, request.app.state.kb)
    try:
        histories = read_histories_for_summary(
            engine, actor=user.username, now=now, purpose="worklist count"
        )
        records = [
            replay(((s.command, s.recorded_on) for s in stored), kb=kb)
            for stored in histories.values()
        ]
    except IsotrackError:
        return None
    return open_count(records, on=now.date(), kb=kb)
