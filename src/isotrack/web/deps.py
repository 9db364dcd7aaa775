"""The dependencies of web pages, as ``Annotated`` types.

    ListUser = Annotated[WebUser, Depends(require_page(Action.PATIENT_LIST))]

    @router.get("/clinic")
    def clinic(request: Request, user: ListUser):
        ...

    @router.post("/clinic/patients")
    def create(request: Request, user: WebUserDep, _: CsrfDep, name: Annotated[str, Form()]):
        ...

- :data:`WebUserDep`: the signed-in user of the session cookie; without a valid
  session the browser is sent to ``/login?next=<this page>`` (303; an htmx
  request gets ``HX-Redirect`` instead, so the whole page changes).
- :func:`require_page`: the same, and a 403 page unless the role holds the
  action (audited as ``denied:<action>``, like the API).
- :data:`CsrfDep`: every unsafe request (POST, PUT, PATCH, DELETE) must carry
  the page's CSRF token, in the form field ``csrf_token`` or the header
  ``X-CSRF-Token`` (htmx sends it: ``hx-headers`` on ``<body>``); otherwise a
  403 page, before the route runs, so nothing changes.
- :data:`OptionalWebUserDep`: the user when signed in, else None (public pages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy import Engine

from isotrack.http.authz import Action, Role, allowed
from isotrack.http.deps import EngineDep, NowDep, SettingsDep
from isotrack.settings import signing_key
from isotrack.store.users import user_transaction
from isotrack.web.sessions import SESSION_COOKIE, accepted_csrf_tokens, live_session, tokens_match

if TYPE_CHECKING:
    from isotrack.http.smart import SmartClient

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class WebUser:
    """The person signed in to this browser."""

    id: str
    username: str
    role: Role
    patient_id: str | None = None
    """For a patient account: the one record it may reach."""
    session_family: str = ""
    """The stored session's family id (logout revokes it)."""
    frame_origins: tuple[str, ...] = ()
    """A session launched from inside an EHR (SMART): the EHR origins that may frame
    its pages (:func:`isotrack.web.templating.frame_ancestors`); else none."""

    def may(self, action: Action) -> bool:
        return allowed(self.role, action)


class LoginRequired(Exception):  # noqa: N818  # a redirect, not a crash: the name says what happened
    """No valid session: the browser goes to the login page, then back to ``next``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageForbidden(Exception):  # noqa: N818  # the 403 page, not a crash: the name says what it is
    """The request may not go on: the 403 page says why, in words a user can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def session_user(request: Request, engine: Engine, now: datetime) -> WebUser | None:
    """The user of the request's session cookie (one transaction), or None."""
    cached = getattr(request.state, "web_user", None)
    if isinstance(cached, WebUser):
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    clients = getattr(request.app.state, "smart_clients", None) or {}
    with user_transaction(engine) as tx:
        session = live_session(tx, token, now)
        stored = tx.users.by_id(session.user_id) if session is not None else None
        # a launched session matters only while some EHR is registered to frame it
        smart = tx.smart.session(session.id, now) if session is not None and clients else None
    if session is None or stored is None or not stored.active:
        return None
    user = WebUser(
        id=stored.id,
        username=stored.username,
        role=Role(stored.role),
        patient_id=stored.patient_id,
        session_family=session.family_id,
        frame_origins=_frame_origins(clients, smart.iss) if smart and smart.embedded else (),
    )
    request.state.web_user = user
    return user


def _frame_origins(clients: Mapping[str, SmartClient], iss: str) -> tuple[str, ...]:
    """The origins the EHR ``iss`` is registered with now (none once unregistered)."""
    client = clients.get(iss)
    return tuple(client.registration.frame_origins) if client is not None else ()


def this_page(request: Request) -> str:
    """The path and query of the request (where to come back to after sign-in)."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def signed_in_user(request: Request, engine: EngineDep, now: NowDep) -> WebUser:
    user = session_user(request, engine, now)
    if user is None:
        raise LoginRequired(page_to_return_to(request))
    return user


def page_to_return_to(request: Request) -> str:
    """Where to go after sign-in: this page; for htmx, the page it was sent from; for a
    form post, the page holding the form (a POST-only address cannot be opened)."""
    if _is_htmx(request) and request.headers.get("HX-Current-URL"):
        return _path_of(request.headers["HX-Current-URL"])
    if request.method in SAFE_METHODS:
        return this_page(request)
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


def optional_user(request: Request, engine: EngineDep, now: NowDep) -> WebUser | None:
    return session_user(request, engine, now)


WebUserDep = Annotated[WebUser, Depends(signed_in_user)]
OptionalWebUserDep = Annotated[WebUser | None, Depends(optional_user)]


def require_page(action: Action) -> Callable[..., WebUser]:
    """A dependency: the signed-in user, checked to hold ``action`` (else a 403 page)."""

    def dependency(user: WebUserDep, engine: EngineDep, now: NowDep) -> WebUser:
        if not user.may(action):
            with user_transaction(engine) as tx:
                tx.audit.append(at=now, actor=user.id, action=f"denied:{action}")
            raise PageForbidden(
                f"Your account ({user.role}) may not {action_words(action)}. "
                "Ask the clinic's administrator if you need to."
            )
        return user

    dependency.__name__ = f"require_page_{action}".replace(".", "_")
    return dependency


def action_words(action: Action) -> str:
    """``patient.list`` → ``patient list`` (the action as a phrase)."""
    return str(action).replace(".", " ")


async def check_csrf(request: Request, settings: SettingsDep) -> None:
    """Refuse (403 page) an unsafe request without the right CSRF token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    accepted = accepted_csrf_tokens(request, signing_key(settings))
    if not any(tokens_match(sent, token) for token in accepted):
        raise PageForbidden(
            "This form has expired or did not come from this site, so nothing was changed. "
            "Go back, reload the page and try again."
        )


CsrfDep = Annotated[None, Depends(check_csrf)]


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _path_of(url: str) -> str:
    """The path and query of an absolute URL of this site."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
