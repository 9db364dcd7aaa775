"""Single sign-on for staff: ``/login/sso`` sends the browser to the clinic's identity
provider, ``/login/sso/callback`` brings it back signed in (OpenID Connect,
authorization code + PKCE; :mod:`isotrack.http.oidc`, :mod:`isotrack.http.sso`).

The start stores the sign-in under way (digests of its ``state`` and of a random
cookie :data:`SSO_COOKIE`, its ``nonce`` and PKCE verifier) for
:data:`REQUEST_LIFETIME`. The callback takes it (once: a second use of the same
``state`` finds nothing), checks that the same browser came back, exchanges the
code outside any transaction, checks the ID token, and then, in one transaction,
finds or creates the account and starts a session. Anything wrong is a page that
says what to do, with status 400, 403 or 502, no session and no account: only an
``auth:sso-refused`` audit row.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine

from isotrack.http.authz import Role
from isotrack.http.deps import EngineDep, NowDep, SettingsDep
from isotrack.http.oidc import OidcClient, SsoRefused
from isotrack.http.signin import ADDRESS_STORED_LENGTH
from isotrack.http.sso import SsoConfig, audit_refusal, sign_in_identity
from isotrack.settings import Settings
from isotrack.store.sso import PendingSsoRequest
from isotrack.store.users import user_transaction
from isotrack.web.routes.account import safe_next, start_page
from isotrack.web.sessions import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    new_token,
    start_session,
    state_digest,
    tokens_match,
)
from isotrack.web.templating import cookie_policy, render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("isotrack.web.sso")

SSO_COOKIE = "isotrack_sso"
"""The random value that binds a sign-in under way to the browser that started it."""
REQUEST_LIFETIME = timedelta(minutes=10)
"""How long a person has at the identity provider before the sign-in must start again."""
_MAX_PARAMETER = 2000


def _sso(request: Request) -> tuple[SsoConfig, OidcClient] | None:
    config: SsoConfig | None = getattr(request.app.state, "sso", None)
    client: OidcClient | None = getattr(request.app.state, "sso_client", None)
    return (config, client) if config is not None and client is not None else None


def _not_configured(request: Request) -> Response:
    return render(
        request,
        "sso_refused.html",
        {"message": "Single sign-on is not set up on this server: sign in with your password."},
        status=404,
    )


@router.get("/login/sso", name="sso_start")
def sso_start(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    now: NowDep,
    next: str | None = None,
) -> Response:
    sso = _sso(request)
    if sso is None:
        return _not_configured(request)
    _, client = sso
    state, nonce, verifier, browser = new_token(), new_token(), new_token(), new_token()
    try:
        url = client.authorization_url(state=state, nonce=nonce, code_verifier=verifier)
    except SsoRefused as refusal:
        return _refused(request, settings, engine, refusal, now)
    with user_transaction(engine) as tx:
        tx.sso.purge_expired(now)
        tx.sso.add_request(
            PendingSsoRequest(
                state_digest=state_digest(state),
                browser_digest=state_digest(browser),
                nonce=nonce,
                code_verifier=verifier,
                next_url=_return_to(next),
                expires_at=now + REQUEST_LIFETIME,
            )
        )
    response = RedirectResponse(url, status_code=303)
    max_age = int(REQUEST_LIFETIME.total_seconds())
    cookie_policy(settings).set(response, SSO_COOKIE, browser, max_age=max_age)
    return response


def _return_to(next_url: str | None) -> str:
    """The page to return to after sign-in: a path of this site, else none."""
    target = safe_next(next_url) or ""
    return target if len(target) <= _MAX_PARAMETER else ""


@router.get("/login/sso/callback", name="sso_callback")
def sso_callback(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    now: NowDep,
    state: str = "",
    code: str = "",
    error: str = "",
    iss: str | None = None,
) -> Response:
    sso = _sso(request)
    if sso is None:
        return _not_configured(request)
    config, client = sso
    try:
        if not state or len(state) > _MAX_PARAMETER or len(code) > _MAX_PARAMETER:
            raise SsoRefused("callback without a usable state")
        with user_transaction(engine) as tx:
            pending = tx.sso.take_request(state_digest(state), now)
        if pending is None:
            raise SsoRefused("state unknown, used already or expired")
        browser = request.cookies.get(SSO_COOKIE)
        if not browser or not tokens_match(state_digest(browser), pending.browser_digest):
            raise SsoRefused("state started in another browser")
        if iss is not None and iss != config.oidc.issuer:  # RFC 9207: mix-up defence
            raise SsoRefused(f"callback from issuer {iss[:200]!r}")
        if error:
            raise SsoRefused(f"the identity provider answered {error[:100]!r}", status=403)
        if not code:
            raise SsoRefused("callback without a code")
        token = client.exchange(code=code, code_verifier=pending.code_verifier)
        claims = client.id_token_claims(token, nonce=pending.nonce, now=now)
        with user_transaction(engine) as tx:
            user = sign_in_identity(tx, config, claims, now)
            session = start_session(tx, user.id, now)
    except SsoRefused as refusal:
        return _refused(request, settings, engine, refusal, now)
    response = RedirectResponse(pending.next_url or start_page(Role(user.role)), status_code=303)
    policy = cookie_policy(settings)
    policy.set(response, SESSION_COOKIE, session, max_age=int(SESSION_LIFETIME.total_seconds()))
    policy.delete(response, SSO_COOKIE)
    policy.delete(response, LOGIN_COOKIE)
    return response


def _refused(
    request: Request, settings: Settings, engine: Engine, refusal: SsoRefused, now: datetime
) -> Response:
    address = (request.client.host if request.client else "unknown")[:ADDRESS_STORED_LENGTH]
    log.warning("single sign-on refused: %s", refusal.reason)
    with user_transaction(engine) as tx:
        audit_refusal(tx, refusal, address, now)
    response = render(
        request, "sso_refused.html", {"message": refusal.message}, status=refusal.status
    )
    cookie_policy(settings).delete(response, SSO_COOKIE)
    return response
