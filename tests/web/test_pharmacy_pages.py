"""The pharmacist's pages over HTTP: look-up, today's check, authorisation, dispense."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from isotrack.clinical.state.commands import (
    AnyCommand,
    RecordAuthorization,
    RecordComprehensionAnswers,
    RecordPregnancyTest,
)
from isotrack.http.authz import Role
from isotrack.knowledge import KnowledgeBase
from isotrack.store import UnitOfWork, execute, read_record
from tests.web.conftest import WEB_NOW, SignIn, TestClient, csrf_token
from tests.web.test_pharmacy_view import answers, lapsed_window_story, prescribe

PIA = "w3-pia"
CHECK = f"/pharmacy/patients/{PIA}"


def record_commands(engine: Engine, kb: KnowledgeBase, *commands: AnyCommand) -> None:
    for command in commands:
        at = datetime.combine(command.on, WEB_NOW.timetz())
        execute(engine, PIA, command, actor="test", now=at, kb=kb)


def version_of(engine: Engine, patient_id: str = PIA) -> int:
    with UnitOfWork(engine) as uow:
        return uow.patients.version(patient_id)


def version_on(page: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match is not None, "no version field on the page"
    return match.group(1)


@pytest.fixture
def lapsed(web_engine: Engine, kb: KnowledgeBase) -> None:
    """Pia: month 2's prescription rests on a test whose window closed yesterday."""
    record_commands(web_engine, kb, *lapsed_window_story(kb))


@pytest.fixture
def authorised(lapsed: None, web_engine: Engine, kb: KnowledgeBase) -> None:
    """Pia, after a new test and prescription: authorisation PA-TEST in force."""
    record_commands(
        web_engine, kb,
        RecordPregnancyTest(on=WEB_NOW.date(), result="negative"),
        RecordComprehensionAnswers(on=WEB_NOW.date(), answers=answers(kb)),
        prescribe(0, "rx3"),
        RecordAuthorization(
            on=WEB_NOW.date(), authorization_id="PA-TEST", prescription_id="rx3",
            not_after=WEB_NOW.date() + timedelta(days=6), max_quantity=60,
        ),
    )  # fmt: skip


@pytest.fixture
def pharmacist(sign_in: SignIn) -> TestClient:
    return sign_in(Role.PHARMACIST)


def test_an_empty_search_explains_what_to_type(pharmacist: TestClient) -> None:
    page = pharmacist.get("/pharmacy")
    assert page.status_code == 200
    assert "Nobody looked up yet" in page.text
    assert 'name="q"' in page.text


def test_search_by_part_of_a_name_lists_the_patients(pharmacist: TestClient) -> None:
    page = pharmacist.get("/pharmacy", params={"q": "moreau"})
    assert page.status_code == 200
    assert "Ana Moreau" in page.text
    assert 'href="/pharmacy/patients/demo-ana"' in page.text
    assert "Kara Singh" not in page.text


def test_a_search_that_matches_nothing_says_what_to_try(pharmacist: TestClient) -> None:
    page = pharmacist.get("/pharmacy", params={"q": "Nobody By This Name"})
    assert page.status_code == 200
    assert "No patient or authorisation matches" in page.text


def test_an_authorisation_id_opens_its_patients_check(pharmacist: TestClient) -> None:
    found = pharmacist.get("/pharmacy", params={"q": "demo-kara-rx2-pa"})
    assert found.status_code == 303
    assert found.headers["location"] == (
        "/pharmacy/patients/demo-kara?authorization=demo-kara-rx2-pa"
    )
    page = pharmacist.get(found.headers["location"])
    assert "Authorisation demo-kara-rx2-pa" in page.text
    assert "It is not in force today" in page.text


def test_a_month_already_dispensed_says_no_and_what_the_next_prescription_needs(
    pharmacist: TestClient,
) -> None:
    page = pharmacist.get("/pharmacy/patients/demo-ana")
    assert page.status_code == 200
    assert "No: do not dispense today" in page.text
    assert "What the patient needs next" in page.text
    assert "a negative pregnancy test dated 2026-02-24 or later" in page.text


