"""SMART App Launch: ``/smart/launch`` is where an EHR opens isotrack (EHR launch with
``iss`` and ``launch``; standalone with ``iss`` alone), ``/smart/callback`` where
the EHR's authorization server sends the browser back (:mod:`isotrack.http.smart`).

The launch checks ``iss`` against the registered EHRs, discovers the EHR's
authorization server, stores the launch under way (digests of its ``state`` and of
a random cookie :data:`LAUNCH_COOKIE`, its nonce, PKCE verifier and scopes) for
:data:`LAUNCH_LIFETIME` and sends the browser to authorise with ``launch``,
``aud`` = ``iss``, PKCE S256 and only the scopes isotrack needs. The callback
takes the launch (once), checks the browser, exchanges the code outside any
transaction, checks the ID token, the scopes granted and the patient, maps the
EHR user to a role and then, in one transaction, finds or creates the account,
starts a session and keeps the EHR's access token beside it (server-side only,
sealed with the server key: :mod:`isotrack.http.sealing`).
Then :func:`isotrack.web.routes.smart_landing.landing_page` reads the record
from the EHR and chooses the page. Anything wrong is a page that says what to
do, with no session, no account and no token stored: only an
``auth:smart-refused`` audit row.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import Engine

from isotrack.http.authz import Role
from isotrack.http.deps import EngineDep, NowDep, SettingsDep
from isotrack.http.oidc import SsoRefused
from isotrack.http.sealing import seal
from isotrack.http.signin import ADDRESS_STORED_LENGTH
from isotrack.http.smart import (
    ACCESS_TOKEN_PURPOSE,
    ROLES_CLAIM,
    LaunchContext,
    LaunchRefused,
    SmartClient,
    launch_context,
    missing_scopes,
    refused,
    role_candidates,
    role_for_user,
    scopes_for,
)
from isotrack.http.sso import SsoConfig, sign_in_identity
from isotrack.settings import Settings, signing_key
from isotrack.store.smart import PendingLaunch, SmartSession
from isotrack.store.users import StoredUser, user_transaction
from isotrack.web.routes.smart_landing import flash_note, landing_page
from isotrack.web.sessions import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    new_token,
    session_id,
    start_session,
    state_digest,
    tokens_match,
)
from isotrack.web.templating import cookie_policy, page_policy, render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("isotrack.web.smart")

LAUNCH_COOKIE = "isotrack_smart"
"""The random value that binds a launch under way to the browser (or frame) that started it."""
LAUNCH_LIFETIME = timedelta(minutes=10)
TOKEN_LIFETIME_UNSAID = timedelta(hours=1)
"""How long an access token is used when the token response gives no ``expires_in``."""
_MAX_PARAMETER = 2000


def _client(request: Request, iss: str) -> SmartClient:
    clients: dict[str, SmartClient] = getattr(request.app.state, "smart_clients", None) or {}
    if not clients:
        raise refused("off", "no EHR is registered (ISOTRACK_SMART_EHRS)")
    client = clients.get(iss)
    if client is None:
        raise refused("unknown-iss", f"launch from unregistered iss {iss[:200]!r}")
    return client


def _protocol_refusal(refusal: SsoRefused) -> LaunchRefused:
    kind = "unavailable" if refusal.status >= 500 else "not-verified"
    return refused(kind, refusal.reason)


@router.get("/smart/launch", name="smart_launch")
def smart_launch(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    now: NowDep,
    iss: str = "",
    launch: str = "",
) -> Response:
    origins: tuple[str, ...] = ()
    try:
        if len(iss) > _MAX_PARAMETER or len(launch) > _MAX_PARAMETER:
            raise refused("unknown-iss", "launch parameters too long")
        client = _client(request, iss)
        origins = client.registration.frame_origins
        if not launch and not client.registration.standalone:
            raise refused("no-launch", f"launch without launch from {iss!r} (EHR launch only)")
        state, nonce, verifier, browser = new_token(), new_token(), new_token(), new_token()
        scope = scopes_for(client.registration, ehr_launch=bool(launch))
        extra = {"aud": iss, **({"launch": launch} if launch else {})}
        try:
            url = client.authorization_url(
                state=state, nonce=nonce, code_verifier=verifier, scope=scope, extra=extra
            )
        except SsoRefused as refusal:
            raise _protocol_refusal(refusal) from None
    except LaunchRefused as refusal:
        return _refused(request, engine, refusal, now, origins)
    with user_transaction(engine) as tx:
        tx.smart.purge_expired(now)
        tx.smart.add_launch(
            PendingLaunch(
                state_digest=state_digest(state),
                browser_digest=state_digest(browser),
                iss=iss,
                ehr_launch=bool(launch),
                nonce=nonce,
                code_verifier=verifier,
                scope=scope,
                expires_at=now + LAUNCH_LIFETIME,
            )
        )
    response = RedirectResponse(url, status_code=303)
    policy = cookie_policy(settings, embedded=bool(launch))
    policy.set(response, LAUNCH_COOKIE, browser, max_age=int(LAUNCH_LIFETIME.total_seconds()))
    return response


@router.get("/smart/callback", name="smart_callback")
def smart_callback(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    now: NowDep,
    state: str = "",
    code: str = "",
    error: str = "",
    iss: str | None = None,
) -> Response:
    origins: tuple[str, ...] = ()
    try:
        if not getattr(request.app.state, "smart_clients", None):
            raise refused("off", "no EHR is registered (ISOTRACK_SMART_EHRS)")
        pending = _take_launch(request, engine, state, code, now)
        client = _client(request, pending.iss)
        origins = client.registration.frame_origins if pending.ehr_launch else ()
        token, claims = _checked_answer(client, pending, code=code, error=error, iss=iss, now=now)
        access_token = str(token["access_token"])
        context = launch_context(token)
        claim = client.registration.role_claim
        if claim not in claims and claim in token:  # fhirUser in the token response (rare)
            claims = {**claims, claim: token[claim]}
        role = role_for_user(claims, client.registration)
        sealed = seal(signing_key(settings), access_token, purpose=ACCESS_TOKEN_PURPOSE)
        user, session = _sign_in(engine, client, claims, (token, sealed), pending, context, now)
    except LaunchRefused as refusal:
        return _refused(request, engine, refusal, now, origins)
    signed_in = (user, role, session, access_token)
    return _landed(request, settings, engine, pending, signed_in, context, now)


def _checked_answer(
    client: SmartClient,
    pending: PendingLaunch,
    *,
    code: str,
    error: str,
    iss: str | None,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The token response and the ID token's claims once the issuer, the code, the ID
    token, the scopes granted and the access token have passed; else LaunchRefused."""
    try:
        if iss is not None and iss != client.metadata().issuer:  # RFC 9207 mix-up defence
            raise refused("not-verified", f"callback from issuer {iss[:200]!r}")
        if error:
            raise refused("denied", f"the EHR answered {error[:100]!r}")
        if not code:
            raise refused("not-verified", "callback without a code")
        token = client.exchange(code=code, code_verifier=pending.code_verifier)
        claims = client.id_token_claims(token, nonce=pending.nonce, now=now)
    except SsoRefused as refusal:
        raise _protocol_refusal(refusal) from None
    missing = missing_scopes(pending.scope, _granted(token.get("scope")))
    if missing:
        raise refused("denied", "scopes not granted: " + " ".join(missing))
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise refused("not-verified", "the token response has no access_token")
    return token, claims


