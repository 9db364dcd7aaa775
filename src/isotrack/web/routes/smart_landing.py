"""Where a SMART launch lands, and what the launched session may read from the EHR.

After the launch, the record is read from the EHR first (:func:`isotrack.ehr.sync_from_ehr`:
each new resource a command with its provenance; what was read before is not added
again), then the clinician sees the linked patient's course page (the prescribe
page when a CDS card opened isotrack for an order), or, for an EHR patient not
linked yet, the offer to enrol them from the EHR's data (``/smart/enrol``).
:func:`landing_page` returns the page and the one message to show on it.

:func:`launched_access` is the session's EHR access (the seam of
:mod:`isotrack.web.ehr_access`): the EHR, patient, token and scopes of the launch,
while the token holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy import Engine

from isotrack.ehr import EhrReadError, find_linked_patient, sync_from_ehr
from isotrack.errors import IsotrackError
from isotrack.http.authz import Action, Role, allowed
from isotrack.http.sealing import unseal
from isotrack.http.smart import ACCESS_TOKEN_PURPOSE, LaunchContext
from isotrack.settings import Settings, signing_key
from isotrack.store.users import user_transaction
from isotrack.web.ehr_access import EhrAccess
from isotrack.web.routes.account import start_page
from isotrack.web.sessions import (
    FLASH_COOKIE,
    SESSION_COOKIE,
    Flash,
    live_session,
    session_id,
    sign_flashes,
)
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
    """The page a launch lands on (after reading the EHR), and the message shown there."""
    if role not in CLINIC_ROLES:
        return start_page(role), None
    try:
        result = sync_from_ehr(
            engine,
            fhir_base_url=iss,
            access_token=access_token,
            ehr_patient_id=context.patient,
            actor=actor,
            now=now,
            kb=request.app.state.kb,
        )
    except (EhrReadError, IsotrackError) as error:
        linked = find_linked_patient(engine, iss, context.patient)
        words = (
            f"isotrack could not read the record from the EHR ({getattr(error, 'message', error)}),"
            " so this page shows only what isotrack held already. Try again later."
        )
        return (f"/clinic/patients/{linked}" if linked else "/clinic"), ("error", words)
    if result.patient_id is None:
        if not allowed(role, Action.PATIENT_CREATE):
            words = "This EHR patient has no isotrack record yet; a prescriber can enrol them."
            return "/clinic", ("info", words)
        return "/smart/enrol?" + urlencode({"ehr": iss, "patient": context.patient}), None
    page, note = patient_page(result.patient_id, context, role)
    read = (
        f"Read from the EHR: {result.added} new item{'s' if result.added != 1 else ''}, "
        f"{result.already_present} already in the record."
    )
    shown: Note = (note[0], f"{read} {note[1]}") if note is not None else ("success", read)
    return page, shown


def launched_access(request: Request, now: datetime) -> EhrAccess | None:
    """The EHR access of this browser's session: None when it was not launched from an
    EHR, has ended, or its access token has expired."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with user_transaction(request.app.state.engine) as tx:
        live = live_session(tx, token, now) is not None
        smart = tx.smart.session(session_id(token), now) if live else None
    sealed = smart.token(now) if smart is not None else None
    if smart is None or sealed is None:
        return None
    key = signing_key(request.app.state.settings)
    access_token = unseal(key, sealed, purpose=ACCESS_TOKEN_PURPOSE)
    if access_token is None:  # sealed under a server key since replaced
        return None
    return EhrAccess(
        fhir_base=smart.iss,
        ehr_patient_id=smart.patient,
        access_token=access_token,
        scope=smart.scope,
    )


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
