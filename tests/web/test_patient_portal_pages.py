"""The patient's pages over HTTP: home, missed doses, calendar, symptoms, PHQ-9,
contraception and the comprehension questions (the demo patient is Ana Moreau)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from isotrack.clinical.state.patient import PatientRecord
from isotrack.http.authz import Action, Role
from isotrack.http.passwords import create_user
from isotrack.knowledge import KnowledgeBase
from isotrack.store import UnitOfWork, read_record
from isotrack.store.models import AuditRow
from tests.web.conftest import (
    WEB_NOW,
    SignIn,
    TestClient,
    csrf_token,
    page_client,
    sign_in_as,
)
from tests.web.demo_db import Account

ANA = "demo-ana"
TODAY = WEB_NOW.date()


@pytest.fixture
def patient(sign_in: SignIn) -> TestClient:
    return sign_in(Role.PATIENT)


def version_of(engine: Engine, patient_id: str = ANA) -> int:
    with UnitOfWork(engine) as uow:
        return uow.patients.version(patient_id)


def record_of(engine: Engine, kb: KnowledgeBase) -> PatientRecord:
    return read_record(engine, ANA, actor="test", now=WEB_NOW, kb=kb)[0]


def phq9_form(client: TestClient, *answers: int) -> dict[str, str]:
    form = {f"q{n}": str(a) for n, a in enumerate(answers, start=1)}
    form["csrf_token"] = csrf_token(client, "/me/mood")
    return form


# --- home ------------------------------------------------------------------------------------
def test_home_shows_next_test_next_visit_windows_and_the_daily_dose(patient: TestClient) -> None:
    page = patient.get("/me")
    assert page.status_code == 200
    assert "Hello, Ana" in page.text
    assert "Next test" in page.text
    assert "Next visit" in page.text
    assert re.search(r"between \w+ \d+ \w+ and \w+ \d+ \w+", page.text)
    assert "30 mg twice a day (60 mg a day)" in page.text
    assert 'href="/me/schedule.ics"' in page.text


def test_the_calendar_downloads_as_an_ics_file(patient: TestClient) -> None:
    answer = patient.get("/me/schedule.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.text.startswith("BEGIN:VCALENDAR")
    assert "BEGIN:VEVENT" in answer.text


def test_ticking_a_missed_day_records_it_and_it_shows_as_saved(
    patient: TestClient, web_engine: Engine, kb: KnowledgeBase
) -> None:
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    form = {"csrf_token": csrf_token(patient, "/me"), "days": [yesterday]}
    saved = patient.post("/me/missed-doses", data=form)
    assert saved.status_code == 303
    page = patient.get("/me")
    assert "Saved: 1 missed dose day" in page.text
    assert re.search(rf'value="{yesterday}" checked disabled', page.text)
    course = record_of(web_engine, kb).current_course
    assert course is not None
    assert TODAY - timedelta(days=1) in course.missed_days


def test_saving_no_missed_day_is_refused_next_to_the_checklist(
    patient: TestClient, web_engine: Engine
) -> None:
    before = version_of(web_engine)
    refused = patient.post("/me/missed-doses", data={"csrf_token": csrf_token(patient, "/me")})
    assert refused.status_code == 422
    assert 'id="missed-error"' in refused.text
    assert "tick at least one day" in refused.text
    assert version_of(web_engine) == before


# --- symptoms --------------------------------------------------------------------------------
def test_the_symptom_form_lists_every_symptom_of_the_triage_table(
    patient: TestClient, kb: KnowledgeBase
) -> None:
    page = patient.get("/me/symptoms")
    assert page.status_code == 200
    for symptom in kb.symptoms:
        assert f'value="{symptom.id}"' in page.text


def test_a_red_flag_symptom_shows_the_stop_message_at_once(
    patient: TestClient, web_engine: Engine, kb: KnowledgeBase
) -> None:
    form = {
        "csrf_token": csrf_token(patient, "/me/symptoms"),
        "symptoms": ["dry-lips", "severe-stomach-pain"],
    }
    sent = patient.post("/me/symptoms", data=form)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/me/symptoms/advice"
    advice = patient.get("/me/symptoms/advice")
    alert = re.search(
        r'<section class="[^"]*stop-message" role="alert".*?</section>', advice.text, re.S
    )
    assert alert is not None
    assert "Stop isotretinoin and get emergency care now." in alert.group(0)
    assert kb.symptom("severe-stomach-pain").advice in advice.text
    assert kb.symptom("dry-lips").advice in advice.text
    report = record_of(web_engine, kb).symptom_reports[-1]
    assert report.on == TODAY
    assert set(report.symptoms) == {"dry-lips", "severe-stomach-pain"}


def test_a_common_side_effect_gets_advice_without_a_stop_message(patient: TestClient) -> None:
    form = {"csrf_token": csrf_token(patient, "/me/symptoms"), "symptoms": ["dry-lips"]}
    patient.post("/me/symptoms", data=form)
    advice = patient.get("/me/symptoms/advice")
    assert 'role="alert"' not in advice.text
    assert "No urgent action" in advice.text


def test_sending_no_symptom_is_refused_next_to_the_list(
    patient: TestClient, web_engine: Engine
) -> None:
    before = version_of(web_engine)
    refused = patient.post("/me/symptoms", data={"csrf_token": csrf_token(patient, "/me")})
    assert refused.status_code == 422
    assert 'id="symptoms-error"' in refused.text
    assert version_of(web_engine) == before


def test_an_unknown_symptom_id_is_refused_and_nothing_is_stored(
    patient: TestClient, web_engine: Engine
) -> None:
    before = version_of(web_engine)
    form = {"csrf_token": csrf_token(patient, "/me"), "symptoms": ["made-up"]}
    refused = patient.post("/me/symptoms", data=form)
    assert refused.status_code == 422
    assert "made-up" in refused.text
    assert version_of(web_engine) == before


# --- PHQ-9 -----------------------------------------------------------------------------------
def test_the_phq9_form_has_nine_questions_with_four_answers_each(patient: TestClient) -> None:
    page = patient.get("/me/mood")
    assert page.status_code == 200
    assert len(re.findall(r"<legend>\d\. ", page.text)) == 9
    assert len(re.findall(r'type="radio"', page.text)) == 36
    assert 'hx-get="/me/mood/total"' in page.text


def test_the_live_total_adds_the_answers_given_so_far(patient: TestClient) -> None:
    fragment = patient.get("/me/mood/total", params={"q1": "2", "q2": "3", "q9": "x"})
    assert fragment.status_code == 200
    assert "<strong>5</strong> out of 27 (2 of 9 questions answered)" in fragment.text


def test_a_positive_item_9_stores_the_screen_and_shows_stop_and_get_help(
    patient: TestClient, web_engine: Engine, kb: KnowledgeBase
) -> None:
    sent = patient.post("/me/mood", data=phq9_form(patient, 1, 1, 0, 0, 0, 0, 0, 0, 1))
    assert sent.status_code == 303
    result = patient.get(sent.headers["location"])
    assert 'role="alert"' in result.text
    assert "Stop taking isotretinoin and get help now." in result.text
    assert kb.symptom("suicidal-thoughts").advice in result.text
    screen = record_of(web_engine, kb).mood_screens[-1]
    assert (screen.on, screen.phq9_total, screen.item9) == (TODAY, 3, 1)


def test_a_high_total_without_self_harm_asks_to_call_the_prescriber(patient: TestClient) -> None:
    patient.post("/me/mood", data=phq9_form(patient, 2, 2, 2, 2, 2, 0, 0, 0, 0))
    result = patient.get("/me/mood/result")
    assert 'role="alert"' not in result.text
    assert "Call your prescriber" in result.text
    assert "<strong>10</strong>" in result.text


def test_a_question_left_out_is_named_and_nothing_is_stored(
    patient: TestClient, web_engine: Engine
) -> None:
    before = version_of(web_engine)
    form = phq9_form(patient, 0, 0, 0, 0, 0, 0, 0, 0)  # item 9 missing
    form["q3"] = "5"
    refused = patient.post("/me/mood", data=form)
    assert refused.status_code == 422
    assert 'id="q9-error"' in refused.text
    assert 'id="q3-error"' in refused.text
    assert 'id="q1-error"' not in refused.text
    assert 'value="0" checked' in refused.text  # the answers given are kept
    assert version_of(web_engine) == before


# --- contraception ---------------------------------------------------------------------------
def test_contraception_shows_the_methods_and_the_programmes_verdict(
    patient: TestClient, kb: KnowledgeBase
) -> None:
    page = patient.get("/me/contraception")
    assert page.status_code == 200
    assert kb.contraception_method("implant-etonogestrel").name in page.text
    assert "Your contraception meets the programme" in page.text


def test_a_patient_adds_and_stops_a_method_with_a_confirmation(
    patient: TestClient, web_engine: Engine, kb: KnowledgeBase
) -> None:
    form = {"csrf_token": csrf_token(patient, "/me/contraception"), "method": "diaphragm"}
    assert patient.post("/me/contraception/start", data=form).status_code == 303
    page = patient.get("/me/contraception")
    name = kb.contraception_method("diaphragm").name
    assert f"Saved: you use {name} from today." in page.text
    assert "Yes, I stopped it" in page.text  # the confirmation step of each stop button
    form = {"csrf_token": csrf_token(patient, "/me/contraception"), "method": "diaphragm"}
    assert patient.post("/me/contraception/stop", data=form).status_code == 303
    record = record_of(web_engine, kb)
    assert record.contraception_in_use("diaphragm") is None
    assert any(u.method == "diaphragm" and u.end == TODAY for u in record.contraception)


def test_starting_without_a_method_is_refused_next_to_the_field(
    patient: TestClient, web_engine: Engine
) -> None:
    before = version_of(web_engine)
    form = {"csrf_token": csrf_token(patient, "/me/contraception"), "method": ""}
    refused = patient.post("/me/contraception/start", data=form)
    assert refused.status_code == 422
    assert 'id="field-method-error"' in refused.text
    assert version_of(web_engine) == before


# --- comprehension questions -----------------------------------------------------------------
def test_answering_the_questions_records_them_and_explains_wrong_answers(
    patient: TestClient, web_engine: Engine, kb: KnowledgeBase
) -> None:
    bank = kb.questions(kb.text("ppp.default_programme"))
    form = {f"answer-{q.id}": str(q.correct) for q in bank}
    first = bank[0]
    form[f"answer-{first.id}"] = str((first.correct + 1) % len(first.options))
    form["csrf_token"] = csrf_token(patient, "/me/questions")
    sent = patient.post("/me/questions", data=form)
    assert sent.status_code == 303
    result = patient.get("/me/questions/result")
    assert f"1 of {len(bank)} answers were not right" in result.text
    assert first.explanation in result.text
    check = record_of(web_engine, kb).comprehension_checks[-1]
    assert check.on == TODAY
    assert check.wrong == (first.id,)


def test_a_question_left_unanswered_is_named_next_to_it(
    patient: TestClient, web_engine: Engine, kb: KnowledgeBase
) -> None:
    bank = kb.questions(kb.text("ppp.default_programme"))
    form = {f"answer-{q.id}": str(q.correct) for q in bank[1:]}
    form["csrf_token"] = csrf_token(patient, "/me/questions")
    before = version_of(web_engine)
    refused = patient.post("/me/questions", data=form)
    assert refused.status_code == 422
    assert f'id="answer-{bank[0].id}-error"' in refused.text
    assert version_of(web_engine) == before


# --- access ----------------------------------------------------------------------------------
PAGES = (
    "/me", "/me/schedule.ics", "/me/symptoms", "/me/symptoms/advice", "/me/mood",
    "/me/mood/total", "/me/mood/result", "/me/contraception", "/me/questions",
    "/me/questions/result",
)  # fmt: skip
FORMS = (
    "/me/missed-doses", "/me/symptoms", "/me/mood", "/me/contraception/start",
    "/me/contraception/stop", "/me/questions",
)  # fmt: skip


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.NURSE, Role.PHARMACIST, Role.ADMIN])
def test_staff_accounts_get_the_403_page_on_patient_pages_and_it_is_audited(
    sign_in: SignIn, web_engine: Engine, role: Role
) -> None:
    client = sign_in(role)
    assert client.get("/me").status_code == 403
    with web_engine.connect() as connection:
        actions = connection.execute(select(AuditRow.action)).scalars().all()
    holds_self_report = role in (Role.PRESCRIBER, Role.NURSE)  # may report for a patient
    expected = "denied:patient-portal" if holds_self_report else f"denied:{Action.SELF_REPORT}"
    assert expected in actions


def test_every_patient_page_sends_anonymous_visitors_to_sign_in(anonymous: TestClient) -> None:
    for path in PAGES:
        answer = anonymous.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next="), path


@pytest.mark.parametrize("path", FORMS)
def test_patient_forms_without_the_csrf_token_are_refused_and_change_nothing(
    patient: TestClient, web_engine: Engine, path: str
) -> None:
    before = version_of(web_engine)
    form = {"symptoms": "dry-lips", "method": "diaphragm", "days": TODAY.isoformat()}
    form.update({f"q{n}": "0" for n in range(1, 10)})
    answer = patient.post(path, data=form)
    assert answer.status_code == 403
    assert version_of(web_engine) == before


def test_a_man_is_not_offered_a_late_period_and_cannot_report_one(
    web_app: FastAPI, web_engine: Engine, kb: KnowledgeBase
) -> None:
    """Issue 13: items that cannot apply to a patient are not offered."""
    user = create_user(
        web_engine, "ben-patient", Role.PATIENT, now=WEB_NOW, actor="test", patient_id="demo-ben"
    )
    with page_client(web_app) as ben:
        sign_in_as(ben, Account(user.username, Role.PATIENT, user.password, None, "demo-ben"))
        form = ben.get("/me/symptoms")
        assert kb.symptom("missed-period").text not in form.text
        assert kb.symptom("dry-lips").text in form.text
        before = version_of(web_engine, "demo-ben")
        data = {"csrf_token": csrf_token(ben, "/me"), "symptoms": ["missed-period"]}
        refused = ben.post("/me/symptoms", data=data)
        assert refused.status_code == 422
        assert version_of(web_engine, "demo-ben") == before
