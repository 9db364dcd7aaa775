"""Questionnaires given at the visit: staff read the PHQ-9 and the programme's
comprehension questions to the patient and record the answers.

- ``GET/POST /clinic/patients/{id}/phq9`` — the nine PHQ-9 questions; stored as
  ``RecordPHQ9`` with ``given_in_clinic_by`` (the signed-in user), then back to
  the patient page with the result in plain words (a self-harm answer first).
- ``GET/POST /clinic/patients/{id}/questions`` — this month's comprehension
  questions; stored as ``RecordComprehensionAnswers`` with ``given_in_clinic_by``.
- ``GET /clinic/patients/{id}/questions/result`` — the latest check: right, wrong
  and why, to go through with the patient.

Both need ``clinical.record`` (prescribers and nurses). The command names who gave
the questions, and its audit row says so too (``given_in_clinic_by``), so the
record tells an answer given at the visit from one the patient sent from home.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from isotrack.clinical.programme import questions_to_ask
from isotrack.clinical.state import (
    AnyCommand,
    ComprehensionCheck,
    RecordComprehensionAnswers,
    RecordPHQ9,
)
from isotrack.errors import CommandRejected
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.knowledge.base import KnowledgeBase
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.routes.clinic_access import PatientId, back_to_patient, load_record, store
from isotrack.web.routes.patient_view import (
    PHQ9_ANSWERS,
    PHQ9_QUESTIONS,
    PHQ9_SOURCE,
    Phq9Result,
    answer_rows,
    phq9_answers,
    phq9_result,
    phq9_total,
)
from isotrack.web.templating import render

router = APIRouter()

Recorder = Annotated[WebUser, Depends(require_page(Action.CLINICAL_RECORD))]
PHQ9_PAGE = "clinic/phq9.html"
QUESTIONS_PAGE = "clinic/questions.html"


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_fields)]


def _version(fields: dict[str, str]) -> int | None:
    raw = fields.get("version", "")
    return int(raw) if raw.isdigit() else None


# --- PHQ-9 -------------------------------------------------------------------------------------
@router.get("/patients/{patient_id}/phq9", response_class=HTMLResponse)
def phq9_form(
    request: Request, patient_id: PatientId, user: Recorder, engine: EngineDep, kb: KbDep,
    now: NowDep,
) -> Response:  # fmt: skip
    return _page(request, PHQ9_PAGE, patient_id, user, engine=engine, kb=kb, now=now, values={})


@router.post("/patients/{patient_id}/phq9", response_model=None)
async def record_phq9(
    request: Request,
    patient_id: PatientId,
    _: CsrfDep,
    user: Recorder,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    fields: FormFields,
) -> Response:
    answers, errors = phq9_answers(fields)
    if not errors:
        total, item9 = phq9_total(answers)
        command = RecordPHQ9(
            on=now.date(), total=total, item9=item9, given_in_clinic_by=user.username
        )
        refused = await _store(engine, patient_id, command, user, now, kb, _version(fields))
        if refused is None:
            result = phq9_result(total, item9, kb)
            message = f"PHQ-9 recorded (given in clinic): total {total}. {_staff_words(result)}"
            return back_to_patient(request, patient_id, message)
        errors["q9"] = refused
    return await run_in_threadpool(
        _page, request, PHQ9_PAGE, patient_id, user,
        engine=engine, kb=kb, now=now, values=fields, errors=errors, status=422,
    )  # fmt: skip


def _staff_words(result: Phq9Result) -> str:
    if result.self_harm:
        return (
            "Item 9 (thoughts of self-harm) is positive: assess the patient now, before they leave."
        )
    if result.positive:
        return "The total shows low mood: review before the next prescription."
    return "Below the programme's threshold."


# --- comprehension questions ---------------------------------------------------------------------
@router.get("/patients/{patient_id}/questions", response_class=HTMLResponse)
def questions_form(
    request: Request, patient_id: PatientId, user: Recorder, engine: EngineDep, kb: KbDep,
    now: NowDep,
) -> Response:  # fmt: skip
    return _page(
        request, QUESTIONS_PAGE, patient_id, user, engine=engine, kb=kb, now=now, values={}
    )


@router.post("/patients/{patient_id}/questions", response_model=None)
async def record_answers(
    request: Request,
    patient_id: PatientId,
    _: CsrfDep,
    user: Recorder,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    fields: FormFields,
) -> Response:
    loaded = await run_in_threadpool(load_record, engine, patient_id, user, now=now, kb=kb)
    answers: list[tuple[str, int]] = []
    errors: dict[str, str] = {}
    for question in questions_to_ask(loaded.record, kb):
        raw = fields.get(f"answer-{question.id}", "")
        if raw.isdigit() and int(raw) < len(question.options):
            answers.append((question.id, int(raw)))
        else:
            errors[question.id] = "Choose the patient's answer to this question."
    if not errors:
        command = RecordComprehensionAnswers(
            on=now.date(), answers=tuple(answers), given_in_clinic_by=user.username
        )
        refused = await _store(engine, patient_id, command, user, now, kb, _version(fields))
        if refused is None:
            return RedirectResponse(
                f"/clinic/patients/{patient_id}/questions/result", status_code=303
            )
        errors["form"] = refused
    return await run_in_threadpool(
        _page, request, QUESTIONS_PAGE, patient_id, user,
        engine=engine, kb=kb, now=now, values=fields, errors=errors, status=422,
    )  # fmt: skip


@router.get("/patients/{patient_id}/questions/result", response_class=HTMLResponse)
def questions_result(
    request: Request, patient_id: PatientId, user: Recorder, engine: EngineDep, kb: KbDep,
    now: NowDep,
) -> Response:  # fmt: skip
    loaded = load_record(engine, patient_id, user, now=now, kb=kb)
    checks = loaded.record.comprehension_checks
    check = checks[-1] if checks else None
    rows = answer_rows(check, kb)
    context = {
        "record": loaded.record,
        "check": check,
        "rows": rows,
        "wrong_count": sum(1 for _, _, right in rows if not right),
        "given_by": _given_by(loaded.history, check),
    }
    return render(request, "clinic/questions_result.html", context)


def _given_by(
    history: tuple[tuple[AnyCommand, date, str], ...], check: ComprehensionCheck | None
) -> str:
    """Who gave the latest check's questions in clinic ('' when the patient answered)."""
    if check is None:
        return ""
    answers = [c for c, _, _ in history if isinstance(c, RecordComprehensionAnswers)]
    return answers[-1].given_in_clinic_by if answers else ""


def _page(
    request: Request,
    template: str,
    patient_id: str,
    user: WebUser,
    *,
    engine: Engine,
    kb: KnowledgeBase,
    now: datetime,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """One questionnaire's page (``clinic/phq9.html`` or ``clinic/questions.html``)."""
    loaded = load_record(engine, patient_id, user, now=now, kb=kb)
    context = {
        "record": loaded.record,
        "version": loaded.version,
        "values": values,
        "errors": errors or {},
    }
    if template == PHQ9_PAGE:
        context |= {
            "questions": PHQ9_QUESTIONS,
            "answers": PHQ9_ANSWERS,
            "source": kb.source(PHQ9_SOURCE),
        }
    else:
        context["questions"] = questions_to_ask(loaded.record, kb)
    return render(request, template, context, status=status)


async def _store(
    engine: Engine,
    patient_id: str,
    command: AnyCommand,
    user: WebUser,
    now: datetime,
    kb: KnowledgeBase,
    version: int | None,
) -> str | None:
    """Store ``command``; None when stored, else the record's reason for refusing it."""
    try:
        await run_in_threadpool(
            store, engine, patient_id, [command], user, now=now, kb=kb, version=version
        )
    except CommandRejected as refused:
        return refused.message
    return None
