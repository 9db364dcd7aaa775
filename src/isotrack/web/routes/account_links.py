"""The pages a one-time link opens, and asking for a password reset (no sign-in).

- ``GET/POST /invitation/{token}`` — a patient accepts a portal invitation: they
  choose a username and a password; the account holds their record, and they are
  signed in straight away.
- ``GET/POST /password/forgot`` — anyone asks for a reset link by username or
  email address. The answer is the same whether or not such an account exists,
  and the email is sent after the answer (a background task), so neither the
  words nor the time tell who has an account.
- ``GET/POST /password/reset/{token}`` — a new password; every session of the
  account ends, and the user signs in with the new password.

A used, expired or unknown link gets one page that says so and what to do (410).
The token is in the path; the access log records the route's template
(``/invitation/{token}``), never the token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from isotrack.errors import ConflictError, InvalidInputError, NotFoundError
from isotrack.http.account_links import (
    MAX_PASSWORD_LENGTH,
    accept_invitation,
    open_invitation,
    open_reset,
    password_problems,
    request_password_reset,
    reset_password,
)
from isotrack.http.deps import EngineDep, NowDep, SettingsDep
from isotrack.http.mail import (
    MailNotSent,
    MailServer,
    link_base,
    mail_server,
    reset_message,
    send_mail,
)
from isotrack.http.signin import ADDRESS_STORED_LENGTH
from isotrack.store.users import user_transaction
from isotrack.web.deps import CsrfDep
from isotrack.web.routes.clinic_invitation import expiry_text
from isotrack.web.sessions import LOGIN_COOKIE, SESSION_COOKIE, SESSION_LIFETIME, start_session
from isotrack.web.templating import cookie_policy, flash, render

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Path(max_length=200)]
"""Any text: a token that is not one of ours is a link that no longer works (410)."""
PasswordField = Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH + 1)]
GONE = 410


def _link_gone(request: Request, what: str) -> Response:
    return render(request, "account/link_gone.html", {"what": what}, status=GONE)


# --- invitations -----------------------------------------------------------------------------
@router.get("/invitation/{token}")
def invitation_page(request: Request, token: Token, engine: EngineDep, now: NowDep) -> Response:
    if open_invitation(engine, token, now) is None:
        return _link_gone(request, "invitation")
    return render(request, "account/invitation.html", {"username": "", "errors": {}})


@router.post("/invitation/{token}")
async def accept(
    request: Request,
    token: Token,
    _: CsrfDep,
    engine: EngineDep,
    settings: SettingsDep,
    now: NowDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: PasswordField = "",
    confirm: PasswordField = "",
) -> Response:
    if await run_in_threadpool(open_invitation, engine, token, now) is None:
        return _link_gone(request, "invitation")
    errors = {} if username.strip() else {"username": "Choose a username."}
    errors |= password_problems(password, confirm)
    if not errors:
        try:
            user = await run_in_threadpool(
                accept_invitation, engine, token, username.strip(), password, now=now
            )
        except (InvalidInputError, ConflictError) as error:
            errors["username"] = error.message[0].upper() + error.message[1:] + "."
        except NotFoundError:
            return _link_gone(request, "invitation")
    if errors:
        context = {"username": username, "errors": errors}
        return render(request, "account/invitation.html", context, status=422)
    session = await run_in_threadpool(_start_session, engine, user.id, now)
    response = RedirectResponse("/me", status_code=303)
    policy = cookie_policy(settings)
    policy.set(response, SESSION_COOKIE, session, max_age=int(SESSION_LIFETIME.total_seconds()))
    policy.delete(response, LOGIN_COOKIE)
    flash(request, response, f"Your account {user.username} is ready. Welcome.")
    return response


def _start_session(engine: Engine, user_id: str, now: datetime) -> str:
    with user_transaction(engine) as tx:
        token = start_session(tx, user_id, now)
        tx.audit.append(at=now, actor=user_id, action="auth:login", detail={"via": "invitation"})
    return token


# --- password resets ---------------------------------------------------------------------------
@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return render(request, "account/forgot.html", {"identifier": "", "errors": {}, "sent": False})


@router.post("/password/forgot")
async def forgot(
    request: Request,
    _: CsrfDep,
    background: BackgroundTasks,
    engine: EngineDep,
    settings: SettingsDep,
    now: NowDep,
    identifier: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    if not identifier.strip():
        refused = {"identifier": "Enter your username or email."}
        context: dict[str, object] = {"identifier": "", "errors": refused, "sent": False}
        return render(request, "account/forgot.html", context, status=422)
    address = (request.client.host if request.client else "unknown")[:ADDRESS_STORED_LENGTH]
    made = await run_in_threadpool(
        request_password_reset, engine, identifier, now=now, address=address
    )
    server = mail_server(settings)
    base = link_base(settings, str(request.base_url), anonymous=True)
    if made is not None:
        link, user = made
        if server is not None and base is not None and link.email is not None:
            subject, body = reset_message(
                f"{base}/password/reset/{link.token}", expiry_text(link.expires_at)
            )
            background.add_task(
                _send_reset, engine, server, link.email, subject, body, user.id, now
            )
        else:
            _audit_not_sent(engine, user.id, now, "no mail server or public URL set up")
    answer = {"identifier": identifier, "errors": {}, "sent": True}
    return render(request, "account/forgot.html", answer)


def _send_reset(
    engine: Engine, server: MailServer, to: str, subject: str, body: str, user_id: str,
    now: datetime,
) -> None:  # fmt: skip
    """Send the reset email (after the answer); a failure is audited, never shown."""
    try:
        send_mail(server, to, subject, body)
    except MailNotSent as error:
        _audit_not_sent(engine, user_id, now, error.message)


def _audit_not_sent(engine: Engine, user_id: str, now: datetime, reason: str) -> None:
    with user_transaction(engine) as tx:
        tx.audit.append(
            at=now, actor=user_id, action="password-reset:not-sent", detail={"reason": reason}
        )


@router.get("/password/reset/{token}")
def reset_page(request: Request, token: Token, engine: EngineDep, now: NowDep) -> Response:
    if open_reset(engine, token, now) is None:
        return _link_gone(request, "reset")
    return render(request, "account/reset.html", {"errors": {}})


@router.post("/password/reset/{token}")
async def reset(
    request: Request,
    token: Token,
    _: CsrfDep,
    engine: EngineDep,
    now: NowDep,
    password: PasswordField = "",
    confirm: PasswordField = "",
) -> Response:
    errors = password_problems(password, confirm)
    if errors:
        if await run_in_threadpool(open_reset, engine, token, now) is None:
            return _link_gone(request, "reset")
        return render(request, "account/reset.html", {"errors": errors}, status=422)
    try:
        await run_in_threadpool(reset_password, engine, token, password, now=now)
    except NotFoundError:
        return _link_gone(request, "reset")
    response = RedirectResponse("/login", status_code=303)
    flash(request, response, "Your password is changed. Sign in with the new one.")
    return response
