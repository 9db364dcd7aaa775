"""One truth everywhere (issue 13), in the browser as the clinic and its patients
see it: each bug the issue found, on the demo clinic, with axe on every page.

- a patient who stops one of her two methods is not told, just below, that it still
  meets the programme;
- the patient page of Ben Okafor (triglycerides 620 mg/dL) lists them in the
  findings of the day, as the dashboard does;
- "paused since" is the day of the pause (Jonas Weber), not the course start;
- a lipid recheck done a month late (Luca Costa) is "done late", not done;
- a man is not offered "My period is late".

The HTTP-level walk of every surface for every demo patient is
``tests/web/test_one_truth.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from isotrack.demo.clinic import demo_clinic
from isotrack.http.authz import Role
from isotrack.http.passwords import create_user
from isotrack.knowledge import default_knowledge
from isotrack.store import create_engine_for
from tests.e2e.conftest import LiveServer, assert_accessible, assert_visible, login

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def sign_in_patient(page: Page, live_server: LiveServer, patient_id: str) -> None:
    """A portal account for ``patient_id``, made in the server's database, signed in."""
    engine = create_engine_for(live_server.database_url)
    try:
        user = create_user(
            engine, f"{patient_id}-truth", Role.PATIENT,
            now=datetime.now(UTC), actor="e2e", patient_id=patient_id,
        )  # fmt: skip
    finally:
        engine.dispose()
    page.goto("/login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/login" not in page.url


def test_a_patient_who_stops_a_method_is_not_told_it_still_meets_the_programme(
    page: Page, live_server: LiveServer
) -> None:
    sign_in_patient(page, live_server, "demo-kara")  # combined pill and male condom
    page.goto("/me/contraception")
    status = page.get_by_role("status")
    assert "Your contraception meets the programme" in status.inner_text()
    card = page.locator(".card").filter(has_text="male condom")
    card.locator("summary", has_text="I stopped using this").click()
    with page.expect_navigation():
        card.get_by_role("button", name="Yes, I stopped it").click()
    assert_visible(page.get_by_text("you stopped male condom today"))
    verdict = page.locator(".flash--error[role=status]").inner_text()
    assert "does not meet the programme yet" in verdict
    assert "male condom" not in page.get_by_role("status").filter(has_text="programme").inner_text()
    assert page.locator(".card").filter(has_text="male condom").count() == 0
    assert_accessible(page, context="contraception after stopping a method")


def test_the_clinic_sees_the_same_findings_and_right_statuses(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PRESCRIBER)
    page.goto("/clinic")
    ben_row = page.locator("tr[data-patient=demo-ben]")
    assert "Triglycerides 620 mg/dL" in ben_row.inner_text()

    page.goto("/clinic/patients/demo-ben")
    today = page.locator("section[data-findings=today]")
    lipids = today.locator("[data-rule=LIPIDS-HIGH]")
    assert_visible(lipids)
    assert "Triglycerides 620 mg/dL" in lipids.inner_text()
    assert_accessible(page, context="Ben's patient page")

    page.goto("/clinic/patients/demo-ben/prescribe")
    assert_visible(page.locator("section[data-findings=today] [data-rule=LIPIDS-HIGH]"))
    assert_accessible(page, context="Ben's prescribe page")

    paused = datetime.now(UTC).astimezone().date() - timedelta(days=10)
    page.goto("/clinic/patients/demo-jonas")
    course = page.locator("dl.facts").inner_text()
    assert f"paused since {paused.isoformat()}" in course, course

    page.goto("/clinic/patients/demo-luca")
    recheck = page.get_by_role("row", name="Fasting triglycerides (lipids): recheck 1 month")
    assert "done late" in recheck.inner_text().lower()
    assert_accessible(page, context="Luca's patient page")


def test_a_man_is_not_offered_a_late_period(page: Page, live_server: LiveServer) -> None:
    kb = default_knowledge()
    sign_in_patient(page, live_server, "demo-ben")
    page.goto("/me/symptoms")
    assert_visible(page.get_by_label(kb.symptom("dry-lips").text))
    assert page.get_by_label(kb.symptom("missed-period").text).count() == 0
    assert page.get_by_label(kb.symptom("positive-home-test").text).count() == 0
    assert_accessible(page, context="a man's symptom form")


def test_the_demo_clinic_has_the_patients_these_tests_use() -> None:
    ids = {p.patient_id for p in demo_clinic(datetime.now(UTC).date(), default_knowledge())}
    assert {"demo-kara", "demo-ben", "demo-jonas", "demo-luca"} <= ids
