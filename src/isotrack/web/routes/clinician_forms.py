"""The clinic's forms: enrol a new patient, record data on the patient page, and
prescribe with the planner's suggestion and live screening.

- ``GET/POST /clinic/patients/new`` — enrol (``patient.create``); counselling at
  enrolment can be recorded in the same step (one transaction).
- ``POST /clinic/patients/{id}/record/{form}`` — weight, lab result, pregnancy
  test, contraception, lesion count, note (``clinical.record``); a refused value
  comes back next to its field.
- ``GET /clinic/patients/{id}/prescribe`` — the form, with the planner's dose for
  the product and the weight in force; ``POST .../prescribe/check`` (htmx, on
  every change) answers the screening of the draft; ``POST .../prescribe`` stores
  it after a confirmation step: the course (if none), the overrides of the
  warnings with their reasons, and the prescription, in one transaction. A
  critical finding blocks it (:mod:`isotrack.web.views.clinic_prescribe`).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from isotrack.clinical.record import findings_on
from isotrack.clinical.state import AnyCommand, EnrolPatient, RecordCounselling
from isotrack.errors import CommandRejected, NotFoundError
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.knowledge.base import KnowledgeBase
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.routes.clinic_access import (
    LoadedRecord,
    PatientId,
    back_to_patient,
    load_record,
    store,
)
from isotrack.web.routes.clinic_page import override_choices, override_reason_text, render_patient
from isotrack.web.templating import flash, render
from isotrack.web.views.clinic_forms import (
    RECORD_FORMS,
    Errors,
    choice,
    number,
    parse_record_form,
    required,
    text,
    whole,
)
from isotrack.web.views.clinic_prescribe import (
    Draft,
    Evaluation,
    Suggestion,
    commands_to_store,
    evaluate,
)
from isotrack.web.views.words import times_a_day

router = APIRouter()

FormName = Annotated[str, Path(pattern=r"^[a-z-]{1,30}$")]
Creator = Annotated[WebUser, Depends(require_page(Action.PATIENT_CREATE))]
Recorder = Annotated[WebUser, Depends(require_page(Action.CLINICAL_RECORD))]
Prescriber = Annotated[WebUser, Depends(require_page(Action.PRESCRIBE))]
SEXES = (("female", "Female"), ("male", "Male"), ("other", "Other"), ("unknown", "Not known"))
CAPABILITIES = (
    ("", "Not recorded yet"),
    ("can-get-pregnant", "Can get pregnant"),
    ("cannot-get-pregnant", "Cannot get pregnant"),
)
ENROL_COUNSELLING = "enrolment: isotretinoin risks and the pregnancy prevention programme"
DRAFT_FIELDS = (
    "product", "target_mg_per_kg", "mg_per_kg_day", "morning_mg", "evening_mg", "dose_mg",
    "times_per_day", "strength_mg", "quantity", "supply_days", "override_reason",
)  # fmt: skip
DOSE_FIELDS = ("morning_mg", "evening_mg", "dose_mg", "quantity")
"""A draft with any of these was filled in: the planner's suggestion does not replace it."""
OVERRIDE_PREFIX = "override-"
NOTE_PREFIX = "override-note-"


