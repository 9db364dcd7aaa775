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
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

OIDC_DIR = Path(__file__).resolve().parent
PROVIDER_SCRIPT = OIDC_DIR / "provider.mjs"
PACKAGE = OIDC_DIR / "node_modules" / "oidc-provider" / "package.json"
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_provider_package() -> str:
    """The node executable, once oidc-provider is installed (npm ci when missing);
    skips the test, saying why, without node or npm."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is missing: the SSO tests run a real OpenID Provider (oidc-provider)")
    if not PACKAGE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip(f"npm is missing: run npm ci --prefix {OIDC_DIR} to install oidc-provider")
        installed = subprocess.run(
            [npm, "ci", "--prefix", str(OIDC_DIR), "--no-audit", "--no-fund"],
            check=False,
            capture_output=True,
            text=True,
        )
        if installed.returncode != 0:
            pytest.skip(f"npm ci --prefix {OIDC_DIR} failed: {installed.stderr.strip()[-300:]}")
    return node


@contextmanager
def running_provider(redirect_uris: list[str]) -> Iterator[OpenIdProvider]:
    """oidc-provider on 127.0.0.1 and a free port, for the life of the block."""
    node = require_provider_package()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        "PATH": str(Path(node).parent),
        "OIDC_PORT": str(port),
        "OIDC_REDIRECT_URIS": ",".join(redirect_uris),
    }
    with tempfile.TemporaryDirectory(prefix="isotrack-oidc-") as folder:
        log = Path(folder) / "provider.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [node, str(PROVIDER_SCRIPT)],
                cwd=OIDC_DIR,
                env=env,
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=output,
            )
            try:
                _wait_until_up(issuer, process, log)
                yield OpenIdProvider(issuer=issuer)
            finally:
                if process.stdin is not None:
                    process.stdin.close()  # provider.mjs stops when its stdin closes
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_up(issuer: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"oidc-provider exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(issuer + "/.well-known/openid-configuration", timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"oidc-provider did not answer in {START_SECONDS} s:\n{log.read_text()}")
