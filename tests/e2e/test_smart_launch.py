"""An EHR launch end to end, in the browser, against real components only:

- the EHR's authorization server: the certified ``oidc-provider`` from npm, set up for
  SMART App Launch (tests/oidc/smart_provider.mjs), whose FHIR base checks its own
  access tokens and forwards to
- the EHR's FHIR server: Medplum's FHIR router with its in-memory repository, from
  npm (tests/fhir_server), loaded with Synthea patients from ``shared/data``;
- ``isotrack serve`` with the EHR registered (``ISOTRACK_SMART_EHRS``).

The clinician opens isotrack from the chart (``/smart/launch?iss=…&launch=…``), signs
in at the EHR, lands on the offer to enrol the EHR's patient, enrols them, and sees
the course page with the weights and lab results read from the FHIR server, each
saying which EHR resource it came from. A second launch reads the EHR again and adds
nothing twice; a card's launch with a draft order opens the prescribe page. Every
isotrack page on the way passes axe; the course page is saved to docs/screenshots/.
Inside the EHR's own chart page (another origin, in ``frame_origins``), the same
launch, sign-in and enrolment run in a frame.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from isotrack.store import create_engine_for
from isotrack.store.models import CommandRow, SmartSessionRow
from tests.e2e.conftest import (
    LiveServer,
    assert_accessible,
    free_port,
    open_page,
    screenshot,
    serve,
)
from tests.fhir_server.harness import FhirServer
from tests.oidc.smart_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    SmartProvider,
    running_smart_provider,
)

pytestmark = pytest.mark.e2e

if TYPE_CHECKING:  # playwright itself is imported by the fixtures, when it is installed
    from playwright.sync_api import Browser, Page


def expect(locator: Any) -> Any:
    """Playwright's ``expect`` (imported here: playwright is there once a fixture ran)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


PATIENT = "Alfonso"
"""A Synthea patient with body weights, lipid panels and liver enzymes."""
FROM_EHR = r" \(recorded by dr\.smart, from EHR: (Observation/[\w-]+)\)"
WEIGHT_FROM_EHR = re.compile(r"Weight [\d.]+ kg" + FROM_EHR)
LAB_FROM_EHR = re.compile(r"(?:Total|LDL|HDL) cholesterol [\d.]+ mg/dL" + FROM_EHR)


@pytest.fixture(scope="module")
def smart_server(fhir_server: FhirServer) -> Iterator[tuple[LiveServer, SmartProvider]]:
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/smart/callback"
    with running_smart_provider(
        [redirect], fhir_upstream=fhir_server.url, upstream_token=fhir_server.token
    ) as provider:
        registration = {
            "iss": provider.fhir_base,
            "name": "Test EHR",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "frame_origins": [provider.issuer],
            "roles": {"Practitioner": "prescriber"},
        }
        env = {
            "ISOTRACK_SMART_EHRS": json.dumps([registration]),
            "ISOTRACK_SMART_REDIRECT_URL": redirect,
        }
        with serve(env, port=port) as server:
            yield server, provider


@pytest.fixture
def smart_page(browser: Browser, smart_server: tuple[LiveServer, SmartProvider]) -> Iterator[Page]:
    with open_page(browser, smart_server[0].url) as page:
        yield page


def launch_from_chart(
    page: Page, provider: SmartProvider, ehr_patient: str, **context: str
) -> None:
    """What the EHR does when the clinician opens isotrack from the chart, then the
    clinician signing in at the EHR's sign-in page."""
    launch = provider.new_launch(ehr_patient, **context)
    page.goto("/smart/launch?" + urlencode({"iss": provider.fhir_base, "launch": launch}))
    if page.locator("input[name=login]").count():  # the EHR's session may be open already
        page.locator("input[name=login]").fill("dr.smart")
        page.locator("input[name=password]").fill("any password")
        with page.expect_navigation(url=lambda url: "/interaction/" not in url):
            page.get_by_role("button", name="Sign-in").click()
    page.wait_for_load_state()


def count_commands(server: LiveServer) -> int:
    engine = create_engine_for(server.database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(CommandRow)) or 0)
    finally:
        engine.dispose()


