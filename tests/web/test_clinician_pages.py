"""The clinician pages over HTTP: the dashboard, the patient page, the record
forms, overriding a finding and prescribing (TestClient on the demo clinic)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import Engine

from isotrack.demo.clinic import demo_clinic
from isotrack.http.authz import Role
from isotrack.knowledge import KnowledgeBase
from isotrack.store import read_history
from tests.web.conftest import WEB_NOW, SignIn, csrf_token

PATIENT = "/clinic/patients/demo-ben"
TODAY = date(2026, 3, 2)
DEMO_PATIENTS = len(demo_clinic(TODAY))
"""The demo clinic grows as issues add patients: counted, not written down."""


def commands_of(engine: Engine, patient_id: str) -> list[str]:
    from tests.web.conftest import WEB_NOW

    return [
        type(s.command).__name__ for s in read_history(engine, patient_id, actor="t", now=WEB_NOW)
    ]


# --- the dashboard ----------------------------------------------------------------------
def test_the_dashboard_lists_the_patients_most_urgent_first(sign_in: SignIn) -> None:
    page = sign_in(Role.PRESCRIBER).get("/clinic")
    assert page.status_code == 200
    names = re.findall(r'<th scope="row"><a href="/clinic/patients/[^"]+">([^<]+)</a>', page.text)
    assert len(names) == len(demo_clinic(WEB_NOW.date()))
    assert names[0] == "Jonas Weber"
    assert "Positive mood screen" in page.text
    assert "Enrol a new patient" in page.text


def test_the_dashboard_filters_in_place_for_htmx(sign_in: SignIn) -> None:
    client = sign_in(Role.NURSE)
    full = client.get("/clinic", params={"need": "mood"})
    assert f"Showing 2 of {len(demo_clinic(WEB_NOW.date()))}" in full.text
    partial = client.get(
        "/clinic", params={"need": "mood", "sort": "name"}, headers={"HX-Request": "true"}
    )
    assert partial.status_code == 200
    assert "<html" not in partial.text
    names = re.findall(r'patients/(demo-[a-z]+)">', partial.text)
    assert names == ["demo-dev", "demo-jonas"]


def test_a_filter_that_matches_nobody_shows_an_empty_state(sign_in: SignIn) -> None:
    page = sign_in(Role.PRESCRIBER).get("/clinic", params={"q": "nobody-by-this-name"})
    assert "No patient matches" in page.text
    assert "Show all patients" in page.text


def test_the_pharmacist_and_the_patient_may_not_open_the_clinic(sign_in: SignIn) -> None:
    for role in (Role.PHARMACIST, Role.PATIENT):
        client = sign_in(role)
        assert client.get("/clinic").status_code == 403
        assert client.get(PATIENT).status_code == 403


# --- the patient page -------------------------------------------------------------------
def test_the_patient_page_has_charts_with_thresholds_and_tables(
    sign_in: SignIn, kb: KnowledgeBase
) -> None:
    page = sign_in(Role.PRESCRIBER).get(PATIENT)
    assert page.status_code == 200
    configs = {
        m.group(1): json.loads(m.group(2).replace("&#34;", '"').replace("&quot;", '"'))
        for m in re.finditer(r'id="chart-([a-z]+)" data-chart="([^"]+)"', page.text)
    }
    assert set(configs) >= {"cumulative", "triglycerides", "alt", "weight"}
    tg_levels = {d["data"][0] for d in configs["triglycerides"]["data"]["datasets"][1:]}
    assert tg_levels == {kb.number("tg.warning_mg_dl"), kb.number("tg.critical_mg_dl")}
    assert "Projected to reach the target on" in page.text
    assert "Programme this month" in page.text
    assert "Triglycerides as a table" in page.text
    assert "chart.umd.min.js" in page.text


def test_a_nurse_sees_the_patient_without_prescribe_or_override(sign_in: SignIn) -> None:
    page = sign_in(Role.NURSE).get("/clinic/patients/demo-dev")
    assert page.status_code == 200
    assert "MOOD-PHQ9-POSITIVE" in page.text
    assert "Override with a reason" not in page.text
    assert "/prescribe" not in page.text
    assert "Save weight" in page.text


def test_an_unknown_patient_is_a_404_page(sign_in: SignIn) -> None:
    assert sign_in(Role.PRESCRIBER).get("/clinic/patients/nobody").status_code == 404


# --- recording --------------------------------------------------------------------------
def test_recording_a_weight_stores_it_and_says_so(sign_in: SignIn, web_engine: Engine) -> None:
    client = sign_in(Role.NURSE)
    token = csrf_token(client, PATIENT)
    response = client.post(
        f"{PATIENT}/record/weight",
        data={"csrf_token": token, "value": "81.5", "unit": "kg", "on": "2026-03-02"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == PATIENT
    assert commands_of(web_engine, "demo-ben")[-1] == "RecordWeight"
    assert "Weight recorded" in client.get(PATIENT).text


def test_an_impossible_weight_is_refused_next_to_its_field(
    sign_in: SignIn, web_engine: Engine
) -> None:
    client = sign_in(Role.NURSE)
    before = commands_of(web_engine, "demo-ben")
    token = csrf_token(client, PATIENT)
    response = client.post(
        f"{PATIENT}/record/weight", data={"csrf_token": token, "value": "900", "unit": "kg"}
    )
    assert response.status_code == 422
    assert re.search(r'id="weight-value-error">.*outside the possible', response.text, re.S)
    assert commands_of(web_engine, "demo-ben") == before


def test_a_lab_result_without_a_number_says_what_to_enter(sign_in: SignIn) -> None:
    client = sign_in(Role.PRESCRIBER)
    token = csrf_token(client, PATIENT)
    response = client.post(
        f"{PATIENT}/record/lab", data={"csrf_token": token, "analyte": "alt", "value": "high"}
    )
    assert response.status_code == 422
    assert "is not a number" in response.text


@pytest.mark.parametrize(
    ("form", "data", "stored"),
    [
        ("lab", {"analyte": "triglycerides", "value": "4.1", "unit": "mmol/L"}, "RecordLabResult"),
        ("pregnancy-test", {"result": "negative", "setting": "medical"}, "RecordPregnancyTest"),
        ("contraception", {"action": "start", "method": "male-condom"}, "StartContraception"),
        ("lesions", {"nodules": "2", "inflammatory": "5"}, "RecordLesionCount"),
        (
            "note",
            {"topic": "phone call", "note": "dry lips, advised emollient"},
            "RecordCounselling",
        ),
    ],
)
def test_each_record_form_stores_its_command(
    sign_in: SignIn, web_engine: Engine, form: str, data: dict[str, str], stored: str
) -> None:
    client = sign_in(Role.NURSE)
    token = csrf_token(client, PATIENT)
    response = client.post(f"{PATIENT}/record/{form}", data={"csrf_token": token, **data})
    assert response.status_code == 303, response.text
    assert commands_of(web_engine, "demo-ben")[-1] == stored


def test_a_record_form_without_a_csrf_token_is_refused_and_changes_nothing(
    sign_in: SignIn, web_engine: Engine
) -> None:
    before = commands_of(web_engine, "demo-ben")
    client = sign_in(Role.PRESCRIBER)
    for path in (
        f"{PATIENT}/record/weight",
        f"{PATIENT}/findings/LIPIDS-HIGH/override",
        f"{PATIENT}/prescribe",
        f"{PATIENT}/prescribe/check",
        "/clinic/patients/new",
    ):
        assert (
            client.post(path, data={"value": "70", "reason": "other", "note": "x"}).status_code
            == 403
        )
    assert commands_of(web_engine, "demo-ben") == before


# --- overriding -------------------------------------------------------------------------
def test_overriding_a_finding_records_the_reason(sign_in: SignIn, web_engine: Engine) -> None:
    client = sign_in(Role.PRESCRIBER)
    path = "/clinic/patients/demo-dev"
    token = csrf_token(client, path)
    response = client.post(
        f"{path}/findings/MOOD-PHQ9-POSITIVE/override",
        data={
            "csrf_token": token,
            "reason": "already-addressed",
            "note": "seen by psychiatry today",
        },
    )
    assert response.status_code == 303
    page = client.get(path).text
    assert "Overridden on 2026-03-02: Already addressed" in page
    assert "seen by psychiatry today" in page
    assert commands_of(web_engine, "demo-dev")[-1] == "RecordOverride"


def test_an_override_without_a_reason_is_refused_next_to_the_field(sign_in: SignIn) -> None:
    client = sign_in(Role.PRESCRIBER)
    path = "/clinic/patients/demo-dev"
    token = csrf_token(client, path)
    response = client.post(
        f"{path}/findings/MOOD-PHQ9-POSITIVE/override", data={"csrf_token": token, "reason": ""}
    )
    assert response.status_code == 422
    assert 'id="override-MOOD-PHQ9-POSITIVE-reason-error"' in response.text


def test_a_nurse_may_not_override(sign_in: SignIn) -> None:
    client = sign_in(Role.NURSE)
    token = csrf_token(client, "/clinic/patients/demo-dev")
    response = client.post(
        "/clinic/patients/demo-dev/findings/MOOD-PHQ9-POSITIVE/override",
        data={"csrf_token": token, "reason": "not-applicable"},
    )
    assert response.status_code == 403


# --- enrol and prescribe ----------------------------------------------------------------
def enrol_new(client, web_engine: Engine) -> str:  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/clinic/patients/new")
    response = client.post(
        "/clinic/patients/new",
        data={
            "csrf_token": token, "name": "Noor Test", "birth_date": "2001-04-05", "sex": "male",
            "pregnancy_capability": "", "counselled": "yes",
        },
    )  # fmt: skip
    assert response.status_code == 303, response.text
    path = response.headers["location"]
    token = csrf_token(client, path)
    saved = client.post(
        f"{path}/record/weight", data={"csrf_token": token, "value": "70", "unit": "kg"}
    )
    assert saved.status_code == 303
    return path


def test_enrolling_without_a_name_or_birth_date_shows_the_messages(sign_in: SignIn) -> None:
    client = sign_in(Role.NURSE)
    token = csrf_token(client, "/clinic/patients/new")
    response = client.post("/clinic/patients/new", data={"csrf_token": token, "sex": "male"})
    assert response.status_code == 422
    assert 'id="field-name-error"' in response.text
    assert 'id="field-birth_date-error"' in response.text


def test_the_prescribe_form_opens_with_the_planners_dose_screened(
    sign_in: SignIn, web_engine: Engine
) -> None:
    client = sign_in(Role.PRESCRIBER)
    path = enrol_new(client, web_engine)
    page = client.get(f"{path}/prescribe", params={"product": "absorica"})
    assert page.status_code == 200
    assert "The planner suggests" in page.text
    assert 'name="morning_mg" value="35"' in page.text  # 35 mg twice a day (70 kg)
    assert 'name="evening_mg" value="35"' in page.text
    assert "60 × 35 mg capsules (60 in all)" in page.text
    assert "BASELINE-LABS-MISSING" in page.text


def test_a_new_patient_is_planned_and_prescribed_with_a_warning_overridden(
    sign_in: SignIn, web_engine: Engine
) -> None:
    client = sign_in(Role.PRESCRIBER)
    path = enrol_new(client, web_engine)
    patient_id = path.rsplit("/", 1)[1]
    token = csrf_token(client, f"{path}/prescribe?product=absorica")
    order = {
        "csrf_token": token, "prescription_id": "rx-web-1", "product": "absorica",
        "dose_mg": "35", "times_per_day": "2", "strength_mg": "35", "quantity": "60",
        "supply_days": "30",
    }  # fmt: skip
    unreasoned = client.post(f"{path}/prescribe", data=order)
    assert unreasoned.status_code == 422
    assert 'id="override-BASELINE-LABS-MISSING-error"' in unreasoned.text
    order["override-BASELINE-LABS-MISSING"] = "already-addressed"
    order["override-note-BASELINE-LABS-MISSING"] = "labs drawn today"
    stored = client.post(f"{path}/prescribe", data=order)
    assert stored.status_code == 303, stored.text
    assert commands_of(web_engine, patient_id)[-3:] == [
        "StartCourse",
        "RecordOverride",
        "Prescribe",
    ]
    assert "Prescription rx-web-1 stored" in client.get(path).text


def test_a_critical_finding_blocks_the_order_and_nothing_is_stored(
    sign_in: SignIn, web_engine: Engine
) -> None:
    client = sign_in(Role.PRESCRIBER)
    path = enrol_new(client, web_engine)
    patient_id = path.rsplit("/", 1)[1]
    before = commands_of(web_engine, patient_id)
    token = csrf_token(client, f"{path}/prescribe?product=absorica")
    order = {
        "csrf_token": token, "prescription_id": "rx-web-2", "product": "absorica",
        "dose_mg": "100", "times_per_day": "2", "strength_mg": "40", "quantity": "150",
        "supply_days": "30", "override-BASELINE-LABS-MISSING": "already-addressed",
    }  # fmt: skip
    check = client.post(f"{path}/prescribe/check", data=order, headers={"HX-Request": "true"})
    assert check.status_code == 200
    assert "Blocked:" in check.text
    assert "Yes, prescribe" not in check.text
    refused = client.post(f"{path}/prescribe", data=order)
    assert refused.status_code == 422
    assert "DOSE-ABOVE-RANGE" in refused.text
    assert commands_of(web_engine, patient_id) == before


def test_a_nurse_may_not_prescribe(sign_in: SignIn) -> None:
    assert sign_in(Role.NURSE).get(f"{PATIENT}/prescribe").status_code == 403


def test_the_dashboard_audits_one_read_of_each_record(sign_in: SignIn, web_engine: Engine) -> None:
    from isotrack.store import UnitOfWork

    def reads() -> int:
        with UnitOfWork(web_engine) as uow:
            return sum(1 for e in uow.audit.entries() if e.action == "read")

    before = reads()
    assert sign_in(Role.NURSE).get("/clinic").status_code == 200
    assert reads() - before == len(demo_clinic(WEB_NOW.date()))


# --- course actions ---------------------------------------------------------------------
def test_a_prescriber_pauses_resumes_and_ends_a_course(sign_in: SignIn, web_engine: Engine) -> None:
    client = sign_in(Role.PRESCRIBER)
    path = "/clinic/patients/demo-grace"
    assert "End the course" in client.get(path).text
    token = csrf_token(client, path)
    no_reason = client.post(f"{path}/course/pause", data={"csrf_token": token})
    assert no_reason.status_code == 422
    assert 'id="course-pause-reason-error"' in no_reason.text
    for step, data in (
        ("pause", {"reason": "holiday"}),
        ("resume", {}),
        ("end", {"reason": "clear"}),
    ):
        response = client.post(f"{path}/course/{step}", data={"csrf_token": token, **data})
        assert response.status_code == 303, response.text
    assert commands_of(web_engine, "demo-grace")[-3:] == [
        "PauseCourse",
        "ResumeCourse",
        "EndCourse",
    ]
    assert "End the course" not in client.get(path).text


def test_resuming_a_course_that_is_not_paused_is_refused(sign_in: SignIn) -> None:
    client = sign_in(Role.PRESCRIBER)
    path = "/clinic/patients/demo-grace"
    token = csrf_token(client, path)
    response = client.post(f"{path}/course/resume", data={"csrf_token": token})
    assert response.status_code == 422
    assert "not paused" in response.text


def test_a_nurse_has_no_course_actions(sign_in: SignIn) -> None:
    client = sign_in(Role.NURSE)
    path = "/clinic/patients/demo-grace"
    assert "End the course" not in client.get(path).text
    token = csrf_token(client, path)
    response = client.post(f"{path}/course/end", data={"csrf_token": token, "reason": "x"})
    assert response.status_code == 403


def test_the_prescribe_form_reads_the_record_once(sign_in: SignIn, web_engine: Engine) -> None:
    from isotrack.store import UnitOfWork

    def reads() -> int:
        with UnitOfWork(web_engine) as uow:
            return sum(1 for e in uow.audit.entries("demo-grace") if e.action == "read")

    client = sign_in(Role.PRESCRIBER)
    before = reads()
    assert client.get("/clinic/patients/demo-grace/prescribe").status_code == 200
    assert reads() - before == 1


def test_htmx_restoring_history_gets_the_whole_page(sign_in: SignIn) -> None:
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    page = sign_in(Role.NURSE).get("/clinic", params={"need": "mood"}, headers=headers)
    assert "<html" in page.text


def test_a_prescription_drawn_from_an_old_version_of_the_record_is_refused(
    sign_in: SignIn, web_engine: Engine
) -> None:
    client = sign_in(Role.PRESCRIBER)
    path = enrol_new(client, web_engine)
    patient_id = path.rsplit("/", 1)[1]
    form = client.get(f"{path}/prescribe", params={"product": "absorica"}).text
    seen = re.search(r'name="version" value="(\d+)"', form)
    assert seen is not None
    token = csrf_token(client, path)
    client.post(f"{path}/record/note", data={"csrf_token": token, "topic": "meanwhile"})
    before = commands_of(web_engine, patient_id)
    order = {
        "csrf_token": token, "prescription_id": "rx-old", "product": "absorica",
        "dose_mg": "35", "times_per_day": "2", "strength_mg": "35", "quantity": "60",
        "supply_days": "30", "version": seen.group(1),
        "override-BASELINE-LABS-MISSING": "already-addressed",
    }  # fmt: skip
    response = client.post(f"{path}/prescribe", data=order)
    assert response.status_code == 409
    assert commands_of(web_engine, patient_id) == before


def test_an_unknown_record_form_is_a_404_page(sign_in: SignIn) -> None:
    client = sign_in(Role.NURSE)
    token = csrf_token(client, PATIENT)
    response = client.post(f"{PATIENT}/record/blood-type", data={"csrf_token": token})
    assert response.status_code == 404
    assert "<html" in response.text
