"""Rendering the patient page of the clinic, with any refused form's values and
messages (the recording forms and the override form post back to it).

For a prescriber the page also answers "may this prescription be dispensed?" with
the pharmacist's own check (:func:`~isotrack.web.routes.pharmacy_view.dispense_check`):
the authorise button when the programme allows it today, else what is missing."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from isotrack.clinical.state import AnyCommand
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.ehr import command_sources
from isotrack.web.deps import WebUser
from isotrack.web.routes.clinic_access import Permissions, load_record
from isotrack.web.routes.pharmacy_view import dispense_check
from isotrack.web.templating import render
from isotrack.web.views.clinic_forms import RECORD_FORMS, form_choices, form_state
from isotrack.web.views.clinic_patient import patient_page

OTHER_REASON = "other"


def render_patient(
    request: Request,
    patient_id: str,
    user: WebUser,
    *,
    engine: Engine,
    kb: KnowledgeBase,
    now: datetime,
    forms: dict[str, dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The patient page; ``forms`` holds a refused form's values and errors."""
    loaded = load_record(engine, patient_id, user, now=now, kb=kb)
    history = with_ehr_sources(loaded.history, command_sources(engine, patient_id))
    page = patient_page(loaded.record, loaded.version, history, on=now.date(), kb=kb)
    can = Permissions.of(user)
    context = {
        "page": page,
        "can": can,
        "dispense": dispense_check(loaded.record, on=now.date(), kb=kb) if can.authorise else None,
        "charts": [(c, json.dumps(c.config())) for c in (*page.charts, page.pk) if not c.empty],
        "empty_charts": [c for c in page.charts if c.empty],
        "override_reasons": override_choices(kb),
        "forms": form_state(now.date(), forms or {}),
        "record_forms": RECORD_FORMS,
        "choices": form_choices(loaded.record, kb),
        "open_form": next(iter(forms or {}), ""),
        "product_names": {p.id: p.name for p in kb.products},
        "error_summary": form_errors(forms or {}),
        "page_url": f"/clinic/patients/{patient_id}",
    }
    return render(request, "clinic/patient.html", context, status=status)


def with_ehr_sources(
    history: tuple[tuple[AnyCommand, date, str], ...], sources: dict[int, str]
) -> tuple[tuple[AnyCommand, date, str], ...]:
    """The log with each command read from an EHR shown as such: the timeline says
    "recorded by dr-lee, from EHR: Observation/123" (``sources``: seq → resources)."""
    return tuple(
        (command, on, f"{actor}, from EHR: {sources[seq]}" if sources.get(seq) else actor)
        for seq, (command, on, actor) in enumerate(history, start=1)
    )


def form_errors(forms: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The error summary of a refused form of the patient page: (id, message, field);
    the ids are those patient.html gives its fields (``<form>-<field>``; an override's
    reason: the message below its choices)."""
    summary = []
    for form, state in forms.items():
        for field, message in state.get("errors", {}).items():
            target = f"{form}-{field}"
            if form.startswith("override-"):
                target = f"{form}-{field}-error"
            summary.append((target, str(message), field))
    return summary


def override_choices(kb: KnowledgeBase) -> list[tuple[str, str]]:
    choices = [(r.id, r.display) for r in kb.override_reasons]
    return [("", "Choose a reason"), *choices, (OTHER_REASON, "Another reason (say which below)")]


def override_reason_text(kb: KnowledgeBase, choice: str, note: str) -> str:
    """The reason stored: the chosen reason's words, then the note; '' when neither."""
    words = dict(override_choices(kb)[1:-1]).get(choice, "")
    note = note.strip()
    if choice == OTHER_REASON or not words:
        return note
    return f"{words}: {note}" if note else words
