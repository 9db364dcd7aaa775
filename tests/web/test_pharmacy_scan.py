"""The pharmacist's counter check over HTTP: a pasted code verified with the clinic's
public keys, the identity shown, the dispense recorded once; a forged, expired or
unknown code refused with the reason, and nothing stored."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from isotrack.clinical.programme import as_command, authorize_dispense
from isotrack.clinical.state.commands import (
    EnrolPatient,
    Prescribe,
    RecordCounselling,
    RecordWeight,
    StartCourse,
)
from isotrack.http.authz import Role
from isotrack.knowledge import KnowledgeBase
from isotrack.store import execute, read_record
from isotrack.store.ppp_records import signed_token
from tests.web.conftest import WEB_NOW, SignIn, TestClient, csrf_token

SAM = "w15-sam"
TODAY = WEB_NOW.date()


@pytest.fixture
def token(web_engine: Engine, kb: KnowledgeBase) -> str:
    """Sam (cannot get pregnant), prescribed and authorised today; his signed token."""
    for command in (
        EnrolPatient(
            on=TODAY, patient_id=SAM, name="Sam Quinlan", birth_date=date(1997, 11, 23),
            sex="male",
        ),
        RecordCounselling(on=TODAY, topic="enrolment"),
        RecordWeight(on=TODAY, value=70),
        StartCourse(on=TODAY, course_id="c1", product="conventional"),
        Prescribe(
            on=TODAY, prescription_id="rx1", dose_mg=35, times_per_day=2, strength_mg=35,
            quantity=60, supply_days=30,
        ),
    ):  # fmt: skip
        execute(web_engine, SAM, command, actor="dr.kim", now=WEB_NOW, kb=kb)
    record, _ = read_record(web_engine, SAM, actor="test", now=WEB_NOW, kb=kb)
    authorization = authorize_dispense(record, on=TODAY, kb=kb, authorization_id="PA-SAM")
    execute(web_engine, SAM, as_command(authorization), actor="dr.kim", now=WEB_NOW, kb=kb)
    return signed_token(web_engine, authorization, now=WEB_NOW, actor="dr.kim")


@pytest.fixture
def pharmacist(sign_in: SignIn) -> TestClient:
    return sign_in(Role.PHARMACIST)


def check(client: TestClient, token: str) -> str:
    page = client.post(
        "/pharmacy/scan", data={"token": token, "csrf_token": csrf_token(client, "/pharmacy/scan")}
    )
    return page.text if page.status_code == 200 else f"{page.status_code}\n{page.text}"


def test_the_scan_page_offers_the_camera_and_the_pasted_code(pharmacist: TestClient) -> None:
    page = pharmacist.get("/pharmacy/scan")
    assert page.status_code == 200
    assert 'name="token"' in page.text
    assert 'src="/static/authorisation.js"' in page.text
    assert "data-scan hidden" in page.text  # shown by the script only where it can scan


def test_a_valid_code_shows_the_identity_and_the_dispense_is_recorded_once(
    pharmacist: TestClient, token: str
) -> None:
    page = check(pharmacist, token)
    assert "Signature valid: authorisation PA-SAM" in page
    assert "Sam Quinlan" in page
    assert "23 November 1997" in page
    assert "60 capsules of 35 mg" in page
    form = {"token": token}
    unticked = pharmacist.post(
        "/pharmacy/scan/dispense",
        data=form | {"csrf_token": csrf_token(pharmacist, "/pharmacy/scan")},
    )
    assert unticked.status_code == 422
    assert "Confirm that you checked the name and date of birth" in unticked.text
    done = pharmacist.post(
        "/pharmacy/scan/dispense",
        data=form | {"checked": "yes", "csrf_token": csrf_token(pharmacist, "/pharmacy/scan")},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    again = check(pharmacist, token)
    assert "Already dispensed: do not dispense again" in again
    assert f"was dispensed on {TODAY} (60 capsules, by demo-pharmacist)" in again
    twice = pharmacist.post(
        "/pharmacy/scan/dispense",
        data=form | {"checked": "yes", "csrf_token": csrf_token(pharmacist, "/pharmacy/scan")},
    )
    assert twice.status_code == 422


def test_a_changed_or_unknown_code_is_refused(pharmacist: TestClient, token: str) -> None:
    head, body, signature = token.split(".")
    forged = check(pharmacist, f"{head}.{body[:-4]}AAAA.{signature}")
    assert forged.startswith("422")
    assert "Do not dispense" in forged
    malformed = check(pharmacist, "not-a-token")
    assert malformed.startswith("422")
    assert "Do not dispense: is malformed" in malformed