def _take_launch(
    request: Request, engine: Engine, state: str, code: str, now: datetime
) -> PendingLaunch:
    if not state or len(state) > _MAX_PARAMETER or len(code) > _MAX_PARAMETER:
        raise refused("not-verified", "callback without a usable state")
    with user_transaction(engine) as tx:
        pending = tx.smart.take_launch(state_digest(state), now)
    if pending is None:
        raise refused("not-verified", "state unknown, used already or expired")
    browser = request.cookies.get(LAUNCH_COOKIE)
    if not browser or not tokens_match(state_digest(browser), pending.browser_digest):
        raise refused("not-verified", "state started in another browser")
    return pending


def _granted(scope: object) -> str | None:
    return scope if isinstance(scope, str) else None


def _sign_in(
    engine: Engine,
    client: SmartClient,
    claims: dict[str, object],
    answer: tuple[dict[str, object], str],
    pending: PendingLaunch,
    context: LaunchContext,
    now: datetime,
) -> tuple[StoredUser, str]:
    """The account of the EHR user, a new session and the EHR's token beside it (one
    transaction; ``answer``: the token response and its access token sealed);
    LaunchRefused (nothing stored) when the account may not sign in."""
    token, sealed = answer
    registration = client.registration
    config = SsoConfig(oidc=client.config, role_groups=registration.roles, groups_claim=ROLES_CLAIM)
    with_roles = {**claims, ROLES_CLAIM: role_candidates(claims.get(registration.role_claim))}
    expires_in = token.get("expires_in")
    lifetime = (
        timedelta(seconds=expires_in)
        if isinstance(expires_in, int) and expires_in > 0
        else TOKEN_LIFETIME_UNSAID
    )
    try:
        with user_transaction(engine) as tx:
            user = sign_in_identity(tx, config, with_roles, now)
            session = start_session(tx, user.id, now)
            tx.smart.add_session(
                SmartSession(
                    session_id=session_id(session),
                    iss=pending.iss,
                    patient=context.patient,
                    access_token=sealed,
                    scope=_granted(token.get("scope")) or pending.scope,
                    app_context=context.as_json(),
                    embedded=pending.ehr_launch,
                    created_at=now,
                    token_expires_at=now + min(lifetime, SESSION_LIFETIME),
                    expires_at=now + SESSION_LIFETIME,
                )
            )
            tx.audit.append(
                at=now,
                actor=user.id,
                action="auth:smart-launch",
                detail={"iss": pending.iss, "patient": context.patient, "order": context.order},
            )
    except SsoRefused as refusal:  # a disabled account
        raise refused("role", refusal.reason) from None
    return user, session


