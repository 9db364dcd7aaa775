"""axe-core on the EHR pages (issue 17): the enrol page with what the EHR holds, the
same page refused with its error summary, and the linked record's page. The pages are
rendered by the app over HTTP (TestClient, reading a real FHIR server; the SMART launch
that grants the EHR access is the launch tests' business) and shown in chromium on
the live server's origin, so its stylesheet and scripts apply."""

# ruff: noqa: F811  # the page-test fixtures imported below are parameters by name
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI

from isotrack.http.authz import Role
from tests.e2e.conftest import LiveServer, assert_accessible, open_page
from tests.fhir_server.harness import FhirServer
from tests.web.conftest import (  # noqa: F401  # the page-test fixtures, used here too
    SignIn,
    accounts,
    csrf_token,
    sign_in,
    web_app,
    web_engine,
    web_settings,
    web_template,
)
from tests.web.test_ehr_pages import grant

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.e2e


def test_the_ehr_pages_pass_axe(
    browser: Browser,
    live_server: LiveServer,
    web_app: FastAPI,
    fhir_server: FhirServer,
    sign_in: SignIn,
) -> None:
    query = grant(web_app, fhir_server, fhir_server.patient_id("Carin"))
    client = sign_in(Role.PRESCRIBER)
    pages = {"the enrol page": client.get(f"/smart/enrol?{query}")}
    token = csrf_token(client, f"/smart/enrol?{query}")
    pages["the enrol page refused"] = client.post(
        f"/smart/enrol?{query}", data={"csrf_token": token}
    )
    client.post(f"/smart/enrol?{query}", data={"csrf_token": token, "confirm": "yes"})
    pages["the linked record's page"] = client.get(f"/smart/record?{query}")
    assert [p.status_code for p in pages.values()] == [200, 422, 200]

    with open_page(browser, live_server.url) as page:
        for name, response in pages.items():
            page.goto("/login")  # the live server's origin: its stylesheet applies
            page.set_content(response.text)
            assert page.locator("h1").inner_text() in (
                "Enrol this patient from the EHR",
                "The record in the EHR",
            )
            assert_accessible(page, context=name)
