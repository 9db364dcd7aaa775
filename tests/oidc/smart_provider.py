"""A real SMART on FHIR authorization server for the SMART launch tests: the certified
``oidc-provider`` package from npm (``tests/oidc/package.json``), configured for SMART
App Launch by ``tests/oidc/smart_provider.mjs`` (launch context, SMART scopes, the
EHR's ``.well-known/smart-configuration``; optionally a FHIR server behind its FHIR base).

:func:`running_smart_provider` starts it with node on 127.0.0.1 and a free port and
stops it afterwards (skipped, saying why, without node or npm).
:meth:`SmartProvider.new_launch` is what an EHR does before it opens an app;
:meth:`SmartProvider.authorize` plays the clinician at the sign-in form and returns
the URL the server sends the browser back to; ``cancel=True`` presses Cancel at the
consent page instead (the ``declines`` account is asked to consent).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from tests.node_service import free_port, running_node_script
from tests.oidc.provider import OIDC_DIR, require_provider_package

SCRIPT = OIDC_DIR / "smart_provider.mjs"
START_SECONDS = 30
CLIENT_ID = "isotrack"
CLIENT_SECRET = "isotrack-smart-test-secret-not-used-anywhere-else"  # noqa: S105  # test server only
_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')
_CANCEL = re.compile(r'href="([^"]*/abort)"')


@dataclass(frozen=True)
class SmartProvider:
    issuer: str

    @property
    def fhir_base(self) -> str:
        """The EHR's FHIR base URL: the ``iss`` of its launches."""
        return self.issuer + "/fhir"

    def new_launch(self, patient: str, **context: Any) -> str:
        """A launch id for ``patient`` (and ``appContext`` / ``fhirContext``), as an EHR
        makes one when a clinician opens an app from a chart."""
        response = httpx.post(
            self.issuer + "/test/launches", json={"patient": patient, **context}, timeout=10
        )
        response.raise_for_status()
        return str(response.json()["launch"])

    def pick_standalone_patient(self, patient: str) -> None:
        httpx.post(self.issuer + "/test/standalone", json={"patient": patient}, timeout=10)

    def authorize(self, authorization_url: str, login: str, *, cancel: bool = False) -> str:
        """Sign ``login`` in at the server; the URL it redirects to (the callback)."""
        with httpx.Client(follow_redirects=False, timeout=10) as browser:
            response = browser.get(authorization_url)
            for _ in range(12):
                if response.is_redirect:
                    location = urljoin(str(response.url), response.headers["location"])
                    if not location.startswith(self.issuer + "/"):
                        return location
                    response = browser.get(location)
                    continue
                if response.status_code != 200:
                    raise AssertionError(f"at the server ({response.status_code}): {response.text}")
                if 'value="consent"' in response.text:
                    if not cancel:
                        raise AssertionError("the server asked for consent unexpectedly")
                    link = _CANCEL.search(response.text)
                    assert link is not None, response.text[:500]
                    response = browser.get(urljoin(str(response.url), html.unescape(link[1])))
                    continue
                action = _FORM_ACTION.search(response.text)
                if 'value="login"' not in response.text or not action:
                    raise AssertionError(f"unexpected page at the server: {response.text[:500]}")
                response = browser.post(
                    urljoin(str(response.url), html.unescape(action.group(1))),
                    data={"prompt": "login", "login": login, "password": "any password"},
                )
        raise AssertionError("the server never sent the browser back")


@contextmanager
def running_smart_provider(
    redirect_uris: list[str], fhir_upstream: str | None = None, upstream_token: str = ""
) -> Iterator[SmartProvider]:
    """The SMART authorization server on 127.0.0.1 and a free port, for the block."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        "SMART_PORT": str(port),
        "SMART_REDIRECT_URIS": ",".join(redirect_uris),
        "FHIR_UPSTREAM": fhir_upstream or "",
        "FHIR_UPSTREAM_TOKEN": upstream_token,
    }
    with running_node_script(
        require_provider_package(),
        SCRIPT,
        env=env,
        name="the SMART server",
        answers=lambda: (
            httpx.get(issuer + "/fhir/.well-known/smart-configuration", timeout=1).is_success
        ),
        start_seconds=START_SECONDS,
    ):
        yield SmartProvider(issuer=issuer)