def _landed(
    request: Request,
    settings: Settings,
    engine: Engine,
    pending: PendingLaunch,
    signed_in: tuple[StoredUser, Role, str, str],
    context: LaunchContext,
    now: datetime,
) -> Response:
    user, role, session, access_token = signed_in
    page, note = landing_page(
        request,
        engine,
        iss=pending.iss,
        access_token=access_token,
        context=context,
        role=role,
        actor=user.id,
        now=now,
    )
    response = RedirectResponse(page, status_code=303)
    policy = cookie_policy(settings, embedded=pending.ehr_launch)
    policy.set(response, SESSION_COOKIE, session, max_age=int(SESSION_LIFETIME.total_seconds()))
    policy.delete(response, LAUNCH_COOKIE)
    cookie_policy(settings).delete(response, LOGIN_COOKIE)
    if note is not None:
        flash_note(request, response, note, embedded=pending.ehr_launch)
    return response


def _refused(
    request: Request,
    engine: Engine,
    refusal: LaunchRefused,
    now: datetime,
    origins: tuple[str, ...] = (),
) -> Response:
    """The page of a refusal (framed only by the origins of the EHR it came from)."""
    address = (request.client.host if request.client else "unknown")[:ADDRESS_STORED_LENGTH]
    log.warning("SMART launch refused: %s", refusal.reason)
    with user_transaction(engine) as tx:
        tx.audit.append(
            at=now,
            actor="anonymous",
            action="auth:smart-refused",
            detail={"reason": refusal.reason[:500], "address": address},
        )
    return render(
        request,
        "smart_refused.html",
        {"title": refusal.title, "message": refusal.message, "hint": refusal.hint},
        status=refusal.status,
        headers={"content-security-policy": page_policy(origins)},
    )