@pytest.mark.usefixtures("lapsed")
def test_refused_without_a_test_in_the_window_then_authorised_and_dispensed(
    pharmacist: TestClient, web_engine: Engine, kb: KnowledgeBase
) -> None:
    refused = pharmacist.get(CHECK)
    assert "No: do not dispense today" in refused.text
    assert "a new negative pregnancy test and a new prescription" in refused.text
    assert "Create the authorisation" not in refused.text

    record_commands(
        web_engine, kb,
        RecordPregnancyTest(on=WEB_NOW.date(), result="negative"),
        RecordComprehensionAnswers(on=WEB_NOW.date(), answers=answers(kb)),
        prescribe(0, "rx3"),
    )  # fmt: skip
    ready = pharmacist.get(CHECK)
    assert "every requirement is met" in ready.text
    form = {"csrf_token": csrf_token(pharmacist, CHECK), "version": version_on(ready.text)}
    created = pharmacist.post(f"{CHECK}/authorizations", data=form)
    assert created.status_code == 303
    authorised = pharmacist.get(CHECK)
    issued = re.search(r"Authorisation (PA-[A-Z0-9]{10}) created", authorised.text)
    assert issued is not None
    assert "Yes: dispense up to 60 capsules (60 × 30 mg) under authorisation " + issued.group(
        1
    ) in (authorised.text)

    form = {
        "csrf_token": csrf_token(pharmacist, CHECK),
        "version": version_on(authorised.text),
        "prescription_id": "rx3",
        "quantity": "60",
    }
    dispensed = pharmacist.post(f"{CHECK}/dispense", data=form)
    assert dispensed.status_code == 303
    after = pharmacist.get(CHECK)
    assert "Dispense recorded: 60 capsules of prescription rx3" in after.text
    assert "No: do not dispense today" in after.text
    record, _ = read_record(web_engine, PIA, actor="test", now=WEB_NOW, kb=kb)
    course = record.current_course
    assert course is not None
    assert [(d.prescription_id, d.quantity) for d in course.dispenses][-1] == ("rx3", 60)


@pytest.mark.usefixtures("lapsed")
def test_authorising_when_the_programme_refuses_shows_why_and_stores_nothing(
    pharmacist: TestClient, web_engine: Engine
) -> None:
    before = version_of(web_engine)
    form = {"csrf_token": csrf_token(pharmacist, CHECK), "version": str(before)}
    refused = pharmacist.post(f"{CHECK}/authorizations", data=form)
    assert refused.status_code == 422
    assert "dispensing authorisation refused" in refused.text
    assert version_of(web_engine) == before


@pytest.mark.usefixtures("authorised")
@pytest.mark.parametrize(
    ("quantity", "message"),
    [("", "Enter the number of capsules"), ("61", "61 capsules is more than the 60 left")],
)
def test_a_bad_quantity_is_refused_next_to_the_field_and_nothing_changes(
    pharmacist: TestClient, web_engine: Engine, quantity: str, message: str
) -> None:
    before = version_of(web_engine)
    form = {
        "csrf_token": csrf_token(pharmacist, CHECK),
        "version": str(before),
        "prescription_id": "rx3",
        "quantity": quantity,
    }
    refused = pharmacist.post(f"{CHECK}/dispense", data=form)
    assert refused.status_code == 422
    field = re.search(r'id="field-quantity-error">(.*?)</p>', refused.text, re.DOTALL)
    assert field is not None
    assert message in field.group(1)
    assert version_of(web_engine) == before


@pytest.mark.usefixtures("authorised")
def test_a_form_drawn_from_an_older_version_is_a_conflict(
    pharmacist: TestClient, web_engine: Engine
) -> None:
    before = version_of(web_engine)
    form = {
        "csrf_token": csrf_token(pharmacist, CHECK),
        "version": str(before - 1),
        "prescription_id": "rx3",
        "quantity": "10",
    }
    answer = pharmacist.post(f"{CHECK}/dispense", data=form)
    assert answer.status_code == 409
    assert "Changed by someone else" in answer.text
    assert version_of(web_engine) == before


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/pharmacy/patients/demo-ana/authorizations", {}),
        ("/pharmacy/patients/demo-ana/dispense", {"prescription_id": "x", "quantity": "1"}),
    ],
)
def test_pharmacy_forms_without_the_csrf_token_are_refused_and_change_nothing(
    pharmacist: TestClient, web_engine: Engine, path: str, form: dict[str, str]
) -> None:
    before = version_of(web_engine, "demo-ana")
    answer = pharmacist.post(path, data=form)
    assert answer.status_code == 403
    assert version_of(web_engine, "demo-ana") == before


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PRESCRIBER, Role.NURSE, Role.ADMIN])
def test_only_the_pharmacist_reaches_the_dispensing_desk(sign_in: SignIn, role: Role) -> None:
    client = sign_in(role)
    assert client.get("/pharmacy").status_code == 403
    assert client.get("/pharmacy/patients/demo-ana").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(anonymous: TestClient) -> None:
    for path in ("/pharmacy", "/pharmacy/patients/demo-ana"):
        answer = anonymous.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


def test_an_unknown_patient_is_a_not_found_page(pharmacist: TestClient) -> None:
    answer = pharmacist.get("/pharmacy/patients/nobody-here")
    assert answer.status_code == 404
