"""Questionnaires given at the visit: staff record the PHQ-9 and the comprehension
answers for the patient; the command and its audit row say who gave them in clinic."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from isotrack.clinical.state import RecordComprehensionAnswers, RecordPHQ9
from isotrack.http.authz import Role
from isotrack.knowledge import KnowledgeBase
from isotrack.store import read_history
from isotrack.store.models import AuditRow
from tests.web.conftest import WEB_NOW, SignIn, csrf_token

PATIENT = "demo-ben"


def latest_audit(engine: Engine, action: str) -> AuditRow:
    with Session(engine) as session:
        row = session.scalars(
            select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id.desc())
        ).first()
    assert row is not None, f"no audit row {action}"
    return row


def test_a_nurse_gives_the_phq9_in_clinic_and_the_record_says_by_whom(
    sign_in: SignIn, web_engine: Engine
) -> None:
    nurse = sign_in(Role.NURSE)
    page = nurse.get(f"/clinic/patients/{PATIENT}/phq9")
    assert page.status_code == 200
    assert "Read each question to" in page.text
    form = {f"q{n}": "1" for n in range(1, 9)} | {"q9": "0"}
    form["csrf_token"] = csrf_token(nurse, f"/clinic/patients/{PATIENT}/phq9")
    response = nurse.post(f"/clinic/patients/{PATIENT}/phq9", data=form)
    assert response.status_code == 303
    assert response.headers["location"] == f"/clinic/patients/{PATIENT}"

    stored = read_history(web_engine, PATIENT, actor="test", now=WEB_NOW)[-1]
    assert stored.command == RecordPHQ9(
        on=WEB_NOW.date(), total=8, item9=0, given_in_clinic_by="demo-nurse"
    )
    assert stored.actor == "demo-nurse"
    audit = latest_audit(web_engine, "command:RecordPHQ9")
    assert json.loads(audit.detail)["given_in_clinic_by"] == "demo-nurse"
    patient_page = nurse.get(f"/clinic/patients/{PATIENT}")
    assert "PHQ-9 recorded (given in clinic): total 8" in patient_page.text
    assert "given in clinic by demo-nurse" in patient_page.text  # the timeline


def test_a_phq9_with_an_unanswered_question_changes_nothing(
    sign_in: SignIn, web_engine: Engine
) -> None:
    nurse = sign_in(Role.NURSE)
    before = len(read_history(web_engine, PATIENT, actor="test", now=WEB_NOW))
    form = {f"q{n}": "0" for n in range(1, 9)}  # no q9
    form["csrf_token"] = csrf_token(nurse, f"/clinic/patients/{PATIENT}/phq9")
    response = nurse.post(f"/clinic/patients/{PATIENT}/phq9", data=form)
    assert response.status_code == 422
    assert 'id="q9-error"' in response.text
    assert 'value="0" checked' in response.text  # the answers given are kept
    assert len(read_history(web_engine, PATIENT, actor="test", now=WEB_NOW)) == before


def test_a_prescriber_asks_the_comprehension_questions_and_sees_the_wrong_ones(
    sign_in: SignIn, web_engine: Engine, kb: KnowledgeBase
) -> None:
    prescriber = sign_in(Role.PRESCRIBER)
    path = f"/clinic/patients/{PATIENT}/questions"
    page = prescriber.get(path)
    assert page.status_code == 200
    history = read_history(web_engine, PATIENT, actor="test", now=WEB_NOW)
    bank = [
        question
        for programme in ("us-ipledge-2024", "eu-ppp-2018")
        for question in kb.questions(programme)
        if f'name="answer-{question.id}"' in page.text
    ]
    assert bank, "the page lists the programme's questions"
    form = {f"answer-{q.id}": str(q.correct) for q in bank}
    wrong = bank[0]
    form[f"answer-{wrong.id}"] = str((wrong.correct + 1) % len(wrong.options))
    form["csrf_token"] = csrf_token(prescriber, path)
    response = prescriber.post(path, data=form)
    assert response.status_code == 303, response.text[:2000]
    result = prescriber.get(response.headers["location"])
    assert "1 of" in result.text
    assert "given in clinic by demo-prescriber" in result.text
    assert wrong.explanation in result.text

    stored = read_history(web_engine, PATIENT, actor="test", now=WEB_NOW)
    assert len(stored) == len(history) + 1
    command = stored[-1].command
    assert isinstance(command, RecordComprehensionAnswers)
    assert command.given_in_clinic_by == "demo-prescriber"
    audit = latest_audit(web_engine, "command:RecordComprehensionAnswers")
    assert json.loads(audit.detail)["given_in_clinic_by"] == "demo-prescriber"


def test_a_pharmacist_cannot_give_the_questionnaires(sign_in: SignIn) -> None:
    pharmacist = sign_in(Role.PHARMACIST)
    assert pharmacist.get(f"/clinic/patients/{PATIENT}/phq9").status_code == 403
    assert pharmacist.get(f"/clinic/patients/{PATIENT}/questions").status_code == 403
