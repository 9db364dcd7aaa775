"""What a patient reports from ``/me``: symptoms, the PHQ-9 mood questionnaire and
the programme's comprehension questions.

====================================  ==============================================
page                                  what
====================================  ==============================================
``GET  /me/symptoms``                 the triage table's symptoms, most urgent first
``POST /me/symptoms``                 RecordSymptoms, then the advice page
``GET  /me/symptoms/advice``          the latest report triaged: "stop and call" first
``GET  /me/mood``                     the PHQ-9 (nine questions, the total live)
``GET  /me/mood/total``               the total so far (htmx fragment; changes nothing)
``POST /me/mood``                     RecordPHQ9 (total and item 9), then the result
``GET  /me/mood/result``              the latest PHQ-9 and what it means
``GET  /me/questions``                this month's comprehension questions
``POST /me/questions``                RecordComprehensionAnswers, then the answers
``GET  /me/questions/result``         the latest check: right, wrong and why
====================================  ==============================================

A report is stored first, then the browser is sent (303) to the page that reads it
back from the record: a reload never sends it twice, and what the patient reads is
what the clinic sees. The advice is :func:`isotrack.clinical.monitoring.triage` of the
stored symptoms; the PHQ-9 result uses the thresholds of MOOD-PHQ9-POSITIVE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from isotrack.clinical.monitoring import triage
from isotrack.clinical.programme import category_of, questions_to_ask
from isotrack.clinical.state import RecordComprehensionAnswers, RecordPHQ9, RecordSymptoms
from isotrack.errors import CommandRejected
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Question
from isotrack.web.clinic_contact import clinic_contact
from isotrack.web.deps import CsrfDep, WebUser
from isotrack.web.routes._records import PatientDep, VersionField, own_record, store_for
from isotrack.web.routes.patient_view import (
    PHQ9_ANSWERS,
    PHQ9_QUESTIONS,
    PHQ9_SOURCE,
    SELF_HARM_SYMPTOM,
    SymptomGroup,
    answer_rows,
    phq9_answers,
    phq9_result,
    phq9_total,
    symptom_groups,
)
from isotrack.web.templating import render
from isotrack.web.views.words import plain

router = APIRouter()

NOTE_MAX = 2000


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form's text fields (one value each)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def query_fields(request: Request) -> dict[str, str]:
    """The query string's fields (one value each)."""
    return dict(request.query_params)


FormFields = Annotated[dict[str, str], Depends(form_fields)]
QueryFields = Annotated[dict[str, str], Depends(query_fields)]


def _patient_id(user: WebUser) -> str:
    assert user.patient_id is not None  # PatientDep guarantees it
    return user.patient_id


# --- symptoms ----------------------------------------------------------------------------------
@router.get("/symptoms")
def symptoms_form(
    request: Request, user: PatientDep, engine: EngineDep, kb: KbDep, now: NowDep
) -> Response:
    return _symptoms_page(request, kb, offered_symptoms(user, engine, kb, now))


@router.post("/symptoms")
def report_symptoms(
    request: Request,
    user: PatientDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    symptoms: Annotated[list[str], Form(max_length=60)] = [],  # noqa: B006  # FastAPI copies defaults
    note: Annotated[str, Form()] = "",
    version: VersionField = None,
) -> Response:
    errors: dict[str, str] = {}
    groups = offered_symptoms(user, engine, kb, now)
    offered = {symptom.id for group in groups for symptom in group.symptoms}
    if not symptoms:
        errors["symptoms"] = "Tick at least one symptom, or go back if you have none."
    elif set(symptoms) & {s.id for s in kb.symptoms} - offered:
        errors["symptoms"] = "Tick only symptoms from the list."  # one that cannot apply
    if len(note) > NOTE_MAX:
        errors["note"] = f"Please keep the note under {NOTE_MAX} characters."
    if not errors:
        command = RecordSymptoms(on=now.date(), symptoms=tuple(symptoms), note=note.strip())
        try:
            store_for(user, engine, _patient_id(user), command, now=now, kb=kb, version=version)
        except CommandRejected as error:
            errors["symptoms"] = plain(error.message)
    if errors:
        return _symptoms_page(
            request, kb, groups, errors=errors, ticked=set(symptoms), note=note, status=422
        )
    return RedirectResponse("/me/symptoms/advice", status_code=303)


@router.get("/symptoms/advice")
def symptom_advice(
    request: Request, user: PatientDep, engine: EngineDep, kb: KbDep, now: NowDep
) -> Response:
    record, _ = own_record(user, engine, now, kb)
    report = record.symptom_reports[-1] if record.symptom_reports else None
    result = triage(report.symptoms, kb) if report is not None else None
    context = {"report": report, "result": result, "contact": clinic_contact(engine, kb)}
    return render(request, "me/symptom_advice.html", context)


def offered_symptoms(
    user: WebUser, engine: Engine, kb: KnowledgeBase, now: datetime
) -> tuple[SymptomGroup, ...]:
    """The symptoms this patient may report today (none that cannot apply to them)."""
    record, _ = own_record(user, engine, now, kb)
    can = category_of(record, now.date(), kb).can_get_pregnant
    return symptom_groups(kb, can_get_pregnant=can)


