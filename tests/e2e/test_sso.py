"""Single sign-on in the browser: a prescriber signs in through a real OpenID Provider.

The provider is the certified ``oidc-provider`` package (tests/oidc), started on a
free loopback port; ``isotrack serve`` runs with ``ISOTRACK_OIDC_*`` pointing at it.
The person types a login at the provider's own sign-in form and lands on the
clinic page, signed in; someone whose groups map to no role sees a page that says
so and is not signed in. Every isotrack page on the way passes axe.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from isotrack.store import create_engine_for
from isotrack.store.models import SsoIdentityRow, UserRow
from tests.e2e.conftest import (
    LiveServer,
    assert_accessible,
    assert_visible,
    free_port,
    open_page,
    screenshot,
    serve,
)
from tests.oidc.provider import CLIENT_SECRET, OpenIdProvider, running_provider

pytestmark = pytest.mark.e2e
ROLE_GROUPS = {"derm-prescribers": "prescriber", "pharmacy": "pharmacist"}

if TYPE_CHECKING:  # playwright itself is imported by the fixtures, when it is installed
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def sso_server() -> Iterator[tuple[LiveServer, OpenIdProvider]]:
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/login/sso/callback"
    with running_provider([redirect]) as provider:
        env = {
            "ISOTRACK_OIDC_ISSUER": provider.issuer,
            "ISOTRACK_OIDC_CLIENT_ID": "isotrack",
            "ISOTRACK_OIDC_CLIENT_SECRET": CLIENT_SECRET.format("isotrack"),
            "ISOTRACK_OIDC_REDIRECT_URL": redirect,
            "ISOTRACK_OIDC_ROLE_GROUPS": json.dumps(ROLE_GROUPS),
        }
        with serve(env, port=port) as server:
            yield server, provider


@pytest.fixture
def sso_page(browser: Browser, sso_server: tuple[LiveServer, OpenIdProvider]) -> Iterator[Page]:
    with open_page(browser, sso_server[0].url) as page:
        yield page


def sign_in_at_provider(page: Page, login: str) -> None:
    page.goto("/login?next=/clinic")
    assert_accessible(page, context="the login page with single sign-on")
    page.get_by_role("link", name="Sign in with the clinic's single sign-on").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    with page.expect_navigation(url=lambda url: "/interaction/" not in url):
        page.get_by_role("button", name="Sign-in").click()
    page.wait_for_load_state()


def test_a_prescriber_signs_in_through_the_identity_provider(
    sso_page: Page, sso_server: tuple[LiveServer, OpenIdProvider]
) -> None:
    server, provider = sso_server
    sign_in_at_provider(sso_page, "dr.sso")
    assert sso_page.url == server.url + "/clinic", sso_page.url
    assert_visible(sso_page.get_by_role("button", name="Sign out"))
    assert_accessible(sso_page, context="the clinic page after single sign-on")
    engine = create_engine_for(server.database_url)
    try:
        with engine.connect() as connection:
            user = connection.execute(select(UserRow).where(UserRow.username == "dr.sso")).one()
            identity = connection.execute(
                select(SsoIdentityRow).where(SsoIdentityRow.user_id == user.id)
            ).one()
    finally:
        engine.dispose()
    assert user.role == "prescriber"
    assert (identity.issuer, identity.subject) == (provider.issuer, "dr.sso")


def test_a_person_whose_groups_give_no_role_sees_why_and_is_not_signed_in(
    sso_page: Page,
) -> None:
    sign_in_at_provider(sso_page, "visitor")
    assert_visible(sso_page.get_by_role("heading", name="Sign-in not completed"))
    assert_visible(sso_page.get_by_text("none of your groups gives access to isotrack"))
    assert_accessible(sso_page, context="the refused single sign-on page")
    screenshot(sso_page, "sso-refused")
    sso_page.goto("/clinic")
    assert "/login" in sso_page.url
