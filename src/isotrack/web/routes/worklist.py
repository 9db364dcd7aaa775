"""The clinic's worklist (prescribers and nurses): what needs a clinician, and the
steps on each item, each stored as a command of the patient's record (audited).

- ``GET  /clinic/worklist`` — open and acknowledged items of every patient, most
  urgent first (``?mine=1``: assigned to me; ``?resolved=1``: resolved ones too);
- ``POST /clinic/worklist/acknowledge`` — ``AcknowledgeWorkItem``;
- ``POST /clinic/worklist/assign`` — ``AssignWorkItem`` (to me, or to a named colleague);
- ``POST /clinic/worklist/resolve`` — ``ResolveWorkItem`` with its note (required).

A refused step (no note, already acknowledged, the record moved) shows the page
again with the error summary at the top and the note kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from isotrack.clinical.state import (
    AcknowledgeWorkItem,
    AnyCommand,
    AssignWorkItem,
    ResolveWorkItem,
)
from isotrack.errors import CommandRejected
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.knowledge.base import KnowledgeBase
from isotrack.web.deps import CsrfDep, WebUser
from isotrack.web.routes.clinic_access import ClinicUser, load_all, store
from isotrack.web.templating import flash, render
from isotrack.web.views.words import plain
from isotrack.web.views.worklist import clinic_worklist, item_anchor

router = APIRouter(prefix="/worklist")

NOTE_MAX = 2000
PatientField = Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
ItemField = Annotated[str, Form(max_length=200)]
NoteField = Annotated[str, Form(max_length=NOTE_MAX)]


@router.get("")
def worklist_page(
    request: Request,
    user: ClinicUser,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    mine: Annotated[bool, Query()] = False,
    resolved: Annotated[bool, Query()] = False,
) -> Response:
    return _page(request, user, engine, kb, now, mine=mine, resolved=resolved)


@router.post("/acknowledge")
def acknowledge(
    request: Request, user: ClinicUser, _csrf: CsrfDep, engine: EngineDep, kb: KbDep,
    now: NowDep, patient_id: PatientField, item: ItemField, note: NoteField = "",
) -> Response:  # fmt: skip
    command = AcknowledgeWorkItem(on=now.date(), item=item, note=note.strip())
    return _step(request, user, engine, kb, now, patient_id, command, "Acknowledged")


@router.post("/assign")
def assign(
    request: Request, user: ClinicUser, _csrf: CsrfDep, engine: EngineDep, kb: KbDep,
    now: NowDep, patient_id: PatientField, item: ItemField,
    assignee: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    to = assignee.strip() or user.username
    command = AssignWorkItem(on=now.date(), item=item, assignee=to)
    return _step(request, user, engine, kb, now, patient_id, command, f"Assigned to {to}")


@router.post("/resolve")
def resolve(
    request: Request, user: ClinicUser, _csrf: CsrfDep, engine: EngineDep, kb: KbDep,
    now: NowDep, patient_id: PatientField, item: ItemField, note: NoteField = "",
) -> Response:  # fmt: skip
    command = ResolveWorkItem(on=now.date(), item=item, note=note.strip())
    return _step(request, user, engine, kb, now, patient_id, command, "Resolved")


def _step(
    request: Request,
    user: WebUser,
    engine: Engine,
    kb: KnowledgeBase,
    now: datetime,
    patient_id: str,
    command: AnyCommand,
    done: str,
) -> Response:
    try:
        store(engine, patient_id, [command], user, now=now, kb=kb)
    except CommandRejected as error:
        message = plain(error.message.removeprefix(f"{error.field}: "))
        errors = {f"{patient_id}|{_item(command)}": message}
        note = str(getattr(command, "note", ""))
        return _page(request, user, engine, kb, now, errors=errors, kept=note, status=422)
    response = RedirectResponse("/clinic/worklist", status_code=303)
    flash(request, response, f"{done}.")
    return response


def _item(command: AnyCommand) -> str:
    return str(getattr(command, "item", ""))


def _page(
    request: Request,
    user: WebUser,
    engine: Engine,
    kb: KnowledgeBase,
    now: datetime,
    *,
    mine: bool = False,
    resolved: bool = False,
    errors: dict[str, str] | None = None,
    kept: str = "",
    status: int = 200,
) -> Response:
    on = now.date()
    records = load_all(engine, user, now=now, kb=kb)
    rows = clinic_worklist(
        records, on=on, kb=kb, resolved=resolved, assignee=user.username if mine else None
    )
    context: dict[str, Any] = {
        "rows": rows,
        "on": on,
        "mine": mine,
        "resolved": resolved,
        "errors": errors or {},
        # the error summary of base.html links each refused step to its note field
        "error_ids": {key: f"{item_anchor(key)}-note" for key in errors or {}},
        "anchor_of": item_anchor,
        "kept": kept,
        # everyone's open items are the rows already, unless a view narrowed or widened them
        "work_count": (
            len(rows) if not (mine or resolved) else len(clinic_worklist(records, on=on, kb=kb))
        ),
    }
    return render(request, "clinic/worklist.html", context, status=status)
