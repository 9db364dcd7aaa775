"""Where a SMART launch lands: the record is read from the EHR first, then the
clinician sees the linked patient's course page (the prescribe page when a CDS
card opened isotrack for an order), or the offer to enrol the EHR's patient.

:func:`landing_page` returns the page and the one message to show on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import Request, Response
from sqlalchemy import Engine

from isotrack.http.authz import Role
from isotrack.http.smart import LaunchContext
from isotrack.settings import Settings, signing_key
from isotrack.web.routes.account import start_page
from isotrack.web.sessions import FLASH_COOKIE, Flash, sign_flashes
from isotrack.web.templating import cookie_policy

Note = tuple[Literal["success", "info", "warning", "error"], str]
CLINIC_ROLES = frozenset({Role.PRESCRIBER, Role.NURSE})
"""The roles whose start page is a patient's course (others land on their own start page)."""


def landing_page(
    request: Request,
    engine: Engine,
    *,
    iss: str,
    access_token: str,
    context: LaunchContext,
    role: Role,
    actor: str,
    now: datetime,
) -> tuple[str, Note | None]:
    """The page a launch lands on, and the message shown there."""
    if role not in CLINIC_ROLES:
        return start_page(role), None
    patient_id: str | None = None
    if patient_id is None:
        return "/clinic", ("info", "This EHR patient is not linked to an isotrack record yet.")
    return patient_page(patient_id, context, role)


def patient_page(patient_id: str, context: LaunchContext, role: Role) -> tuple[str, Note | None]:
    """The linked patient's course page, or the prescribe page for a card's order."""
    if context.order is not None and role is Role.PRESCRIBER:
        note = f"Opened from the EHR for its draft order {context.order}."
        return f"/clinic/patients/{patient_id}/prescribe", ("info", note)
    return f"/clinic/patients/{patient_id}", None


def flash_note(request: Request, response: Response, note: Note, *, embedded: bool) -> None:
    """Show ``note`` once on the landing page (the cookie is the session's kind)."""
    settings: Settings = request.app.state.settings
    value = sign_flashes(signing_key(settings), [Flash(*note)])
    cookie_policy(settings, embedded=embedded).set(response, FLASH_COOKIE, value, max_age=300)
