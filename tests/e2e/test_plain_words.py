"""Plain words (issue 13), in the browser: the words each role reads on the demo
clinic hold no internal identifier (:mod:`tests.web.page_words`); at 390 px the
dashboard reads as cards (screenshot ``dashboard-cards-390.png``) and the rules
table keeps its severity column; axe-core on every page.

The HTTP-level walk of every page of every role is ``tests/web/test_plain_words.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from isotrack.http.authz import Role
from isotrack.knowledge import default_knowledge
from tests.e2e.conftest import LiveServer, assert_accessible, assert_visible, login, screenshot
from tests.web.page_words import internal_words

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PHONE = 390
PAGES = {
    Role.PRESCRIBER: (
        "/clinic",
        "/clinic/patients/demo-kara",
        "/clinic/patients/demo-jonas",
        "/clinic/patients/demo-luca",
        "/clinic/patients/demo-iris/prescribe",
        "/knowledge/rules",
    ),
    Role.PHARMACIST: ("/pharmacy/patients/demo-kara", "/pharmacy/patients/demo-luca"),
    Role.PATIENT: ("/me", "/me/contraception", "/me/questions"),
}
"""The pages where the issue found internal words, and a few around them."""


@pytest.mark.parametrize("role", list(PAGES))
def test_the_pages_read_in_plain_words(page: Page, live_server: LiveServer, role: Role) -> None:
    kb = default_knowledge()
    login(page, live_server, role)
    for path in PAGES[role]:
        page.goto(path)
        words = page.evaluate("() => document.body.innerText")
        found = internal_words(" ".join(words.split()), kb)
        assert not found, f"{path}:\n" + "\n".join(found)
        assert_accessible(page, context=f"{path} as {role}")


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE, f"the page is {width} px wide at {PHONE} px"


def test_the_dashboard_reads_as_cards_at_390_px(page: Page, live_server: LiveServer) -> None:
    login(page, live_server, Role.PRESCRIBER)
    page.set_viewport_size({"width": PHONE, "height": 844})
    page.goto("/clinic")
    no_sideways_scroll(page)
    rows = page.locator("tr[data-patient]")
    assert rows.count() >= 12
    for index in range(rows.count()):
        row = rows.nth(index)
        assert row.evaluate("r => getComputedStyle(r).display") == "block"
        box = row.bounding_box()
        assert box is not None
        assert 0 <= box["x"] <= box["x"] + box["width"] <= PHONE
    scroller = page.locator(".table-scroll").first
    assert scroller.evaluate("s => s.scrollWidth <= s.clientWidth"), "the cards scroll sideways"
    ben = page.locator("tr[data-patient=demo-ben]")
    assert_visible(ben.get_by_text("Triglycerides 620 mg/dL", exact=False))
    label = ben.locator("td[data-label]").first
    assert label.evaluate("c => getComputedStyle(c, '::before').content") == '"Needs action: "'
    assert_accessible(page, context="dashboard at 390 px")
    screenshot(page, "dashboard-cards-390", width=PHONE)


def test_the_rules_table_keeps_its_severity_column_at_390_px(
    page: Page, live_server: LiveServer
) -> None:
    login(page, live_server, Role.NURSE)
    page.set_viewport_size({"width": PHONE, "height": 844})
    page.goto("/knowledge/rules")
    no_sideways_scroll(page)
    lipids = page.locator("tr").filter(has=page.locator("a", has_text="LIPIDS-HIGH"))
    severity = lipids.locator("td[data-label=Severity]")
    assert_visible(severity)
    box = severity.bounding_box()
    assert box is not None
    assert 0 <= box["x"] <= box["x"] + box["width"] <= PHONE
    assert "warning" in severity.inner_text().lower()
    assert "critical" in severity.inner_text().lower()
    assert_accessible(page, context="rules at 390 px")
