"""SMART App Launch against a real SMART authorization server (oidc-provider,
tests/oidc/smart_provider.mjs): the launch asks only what isotrack needs, signs the
EHR user in with the role of their ``fhirUser``, keeps the EHR's access token on the
server only; each way a launch can fail ends on a page that says what to do, with
nothing stored (only an ``auth:smart-refused`` audit row)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from isotrack.ehr import link_patient
from isotrack.http.deps import current_time
from isotrack.http.passwords import DEMO_PATIENT_ID
from isotrack.http.sealing import unseal
from isotrack.http.smart import ACCESS_TOKEN_PURPOSE
from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.settings import DEVELOPMENT_KEY
from isotrack.store.models import AuditRow, SmartSessionRow, UserRow
from tests.oidc.smart_provider import SmartProvider, running_smart_provider
from tests.web.conftest import TestClient
from tests.web.smart_fixtures import (
    REDIRECT,
    assert_refused,
    counts,
    https_client,
    launch,
    local,
    query_of,
    refusal_reasons,
    smart_settings,
    start_launch,
    stored,
)

READ_SCOPES = {
    "patient/Patient.rs",
    "patient/Observation.rs",
    "patient/Condition.rs",
    "patient/MedicationRequest.rs",
    "patient/MedicationStatement.rs",
    "patient/Procedure.rs",
}


@pytest.fixture(scope="module")
def provider() -> Iterator[SmartProvider]:
    with running_smart_provider([REDIRECT]) as running:
        yield running


@pytest.fixture
def smart_app(web_engine: Engine, provider: SmartProvider, kb: KnowledgeBase) -> FastAPI:
    return create_app(smart_settings(web_engine, provider), engine=web_engine, kb=kb)


@pytest.fixture
def browser(smart_app: FastAPI) -> Iterator[TestClient]:
    with https_client(smart_app) as client:
        yield client


def test_an_ehr_launch_asks_only_what_isotrack_needs_with_pkce_and_the_ehr_as_audience(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    launch_id = provider.new_launch("ehr-patient-1")
    query = query_of(start_launch(browser, provider.fhir_base, launch_id))
    assert query["launch"] == launch_id
    assert query["aud"] == provider.fhir_base
    assert query["code_challenge_method"] == "S256"
    assert query["response_type"] == "code"
    assert {"state", "nonce", "code_challenge"} <= query.keys()
    assert set(query["scope"].split()) == {"openid", "fhirUser", "launch", *READ_SCOPES}
    assert counts(web_engine)["smart_launches"] == 1


def test_write_back_is_asked_for_only_when_configured(
    web_engine: Engine, provider: SmartProvider, kb: KnowledgeBase
) -> None:
    settings = smart_settings(web_engine, provider, write_back=True)
    app = create_app(settings, engine=web_engine, kb=kb)
    with https_client(app) as client:
        query = query_of(start_launch(client, provider.fhir_base, provider.new_launch("p-1")))
    assert "patient/DocumentReference.c" in query["scope"].split()


def test_a_launch_signs_the_ehr_user_in_and_keeps_the_token_on_the_server_only(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    before = counts(web_engine)
    response = launch(browser, provider, patient="ehr-patient-7")
    assert response.status_code == 303, response.text
    session_cookie = next(
        header
        for header in response.headers.get_list("set-cookie")
        if header.startswith("isotrack_session=")
    )
    assert "samesite=none" in session_cookie.lower()
    assert "secure" in session_cookie.lower()
    after = counts(web_engine)
    assert after["users"] == before["users"] + 1
    assert after["smart_sessions"] == before["smart_sessions"] + 1
    assert after["smart_launches"] == 0
    with web_engine.connect() as connection:
        user = connection.execute(select(UserRow).where(UserRow.username == "dr.smart")).one()
        smart = connection.execute(select(SmartSessionRow)).one()
        audit = connection.scalars(select(AuditRow.action).order_by(AuditRow.id)).all()
    assert user.role == "prescriber"
    assert (smart.iss, smart.patient, smart.embedded) == (provider.fhir_base, "ehr-patient-7", True)
    # the token is stored sealed with the server key (the test key here), nowhere else
    token = unseal(DEVELOPMENT_KEY, smart.access_token, purpose=ACCESS_TOKEN_PURPOSE)
    assert token
    assert token not in smart.access_token
    assert (
        unseal(b"another-server-key" * 2, smart.access_token, purpose=ACCESS_TOKEN_PURPOSE) is None
    )
    for shown in (*response.headers.get_list("set-cookie"), response.headers["location"]):
        assert token not in shown
        assert smart.access_token not in shown
    assert smart.token_expires_at <= smart.expires_at
    assert audit[-1] == "auth:smart-launch"
    # not linked yet: the offer to enrol the EHR's patient (no FHIR server behind this EHR
    # here: tests/e2e/test_smart_launch.py reads a real one)
    assert query_of(response.headers["location"]) == {
        "ehr": provider.fhir_base,
        "patient": "ehr-patient-7",
    }
    assert response.headers["location"].startswith("/smart/enrol?")
    assert browser.get("/clinic").status_code == 200


def test_a_nurse_is_mapped_by_the_fhir_user_resource_type(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    assert launch(browser, provider, "nurse.smart").status_code == 303
    with web_engine.connect() as connection:
        role = connection.scalar(select(UserRow.role).where(UserRow.username == "nurse.smart"))
    assert role == "nurse"


def test_an_unknown_iss_is_refused_with_a_page_and_nothing_stored(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    before = counts(web_engine)
    response = browser.get(
        "/smart/launch", params={"iss": "https://evil.example/fhir", "launch": "x"}
    )
    assert_refused(response, 400, "This EHR is not registered with isotrack")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert counts(web_engine) == before
    assert refusal_reasons(web_engine)[-1].startswith("launch from unregistered iss")


def test_a_launch_without_launch_is_refused_for_an_ehr_only_registration(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    before = counts(web_engine)
    response = browser.get("/smart/launch", params={"iss": provider.fhir_base})
    assert_refused(response, 400, "Open isotrack from the EHR")
    assert "open the patient&#39;s chart" in response.text.lower()
    assert counts(web_engine) == before


def test_a_clinician_who_cancels_at_the_consent_page_gets_a_page_and_nothing_stored(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    before = stored(web_engine)
    response = launch(browser, provider, "declines", cancel=True)
    assert_refused(response, 403, "The EHR did not give isotrack the access it needs")
    assert stored(web_engine) == before
    assert refusal_reasons(web_engine)[-1] == "the EHR answered 'access_denied'"


def test_scopes_granted_without_the_patient_data_are_refused_and_nothing_stored(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    before = stored(web_engine)
    response = launch(browser, provider, "limited")
    assert_refused(response, 403, "The EHR did not give isotrack the access it needs")
    assert stored(web_engine) == before
    reason = refusal_reasons(web_engine)[-1]
    assert reason.startswith("scopes not granted: ")
    assert set(reason.removeprefix("scopes not granted: ").split()) == READ_SCOPES


def test_an_expired_id_token_is_refused_and_nothing_stored(
    smart_app: FastAPI, browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    launch_id = provider.new_launch("ehr-patient-1")
    callback = provider.authorize(start_launch(browser, provider.fhir_base, launch_id), "dr.smart")
    before = stored(web_engine)
    # isotrack's clock an hour on: the ID token (5 minutes) has expired
    later = datetime.now(UTC) + timedelta(hours=1)
    smart_app.dependency_overrides[current_time] = lambda: later
    response = browser.get(local(callback))
    assert_refused(response, 400, "The EHR&#39;s answer could not be checked")
    assert stored(web_engine) == before
    assert "expired" in refusal_reasons(web_engine)[-1]


def test_a_replayed_callback_is_refused_and_nothing_more_stored(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    launch_id = provider.new_launch("ehr-patient-1")
    callback = provider.authorize(start_launch(browser, provider.fhir_base, launch_id), "dr.smart")
    assert browser.get(local(callback)).status_code == 303
    before = stored(web_engine)
    assert_refused(browser.get(local(callback)), 400, "could not be checked")
    assert stored(web_engine) == before
    assert refusal_reasons(web_engine)[-1] == "state unknown, used already or expired"


def test_a_patient_the_ehr_did_not_grant_is_refused_and_nothing_stored(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    before = stored(web_engine)
    # a card opened isotrack for patient B; the EHR's launch context is patient A
    response = launch(
        browser,
        provider,
        patient="patient-a",
        appContext='{"patient": "patient-b", "order": "MedicationRequest/draft-1"}',
    )
    assert_refused(response, 403, "The EHR did not confirm this patient")
    assert stored(web_engine) == before
    assert "the EHR granted patient 'patient-a'" in refusal_reasons(web_engine)[-1]


def test_an_ehr_user_without_a_mapped_role_is_refused_and_nothing_stored(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    before = stored(web_engine)
    response = launch(browser, provider, "visitor")
    assert_refused(response, 403, "Your EHR account has no isotrack role")
    assert stored(web_engine) == before


def test_a_standalone_launch_asks_the_ehr_for_a_patient_and_is_not_embedded(
    web_engine: Engine, provider: SmartProvider, kb: KnowledgeBase
) -> None:
    settings = smart_settings(web_engine, provider, standalone=True)
    app = create_app(settings, engine=web_engine, kb=kb)
    provider.pick_standalone_patient("ehr-patient-3")
    with https_client(app) as client:
        authorization = start_launch(client, provider.fhir_base, None)
        query = query_of(authorization)
        assert "launch" not in query
        assert set(query["scope"].split()) == {"openid", "fhirUser", "launch/patient", *READ_SCOPES}
        response = client.get(local(provider.authorize(authorization, "dr.smart")))
        assert response.status_code == 303, response.text
        cookie = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith("isotrack_session=")
        )
        assert "samesite=lax" in cookie.lower()
        page = client.get("/clinic")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    with web_engine.connect() as connection:
        smart = connection.execute(select(SmartSessionRow)).one()
    assert (smart.patient, smart.embedded) == ("ehr-patient-3", False)


def test_a_linked_patient_whose_ehr_cannot_be_read_opens_with_what_isotrack_holds(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    # the demo patient linked to an EHR patient; this test EHR has no FHIR server behind
    # its FHIR base, so the read fails: the page says so, nothing is added
    link_patient(
        web_engine,
        fhir_base_url=provider.fhir_base,
        ehr_patient_id="ehr-linked-1",
        identifier_system="https://ehr.example.org/mrn",
        identifier_value="MRN-1",
        patient_id=DEMO_PATIENT_ID,
        actor="test",
        now=datetime.now(UTC),
    )
    commands = counts(web_engine)["commands"]
    response = launch(browser, provider, patient="ehr-linked-1")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/clinic/patients/{DEMO_PATIENT_ID}"
    page = browser.get(response.headers["location"])
    assert page.status_code == 200
    assert "isotrack could not read the record from the EHR" in page.text
    assert "shows only what isotrack held already" in page.text
    assert counts(web_engine)["commands"] == commands


def test_a_callback_naming_another_issuer_is_refused_before_any_exchange(
    browser: TestClient, provider: SmartProvider, web_engine: Engine
) -> None:
    launch_id = provider.new_launch("ehr-patient-1")
    callback = provider.authorize(start_launch(browser, provider.fhir_base, launch_id), "dr.smart")
    before = stored(web_engine)
    query = {**query_of(callback), "iss": "http://evil.example"}
    response = browser.get("/smart/callback", params=query)
    assert_refused(response, 400, "could not be checked")
    assert stored(web_engine) == before
    assert refusal_reasons(web_engine)[-1] == "callback from issuer 'http://evil.example'"


def test_once_the_access_token_has_expired_the_ehr_pages_are_closed_but_the_session_stays(
    smart_app: FastAPI, browser: TestClient, provider: SmartProvider
) -> None:
    response = launch(browser, provider, patient="ehr-patient-9")
    enrol = response.headers["location"]
    assert enrol.startswith("/smart/enrol?")
    # the token lives 5 minutes at this EHR; isotrack's clock 10 minutes on
    later = datetime.now(UTC) + timedelta(minutes=10)
    smart_app.dependency_overrides[current_time] = lambda: later
    page = browser.get(enrol)
    assert page.status_code == 403
    assert "Open isotrack from the patient&#39;s chart in the EHR" in page.text
    assert browser.get("/clinic").status_code == 200