def _symptoms_page(
    request: Request,
    kb: KnowledgeBase,
    groups: tuple[SymptomGroup, ...],
    *,
    errors: dict[str, str] | None = None,
    ticked: set[str] | None = None,
    note: str = "",
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "groups": groups,
        "errors": errors or {},
        "error_ids": {"symptoms": "symptoms-error"},
        "ticked": ticked or set(),
        "note": note,
    }
    return render(request, "me/symptoms.html", context, status=status)


# --- mood (PHQ-9) ------------------------------------------------------------------------------
@router.get("/mood")
def mood_form(request: Request, user: PatientDep, kb: KbDep) -> Response:
    return _mood_page(request, kb, {})


@router.get("/mood/total")
def mood_total(request: Request, user: PatientDep, kb: KbDep, fields: QueryFields) -> Response:
    answers, errors = phq9_answers(fields)
    answered = len(PHQ9_QUESTIONS) - len(errors)
    return render(
        request,
        "me/_phq9_total.html",
        {"total": sum(a for i, a in enumerate(answers) if f"q{i + 1}" not in errors),
         "answered": answered, "count": len(PHQ9_QUESTIONS)},
    )  # fmt: skip


@router.post("/mood")
def report_mood(
    request: Request,
    user: PatientDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    fields: FormFields,
) -> Response:
    answers, errors = phq9_answers(fields)
    if errors:
        return _mood_page(request, kb, fields, errors=errors, status=422)
    total, item9 = phq9_total(answers)
    version = fields.get("version", "")
    command = RecordPHQ9(on=now.date(), total=total, item9=item9)
    store_for(
        user, engine, _patient_id(user), command, now=now, kb=kb,
        version=int(version) if version.isdigit() else None,
    )  # fmt: skip
    return RedirectResponse("/me/mood/result", status_code=303)


@router.get("/mood/result")
def mood_result(
    request: Request, user: PatientDep, engine: EngineDep, kb: KbDep, now: NowDep
) -> Response:
    record, _ = own_record(user, engine, now, kb)
    screen = record.mood_screens[-1] if record.mood_screens else None
    result = None
    if screen is not None and screen.phq9_total is not None:  # the record holds whole screens
        result = phq9_result(screen.phq9_total, screen.item9, kb)
    context: dict[str, Any] = {
        "screen": screen,
        "result": result,
        "self_harm_advice": kb.symptom(SELF_HARM_SYMPTOM).advice,
        "contact": clinic_contact(engine, kb),
        "count": len(PHQ9_QUESTIONS) * (len(PHQ9_ANSWERS) - 1),
    }
    return render(request, "me/mood_result.html", context)


def _mood_page(
    request: Request,
    kb: KnowledgeBase,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "questions": PHQ9_QUESTIONS,
        "answers": PHQ9_ANSWERS,
        "source": kb.source(PHQ9_SOURCE),
        "values": values,
        "errors": errors or {},
        "error_ids": {name: f"{name}-error" for name in errors or {}},
    }
    return render(request, "me/mood.html", context, status=status)


# --- comprehension questions -------------------------------------------------------------------
@router.get("/questions")
def questions_form(
    request: Request, user: PatientDep, engine: EngineDep, kb: KbDep, now: NowDep
) -> Response:
    record, _ = own_record(user, engine, now, kb)
    return _questions_page(request, questions_to_ask(record, kb), {})


@router.post("/questions")
def answer_questions(
    request: Request,
    user: PatientDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    fields: FormFields,
) -> Response:
    record, version = own_record(user, engine, now, kb)
    questions = questions_to_ask(record, kb)
    answers: list[tuple[str, int]] = []
    errors: dict[str, str] = {}
    for question in questions:
        raw = fields.get(f"answer-{question.id}", "")
        if raw.isdigit() and int(raw) < len(question.options):
            answers.append((question.id, int(raw)))
        else:
            errors[question.id] = "Choose one answer for this question."
    if errors:
        return _questions_page(request, questions, fields, errors=errors, status=422)
    command = RecordComprehensionAnswers(on=now.date(), answers=tuple(answers))
    store_for(user, engine, _patient_id(user), command, now=now, kb=kb, version=version)
    return RedirectResponse("/me/questions/result", status_code=303)


@router.get("/questions/result")
def questions_result(
    request: Request, user: PatientDep, engine: EngineDep, kb: KbDep, now: NowDep
) -> Response:
    record, _ = own_record(user, engine, now, kb)
    check = record.comprehension_checks[-1] if record.comprehension_checks else None
    rows = answer_rows(check, kb)
    wrong_count = sum(1 for _, _, right in rows if not right)
    context = {"check": check, "rows": rows, "wrong_count": wrong_count}
    return render(request, "me/questions_result.html", context)


def _questions_page(
    request: Request,
    questions: tuple[Question, ...],
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "questions": questions,
        "values": values,
        "errors": errors or {},
        "error_ids": {name: f"answer-{name}-error" for name in errors or {}},
    }
    return render(request, "me/questions.html", context, status=status)
