"""Browser tests of the foundation: signing in as each role, signing out, no page
without sign-in, CSRF refusal, the knowledge pages accessible (axe-core), and
the screenshots of the login and knowledge pages."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from isotrack import SAFETY_LINE
from isotrack.http.authz import Role
from isotrack.web.templating import START_PAGES
from tests.e2e.conftest import (
    LiveServer,
    assert_accessible,
    assert_visible,
    login,
    logout,
    screenshot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

KNOWLEDGE_PAGES = [
    "/knowledge",
    "/knowledge/rules",
    "/knowledge/rules/PREG-TEST-REQUIRED",
    "/knowledge/claims",
    "/knowledge/sources",
]
PHONE = 390


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


@pytest.mark.parametrize("role", list(Role))
def test_signing_in_lands_each_role_on_its_start_page(
    page: Page, live_server: LiveServer, role: Role
) -> None:
    login(page, live_server, role)
    assert path_of(page) == START_PAGES[role]
    assert live_server.account(role).username in page.locator(".signed-in-as").inner_text()
    assert SAFETY_LINE in page.locator("footer").inner_text()


def test_signing_out_ends_the_session(page: Page, live_server: LiveServer) -> None:
    login(page, live_server, Role.NURSE)
    logout(page)
    assert path_of(page) == "/login"
    assert_visible(page.get_by_text("You are signed out."))
    page.goto("/")
    assert path_of(page) == "/login"


def test_a_page_opened_without_signing_in_goes_to_sign_in_and_back(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/pharmacy")
    assert path_of(page) == "/login"
    account = live_server.account(Role.PHARMACIST)
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert path_of(page) == "/pharmacy"


def test_a_wrong_password_is_shown_next_to_the_field(page: Page, live_server: LiveServer) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("demo-nurse")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    error = page.locator("#field-password-error")
    error.wait_for()
    assert "Wrong username, password or code" in error.inner_text()
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"
    assert_accessible(page, context="login with an error")


def test_a_form_posted_without_its_csrf_token_is_refused(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.NURSE)
    page.evaluate("() => document.querySelector('form.signout input[name=csrf_token]').remove()")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Not allowed").wait_for()
    assert "nothing was changed" in page.locator("main").inner_text()
    page.goto("/")  # still signed in: the refused sign-out changed nothing
    assert path_of(page) == START_PAGES[Role.NURSE]


def test_a_cross_site_form_post_is_refused(live_server: LiveServer) -> None:
    response = httpx.post(
        live_server.url + "/logout",
        data={"csrf_token": "guessed"},
        headers={"Accept": "text/html", "Origin": "https://evil.example"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("path", KNOWLEDGE_PAGES)
def test_the_knowledge_pages_are_public_and_accessible(page: Page, path: str) -> None:
    page.goto(path)
    assert path_of(page) == path
    assert page.locator("h1").count() == 1
    assert_accessible(page, context=path)


@pytest.mark.parametrize("path", ["/login", *KNOWLEDGE_PAGES[:3]])
def test_pages_fit_a_phone_screen(page: Page, path: str) -> None:
    page.set_viewport_size({"width": PHONE, "height": 844})
    page.goto(path)
    assert_accessible(page, context=f"{path} at {PHONE} px")
    overflow = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, f"{path} scrolls sideways at {PHONE} px"


def test_the_404_page_is_a_page(page: Page) -> None:
    response = page.goto("/no/such/page")
    assert response is not None
    assert response.status == 404
    assert_visible(page.get_by_role("heading", name="Page not found"))
    assert_accessible(page, context="404 page")


def test_screenshots_of_the_login_and_knowledge_pages(page: Page) -> None:
    page.goto("/login")
    screenshot(page, "login")
    screenshot(page, "login-phone", width=PHONE)
    page.goto("/knowledge/rules")
    screenshot(page, "knowledge-rules")
    page.goto("/knowledge/rules/PREG-TEST-REQUIRED")
    screenshot(page, "knowledge-rule")
    screenshot(page, "knowledge-rule-phone", width=PHONE)
    page.goto("/knowledge/claims")
    screenshot(page, "knowledge-claims")


def test_the_accessibility_check_fails_on_a_page_with_serious_violations(page: Page) -> None:
    """assert_accessible can fail: an image without alt text and an unlabelled field."""
    page.goto("/knowledge")
    page.evaluate(
        "() => { document.querySelector('main').insertAdjacentHTML('beforeend',"
        ' \'<img src="/static/favicon.svg"><input type="text">\'); }'
    )
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page)


CONFIRM_FORM = """() => {
  document.querySelector('main').insertAdjacentHTML('beforeend', `
    <form id="irreversible" method="post" action="/logout">
      <label for="reason">Reason</label><input id="reason" name="reason">
      <details class="confirm"><summary class="button">End course</summary>
        <div class="confirm__panel"><p>Sure?</p>
        <button type="submit" class="button confirm__yes">Yes, end course</button></div>
      </details>
    </form>`);
}"""


def test_enter_in_a_field_opens_the_confirmation_instead_of_submitting(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.NURSE)
    page.goto("/knowledge")
    page.evaluate(CONFIRM_FORM)
    page.get_by_label("Reason").fill("done")
    page.get_by_label("Reason").press("Enter")
    yes = page.get_by_role("button", name="Yes, end course")
    yes.wait_for(state="visible")
    assert path_of(page) == "/knowledge"  # nothing was submitted
    assert page.evaluate("() => document.activeElement.textContent") == "Yes, end course"
