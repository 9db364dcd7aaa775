"""Sign in, sign out, and ``/`` (each role's start page).

Signing in checks the password (and TOTP code) exactly as ``POST
/api/v1/auth/token`` does, with the same throttling and audit rows
(``auth:login``, ``auth:login-failed``, ``auth:throttled``); it then starts a
server-side session (:mod:`isotrack.web.sessions`) with a fresh cookie, so a
cookie planted before sign-in is worthless. Signing out revokes the session
(audited ``auth:logout``) and deletes the cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from isotrack.http.authz import Role
from isotrack.http.deps import EngineDep, NowDep, SettingsDep
from isotrack.http.problems import ProblemError
from isotrack.http.signin import ADDRESS_STORED_LENGTH, USERNAME_STORED_LENGTH, check_credentials
from isotrack.store.users import user_transaction
from isotrack.web.deps import CsrfDep, OptionalWebUserDep, WebUserDep
from isotrack.web.sessions import LOGIN_COOKIE, SESSION_COOKIE, SESSION_LIFETIME, start_session
from isotrack.web.templating import START_PAGES, cookie_policy, flash, render

router = APIRouter(include_in_schema=False)

LOGIN_MESSAGES = {
    401: "Wrong username, password or code. Check them and try again.",
    403: "This account cannot sign in here yet: {detail}.",
    429: "Too many failed sign-ins. {detail}.",
}


def safe_next(next_url: str | None) -> str | None:
    """``next`` when it is a path of this site (never another host).

    >>> safe_next("/clinic?sort=due"), safe_next("//evil.example"), safe_next("https://x")
    ('/clinic?sort=due', None, None)
    """
    if not next_url or not next_url.startswith("/") or next_url.startswith("//"):
        return None
    if "\\" in next_url or any(ord(c) < 32 for c in next_url):
        return None
    return next_url


def start_page(role: Role) -> str:
    return START_PAGES[role]


@router.get("/", name="home")
def home(user: WebUserDep) -> RedirectResponse:
    return RedirectResponse(start_page(user.role), status_code=303)


@router.get("/login", name="login")
def login_page(request: Request, user: OptionalWebUserDep, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next) or start_page(user.role), status_code=303)
    return render(request, "login.html", _form(next))


@router.post("/login")
def login(
    request: Request,
    _: CsrfDep,
    settings: SettingsDep,
    engine: EngineDep,
    now: NowDep,
    username: Annotated[str, Form(max_length=USERNAME_STORED_LENGTH)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    totp: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    errors = {}
    if not username.strip():
        errors["username"] = "Enter your username."
    if not password:
        errors["password"] = "Enter your password."  # noqa: S105  # a message, not a password
    if errors:
        return render(request, "login.html", _form(next, username, errors), status=422)
    address = (request.client.host if request.client else "unknown")[:ADDRESS_STORED_LENGTH]
    outcome = check_credentials(
        engine, username.strip(), password, totp or None, address, now,
        on_success=lambda tx, user: (user, start_session(tx, user.id, now)),
    )  # fmt: skip
    if isinstance(outcome, ProblemError):
        message = LOGIN_MESSAGES.get(outcome.status, "{detail}").format(detail=outcome.detail)
        field = "totp" if outcome.code == "totp-required" else "password"
        if outcome.code == "totp-required":
            message = "This account has a second factor: enter the 6-digit code from your app."
        return render(
            request,
            "login.html",
            _form(next, username, {field: message}),
            status=outcome.status,
            headers=outcome.headers,
        )
    user, token = outcome
    response = RedirectResponse(safe_next(next) or start_page(Role(user.role)), status_code=303)
    policy = cookie_policy(settings)
    policy.set(response, SESSION_COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()))
    policy.delete(response, LOGIN_COOKIE)
    return response


@router.post("/logout", name="logout")
def logout(
    request: Request,
    _: CsrfDep,
    user: WebUserDep,
    settings: SettingsDep,
    engine: EngineDep,
    now: NowDep,
) -> Response:
    with user_transaction(engine) as tx:
        revoked = tx.users.revoke_family(user.session_family, now)
        tx.audit.append(
            at=now, actor=user.id, action="auth:logout", detail={"revoked": revoked, "via": "web"}
        )
    response = RedirectResponse("/login", status_code=303)
    cookie_policy(settings, embedded=bool(user.frame_origins)).delete(response, SESSION_COOKIE)
    flash(request, response, "You are signed out.", "info")
    return response


def _form(
    next_url: str | None, username: str = "", errors: dict[str, str] | None = None
) -> dict[str, object]:
    return {"next": safe_next(next_url) or "", "username": username, "errors": errors or {}}
