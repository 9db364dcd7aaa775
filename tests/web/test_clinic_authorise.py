"""The prescriber authorises a dispense from the clinic's patient page (issue 15),
over HTTP: the button only when the programme allows it today, else the unmet
requirements; a confirmation, CSRF, the prescriber's role; a refusal in the error
summary with nothing stored; the printable card with a QR code whose token verifies
with the clinic's public keys."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import Engine

from isotrack.clinical.state.commands import (
    AnyCommand,
    EnrolPatient,
    Prescribe,
    RecordCounselling,
    RecordWeight,
    StartCourse,
)
from isotrack.http.authz import Role
from isotrack.knowledge import KnowledgeBase
from isotrack.store import execute, read_record
from isotrack.store.ppp_records import verify_here
from tests.web.conftest import WEB_NOW, SignIn, TestClient, csrf_token

SAM = "w15-ui-sam"
PAGE = f"/clinic/patients/{SAM}"
AUTHORISE = f"{PAGE}/authorizations"
PRINT = f"{PAGE}/authorisation"
TODAY = WEB_NOW.date()


def enrol_sam(engine: Engine, kb: KnowledgeBase, *, prescribed: bool) -> None:
    """Sam cannot get pregnant: counselled at enrolment, a course; prescribed today
    when ``prescribed``."""
    commands: list[AnyCommand] = [
        EnrolPatient(
            on=TODAY, patient_id=SAM, name="Sam Quinlan", birth_date=date(1997, 11, 23),
            sex="male",
        ),
        RecordCounselling(on=TODAY, topic="enrolment"),
        RecordWeight(on=TODAY, value=70),
        StartCourse(on=TODAY, course_id="c1", product="conventional"),
    ]  # fmt: skip
    if prescribed:
        prescription = Prescribe(
            on=TODAY, prescription_id="rx1", dose_mg=35, times_per_day=2, strength_mg=35,
            quantity=60, supply_days=30,
        )  # fmt: skip
        commands.append(prescription)
    for command in commands:
        execute(engine, SAM, command, actor="demo-prescriber", now=WEB_NOW, kb=kb)


def authorisations(engine: Engine, kb: KnowledgeBase) -> list[str]:
    record, _ = read_record(engine, SAM, actor="test", now=WEB_NOW, kb=kb)
    return [a.id for c in record.courses for a in c.authorizations]


@pytest.fixture
def prescribed(web_engine: Engine, kb: KnowledgeBase) -> None:
    enrol_sam(web_engine, kb, prescribed=True)


def authorise(client: TestClient) -> str:
    """Post the patient page's authorise form as it is drawn; the response's location."""
    page = client.get(PAGE).text
    version = re.search(
        r'action="/clinic/patients/[^"]+/authorizations".*?name="version" value="(\d+)"',
        page,
        re.S,
    )
    assert version is not None, "no authorise form on the patient page"
    response = client.post(
        AUTHORISE, data={"csrf_token": csrf_token(client, PAGE), "version": version.group(1)}
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


@pytest.mark.usefixtures("prescribed")
def test_the_prescriber_authorises_after_confirming_and_prints_the_card(
    sign_in: SignIn, web_engine: Engine, kb: KnowledgeBase
) -> None:
    client = sign_in(Role.PRESCRIBER)
    page = client.get(PAGE).text
    assert "Every requirement of the programme is met today" in page
    assert "Authorise a dispense" in page
    assert "Yes, authorise it" in page  # the confirmation step, as the other actions
    assert "Print the authorisation" not in page  # nothing to print yet

    assert authorise(client) == PAGE
    [issued] = authorisations(web_engine, kb)
    after = client.get(PAGE).text
    assert f"Authorisation {issued} created: up to 60 capsules of prescription rx1" in after
    assert f"Authorisation <strong>{issued}</strong> is in force" in after
    assert "Yes, authorise it" not in after  # one authorisation is in force
    assert f'href="{PRINT}"' in after

    card = client.get(PRINT)
    assert card.status_code == 200
    assert f'data-authorisation="{issued}"' in card.text
    assert "23 November 1997" in card.text
    assert "60 capsules of 35 mg" in card.text
    assert '<svg role="img" aria-label="QR code of the authorisation"' in card.text
    assert 'src="/static/authorisation.js"' in card.text  # the "Print it" button
    token = re.search(r"data-token>([^<]+)<", card.text)
    assert token is not None
    verified = verify_here(web_engine, html.unescape(token.group(1)), now=WEB_NOW, on=TODAY)
    assert (verified.id, verified.patient_name, verified.capsules) == (
        issued,
        "Sam Quinlan",
        ((35.0, 60),),
    )
    assert verified.prescriber == "demo-prescriber"


def test_with_requirements_missing_the_page_lists_them_and_a_post_stores_nothing(
    sign_in: SignIn, web_engine: Engine, kb: KnowledgeBase
) -> None:
    enrol_sam(web_engine, kb, prescribed=False)
    client = sign_in(Role.PRESCRIBER)
    page = client.get(PAGE).text
    assert "A dispense cannot be authorised today" in page
    assert "Not met:</strong> a prescription" in page
    assert "Yes, authorise it" not in page
    _, before = read_record(web_engine, SAM, actor="test", now=WEB_NOW, kb=kb)

    response = client.post(AUTHORISE, data={"csrf_token": csrf_token(client, PAGE)})
    assert response.status_code == 422
    assert "There is a problem: nothing was saved" in response.text
    assert 'href="#authorise-refused"' in response.text
    assert 'id="authorise-refused"' in response.text
    assert "The authorisation was not created" in response.text
    _, after = read_record(web_engine, SAM, actor="test", now=WEB_NOW, kb=kb)
    assert after == before
    assert authorisations(web_engine, kb) == []
    assert client.get(PRINT).text.count("No authorisation to print") == 1


@pytest.mark.usefixtures("prescribed")
def test_the_authorise_post_needs_a_csrf_token(
    sign_in: SignIn, web_engine: Engine, kb: KnowledgeBase
) -> None:
    client = sign_in(Role.PRESCRIBER)
    refused = client.post(AUTHORISE, data={})
    assert refused.status_code == 403
    assert "did not come from this site" in refused.text
    assert client.post(AUTHORISE, data={"csrf_token": "forged"}).status_code == 403
    assert authorisations(web_engine, kb) == []


@pytest.mark.usefixtures("prescribed")
def test_a_nurse_neither_sees_nor_may_use_the_prescribers_authorisation(
    sign_in: SignIn, web_engine: Engine, kb: KnowledgeBase
) -> None:
    client = sign_in(Role.NURSE)
    page = client.get(PAGE).text
    assert "Authorise a dispense" not in page
    assert "Dispensing authorisation" not in page
    response = client.post(AUTHORISE, data={"csrf_token": csrf_token(client, PAGE)})
    assert response.status_code == 403
    assert "may not authorization create" in response.text  # the role, not the CSRF token
    assert client.get(PRINT).status_code == 403
    assert authorisations(web_engine, kb) == []


@pytest.mark.usefixtures("prescribed")
def test_a_pharmacist_may_not_use_the_prescribers_authorise_post(
    sign_in: SignIn, web_engine: Engine, kb: KnowledgeBase
) -> None:
    """The pharmacist authorises from the pharmacy's check page, not the clinic's."""
    client = sign_in(Role.PHARMACIST)
    response = client.post(AUTHORISE, data={"csrf_token": csrf_token(client, "/pharmacy")})
    assert response.status_code == 403
    assert "may not findings read" in response.text  # the clinic's pages are not theirs
    assert client.get(PRINT).status_code == 403
    assert authorisations(web_engine, kb) == []
    assert "Create the authorisation" in client.get(f"/pharmacy/patients/{SAM}").text


@pytest.mark.usefixtures("prescribed")
def test_a_form_drawn_before_another_change_is_refused_and_stores_nothing(
    sign_in: SignIn, web_engine: Engine, kb: KnowledgeBase
) -> None:
    client = sign_in(Role.PRESCRIBER)
    token = csrf_token(client, PAGE)
    _, stored = read_record(web_engine, SAM, actor="test", now=WEB_NOW, kb=kb)
    stale = str(stored - 1)
    response = client.post(AUTHORISE, data={"csrf_token": token, "version": stale})
    assert response.status_code == 409
    assert authorisations(web_engine, kb) == []
