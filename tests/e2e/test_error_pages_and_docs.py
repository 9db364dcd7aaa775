"""Errors for people, and the API documentation offline (issue 14, point 7).

A browser that opens an address that does not exist gets an HTML page with the
navigation (signed in: the role's menu), not a problem+json body; the API keeps
problem+json. ``/docs`` renders Swagger UI with every request to another host
blocked: its files come from isotrack itself (before, from a CDN: blank offline).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from isotrack.http.authz import Role
from tests.e2e.conftest import LiveServer, assert_accessible, assert_visible, login

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.e2e


def test_a_browser_404_is_an_html_page_with_the_navigation(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PRESCRIBER)
    response = page.goto("/clinic/no-such-page")
    assert response is not None
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    assert_visible(page.get_by_role("heading", name="Page not found"))
    navigation = page.get_by_role("navigation").first
    assert_visible(navigation.get_by_role("link", name="Clinic", exact=True))
    assert_accessible(page, context="the 404 page")
    api = httpx.get(f"{live_server.url}/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_the_api_docs_render_with_every_other_host_blocked(
    page: Page, live_server: LiveServer
) -> None:
    local = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []

    def only_this_server(route: Route) -> None:
        if urlsplit(route.request.url).netloc in (local, ""):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto("/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "isotrack" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-tag", has_text="commands").first.wait_for()
    assert not elsewhere, f"/docs reached other hosts: {elsewhere}"
