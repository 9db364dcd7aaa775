"""Browser test of issue 13 point 8: the administrator edits the clinic's settings
in one place (a refused value is shown at the top and next to its field, the
entries kept), and a patient told to call is given those numbers and the crisis
line of the clinic's country. axe-core on each page; screenshot ``clinic-settings.png``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from isotrack.http.authz import Role
from isotrack.knowledge import default_knowledge
from tests.e2e.conftest import (
    LiveServer,
    assert_accessible,
    assert_visible,
    login,
    logout,
    screenshot,
)
from tests.e2e.fresh_patients import fresh_patient
from tests.e2e.test_worklist import sign_in_as

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def test_the_admin_edits_the_settings_and_the_patient_sees_them(
    page: Page, live_server: LiveServer
) -> None:
    kb = default_knowledge()
    username, password = fresh_patient(live_server.database_url, "e2e-omar", "Omar Haddad")
    login(page, live_server, Role.ADMIN)
    page.get_by_role("link", name="Clinic settings").click()
    page.wait_for_url("**/admin/clinic")
    assert_accessible(page, context="clinic settings")

    page.get_by_label("Clinic name").fill("")
    page.get_by_label("Phone number").fill("ring us")
    page.get_by_role("button", name="Save settings").click()
    summary = page.locator(".error-summary")
    assert_visible(summary)
    assert "Enter the clinic's name" in summary.inner_text()
    assert page.get_by_label("Phone number").input_value() == "ring us"
    assert_accessible(page, context="clinic settings with errors")

    page.get_by_label("Clinic name").fill("Harbour Dermatology")
    page.get_by_label("Phone number").fill("020 7946 0123")
    page.get_by_label("Out-of-hours number").fill("020 7946 0999")
    page.get_by_label("Country").select_option("GB")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_url("**/admin/clinic")
    assert_visible(page.get_by_role("status"))
    assert page.get_by_label("Clinic name").input_value() == "Harbour Dermatology"
    screenshot(page, "clinic-settings")
    logout(page)

    sign_in_as(page, username, password)
    page.get_by_role("link", name="Report a side effect").click()
    page.get_by_label(kb.symptom("low-mood").text).check()
    page.get_by_role("button", name="Send and see what to do").click()
    page.wait_for_url("**/me/symptoms/advice")
    call = page.locator(".call-box")
    assert "Harbour Dermatology" in call.inner_text()
    assert_visible(page.get_by_role("link", name="020 7946 0123"))
    assert_visible(page.get_by_role("link", name="020 7946 0999"))
    assert "Samaritans" in call.inner_text()
    assert_visible(page.get_by_role("link", name="116 123"))
    assert_accessible(page, context="advice with the clinic's numbers")