def _values(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


# --- enrol ------------------------------------------------------------------------------
def _enrol_page(
    request: Request, kb: KnowledgeBase, values: dict[str, str], errors: Errors, status: int = 200
) -> HTMLResponse:
    programmes = [
        ("", "The clinic's default"),
        *((p.id, p.name.split(" for ")[0]) for p in kb.programmes),  # short: fits a phone
    ]
    context = {
        "values": values,
        "errors": errors,
        "sexes": SEXES,
        "capabilities": CAPABILITIES,
        "programmes": programmes,
    }
    return render(request, "clinic/enrol.html", context, status=status)


@router.get("/patients/new", response_class=HTMLResponse)
def enrol_form(request: Request, _: Creator, kb: KbDep) -> HTMLResponse:
    return _enrol_page(request, kb, {}, {})  # nothing pre-ticked: counselling is an act


@router.post("/patients/new", response_model=None)
async def enrol(
    request: Request, _: CsrfDep, user: Creator, engine: EngineDep, kb: KbDep, now: NowDep
) -> Response:
    values = _values(await request.form())
    errors: Errors = {}
    command = _enrol_command(values, now.date(), kb, errors)
    if command is None:
        return _enrol_page(request, kb, values, errors, status=422)
    commands: list[AnyCommand] = [command]
    if values.get("counselled"):
        commands.append(RecordCounselling(on=command.on, topic=ENROL_COUNSELLING))
    try:
        await run_in_threadpool(store, engine, command.patient_id, commands, user, now=now, kb=kb)
    except CommandRejected as refused:
        errors[refused.field] = _words(refused)
        return _enrol_page(request, kb, values, errors, status=422)
    response = RedirectResponse(f"/clinic/patients/{command.patient_id}", status_code=303)
    flash(request, response, f"{command.name} enrolled. Next: record a weight, then prescribe.")
    return response


def _enrol_command(
    values: dict[str, str], today: date, kb: KnowledgeBase, errors: Errors
) -> EnrolPatient | None:
    name = required(values, "name", errors, "Enter the patient's name.")
    raw_birth = required(values, "birth_date", errors, "Enter the date of birth.")
    birth = None
    if raw_birth:
        try:
            birth = date.fromisoformat(raw_birth)
        except ValueError:
            errors["birth_date"] = "Enter a date as YYYY-MM-DD."
    sex = choice(values, "sex", tuple(s for s, _ in SEXES), errors)
    capability = choice(values, "pregnancy_capability", tuple(c for c, _ in CAPABILITIES), errors)
    reason = text(values, "capability_reason")
    if capability == "cannot-get-pregnant" and not reason:
        errors["capability_reason"] = "Say why (e.g. hysterectomy, report seen)."
    programme = text(values, "programme")
    if programme and programme not in {p.id for p in kb.programmes}:
        errors["programme"] = "Choose one of the options."
    if errors or birth is None:
        return None
    return EnrolPatient(
        on=today,
        patient_id=str(uuid.uuid4()),
        name=name,
        birth_date=birth,
        sex=sex,  # type: ignore[arg-type]  # checked by choice
        pregnancy_capability=capability or None,  # type: ignore[arg-type]  # checked by choice
        capability_reason=reason,
        programme=programme or None,
    )


# --- the recording forms ----------------------------------------------------------------
@router.post("/patients/{patient_id}/record/{form_name}", response_model=None)
async def record(
    request: Request,
    patient_id: PatientId,
    form_name: FormName,
    _: CsrfDep,
    user: Recorder,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
) -> Response:
    if form_name not in RECORD_FORMS:
        raise NotFoundError(f"no form {form_name!r}: use one of {', '.join(RECORD_FORMS)}")
    values = _values(await request.form())
    command, errors = parse_record_form(form_name, values, now.date())
    if command is not None:
        try:
            await run_in_threadpool(store, engine, patient_id, [command], user, now=now, kb=kb)
        except CommandRejected as refused:
            errors[_field_of(form_name, refused.field)] = _words(refused)
        else:
            return back_to_patient(request, patient_id, RECORD_FORMS[form_name].done + ".")
    refused_form = {form_name: {"values": values, "errors": errors}}
    return await run_in_threadpool(
        render_patient, request, patient_id, user,
        engine=engine, kb=kb, now=now, forms=refused_form, status=422,
    )  # fmt: skip


def _field_of(form_name: str, field: str) -> str:
    """The form field a record's refusal names (the record says 'value', 'on', 'unit'...)."""
    return field if field in RECORD_FORMS[form_name].fields else "on"


def _words(refused: CommandRejected) -> str:
    return refused.message.removeprefix(f"{refused.field}: ")


# --- prescribe --------------------------------------------------------------------------
def draft_from(values: dict[str, str], errors: Errors, kb: KnowledgeBase) -> Draft:
    """The draft of the prescribe form (a bad number is a message next to its field);
    each warning's override is ``override-<rule>`` (a reason id) and
    ``override-note-<rule>`` (free text)."""
    overrides = {
        key.removeprefix(OVERRIDE_PREFIX): override_reason_text(
            kb, value, values.get(NOTE_PREFIX + key.removeprefix(OVERRIDE_PREFIX), "")
        )
        for key, value in values.items()
        if key.startswith(OVERRIDE_PREFIX) and not key.startswith(NOTE_PREFIX)
    }
    return Draft(
        prescription_id=text(values, "prescription_id") or new_prescription_id(),
        product=text(values, "product") or None,
        target_mg_per_kg=number(values, "target_mg_per_kg", errors, optional=True),
        mg_per_kg_day=number(values, "mg_per_kg_day", errors, optional=True),
        morning_mg=number(values, "morning_mg", errors, optional=True),
        evening_mg=number(values, "evening_mg", errors, optional=True),
        dose_mg=number(values, "dose_mg", errors, optional=True),
        times_per_day=whole(values, "times_per_day", errors, optional=True),
        strength_mg=number(values, "strength_mg", errors, optional=True),
        quantity=whole(values, "quantity", errors, optional=True),
        supply_days=whole(values, "supply_days", errors, optional=True),
        override_reason=text(values, "override_reason"),
        overrides=overrides,
    )


def _seen_version(values: dict[str, str], loaded: LoadedRecord) -> int:
    """The record version the form was drawn from (a 409 page if it has moved since)."""
    seen = values.get("version", "")
    return int(seen) if seen.isdigit() and len(seen) < 10 else loaded.version


def suggested_values(suggestion: Suggestion) -> dict[str, str]:
    """The form's dose fields filled with the planner's regimen."""
    doses = suggestion.regimen.doses_mg
    return {
        "morning_mg": f"{doses[0]:g}",
        "evening_mg": f"{doses[1]:g}" if len(doses) > 1 else "",
        "supply_days": str(suggestion.supply_days),
    }


def new_prescription_id() -> str:
    return f"rx-{secrets.token_hex(4)}"


def _evaluate(
    engine: Engine, patient_id: str, user: WebUser, values: dict[str, str], now: datetime,
    kb: KnowledgeBase,
) -> tuple[LoadedRecord, Evaluation, Errors]:  # fmt: skip
    loaded = load_record(engine, patient_id, user, now=now, kb=kb)
    evaluation, errors = _evaluate_draft(loaded, values, now, kb)
    return loaded, evaluation, errors


def _evaluate_draft(
    loaded: LoadedRecord, values: dict[str, str], now: datetime, kb: KnowledgeBase
) -> tuple[Evaluation, Errors]:
    errors: Errors = {}
    draft = draft_from(values, errors, kb)
    return evaluate(loaded.record, draft, on=now.date(), kb=kb), errors


def _prescribe_context(
    loaded: LoadedRecord,
    evaluation: Evaluation,
    errors: Errors,
    values: dict[str, str],
    kb: KnowledgeBase,
    on: date,
    *,
    acted: bool = True,
) -> dict[str, Any]:
    """The prescribe page's context; ``acted`` False (the page just opened, nothing was
    sent yet): no error is shown."""
    shown = dict(values)
    suggestion = evaluation.suggestion
    if suggestion is not None and not any(values.get(n) for n in DOSE_FIELDS):
        shown.update(suggested_values(suggestion))
    shown.setdefault("prescription_id", evaluation.draft.prescription_id)
    products = [(p.id, p.name) for p in kb.products if p.route == "oral" and p.available]
    return {
        "record": loaded.record,
        "version": loaded.version,
        "evaluation": evaluation,
        "errors": {**evaluation.errors, **errors} if acted else {},
        "error_ids": {
            "submit": "screening",
            **{name: f"{name}-error" for name in errors if name.startswith(OVERRIDE_PREFIX)},
        },
        "values": shown,
        "products": [("", "Choose a product"), *products],
        "override_reasons": override_choices(kb),
        "default_target": kb.number("course.cumulative_target_mg_per_kg"),
        "product_name": {p.id: p.name for p in kb.products}.get(evaluation.product or "", ""),
        "today": findings_on(loaded.record, on=on, kb=kb),
    }


@router.get("/patients/{patient_id}/prescribe", response_class=HTMLResponse)
def prescribe_form(
    request: Request,
    patient_id: PatientId,
    user: Prescriber,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
) -> HTMLResponse:
    values = {k: v for k, v in request.query_params.items() if k in DRAFT_FIELDS}
    loaded, first, errors = _evaluate(engine, patient_id, user, values, now, kb)
    if first.suggestion is not None and not any(n in values for n in DOSE_FIELDS):
        # Screen the planner's suggestion itself, so the page opens with its findings.
        values.update(suggested_values(first.suggestion))
        values["prescription_id"] = first.draft.prescription_id
        first, errors = _evaluate_draft(loaded, values, now, kb)
    acted = any(name in request.query_params for name in DRAFT_FIELDS)
    context = _prescribe_context(loaded, first, errors, values, kb, now.date(), acted=acted)
    return render(request, "clinic/prescribe.html", context)


@router.post("/patients/{patient_id}/prescribe/check", response_class=HTMLResponse)
async def prescribe_check(
    request: Request,
    patient_id: PatientId,
    _: CsrfDep,
    user: Prescriber,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
) -> HTMLResponse:
    values = _values(await request.form())
    loaded, evaluation, errors = await run_in_threadpool(
        _evaluate, engine, patient_id, user, values, now, kb
    )
    context = _prescribe_context(loaded, evaluation, errors, values, kb, now.date())
    return render(request, "clinic/_prescribe_check.html", context)


@router.post("/patients/{patient_id}/prescribe", response_model=None)
async def prescribe(
    request: Request,
    patient_id: PatientId,
    _: CsrfDep,
    user: Prescriber,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
) -> Response:
    values = _values(await request.form())
    loaded, evaluation, errors = await run_in_threadpool(
        _evaluate, engine, patient_id, user, values, now, kb
    )
    if evaluation.ready and not errors:
        if evaluation.new_course and not user.may(Action.COURSE_MANAGE):
            errors["product"] = "Your role may not start a course."
        else:
            commands = commands_to_store(evaluation, on=now.date())
            try:
                await run_in_threadpool(
                    store, engine, patient_id, commands, user,
                    now=now, kb=kb, version=_seen_version(values, loaded),
                )  # fmt: skip
            except CommandRejected as refused:
                errors["submit"] = _words(refused)
            else:
                draft, regimen = evaluation.draft, evaluation.regimen
                supply = draft.supply_days or 0
                dose = regimen.describe() if regimen else f"{draft.dose_mg:g} mg"
                each = (
                    " and ".join(f"{n} × {s:g} mg" for s, n in regimen.quantities(supply))
                    if regimen
                    else f"{draft.quantity}"
                )
                message = (
                    f"Prescription {draft.prescription_id} stored: {dose}; {each} capsules "
                    f"for {supply} days."
                )
                return back_to_patient(request, patient_id, message)
    for rule in evaluation.missing_reasons:
        errors[OVERRIDE_PREFIX + rule] = "Choose a reason to go ahead despite this warning."
    if not errors:
        errors["submit"] = "The order cannot be stored yet: see what the screening says below."
    context = _prescribe_context(loaded, evaluation, errors, values, kb, now.date())
    return render(request, "clinic/prescribe.html", context, status=422)
