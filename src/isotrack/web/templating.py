"""Rendering pages: one Jinja2 environment and :func:`render`.

``render(request, "clinic/dashboard.html", {"patients": rows})`` adds to the
context what every page needs:

- ``user``: the signed-in :class:`~isotrack.web.deps.WebUser`, or None;
- ``csrf_token``: the token forms send (``{{ csrf_field() }}`` writes the hidden
  field; ``<body hx-headers>`` sends it with every htmx request);
- ``safety_line``: :data:`isotrack.SAFETY_LINE`, shown in every page's footer;
- ``nav``: the role's navigation (:data:`NAVIGATION`), the current entry marked, with
  the worklist's count for a clinician (:mod:`isotrack.web.nav_counts`);
- ``flashes``: the messages of :func:`flash` from the previous response.

Templates live in ``templates/``; autoescaping is on and an undefined variable
is an error (a typo fails a test instead of printing nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from isotrack import SAFETY_LINE, __version__
from isotrack.errors import ConfigurationError
from isotrack.http.authz import Role
from isotrack.settings import Settings, signing_key
from isotrack.web.deps import CSRF_FIELD, CSRF_HEADER, WebUser
from isotrack.web.nav_counts import worklist_count
from isotrack.web.sessions import (
    FLASH_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    CookiePolicy,
    Flash,
    FlashKind,
    csrf_token_for_login,
    csrf_token_for_session,
    new_token,
    read_flashes,
    sign_flashes,
)
from isotrack.web.views.words import plain

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; "
    "frame-ancestors 'none'"
)
"""The API's policy (``default-src 'self'``), tightened for pages: forms post only to
this site and a page cannot change its base URL."""


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    current: bool = False
    count: int | None = None
    """Shown next to the label (the worklist's items not resolved)."""


START_PAGES: Mapping[Role, str] = {
    Role.PRESCRIBER: "/clinic",
    Role.NURSE: "/clinic",
    Role.ADMIN: "/admin/users",
    Role.PHARMACIST: "/pharmacy",
    Role.PATIENT: "/me",
}
"""Where each role lands after sign-in (and on ``/``). The admin role holds no clinical
right in the matrix (users, audit, knowledge), so its start page is the users page."""

_KNOWLEDGE = ("Knowledge", "/knowledge")
WORKLIST_HREF = "/clinic/worklist"
ERROR_TEMPLATE = "error.html"
"""An error page reads nothing more (no worklist count)."""
_WORKLIST = ("Worklist", WORKLIST_HREF)
NAVIGATION: Mapping[Role, tuple[tuple[str, str], ...]] = {
    Role.PRESCRIBER: (("Clinic", "/clinic"), _WORKLIST, _KNOWLEDGE),
    Role.NURSE: (("Clinic", "/clinic"), _WORKLIST, _KNOWLEDGE),
    Role.ADMIN: (("Users", "/admin/users"), ("Clinic settings", "/admin/clinic"), _KNOWLEDGE),
    Role.PHARMACIST: (("Pharmacy", "/pharmacy"), _KNOWLEDGE),
    Role.PATIENT: (("My care", "/me"), _KNOWLEDGE),
}
"""The links in each role's navigation bar (label, path)."""
ANONYMOUS_NAVIGATION: tuple[tuple[str, str], ...] = (_KNOWLEDGE, ("Sign in", "/login"))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(version=__version__, csrf_field_name=CSRF_FIELD, csrf_header=CSRF_HEADER)
    env.filters["plain"] = plain
    return env


environment = _environment()


class LazyNavigation:
    """The navigation, built when a template first lists it: a page fragment (htmx)
    that has no navigation never counts the worklist."""

    def __init__(self, build: Callable[[], list[NavItem]]) -> None:
        self._build = build
        self._items: list[NavItem] | None = None

    def __iter__(self) -> Iterator[NavItem]:
        if self._items is None:
            self._items = self._build()
        return iter(self._items)


def navigation(user: WebUser | None, path: str, work_count: int | None = None) -> list[NavItem]:
    """The navigation of ``user``'s role; the entry ``path`` is in is current (the
    longest that matches); the worklist entry shows ``work_count``."""
    entries = NAVIGATION[user.role] if user is not None else ANONYMOUS_NAVIGATION
    matching = [href for _, href in entries if path == href or path.startswith(href + "/")]
    current = max(matching, key=len, default=None)
    return [
        NavItem(label, href, current=href == current,
                count=work_count if href == WORKLIST_HREF else None)
        for label, href in entries
    ]  # fmt: skip


def cookie_policy(settings: Settings, *, embedded: bool = False) -> CookiePolicy:
    """The cookies of a response; ``embedded`` for a session shown in an EHR's frame."""
    return CookiePolicy(secure=not settings.relaxed, embedded=embedded)


def frame_ancestors(user: WebUser | None) -> str:
    """The page policy of ``user``'s session: framing only by the origins of the EHR
    that launched it (a SMART launch), else by no one.

    >>> frame_ancestors(None).endswith("frame-ancestors 'none'")
    True
    """
    return page_policy(user.frame_origins if user is not None else ())


def page_policy(frame_origins: tuple[str, ...]) -> str:
    """The page policy, framing allowed to ``frame_origins`` only (none: to no one)."""
    if not frame_origins:
        return PAGE_CONTENT_SECURITY_POLICY
    allowed = "frame-ancestors " + " ".join(frame_origins)
    return PAGE_CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", allowed)


def error_summary(context: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The error summary at the top of a page with a refused form: (id of the element
    to go to, message, field name) for each message. A page gives ``error_summary``
    itself, or ``errors`` ({field name: message}) with ``error_ids`` ({field name: id},
    default ``field-<name>``, the id :func:`_macros.field` gives)."""
    given = context.get("error_summary")
    if given is not None:
        return list(given)
    errors = context.get("errors")
    if not isinstance(errors, Mapping):
        return []
    ids: Mapping[str, str] = context.get("error_ids") or {}
    return [
        (ids.get(name, f"field-{name}"), str(message), name)
        for name, message in errors.items()
        if message
    ]


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    error_page: bool = False,
) -> HTMLResponse:
    """The page ``template`` rendered with ``context`` and what every page needs.

    An ``error_page`` renders even when the server key is unusable (without a form
    token or a cookie); any other page raises the ConfigurationError."""
    settings: Settings = request.app.state.settings
    try:
        key: bytes | None = signing_key(settings)
    except ConfigurationError:
        if not error_page:
            raise
        key = None  # the error page of a misconfigured server: no form, no cookie
    user = getattr(request.state, "web_user", None)
    user = user if isinstance(user, WebUser) else None
    policy = cookie_policy(settings, embedded=user is not None and bool(user.frame_origins))
    new_login_value: str | None = None
    session = request.cookies.get(SESSION_COOKIE)
    if key is None:
        csrf_token = ""
    elif user is not None and session:
        csrf_token = csrf_token_for_session(key, session)
    else:
        login_value = request.cookies.get(LOGIN_COOKIE)
        if not login_value:
            login_value = new_login_value = new_token()
        csrf_token = csrf_token_for_login(key, login_value)
    flashes = read_flashes(key, request.cookies.get(FLASH_COOKIE)) if key is not None else []
    full_context = {
        "request": request,
        "user": user,
        "csrf_token": csrf_token,
        "csrf_field": lambda: Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, csrf_token
        ),
        "safety_line": SAFETY_LINE,
        "nav": LazyNavigation(
            lambda: navigation(
                user,
                request.url.path,
                None if template == ERROR_TEMPLATE else _work_count(request, user, context),
            )
        ),
        "flashes": flashes,
        "page_url": "",
        **(context or {}),
    }
    full_context["error_summary"] = error_summary(full_context)
    body = environment.get_template(template).render(full_context)
    response = HTMLResponse(
        body,
        status_code=status,
        headers={"content-security-policy": frame_ancestors(user), **(headers or {})},
    )
    if new_login_value is not None:
        policy.set(response, LOGIN_COOKIE, new_login_value, max_age=None)
    if flashes:
        policy.delete(response, FLASH_COOKIE)
    return response


def _work_count(
    request: Request, user: WebUser | None, context: Mapping[str, Any] | None
) -> int | None:
    if user is None or WORKLIST_HREF not in dict(NAVIGATION[user.role]).values():
        return None
    if context is not None and isinstance(context.get("work_count"), int):
        return int(context["work_count"])
    return worklist_count(request, user)


def flash(request: Request, response: Response, text: str, kind: FlashKind = "success") -> None:
    """Show ``text`` once on the next page rendered (set it on a redirect response).

    One message per response: a second call replaces the first."""
    settings: Settings = request.app.state.settings
    value = sign_flashes(signing_key(settings), [Flash(kind, text)])
    user = getattr(request.state, "web_user", None)
    embedded = isinstance(user, WebUser) and bool(user.frame_origins)
    cookie_policy(settings, embedded=embedded).set(response, FLASH_COOKIE, value, max_age=300)