def test_an_ehr_launch_reads_the_record_from_the_ehr_once(
    smart_page: Page, smart_server: tuple[LiveServer, SmartProvider], fhir_server: FhirServer
) -> None:
    server, provider = smart_server
    page = smart_page
    ehr_patient = fhir_server.patient_id(PATIENT)

    # first launch: the EHR patient is not linked yet, so the offer to enrol them
    launch_from_chart(page, provider, ehr_patient)
    assert "/smart/enrol?" in page.url, page.url
    assert page.get_by_role("heading", name="Enrol this patient from the EHR").is_visible()
    offer = page.locator("main").inner_text()
    assert "Observation/" in offer, offer[:3000]
    assert_accessible(page, context="the offer to enrol the EHR's patient")
    page.get_by_label("This is the right patient").check()
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_load_state()
    assert "/clinic/patients/" in page.url, page.url
    patient_url = page.url

    # the course page: weights and labs read from the FHIR server, each with its source
    timeline = page.locator("main").inner_text()
    weights = WEIGHT_FROM_EHR.findall(timeline)
    labs = LAB_FROM_EHR.findall(timeline)
    assert len(weights) >= 5, timeline[-3000:]  # Alfonso's Synthea record holds 10 weights
    assert len(labs) >= 3, timeline[-3000:]  # and three lipid panels
    assert len(set(weights + labs)) == len(weights) + len(labs)  # each its own resource
    assert_accessible(page, context="the course page of a patient read from the EHR")
    screenshot(page, "smart-launch-course-from-ehr")
    stored = count_commands(server)
    assert stored > 1

    # second launch: read again, nothing added twice, straight to the course page
    page.context.clear_cookies()
    launch_from_chart(page, provider, ehr_patient)
    assert page.url == patient_url, page.url
    assert page.get_by_text("Read from the EHR: 0 new items").is_visible()
    assert_accessible(page, context="the course page after a second launch")
    assert count_commands(server) == stored
    engine = create_engine_for(server.database_url)
    try:
        with engine.connect() as connection:
            sessions = connection.scalar(select(func.count()).select_from(SmartSessionRow))
    finally:
        engine.dispose()
    assert sessions == 2

    # a CDS card's link: the launch carries the draft order, isotrack opens the prescribe page
    page.context.clear_cookies()
    order = {"patient": ehr_patient, "order": "MedicationRequest/draft-iso-1"}
    launch_from_chart(page, provider, ehr_patient, appContext=json.dumps(order))
    assert page.url == patient_url + "/prescribe", page.url
    assert page.get_by_text("its draft order MedicationRequest/draft-iso-1").is_visible()
    assert_accessible(page, context="the prescribe page opened from a card")
    assert count_commands(server) == stored


def test_the_ehr_shows_isotrack_in_its_chart_and_the_clinician_enrols_there(
    smart_page: Page, smart_server: tuple[LiveServer, SmartProvider], fhir_server: FhirServer
) -> None:
    server, provider = smart_server
    page = smart_page
    ehr_patient = fhir_server.patient_id("Elvina")
    launch = provider.new_launch(ehr_patient)
    app = server.url + "/smart/launch?" + urlencode({"iss": provider.fhir_base, "launch": launch})
    # the EHR's own page (another origin, listed in frame_origins) frames the launch URL
    page.goto(provider.issuer + "/test/chart?" + urlencode({"src": app}))
    frame = page.frame_locator("iframe[title=isotrack]")
    frame.locator("input[name=login]").fill("dr.smart")
    frame.locator("input[name=password]").fill("any password")
    frame.get_by_role("button", name="Sign-in").click()
    expect(frame.get_by_role("heading", name="Enrol this patient from the EHR")).to_be_visible()
    # a form posted inside the frame: the embedded session's cookie and CSRF token work
    frame.get_by_label("This is the right patient").check()
    frame.get_by_role("button", name="Enrol").click()
    expect(frame.get_by_text("from EHR: Observation/").first).to_be_attached()
    isotrack = next(f for f in page.frames if f.url.startswith(server.url))
    assert "/clinic/patients/" in isotrack.url, isotrack.url
    screenshot(page, "smart-launch-in-the-ehr-frame")


def test_a_launch_from_an_unknown_ehr_ends_on_a_clear_accessible_page(
    smart_page: Page, smart_server: tuple[LiveServer, SmartProvider]
) -> None:
    server, _ = smart_server
    before = count_commands(server)
    unknown = {"iss": "https://unknown.example/fhir", "launch": "x"}
    smart_page.goto("/smart/launch?" + urlencode(unknown))
    heading = "This EHR is not registered with isotrack"
    assert smart_page.get_by_role("heading", name=heading).is_visible()
    assert smart_page.get_by_text("You are not signed in to isotrack.").is_visible()
    assert_accessible(smart_page, context="the page of a launch from an unknown EHR")
    screenshot(smart_page, "smart-launch-refused")
    assert count_commands(server) == before
