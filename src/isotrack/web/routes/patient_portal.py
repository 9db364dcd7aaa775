"""The patient's own pages (``/me``): simple words, phone-sized.

=====================================  ===========================================
page                                   what
=====================================  ===========================================
``GET  /me``                           next test, next visit, window dates, daily
                                       dose, the missed-dose checklist, the
                                       pharmacy authorisation in force (printable,
                                       with its QR code); after a
                                       "stop" report not yet resolved by a
                                       clinician: the stop instruction and who to
                                       call first, and no daily dose
``POST /me/missed-doses``              record the ticked days (RecordMissedDoses)
``GET  /me/schedule.ics``              the schedule as an iCalendar file, once (the
                                       subscribed calendar, which stays current:
                                       :mod:`isotrack.web.routes.calendar_feed`)
``GET  /me/contraception``             the methods on record and the programme's
                                       verdict; start or stop a method
``POST /me/contraception/start|stop``  StartContraception / StopContraception
symptoms, mood (PHQ-9), questions      :mod:`isotrack.web.routes.patient_portal_reports`
=====================================  ===========================================

Only a patient account reaches them (staff get the 403 page, audited as
``denied:patient-portal``), and only its own record: every read and command goes
through the API's access helpers (:mod:`isotrack.web.routes._records`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from isotrack.clinical.programme import category_of, contraception_requirement, rule_set
from isotrack.clinical.record import record_schedule, stop_instruction
from isotrack.clinical.state import (
    PatientRecord,
    RecordMissedDoses,
    StartContraception,
    StopContraception,
)
from isotrack.errors import CommandRejected, InvalidInputError
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.ical import ICS_MEDIA_TYPE, schedule_to_ics
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.calendar_feeds import feed_of
from isotrack.web.clinic_contact import clinic_contact
from isotrack.web.deps import CsrfDep, WebUser
from isotrack.web.routes._records import PatientDep, VersionField, own_record, store_for
from isotrack.web.routes.patient_portal_reports import router as reports_router
from isotrack.web.routes.patient_view import (
    home_course,
    missed_days_to_record,
    patient_home,
)
from isotrack.web.templating import flash, render
from isotrack.web.views.authorisation import authorisation_card
from isotrack.web.views.words import plain

router = APIRouter(prefix="/me", include_in_schema=False)
router.include_router(reports_router)

ICS_FILENAME = "isotrack-schedule.ics"


# --- home --------------------------------------------------------------------------------------
@router.get("")
def home(request: Request, user: PatientDep, engine: EngineDep, kb: KbDep, now: NowDep) -> Response:
    record, version = own_record(user, engine, now, kb)
    return _home_page(request, record, version, kb, now)


@router.post("/missed-doses")
def record_missed_doses(
    request: Request,
    user: PatientDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    days: Annotated[list[str], Form(max_length=31)] = [],  # noqa: B006  # FastAPI copies defaults
    version: VersionField = None,
) -> Response:
    record, current = own_record(user, engine, now, kb)
    today = now.date()
    home = patient_home(
        record.name,
        home_course(record.courses, today),
        record_schedule(record, on=today, kb=kb),
        on=today,
        kb=kb,
    )
    try:
        ticked = missed_days_to_record(home.missed_days, days)
        command = RecordMissedDoses(on=today, days=ticked)
        assert user.patient_id is not None
        store_for(user, engine, user.patient_id, command, now=now, kb=kb, version=version)
    except (InvalidInputError, CommandRejected) as error:
        message = error.message.removeprefix(f"{error.field}: ")
        return _home_page(
            request, record, current, kb, now, errors={"days": plain(message)}, status=422
        )
    count = len(ticked)
    response = RedirectResponse("/me", status_code=303)
    flash(
        request,
        response,
        f"Saved: {count} missed {'dose day' if count == 1 else 'dose days'}. Do not take a "
        "double dose to make up; take the next dose at the usual time.",
    )
    return response


@router.get("/schedule.ics")
def schedule_file(user: PatientDep, engine: EngineDep, kb: KbDep, now: NowDep) -> Response:
    record, _ = own_record(user, engine, now, kb)
    schedule = record_schedule(record, on=now.date(), kb=kb)
    body = schedule_to_ics(schedule, patient_name=record.name, generated=now)
    return Response(
        content=body,
        media_type=ICS_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{ICS_FILENAME}"'},
    )


def _home_page(
    request: Request,
    record: PatientRecord,
    version: int,
    kb: KnowledgeBase,
    now: NowDep,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    today = now.date()
    schedule = record_schedule(record, on=today, kb=kb)
    home = patient_home(record.name, home_course(record.courses, today), schedule, on=today, kb=kb)
    context: dict[str, Any] = {
        "home": home,
        "stop": stop_instruction(record, on=today, kb=kb),
        "contact": clinic_contact(request.app.state.engine, kb),
        "version": version,
        "notes": schedule.notes,
        "errors": errors or {},
        "error_ids": {"days": "missed-error"},
        "page_url": "/me",
        "can_get_pregnant": category_of(record, today, kb).can_get_pregnant,
        "feed": feed_of(request.app.state.engine, record.patient_id),
        "authorisation": authorisation_card(
            request.app.state.engine, record, kb, now=now, actor=record.patient_id
        ),
    }
    return render(request, "me/home.html", context, status=status)


# --- contraception -----------------------------------------------------------------------------
@router.get("/contraception")
def contraception(
    request: Request, user: PatientDep, engine: EngineDep, kb: KbDep, now: NowDep
) -> Response:
    record, version = own_record(user, engine, now, kb)
    return _contraception_page(request, record, version, kb, now)


@router.post("/contraception/start")
def start_method(
    request: Request,
    user: PatientDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    method: Annotated[str, Form(max_length=64)] = "",
    version: VersionField = None,
) -> Response:
    return _change_method(request, user, engine, kb, now, method, version, start=True)


@router.post("/contraception/stop")
def stop_method(
    request: Request,
    user: PatientDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    method: Annotated[str, Form(max_length=64)] = "",
    version: VersionField = None,
) -> Response:
    return _change_method(request, user, engine, kb, now, method, version, start=False)


def _change_method(
    request: Request,
    user: WebUser,
    engine: Engine,
    kb: KnowledgeBase,
    now: NowDep,
    method: str,
    version: int | None,
    *,
    start: bool,
) -> Response:
    assert user.patient_id is not None
    today = now.date()
    field = "start" if start else "stop"
    command = (
        StartContraception(on=today, method=method)
        if start
        else StopContraception(on=today, method=method)
    )
    try:
        if not method:
            raise InvalidInputError("method", "choose a method from the list")
        store_for(user, engine, user.patient_id, command, now=now, kb=kb, version=version)
    except (InvalidInputError, CommandRejected) as error:
        record, current = own_record(user, engine, now, kb)
        return _contraception_page(
            request,
            record,
            current,
            kb,
            now,
            status=422,
            errors={field: plain(error.message.removeprefix(f"{error.field}: "))},
        )
    name = kb.contraception_method(method).name
    response = RedirectResponse("/me/contraception", status_code=303)
    done = f"Saved: you use {name} from today." if start else f"Saved: you stopped {name} today."
    flash(request, response, done)
    return response


def _contraception_page(
    request: Request,
    record: PatientRecord,
    version: int,
    kb: KnowledgeBase,
    now: NowDep,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    today = now.date()
    in_use = [u for u in record.contraception if u.end is None and (u.start or today) <= today]
    used = {u.method for u in in_use}
    rules = rule_set(record, kb)
    context: dict[str, Any] = {
        "in_use": [(u, kb.contraception_method(u.method)) for u in in_use],
        "choices": [(m.id, m.name) for m in kb.contraception_methods if m.id not in used],
        "requirement": contraception_requirement(record, today, rules),
        "required": category_of(record, today, kb).can_get_pregnant,
        "programme": rules.programme.name,
        "version": version,
        "errors": errors or {},
        "error_ids": {"start": "field-method", "stop": "contraception-stop-error"},
        "page_url": "/me/contraception",
        "plain": plain,
    }
    return render(request, "me/contraception.html", context, status=status)
