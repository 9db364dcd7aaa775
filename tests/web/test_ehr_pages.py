"""The EHR pages over HTTP, reading a real FHIR R4 server: enrolling the EHR's patient
(the preview, CSRF, the confirmation nothing pre-ticks, the course page with each item's
EHR resource), reading again, the course summary sent only with the scope for it, and
who may do any of it."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI

from isotrack.ehr import find_linked_patient
from isotrack.http.authz import Role
from isotrack.knowledge import KnowledgeBase
from isotrack.store import UnitOfWork
from isotrack.web.ehr_access import EhrAccess
from tests.fhir_server.harness import TOKEN, FhirServer
from tests.web.conftest import SignIn, csrf_token
from tests.web.page_words import internal_words, visible_text

READ_SCOPES = "launch openid fhirUser patient/*.rs"
WRITE_SCOPES = READ_SCOPES + " patient/DocumentReference.c"


def grant(app: FastAPI, server: FhirServer, ehr_id: str, scope: str = READ_SCOPES) -> str:
    """The SMART launch's part: this app's sessions may read ``ehr_id`` with the server's
    token. The query of the EHR pages for that patient."""
    access = EhrAccess(server.url, ehr_id, TOKEN, scope)
    app.state.ehr_access = lambda request, now: access
    return urlencode({"ehr": server.url, "patient": ehr_id})


def documents(server: FhirServer, ehr_id: str) -> int:
    return int(server.read(f"DocumentReference?subject=Patient/{ehr_id}&_count=1")["total"])


def test_enrolling_from_the_ehr_shows_the_record_then_stores_it_with_its_sources(
    web_app: FastAPI, fhir_server: FhirServer, sign_in: SignIn, kb: KnowledgeBase
) -> None:
    ehr_id = fhir_server.patient_id("Carin")
    query = grant(web_app, fhir_server, ehr_id)
    client = sign_in(Role.PRESCRIBER)

    page = client.get(f"/smart/enrol?{query}")
    assert page.status_code == 200, page.text
    text = visible_text(page.text)
    assert "Carin Kerluke" in text
    assert "1996-12-18" in text
    assert "Contraception started: combined oral contraceptive" in text
    assert re.search(r"MedicationRequest/[0-9a-f-]{36}", text)
    assert 'type="checkbox" id="field-confirm" name="confirm" value="yes" required' in page.text
    assert internal_words(text.replace("record(s)", "records"), kb) == []

    refused = client.post(f"/smart/enrol?{query}", data={"confirm": "yes"})
    assert refused.status_code == 403
    token = csrf_token(client, f"/smart/enrol?{query}")
    unconfirmed = client.post(f"/smart/enrol?{query}", data={"csrf_token": token})
    assert unconfirmed.status_code == 422
    assert "There is a problem" in unconfirmed.text
    assert "Tick the box" in unconfirmed.text
    assert find_linked_patient(web_app.state.engine, fhir_server.url, ehr_id) is None

    done = client.post(f"/smart/enrol?{query}", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303, done.text
    patient_id = find_linked_patient(web_app.state.engine, fhir_server.url, ehr_id)
    assert done.headers["location"] == f"/clinic/patients/{patient_id}"
    course = client.get(done.headers["location"])
    assert course.status_code == 200
    assert re.search(r"from EHR: MedicationRequest/[0-9a-f-]{36}", course.text)
    assert client.get(f"/smart/enrol?{query}").headers["location"] == f"/smart/record?{query}"


def test_reading_again_adds_nothing_and_the_summary_needs_the_scope_to_create_documents(
    web_app: FastAPI, fhir_server: FhirServer, sign_in: SignIn
) -> None:
    ehr_id = fhir_server.patient_id("Alfonso")
    query = grant(web_app, fhir_server, ehr_id)
    client = sign_in(Role.PRESCRIBER)
    token = csrf_token(client, f"/smart/enrol?{query}")
    assert client.post(f"/smart/enrol?{query}", data={"csrf_token": token, "confirm": "yes"})
    before = documents(fhir_server, ehr_id)

    again = client.post(f"/smart/record/sync?{query}", data={"csrf_token": token})
    assert again.status_code == 303
    assert "Read the EHR again: 0 items read" in client.get(again.headers["location"]).text
    record = client.get(f"/smart/record?{query}")
    assert "Not available: the EHR did not grant isotrack the right" in record.text
    client.post(f"/smart/record/summary?{query}", data={"csrf_token": token})
    assert documents(fhir_server, ehr_id) == before

    grant(web_app, fhir_server, ehr_id, WRITE_SCOPES)
    sent = client.post(f"/smart/record/summary?{query}", data={"csrf_token": token})
    assert sent.status_code == 303
    shown = client.get(sent.headers["location"]).text
    assert "Course summary sent to the EHR as DocumentReference/" in shown
    assert documents(fhir_server, ehr_id) == before + 1


@pytest.mark.parametrize("role", [Role.PHARMACIST, Role.PATIENT])
def test_only_clinicians_enrol_from_the_ehr(
    web_app: FastAPI, fhir_server: FhirServer, sign_in: SignIn, role: Role
) -> None:
    query = grant(web_app, fhir_server, fhir_server.patient_id("Ammie"))
    assert sign_in(role).get(f"/smart/enrol?{query}").status_code == 403


def test_a_patient_the_session_was_not_granted_is_refused(
    web_app: FastAPI, fhir_server: FhirServer, sign_in: SignIn
) -> None:
    grant(web_app, fhir_server, fhir_server.patient_id("Ammie"))
    other = urlencode({"ehr": fhir_server.url, "patient": fhir_server.patient_id("Elvina")})
    page = sign_in(Role.PRESCRIBER).get(f"/smart/enrol?{other}")
    assert page.status_code == 403
    assert "not granted access to that EHR patient" in page.text


def test_without_an_ehr_session_the_pages_say_so(
    web_app: FastAPI, fhir_server: FhirServer, sign_in: SignIn
) -> None:
    query = urlencode({"ehr": fhir_server.url, "patient": fhir_server.patient_id("Ammie")})
    page = sign_in(Role.NURSE).get(f"/smart/enrol?{query}")
    assert page.status_code == 403
    assert "Open isotrack from the patient's chart in the EHR" in visible_text(page.text)


def test_an_ehr_that_refuses_the_token_gets_a_page_saying_what_it_said(
    web_app: FastAPI, fhir_server: FhirServer, sign_in: SignIn
) -> None:
    ehr_id = fhir_server.patient_id("Ammie")
    access = EhrAccess(fhir_server.url, ehr_id, "a-token-the-ehr-never-granted", READ_SCOPES)
    web_app.state.ehr_access = lambda request, now: access
    query = urlencode({"ehr": fhir_server.url, "patient": ehr_id})

    page = sign_in(Role.PRESCRIBER).get(f"/smart/enrol?{query}")

    assert page.status_code == 502
    text = visible_text(page.text)
    assert f"GET Patient/{ehr_id}: the EHR answered 401: error login" in text
    assert "Nothing was stored" in text
    assert find_linked_patient(web_app.state.engine, fhir_server.url, ehr_id) is None


def test_unlinking_keeps_the_record_and_offers_to_enrol_again(
    web_app: FastAPI, fhir_server: FhirServer, sign_in: SignIn
) -> None:
    ehr_id = fhir_server.patient_id("Elvina")
    query = grant(web_app, fhir_server, ehr_id)
    client = sign_in(Role.NURSE)
    token = csrf_token(client, f"/smart/enrol?{query}")
    client.post(f"/smart/enrol?{query}", data={"csrf_token": token, "confirm": "yes"})
    engine = web_app.state.engine
    patient_id = find_linked_patient(engine, fhir_server.url, ehr_id)
    assert patient_id is not None
    assert client.post(f"/smart/record/unlink?{query}").status_code == 403  # no CSRF token

    done = client.post(f"/smart/record/unlink?{query}", data={"csrf_token": token})

    assert done.headers["location"] == f"/clinic/patients/{patient_id}"
    assert find_linked_patient(engine, fhir_server.url, ehr_id) is None
    assert "from EHR: Observation/" in client.get(done.headers["location"]).text
    assert client.get(f"/smart/record?{query}").headers["location"] == f"/smart/enrol?{query}"
    with UnitOfWork(engine) as uow:
        actions = [e.action for e in uow.audit.entries(patient_id) if e.action.startswith("ehr")]
    assert actions == ["ehr-link:create", "ehr-link:remove"]


def test_an_ehr_patient_without_a_birth_date_gets_a_page_saying_so(
    web_app: FastAPI, fhir_server: FhirServer, sign_in: SignIn
) -> None:
    ehr_id = fhir_server.post(
        {"resourceType": "Patient", "name": [{"family": "Undated"}], "gender": "female"}
    )["id"]
    query = grant(web_app, fhir_server, ehr_id)

    page = sign_in(Role.PRESCRIBER).get(f"/smart/enrol?{query}")

    assert page.status_code == 422
    assert "Patient.birthDate: a new patient needs a birth date" in visible_text(page.text)
