"""Inviting a patient to the patient portal from the clinic (``patient.create``).

- ``GET /clinic/patients/{id}/invitation`` — the form: the patient's email address
  (optional: without one, or without a mail server, the link is handed over).
- ``POST /clinic/patients/{id}/invitation`` — makes the one-time link
  (:func:`isotrack.http.account_links.invite_patient`), emails it when it can,
  and shows it this once, with when it expires and whether the email went out.

The link is never stored (only its digest) and never shown again: a lost link is
replaced by a new invitation, which withdraws the old one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from isotrack.errors import ConflictError, InvalidInputError
from isotrack.http.account_links import INVITATION_LIFETIME, clean_email, invite_patient
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep, SettingsDep
from isotrack.http.mail import (
    MailNotSent,
    invitation_message,
    link_base,
    mail_server,
    send_mail,
)
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.routes.clinic_access import PatientId, load_record
from isotrack.web.templating import render

router = APIRouter()

Creator = Annotated[WebUser, Depends(require_page(Action.PATIENT_CREATE))]
PAGE = "clinic/invitation.html"


def expiry_text(moment: datetime) -> str:
    """'2026-03-09 10:30 CET' (the server's zone)."""
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


@router.get("/patients/{patient_id}/invitation", response_class=HTMLResponse)
def invitation_form(
    request: Request,
    patient_id: PatientId,
    user: Creator,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    record = load_record(engine, patient_id, user, now=now, kb=kb).record
    context = {
        "record": record,
        "email": "",
        "errors": {},
        "issued": None,
        "mail_configured": mail_server(settings) is not None,
        "lifetime_days": INVITATION_LIFETIME.days,
    }
    return render(request, PAGE, context)


@router.post("/patients/{patient_id}/invitation", response_model=None)
async def invite(
    request: Request,
    patient_id: PatientId,
    _: CsrfDep,
    user: Creator,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    loaded = await run_in_threadpool(load_record, engine, patient_id, user, now=now, kb=kb)
    server = mail_server(settings)
    context: dict[str, object] = {
        "record": loaded.record,
        "email": email,
        "errors": {},
        "issued": None,
        "mail_configured": server is not None,
        "lifetime_days": INVITATION_LIFETIME.days,
    }
    try:
        address = clean_email(email)
        issued = await run_in_threadpool(
            invite_patient, engine, patient_id, email=address, actor=user.username, now=now
        )
    except InvalidInputError as error:
        context["errors"] = {"email": f"{error.message[0].upper()}{error.message[1:]}."}
        return render(request, PAGE, context, status=422)
    except ConflictError as error:
        context["errors"] = {"form": f"No invitation made: {error.message}."}
        return render(request, PAGE, context, status=409)
    base = link_base(settings, str(request.base_url), anonymous=False)
    link = f"{base}/invitation/{issued.token}"
    mail_outcome = "not-asked" if address is None else "no-server"
    if address is not None and server is not None:
        subject, body = invitation_message(link, expiry_text(issued.expires_at))
        try:
            await run_in_threadpool(send_mail, server, address, subject, body)
            mail_outcome = "sent"
        except MailNotSent as error:
            mail_outcome = f"failed: {error.message}"
    context |= {
        "issued": issued,
        "link": link,
        "expires": expiry_text(issued.expires_at),
        "mail_outcome": mail_outcome,
    }
    return render(request, PAGE, context, status=201)
