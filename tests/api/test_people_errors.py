"""Errors for people, HSTS and trusted proxies (issue 14, point 7).

Before: a page request the request guard answered (429, 413 …) got problem+json;
no Strict-Transport-Security header was ever sent; and uvicorn believed the
X-Forwarded-For of any local process. Now the guard's answers to a browser are
HTML pages with the navigation, HSTS goes with every answer over https, and
X-Forwarded-* count only from the proxies ISOTRACK_TRUSTED_PROXIES names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from isotrack.knowledge import KnowledgeBase
from isotrack.server import create_app
from isotrack.settings import Settings
from isotrack.store import create_engine_for, upgrade

PAGE = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("people-errors") / "isotrack.db"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


def client_with(
    engine: Engine, kb: KnowledgeBase, *, base: str = "http://testserver", **changes: Any
) -> TestClient:
    values: dict[str, Any] = {"env": "test", "rate_limit_per_minute": 10**6}
    values |= {"rate_limit_burst": 10**6, **changes}
    app = create_app(Settings(**values), engine=engine, kb=kb)
    return TestClient(app, raise_server_exceptions=False, base_url=base)


def test_a_rate_limited_page_request_is_an_html_page_and_the_api_keeps_problem_json(
    engine: Engine, kb: KnowledgeBase
) -> None:
    client = client_with(engine, kb, rate_limit_burst=1, rate_limit_per_minute=1)
    assert client.get("/knowledge", headers=PAGE).status_code == 200
    page = client.get("/knowledge", headers=PAGE)
    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")
    assert "Too many attempts" in page.text
    assert 'href="/knowledge"' in page.text  # the navigation
    assert page.headers["retry-after"]
    api = client.get("/api/v1/knowledge/rules", headers=PAGE)
    assert api.status_code == 429
    assert api.headers["content-type"] == "application/problem+json"


def test_the_docs_page_loads_swagger_ui_from_this_server(engine: Engine, kb: KnowledgeBase) -> None:
    client = client_with(engine, kb)
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "https://" not in docs.text
    assert "cdn" not in docs.headers["content-security-policy"]
    for asset, media_type in (
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
    ):
        served = client.get(f"/docs/{asset}")
        assert served.status_code == 200
        assert served.headers["content-type"].startswith(media_type)
        assert f'/docs/{asset}"' in docs.text
    assert client.get("/docs/elsewhere.js").status_code == 404


def test_hsts_is_sent_over_https_only_and_can_be_turned_off(
    engine: Engine, kb: KnowledgeBase
) -> None:
    secure = client_with(engine, kb, base="https://testserver").get("/health")
    assert secure.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    plain = client_with(engine, kb).get("/health")
    assert "strict-transport-security" not in plain.headers
    off = client_with(engine, kb, hsts_seconds=0, base="https://testserver").get("/health")
    assert "strict-transport-security" not in off.headers


def test_forwarded_headers_count_only_from_a_trusted_proxy(
    engine: Engine, kb: KnowledgeBase
) -> None:
    """Two callers behind the proxy have a bucket each; a caller that is not the proxy
    cannot pick another address (nor https) by sending the headers itself."""
    limited = {"rate_limit_burst": 1, "rate_limit_per_minute": 1}
    forwarded = [
        {"X-Forwarded-For": f"203.0.113.{n}", "X-Forwarded-Proto": "https"} for n in (1, 2)
    ]
    untrusted = client_with(engine, kb, **limited)
    answers = [untrusted.get("/knowledge", headers={**PAGE, **h}) for h in forwarded]
    assert [a.status_code for a in answers] == [200, 429]
    assert "strict-transport-security" not in answers[0].headers
    trusted = client_with(engine, kb, trusted_proxies="testclient", **limited)
    answers = [trusted.get("/knowledge", headers={**PAGE, **h}) for h in forwarded]
    assert [a.status_code for a in answers] == [200, 200]
    assert "strict-transport-security" in answers[0].headers
