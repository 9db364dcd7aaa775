"""A real OpenID Provider for the single sign-on tests: the certified ``oidc-provider``
package from npm (``tests/oidc/package.json``), configured by ``tests/oidc/provider.mjs``.

:func:`running_provider` starts it with node on 127.0.0.1 and a free port and stops
it afterwards; without node (or npm to install the package with ``npm ci``) the
test is skipped and says why. :meth:`OpenIdProvider.authorize` plays the person at
the provider's sign-in form (any login signs in; the groups come from
``provider.mjs``) and returns the URL the provider sends the browser back to.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx

from tests.node_service import free_port, require_node_package, running_node_script

OIDC_DIR = Path(__file__).resolve().parent
PROVIDER_SCRIPT = OIDC_DIR / "provider.mjs"
START_SECONDS = 30
CLIENT_SECRET = "{}-test-secret-not-used-anywhere-else"  # noqa: S105  # test provider only
"""The secret provider.mjs gives each client (format with the client id)."""
_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


@dataclass(frozen=True)
class OpenIdProvider:
    issuer: str

    def authorize(self, authorization_url: str, login: str) -> str:
        """Sign ``login`` in at the provider; the URL it redirects to (the callback)."""
        with httpx.Client(follow_redirects=False, timeout=10) as browser:
            response = browser.get(authorization_url)
            for _ in range(12):
                if response.is_redirect:
                    location = urljoin(str(response.url), response.headers["location"])
                    if not location.startswith(self.issuer + "/"):
                        return location
                    response = browser.get(location)
                    continue
                action = _FORM_ACTION.search(response.text)
                if (
                    response.status_code != 200
                    or 'value="login"' not in response.text
                    or not action
                ):
                    raise AssertionError(
                        f"unexpected page at the provider ({response.status_code}): "
                        f"{response.text[:500]}"
                    )
                response = browser.post(
                    urljoin(str(response.url), html.unescape(action.group(1))),
                    data={"prompt": "login", "login": login, "password": "any password"},
                )
        raise AssertionError("the provider never sent the browser back")


def require_provider_package() -> str:
    """The node executable, once oidc-provider is installed (npm ci when missing)."""
    return require_node_package(
        OIDC_DIR, "oidc-provider", why="the SSO tests run a real OpenID Provider (oidc-provider)"
    )


@contextmanager
def running_provider(redirect_uris: list[str]) -> Iterator[OpenIdProvider]:
    """oidc-provider on 127.0.0.1 and a free port, for the life of the block."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {"OIDC_PORT": str(port), "OIDC_REDIRECT_URIS": ",".join(redirect_uris)}
    with running_node_script(
        require_provider_package(),
        PROVIDER_SCRIPT,
        env=env,
        name="oidc-provider",
        answers=lambda: (
            httpx.get(issuer + "/.well-known/openid-configuration", timeout=1).is_success
        ),
        start_seconds=START_SECONDS,
    ):
        yield OpenIdProvider(issuer=issuer)
