"""Error pages: the web app's translator of errors (the API keeps problem+json).

A request is a *page request* when its path is not one of the API's
(:data:`API_PREFIXES`) and it asks for HTML (``Accept: text/html``, as browsers
send for pages) or comes from htmx (``HX-Request``). Page requests get:

- no session → a redirect to ``/login?next=...`` (htmx: ``HX-Redirect``);
- :class:`~isotrack.web.deps.PageForbidden` (role, CSRF) → the 403 page;
- a 404 (an unknown page, an engine NotFoundError) → the 404 page;
- any other HTTP or engine error → an error page with its status and message;
- an unexpected exception → the 500 page with the request id (the traceback
  goes to the server log, as for the API).

Every other request keeps the API's handlers (problem+json).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isotrack.errors import InvalidInputError, IsotrackError, StorageError
from isotrack.http.deps import current_time
from isotrack.http.problems import (
    INTERNAL_DETAIL,
    PROBLEM_MEDIA_TYPE,
    ProblemError,
    request_id_of,
    server_detail,
    status_of,
)
from isotrack.web.deps import LoginRequired, PageForbidden, session_user
from isotrack.web.templating import render

API_PREFIXES = ("/api/", "/cds-services", "/health", "/ready", "/docs", "/.well-known")
TITLES = {
    400: "The request could not be read",
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not possible here",
    409: "Changed by someone else",
    413: "Too much data",
    422: "Please check what you entered",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}
HINTS = {
    404: "The address may be mistyped, or the page was moved. Use the navigation above.",
    409: "Reload the page to see the latest version, then try again.",
    500: "This is our fault. Try again; if it happens again, tell the clinic's administrator "
    "and quote the request id below.",
    503: "The service is busy or under maintenance. Try again in a few minutes.",
}
log = logging.getLogger("isotrack.web.errors")
_REPLACED_HEADERS = (b"content-type", b"content-length", b"content-security-policy")

Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def is_page_request(request: Request) -> bool:
    return is_page_path(request.url.path) and (
        "text/html" in request.headers.get("accept", "") or "HX-Request" in request.headers
    )


def is_page_path(path: str) -> bool:
    return not path.startswith(API_PREFIXES)


def error_page(request: Request, status: int, message: str) -> Response:
    """The HTML page of an error: its title, the message, what to do, the request id
    (with the navigation of the signed-in user, when there is one)."""
    _find_user(request)
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": TITLES.get(status, "Something went wrong"),
            "message": message,
            "hint": HINTS.get(status, ""),
            "request_id": request_id_of(request) or "",
        },
        status=status,
        error_page=True,
    )


async def page_off_the_loop(request: Request, status: int, message: str) -> Response:
    """:func:`error_page` in a worker thread: it may read the session from the database."""
    return await run_in_threadpool(error_page, request, status, message)


def _find_user(request: Request) -> None:
    """Put the session's user on the request (the route may not have asked for it)."""
    if _storage_failed(request) or getattr(request.state, "web_user", None):
        return
    now_of = request.app.dependency_overrides.get(current_time, current_time)
    try:
        session_user(request, request.app.state.engine, now_of())
    except IsotrackError:  # the database is what failed: show the page without the user
        request.state.storage_failed = True


def _storage_failed(request: Request) -> bool:
    return bool(getattr(request.state, "storage_failed", False))


def login_redirect(request: Request, next_url: str) -> Response:
    target = "/login?next=" + quote(next_url, safe="/")
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def install_error_pages(app: FastAPI) -> None:
    """Page requests get HTML error pages; the API's handlers answer the rest."""

    async def login_required(request: Request, error: LoginRequired) -> Response:
        return login_redirect(request, error.next_url)

    async def forbidden(request: Request, error: PageForbidden) -> Response:
        return await page_off_the_loop(request, 403, error.message)

    app.add_exception_handler(LoginRequired, login_required)  # type: ignore[arg-type]  # Starlette types handlers loosely
    app.add_exception_handler(PageForbidden, forbidden)  # type: ignore[arg-type]  # idem
    _wrap(app, StarletteHTTPException, _http_message)
    _wrap(app, IsotrackError, _engine_message)
    _wrap(app, ProblemError, lambda e: (e.status, e.detail))
    _wrap(app, RequestValidationError, lambda e: (422, _validation_message(e)))
    app.add_middleware(ServerErrorPage)


def _wrap(
    app: FastAPI, error_class: type[Exception], message: Callable[[Any], tuple[int, str]]
) -> None:
    api_handler: Handler | None = app.exception_handlers.get(error_class)

    async def handler(request: Request, error: Exception) -> Response:
        if is_page_request(request) or api_handler is None:
            status, text = message(error)
            if isinstance(error, StorageError):
                request.state.storage_failed = True
            return await page_off_the_loop(request, status, text)
        answer = api_handler(request, error)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(error_class, handler)


def _http_message(error: StarletteHTTPException) -> tuple[int, str]:
    detail = error.detail if isinstance(error.detail, str) else ""
    if error.status_code == 404:
        detail = "There is no page at this address."
    return error.status_code, detail


def _engine_message(error: IsotrackError) -> tuple[int, str]:
    status = status_of(error)
    if status >= 500:
        log.error("engine error %s: %s", error.code, error.message)
        return status, server_detail(error)
    if isinstance(error, InvalidInputError) and error.field:
        return status, f"{error.field}: {error.message}"
    return status, error.message


def _validation_message(error: RequestValidationError) -> str:
    fields = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query")]
        fields.append(f"{'.'.join(location) or 'form'}: {item.get('msg', 'is invalid')}")
    return "; ".join(fields) or "the form is invalid"


class ServerErrorPage:
    """Outside the API's request guard: turns a problem it answered for a page request
    (the 500 of an unexpected error, 413, 429, 503 …) into the HTML error page with the
    navigation (the guard has logged the traceback already)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if not is_page_request(request):
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body = b""

        async def send_page(message: Message) -> None:
            nonlocal held, body
            if message["type"] == "http.response.start" and _is_problem(message):
                held = message
                return
            if held is None:
                await send(message)
                return
            body += message.get("body", b"")
            if message.get("more_body", False):
                return
            page = await page_off_the_loop(request, held["status"], _page_detail(held, body))
            kept = [
                (name, value)
                for name, value in held.get("headers", [])
                if name.lower() not in _REPLACED_HEADERS
            ]
            await send({**held, "headers": kept + page.raw_headers})
            await send({"type": "http.response.body", "body": page.body})

        await self.app(scope, receive, send_page)


def _is_problem(start: Message) -> bool:
    content_type = dict(start.get("headers", [])).get(b"content-type", b"")
    return int(start["status"]) >= 400 and content_type.startswith(PROBLEM_MEDIA_TYPE.encode())


def _page_detail(start: Message, body: bytes) -> str:
    if int(start["status"]) == 500:
        return INTERNAL_DETAIL
    try:
        detail = json.loads(body).get("detail", "")
    except (ValueError, AttributeError):
        detail = ""
    return detail if isinstance(detail, str) else ""
