"""Browser test of an early refill (issue 13, point 2): Nico Novak of the demo
clinic was dispensed a month's capsules ten days ago and asks for more. The
prescribe page warns SUPPLY-ON-HAND and needs a reason; the pharmacist then
sees the prescriber's decision before authorising and dispensing. axe-core on
each page; the screenshots ``prescribe-supply-on-hand.png`` and
``pharmacist-early-supply.png``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from isotrack.http.authz import Role
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

NAME = "Nico Novak"


def test_an_early_refill_needs_a_reason_and_the_pharmacist_sees_it(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.PRESCRIBER)
    page.goto("/clinic")
    with page.expect_navigation():
        page.get_by_role("link", name=NAME, exact=True).click()
    with page.expect_navigation():
        page.get_by_role("link", name="Prescribe", exact=True).click()

    card = page.locator("article.finding--warning", has_text="Supply on hand")
    assert_visible(card)
    summary = card.locator(".finding__summary").inner_text()
    assert re.search(r"20 days left from earlier dispenses \(clinic policy: at most 7\)", summary)
    assert page.locator("[data-error-summary]").count() == 0  # nothing sent yet
    assert_accessible(page, context="prescribe with supply on hand")
    screenshot(page, "prescribe-supply-on-hand")

    # Without a reason the order is not stored; with one, it is.
    page.locator("details.confirm > summary", has_text="Prescribe").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, prescribe").click()
    assert "reason" in page.locator("[data-error-summary]").inner_text()
    assert "/prescribe" in page.url
    for warning in page.locator("article.finding--warning").all():
        warning.locator("input[type=radio]").first.check()
    rule = "SUPPLY-ON-HAND"
    page.fill(f"#override-note-{rule}", "capsules left at a friend's house, seen today")
    page.locator("details.confirm > summary", has_text="Prescribe").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, prescribe").click()
    assert_visible(page.get_by_text(re.compile(r"Prescription rx-[0-9a-f]+ stored")))
    assert f"Finding {rule} overridden" in page.locator("ol.timeline").inner_text()
    logout(page)

    login(page, live_server, Role.PHARMACIST)
    page.get_by_label("Patient name, record number or authorisation id").fill("Novak")
    page.get_by_role("button", name="Look up").click()
    with page.expect_navigation():
        page.get_by_role("link", name=NAME).click()
    early = page.locator(".supply-on-hand")
    assert "decided by the prescriber" in early.inner_text()
    assert "capsules left at a friend's house" in early.locator(".supply-decision").inner_text()
    assert "every requirement is met" in page.locator("#verdict").inner_text()
    assert_accessible(page, context="pharmacy check, early supply decided")
    screenshot(page, "pharmacist-early-supply")
    page.locator("details.confirm > summary", has_text="Create the authorisation").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, create it").click()
    page.locator("details.confirm > summary", has_text="Record the dispense").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, record it").click()
    assert_visible(page.get_by_text(re.compile(r"Dispense recorded: \d+ capsules")))
