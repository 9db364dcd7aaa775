"""Errors as pages for browsers, problem+json for the API, and the 403 page."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from isotrack import SAFETY_LINE
from isotrack.http.authz import Action, Role
from isotrack.store.models import AuditRow
from isotrack.web.deps import WebUser, WebUserDep, require_page
from isotrack.web.errors import error_page, is_page_path
from isotrack.web.templating import PAGE_CONTENT_SECURITY_POLICY
from tests.web.conftest import SignIn, TestClient, page_client


def test_an_unknown_page_is_the_html_404_page(anonymous: TestClient) -> None:
    response = anonymous.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = html.unescape(response.text)
    assert "Page not found" in page
    assert SAFETY_LINE in page


def test_the_api_keeps_problem_json_even_for_a_browser(anonymous: TestClient) -> None:
    response = anonymous.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_a_client_that_does_not_ask_for_html_gets_a_problem(web_app: FastAPI) -> None:
    with page_client(web_app) as client:
        response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.headers["content-type"] == "application/problem+json"


def test_is_page_path_leaves_out_the_api_the_cds_service_and_the_probes() -> None:
    assert is_page_path("/clinic")
    assert not is_page_path("/api/v1/patients")
    assert not is_page_path("/cds-services/isotretinoin-order-sign")
    assert not is_page_path("/health")


AdminUser = Annotated[WebUser, Depends(require_page(Action.USER_MANAGE))]


def crashing_app(web_app: FastAPI) -> FastAPI:
    router = APIRouter()

    @router.get("/test-crash")
    def crash(user: WebUserDep) -> None:
        raise RuntimeError("boom: secret detail")

    @router.get("/test-denied")
    def denied(user: AdminUser) -> None:  # pragma: no cover - never reached
        raise AssertionError

    web_app.include_router(router)
    return web_app


def test_an_unexpected_error_is_the_500_page_with_the_request_id_and_no_detail(
    web_app: FastAPI, sign_in: SignIn
) -> None:
    crashing_app(web_app)
    client = sign_in(Role.NURSE)
    response = client.get("/test-crash", headers={"X-Request-ID": "req-web-500"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "req-web-500" in response.text
    assert "boom" not in response.text
    assert response.headers.get_list("content-security-policy") == [PAGE_CONTENT_SECURITY_POLICY]


def test_a_role_without_the_action_gets_the_403_page_and_an_audit_row(
    web_app: FastAPI, sign_in: SignIn
) -> None:
    crashing_app(web_app)
    client = sign_in(Role.NURSE)
    response = client.get("/test-denied")
    assert response.status_code == 403
    assert "may not user manage" in html.unescape(response.text)
    with Session(web_app.state.engine) as session:
        actions = list(session.scalars(select(AuditRow.action).order_by(AuditRow.id)))
    assert actions[-1] == "denied:user.manage"


def test_error_page_renders_the_status_title_message_and_hint(
    web_app: FastAPI, anonymous: TestClient
) -> None:
    router = APIRouter()

    @router.get("/test-error-page")
    def page(request: Request) -> Response:
        return error_page(request, 409, "the record changed")

    web_app.include_router(router)
    response = anonymous.get("/test-error-page")
    assert response.status_code == 409
    text = html.unescape(response.text)
    assert "Changed by someone else" in text
    assert "the record changed" in text
    assert "Reload the page" in text


def test_static_files_may_be_cached_but_pages_may_not(anonymous: TestClient) -> None:
    assert "max-age" in anonymous.get("/static/app.css").headers["cache-control"]
    assert anonymous.get("/knowledge").headers["cache-control"] == "no-store"
    assert anonymous.get("/static/nothing.css").status_code == 404


def test_the_404_page_keeps_the_navigation_of_the_signed_in_user(sign_in: SignIn) -> None:
    page = sign_in(Role.PHARMACIST).get("/no/such/page").text
    assert 'href="/pharmacy"' in page
    assert "Back to your start page" in page


def test_a_form_posted_after_the_session_ended_returns_to_the_form_after_sign_in(
    web_app: FastAPI, anonymous: TestClient
) -> None:
    router = APIRouter()

    @router.post("/test-form")
    def form(user: WebUserDep) -> None:  # pragma: no cover - never reached
        raise AssertionError

    web_app.include_router(router)
    response = anonymous.post(
        "/test-form", headers={"Referer": "http://testserver/knowledge/claims?x=1"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/knowledge/claims%3Fx%3D1"


def test_page_to_return_to_after_a_post_is_the_referring_page_of_this_site() -> None:
    from starlette.requests import Request as StarletteRequest

    from isotrack.web.deps import page_to_return_to

    def post(referer: str) -> StarletteRequest:
        return StarletteRequest(
            {
                "type": "http",
                "method": "POST",
                "path": "/clinic/patients/p1/labs",
                "query_string": b"",
                "headers": [(b"host", b"clinic.example"), (b"referer", referer.encode())],
                "scheme": "https",
                "server": ("clinic.example", 443),
            }
        )

    assert page_to_return_to(post("https://clinic.example/clinic/patients/p1")) == (
        "/clinic/patients/p1"
    )
    assert page_to_return_to(post("https://evil.example/phish")) == "/"
