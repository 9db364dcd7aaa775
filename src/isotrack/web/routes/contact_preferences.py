"""Reminders: how the patient wants them, or not at all; a minor's guardian.

==================================================  ===================================
page                                                what
==================================================  ===================================
``GET  /me/reminders``                              the patient's choices: email, text
                                                    messages (a mobile number), neither,
                                                    or stop all reminders; their time zone
``POST /me/reminders``                              save them (422 with an error summary
                                                    when refused: nothing saved)
``GET  /clinic/patients/{id}/reminders``            staff: what the patient chose and who
                                                    receives the reminders
``POST /clinic/patients/{id}/reminders/guardian``   a clinician makes a guardian the
                                                    recipient (a minor only; refused for
                                                    an adult)
``POST /clinic/patients/{id}/reminders/guardian/remove``  the patient receives them again
==================================================  ===================================

Nothing is ticked until the patient ticks it: before their first choice the page
says where reminders go by default (email to the account's address). Opting out
stops messages only; the page says the portal keeps showing every iPLEDGE step.
Every change is audited by :mod:`isotrack.store.contact_preferences`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from isotrack.delivery.guardians import age_of_majority, age_on, check_guardian_change, is_minor
from isotrack.delivery.preferences import ContactChoices, Guardian, time_zone_names
from isotrack.errors import InvalidInputError
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep, SettingsDep
from isotrack.store.contact_preferences import (
    read_contact_choices,
    read_contact_state,
    write_contact_preferences,
)
from isotrack.web.deps import CsrfDep, PageForbidden, WebUser, require_page
from isotrack.web.routes._records import PatientDep
from isotrack.web.routes.clinic_access import PatientId, load_record
from isotrack.web.templating import flash, render

router = APIRouter(include_in_schema=False)

Recorder = Annotated[WebUser, Depends(require_page(Action.CLINICAL_RECORD))]
Text = Annotated[str, Form(max_length=300)]
Channels = Annotated[list[str] | None, Form(max_length=4)]
PATIENT_PAGE = "me/reminders.html"
STAFF_PAGE = "clinic/reminders.html"
_FIELD_IDS = {
    "channels": "field-channel-email",
    "phone": "field-phone",
    "time_zone": "field-time_zone",
    "guardian_name": "field-guardian_name",
    "guardian_email": "field-guardian_email",
    "guardian_phone": "field-guardian_phone",
}


def _summary(field: str, message: str) -> list[tuple[str, str, str]]:
    return [(_FIELD_IDS.get(field, "field-channel-email"), message, field)]


# --- the patient -------------------------------------------------------------------------------
@router.get("/me/reminders", response_model=None)
def patient_page(
    request: Request, user: PatientDep, engine: EngineDep, settings: SettingsDep
) -> Response:
    # No read of the record: the page shows the patient's choices, not their record.
    return _patient_page(request, user, engine, settings.time_zone)


@router.post("/me/reminders", response_model=None)
def patient_save(
    request: Request,
    user: PatientDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    settings: SettingsDep,
    now: NowDep,
    channels: Channels = None,
    phone: Text = "",
    time_zone: Text = "",
    opted_out: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if user.patient_id is None:
        raise PageForbidden("This account holds no patient record.")
    stored = read_contact_choices(engine, user.patient_id)
    choices = ContactChoices(
        opted_out=bool(opted_out),
        channels=frozenset(channels or ()),
        phone=phone or None,
        guardian=stored.guardian,  # only a clinician changes the recipient
        time_zone=time_zone or None,
    )
    try:
        write_contact_preferences(engine, user.patient_id, choices, actor=user.username, now=now,
                                  default_time_zone=settings.time_zone)  # fmt: skip
    except InvalidInputError as error:
        message = error.message.removeprefix(f"{error.field}: ")
        form = {"choices": choices, "errors": {error.field: message}}
        return _patient_page(request, user, engine, settings.time_zone, form=form)
    response = RedirectResponse("/me/reminders", status_code=303)
    flash(request, response, "Your reminder choices are saved.")
    return response


def _patient_page(
    request: Request, user: WebUser, engine: Engine, clinic_zone: str, *,
    form: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    if user.patient_id is None:
        raise PageForbidden("This account holds no patient record.")
    state = read_contact_state(engine, user.patient_id, default_time_zone=clinic_zone)
    preferences, chosen = state.preferences, state.chosen
    choices = form["choices"] if form else state.choices
    errors: dict[str, str] = form["errors"] if form else {}
    context = {
        "preferences": preferences,
        "choices": choices,
        # nothing ticked before the patient's own first choice
        "show_choices": chosen or form is not None,
        "errors": errors,
        "error_summary": [s for f, m in errors.items() for s in _summary(f, m)],
        "page_url": "/me/reminders",
        "zone_options": [(zone, zone) for zone in time_zone_names()],
        "clinic_zone": clinic_zone,
    }
    return render(request, PATIENT_PAGE, context, status=422 if errors else 200)


# --- staff -------------------------------------------------------------------------------------
@router.get("/clinic/patients/{patient_id}/reminders", response_model=None)
def staff_page(request: Request, patient_id: PatientId, user: Recorder, engine: EngineDep,
               settings: SettingsDep, kb: KbDep, now: NowDep) -> Response:  # fmt: skip
    return _staff_page(request, patient_id, user, engine, settings.time_zone, kb, now)


@router.post("/clinic/patients/{patient_id}/reminders/guardian", response_model=None)
def staff_set_guardian(
    request: Request,
    patient_id: PatientId,
    _csrf: CsrfDep,
    user: Recorder,
    engine: EngineDep,
    settings: SettingsDep,
    kb: KbDep,
    now: NowDep,
    guardian_name: Text = "",
    guardian_email: Text = "",
    guardian_phone: Text = "",
) -> Response:
    record = load_record(engine, patient_id, user, now=now, kb=kb).record
    stored = read_contact_choices(engine, patient_id)
    guardian = Guardian(guardian_name, guardian_email or None, guardian_phone or None)
    try:
        check_guardian_change(stored.guardian, guardian, birth_date=record.birth_date,
                              on=now.date(), kb=kb)  # fmt: skip
        write_contact_preferences(
            engine, patient_id, replace(stored, guardian=guardian), actor=user.username, now=now,
            default_time_zone=settings.time_zone,
        )  # fmt: skip
    except InvalidInputError as error:
        message = error.message.removeprefix(f"{error.field}: ")
        form = {"guardian": guardian, "errors": {error.field: message}}
        return _staff_page(request, patient_id, user, engine, settings.time_zone, kb, now,
                           form=form)  # fmt: skip
    response = RedirectResponse(f"/clinic/patients/{patient_id}/reminders", status_code=303)
    flash(request, response, f"Reminders now go to {' '.join(guardian_name.split())}.")
    return response


@router.post("/clinic/patients/{patient_id}/reminders/guardian/remove", response_model=None)
def staff_remove_guardian(request: Request, patient_id: PatientId, _csrf: CsrfDep,
                          user: Recorder, engine: EngineDep, settings: SettingsDep, kb: KbDep,
                          now: NowDep) -> Response:  # fmt: skip
    load_record(engine, patient_id, user, now=now, kb=kb)
    stored = read_contact_choices(engine, patient_id)
    response = RedirectResponse(f"/clinic/patients/{patient_id}/reminders", status_code=303)
    try:
        write_contact_preferences(
            engine, patient_id, replace(stored, guardian=None), actor=user.username, now=now,
            default_time_zone=settings.time_zone,
        )  # fmt: skip
    except InvalidInputError as error:  # e.g. text messages chosen, but no number of the patient's
        flash(request, response, f"Not changed: {error.message}", kind="error")
        return response
    flash(request, response, "Reminders go to the patient again.")
    return response


def _staff_page(
    request: Request, patient_id: str, user: WebUser, engine: Engine, clinic_zone: str,
    kb: KbDep, now: datetime, *, form: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    record = load_record(engine, patient_id, user, now=now, kb=kb).record
    state = read_contact_state(engine, patient_id, default_time_zone=clinic_zone)
    stored = state.choices
    errors: dict[str, str] = form["errors"] if form else {}
    context = {
        "record": record,
        "preferences": state.preferences,
        "chosen": state.chosen,
        "guardian": form["guardian"] if form else stored.guardian,
        "age": age_on(record.birth_date, now.date()),
        "minor": is_minor(record.birth_date, now.date(), kb),
        "majority": age_of_majority(kb),
        "errors": errors,
        "error_summary": [s for f, m in errors.items() for s in _summary(f, m)],
        "page_url": f"/clinic/patients/{patient_id}/reminders",
    }
    return render(request, STAFF_PAGE, context, status=422 if errors else 200)
