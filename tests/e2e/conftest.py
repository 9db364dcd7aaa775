"""Browser tests: a real ``isotrack serve`` driven by Playwright in Debian's chromium.

Fixtures and helpers for every ``tests/e2e/test_*.py`` (mark each test ``e2e``):

- ``live_server`` (session): ``isotrack serve`` in a subprocess on 127.0.0.1 and a
  free port, on a temporary SQLite database holding the demo clinic (as of
  today) and one user per role with known passwords
  (:func:`tests.web.demo_db.password_for`); ``live_server.url``,
  ``live_server.accounts``, ``live_server.database_url``; it sends its email to
  a real SMTP server started for the session, ``live_server.smtp``
  (:mod:`tests.smtp_server`), which keeps what arrives for the tests to read.
  :func:`serve` starts another such server with more settings (e.g. single sign-on).
- ``browser`` (session): chromium (``/usr/bin/chromium``), headless.
- ``page``: a fresh browser context and page (1280×800) for one test; the test
  fails when the page reported a Content-Security-Policy violation or a script error
  (:func:`open_page` makes one on another server).
- :func:`login` ``(page, live_server, role)``: signs in through the login form.
- :func:`assert_accessible` ``(page)``: runs axe-core (``tests/e2e/node_modules``,
  installed by ``make test`` with ``npm ci``) and fails on any serious or critical
  violation, listing each one with the elements it found.
- :func:`screenshot` ``(page, name, width=None)``: writes
  ``docs/screenshots/<name>.png`` (the whole page; at ``width`` px when given).

Without ``/usr/bin/chromium`` (``make test`` installs it with apt when run as root)
or the ``playwright`` package, the tests are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from isotrack.http.authz import Role
from isotrack.http.passwords import totp_code
from isotrack.knowledge import default_knowledge
from isotrack.store import create_engine_for
from tests.smtp_server import SmtpServer, running_smtp_server
from tests.web.demo_db import Account, create_accounts, load_demo_clinic

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Playwright

E2E_DIR = Path(__file__).resolve().parent
REPO = E2E_DIR.parent.parent
SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
AXE_SCRIPT = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE_HEIGHT = 844
SERVER_START_SECONDS = 60
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: a browser test (Playwright + Debian chromium against isotrack serve)"
    )


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str
    accounts: dict[Role, Account]
    smtp: SmtpServer

    def account(self, role: Role) -> Account:
        return self.accounts[role]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"isotrack serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"isotrack serve did not answer in {SERVER_START_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """``isotrack serve`` on the demo clinic, for the whole session."""
    with serve() as server:
        yield server


@contextmanager
def serve(extra_env: dict[str, str] | None = None, port: int | None = None) -> Iterator[LiveServer]:
    """``isotrack serve`` on a new demo clinic database, on ``port`` (default: a free
    one), with ``extra_env`` added to its environment, for the life of the block."""
    _require_browser()
    with (
        tempfile.TemporaryDirectory(prefix="isotrack-e2e-") as folder,
        running_smtp_server() as smtp,
    ):
        database_url = f"sqlite:///{Path(folder) / 'isotrack.db'}"
        engine = create_engine_for(database_url)
        now = datetime.now(UTC).astimezone()
        load_demo_clinic(engine, now, default_knowledge())
        accounts = create_accounts(engine, now)
        engine.dispose()
        port = port if port is not None else free_port()
        env = {
            **os.environ,
            "ISOTRACK_ENV": "test",
            "ISOTRACK_DATABASE_URL": database_url,
            "ISOTRACK_RATE_LIMIT_PER_MINUTE": "100000",
            "ISOTRACK_RATE_LIMIT_BURST": "100000",
            "ISOTRACK_SMTP_HOST": smtp.host,
            "ISOTRACK_SMTP_PORT": str(smtp.port),
            "ISOTRACK_SMTP_SECURITY": "none",
            "ISOTRACK_MAIL_FROM": "clinic@example.org",
            **(extra_env or {}),
        }
        log = Path(folder) / "server.log"
        command = [sys.executable, "-m", "isotrack", "serve", "--host", "127.0.0.1"]
        with log.open("wb") as output:
            server = subprocess.Popen(
                [*command, "--port", str(port)], env=env, stdout=output, stderr=output
            )
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_until_up(url, server, log)
                yield LiveServer(url=url, database_url=database_url, accounts=accounts, smtp=smtp)
            finally:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def _require_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (make test does it as root: "
            "apt-get install chromium)"
        )
    try:
        import playwright.sync_api  # noqa: F401  # only checks that it is installed
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -e '.[test]'")


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    chromium = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page in a fresh context (no cookies); fails the test on CSP violations and
    script errors the page reported."""
    with open_page(browser, live_server.url) as new_page:
        yield new_page


@contextmanager
def open_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page in a fresh context on ``base_url``; at the end of the block, fails the
    test on CSP violations and script errors the page reported."""
    context = browser.new_context(viewport=DESKTOP, base_url=base_url)
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    problems: list[str] = []
    new_page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    new_page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    yield new_page
    context.close()
    assert not problems, "the page reported:\n" + "\n".join(problems)


def login(page: Page, live_server: LiveServer, role: Role) -> None:
    """Sign in as the demo user of ``role`` through the login form."""
    account = live_server.account(role)
    page.goto("/login")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    if account.totp_secret is not None:
        page.get_by_label("Code from your authenticator app").fill(
            _fresh_code(account.username, account.totp_secret)
        )
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/login" not in page.url, f"sign-in as {role} failed: {page.url}"


_TOTP_STEP_S = 30
_last_step: dict[str, int] = {}


def _fresh_code(username: str, secret: str) -> str:
    """The current TOTP code, waiting for the next 30-second step when this session
    used the current one already: a code is accepted once (RFC 6238 section 5.2)."""
    step = int(time.time()) // _TOTP_STEP_S
    if _last_step.get(username) == step:
        time.sleep((step + 1) * _TOTP_STEP_S - time.time() + 0.1)
        step += 1
    _last_step[username] = step
    return totp_code(secret, datetime.fromtimestamp(step * _TOTP_STEP_S + 1, UTC))


def logout(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def assert_visible(locator: Locator) -> None:
    """Waits (up to Playwright's default timeout) for the locator to be visible: after a
    click the page may still be loading, and ``is_visible()`` answers at once."""
    from playwright.sync_api import expect

    expect(locator).to_be_visible()


def assert_accessible(page: Page, *, context: str = "") -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    if not AXE_SCRIPT.exists():
        pytest.skip(f"axe-core is missing ({AXE_SCRIPT}): run npm ci --prefix tests/e2e")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluate runs through the DevTools protocol, which the page's CSP does not restrict
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    results: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    where = context or page.url
    assert not blocking, f"accessibility violations on {where}:\n" + "\n".join(
        _violation_line(violation) for violation in blocking
    )


def _violation_line(violation: dict[str, Any]) -> str:
    targets = [json.dumps(node.get("target")) for node in violation.get("nodes", [])][:5]
    return (
        f"- {violation['impact']}: {violation['id']}: {violation['help']} "
        f"({violation.get('helpUrl', '')}) at {', '.join(targets)}"
    )


def screenshot(page: Page, name: str, width: int | None = None) -> Path:
    """Save the whole page as docs/screenshots/<name>.png (at ``width`` px when given)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    before = page.viewport_size
    if width is not None:
        page.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
    try:
        page.screenshot(path=str(path), full_page=True, animations="disabled")
    finally:
        if width is not None and before is not None:
            page.set_viewport_size(before)
    return path
