"""Reminder choices over HTTP: the patient chooses text messages with a checked mobile
number, or stops all reminders, on /me/reminders (nothing ticked before the first
choice, an error summary when refused, CSRF); a clinician sets a guardian for a
minor (Hugo Rossi, 15) and is refused for an adult (Ana Moreau, 24). Every change is
audited without the addresses."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from isotrack.delivery.preferences import ContactChoices, Guardian
from isotrack.http.authz import Role
from isotrack.http.passwords import create_user
from isotrack.store.contact_preferences import (
    ACTION,
    read_contact_preferences,
    write_contact_preferences,
)
from isotrack.store.models import AuditRow, ContactPreferencesRow
from tests.web.conftest import WEB_NOW, SignIn, TestClient, csrf_token, page_client, sign_in_as
from tests.web.demo_db import Account

ANA, HUGO = "demo-ana", "demo-hugo"
PAGE = "/me/reminders"
_TICKED = re.compile(r"<input[^>]*type=\"checkbox\"[^>]*checked")


@pytest.fixture
def patient(sign_in: SignIn) -> TestClient:
    return sign_in(Role.PATIENT)


def _save(client: TestClient, path: str = PAGE, page: str = PAGE, **form: object) -> object:
    return client.post(path, data={"csrf_token": csrf_token(client, page), **form})


def _audit(engine: Engine) -> list[tuple[str, str | None, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditRow.actor, AuditRow.patient_id, AuditRow.detail)
            .where(AuditRow.action == ACTION).order_by(AuditRow.id)
        )  # fmt: skip
        return [(r.actor, r.patient_id, r.detail) for r in rows]


def _stored(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(ContactPreferencesRow.patient_id)))


def test_before_a_choice_nothing_is_ticked_and_the_page_says_what_happens(
    patient: TestClient,
) -> None:
    page = patient.get(PAGE)
    assert page.status_code == 200
    assert not _TICKED.search(page.text)
    assert "You have not chosen yet" in page.text
    assert "still shows every iPLEDGE step" in page.text
    home = patient.get("/me")
    assert 'href="/me/reminders"' in home.text


def test_the_patient_chooses_text_messages_with_their_mobile_number(
    patient: TestClient, web_engine: Engine
) -> None:
    answer = _save(patient, channels="sms", phone="+1 555 555 0123")
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]
    page = patient.get(PAGE)
    assert "Your reminder choices are saved." in page.text
    assert "text message to +15555550123" in page.text
    assert re.search(r'id="field-channel-sms"[^>]*checked', page.text)
    assert not re.search(r'id="field-channel-email"[^>]*checked', page.text)
    preferences = read_contact_preferences(web_engine, ANA)
    assert preferences.usable_channels() == {"sms"}
    assert preferences.recipient.phone == "+15555550123"
    [(actor, patient_id, detail)] = _audit(web_engine)
    assert (actor, patient_id) == ("demo-patient", ANA)
    assert "555" not in detail


def test_a_bad_number_is_refused_with_an_error_summary_and_nothing_is_saved(
    patient: TestClient, web_engine: Engine
) -> None:
    answer = _save(patient, channels="sms", phone="555-0123")
    assert answer.status_code == 422  # type: ignore[attr-defined]
    text = answer.text  # type: ignore[attr-defined]
    assert 'class="error-summary"' in text
    assert 'href="#field-phone"' in text
    assert "international form" in text
    assert 'value="555-0123"' in text  # what was typed is kept
    assert _stored(web_engine) == []
    assert _audit(web_engine) == []


def test_email_without_an_address_on_the_account_is_refused(
    patient: TestClient, web_engine: Engine
) -> None:
    answer = _save(patient, channels="email")
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "no email address" in answer.text  # type: ignore[attr-defined]
    assert _stored(web_engine) == []


def test_opting_out_stops_messages_and_the_page_still_shows_the_duties(
    patient: TestClient, web_engine: Engine
) -> None:
    _save(patient, channels="sms", phone="+15555550123")
    answer = _save(patient, channels="sms", phone="+15555550123", opted_out="yes")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    page = patient.get(PAGE)
    assert "You stopped all reminders" in page.text
    assert "still shows every iPLEDGE step" in page.text
    assert re.search(r'id="field-opted_out"[^>]*checked', page.text)
    assert not read_contact_preferences(web_engine, ANA).receives_reminders
    assert patient.get("/me").status_code == 200


def test_without_the_csrf_token_nothing_is_saved(patient: TestClient, web_engine: Engine) -> None:
    answer = patient.post(PAGE, data={"channels": "sms", "phone": "+15555550123"})
    assert answer.status_code == 403
    assert _stored(web_engine) == []


def test_staff_use_the_clinic_page_and_a_patient_cannot(
    patient: TestClient, sign_in: SignIn
) -> None:
    assert patient.get(f"/clinic/patients/{ANA}/reminders").status_code == 403
    assert sign_in(Role.PHARMACIST).get(f"/clinic/patients/{ANA}/reminders").status_code == 403
    staff = sign_in(Role.PRESCRIBER)
    assert staff.get(PAGE).status_code == 403
    assert 'href="/clinic/patients/demo-ana/reminders"' in staff.get(f"/clinic/patients/{ANA}").text


def test_a_clinician_sets_a_guardian_for_a_minor(sign_in: SignIn, web_engine: Engine) -> None:
    nurse = sign_in(Role.NURSE)
    page = f"/clinic/patients/{HUGO}/reminders"
    assert "a minor" in nurse.get(page).text
    form = {"guardian_name": "Rosa Rossi", "guardian_email": "rosa@example.org"}
    answer = _save(nurse, f"{page}/guardian", page, **form)
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]
    recipient = read_contact_preferences(web_engine, HUGO).recipient
    assert (recipient.kind, recipient.name, recipient.email) == (
        "guardian",
        "Rosa Rossi",
        "rosa@example.org",
    )
    assert "guardian: Rosa Rossi" in nurse.get(page).text
    [(actor, patient_id, detail)] = _audit(web_engine)
    assert (actor, patient_id) == ("demo-nurse", HUGO)
    assert "Rosa" not in detail
    assert "rosa@" not in detail
    removed = _save(nurse, f"{page}/guardian/remove", page)
    assert removed.status_code == 303  # type: ignore[attr-defined]
    assert read_contact_preferences(web_engine, HUGO).recipient.kind == "patient"


def test_a_guardian_is_refused_for_an_adult(sign_in: SignIn, web_engine: Engine) -> None:
    prescriber = sign_in(Role.PRESCRIBER)
    page = f"/clinic/patients/{ANA}/reminders"
    assert "an adult" in prescriber.get(page).text
    form = {"guardian_name": "Someone", "guardian_email": "someone@example.org"}
    answer = _save(prescriber, f"{page}/guardian", page, **form)
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert 'href="#field-guardian_name"' in answer.text  # type: ignore[attr-defined]
    assert "the age of majority is 18" in answer.text  # type: ignore[attr-defined]
    assert read_contact_preferences(web_engine, ANA).recipient.kind == "patient"
    assert _stored(web_engine) == []


def test_a_patient_with_an_email_on_their_account_gets_email_by_default(
    web_app: FastAPI, web_engine: Engine
) -> None:
    user = create_user(web_engine, "ben-patient", Role.PATIENT, now=WEB_NOW, actor="test",
                       patient_id="demo-ben", email="ben@example.org")  # fmt: skip
    with page_client(web_app) as ben:
        sign_in_as(ben, Account(user.username, Role.PATIENT, user.password, None, "demo-ben"))
        page = ben.get(PAGE)
        assert "We send reminders by email to ben@example.org" in page.text
        assert not _TICKED.search(page.text)
        answer = _save(ben, channels="email")
        assert answer.status_code == 303  # type: ignore[attr-defined]
    assert read_contact_preferences(web_engine, "demo-ben").usable_channels() == {"email"}


def test_a_guardian_on_file_is_kept_by_the_patients_own_form_and_flagged_once_adult(
    patient: TestClient, sign_in: SignIn, web_engine: Engine
) -> None:
    """A guardian set while Ana was a minor (stored directly: she is 24 now)."""
    guardian = Guardian("Rosa Moreau", None, "+33612345678")
    stored = ContactChoices(channels=frozenset({"sms"}), guardian=guardian)
    write_contact_preferences(web_engine, ANA, stored, actor="dr.then", now=WEB_NOW)
    page = patient.get(PAGE)
    assert "Your clinic sends your reminders to <strong>Rosa Moreau</strong>" in page.text
    answer = _save(patient, channels="sms", phone="+15555550123")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    recipient = read_contact_preferences(web_engine, ANA).recipient
    assert (recipient.kind, recipient.phone) == ("guardian", "+33612345678")
    staff_page = sign_in(Role.NURSE).get(f"/clinic/patients/{ANA}/reminders")
    assert "is now an adult" in staff_page.text
    assert "Remove the guardian" in staff_page.text
