"""Browser sessions, CSRF tokens and flash messages: the cookies of the web app.

A session is an opaque random token in the HttpOnly cookie :data:`SESSION_COOKIE`.
The server keeps only its digest, in the refresh-token table (its own family, so
logout revokes it and disabling a user revokes it with their refresh tokens).
The digest is *domain-separated* (:func:`session_id`: SHA-256 of a prefix and
the token), so a session cookie is not a refresh token: ``/api/v1/auth/refresh``
looks up the plain SHA-256 and finds nothing.

CSRF tokens are HMACs of the server key (:func:`isotrack.settings.signing_key`):
for a signed-in browser, over the session id; before sign-in, over a random
value in the cookie :data:`LOGIN_COOKIE` (so the login form is protected too).
Nothing else is stored: a token is valid exactly as long as its cookie.

>>> key = b"k" * 32
>>> token = csrf_token_for_session(key, "a-session-token")
>>> token == csrf_token_for_session(key, "a-session-token")
True
>>> token == csrf_token_for_session(key, "another-session-token")
False
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from fastapi import Request, Response

from isotrack.store.users import StoredRefreshToken, UserTransaction

SESSION_COOKIE = "isotrack_session"
LOGIN_COOKIE = "isotrack_login"
"""Before sign-in: the random value the login form's CSRF token is bound to."""
FLASH_COOKIE = "isotrack_flash"
SESSION_LIFETIME = timedelta(hours=12)
"""A working day; then the browser signs in again."""
_SESSION_DIGEST_PREFIX = "isotrack-web-session:"
_TOKEN_BYTES = 32
FlashKind = Literal["success", "info", "warning", "error"]
FLASH_KINDS: frozenset[str] = frozenset({"success", "info", "warning", "error"})


def session_id(token: str) -> str:
    """What the database keeps of a session token (never the token itself)."""
    return hashlib.sha256((_SESSION_DIGEST_PREFIX + token).encode("utf-8")).hexdigest()


def state_digest(value: str) -> str:
    """What the database keeps of an OAuth ``state`` or of the browser cookie bound to
    it (plain SHA-256, hexadecimal): a sign-in or launch under way, taken once."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def start_session(tx: UserTransaction, user_id: str, now: datetime) -> str:
    """Store a new session for ``user_id`` (in ``tx``); returns the cookie value."""
    token = new_token()
    tx.users.add_refresh_token(
        StoredRefreshToken(
            id=session_id(token),
            user_id=user_id,
            family_id=str(uuid.uuid4()),
            issued_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return token


def live_session(tx: UserTransaction, token: str, now: datetime) -> StoredRefreshToken | None:
    """The stored session of a cookie value, when it is neither revoked nor expired."""
    stored = tx.users.refresh_token(session_id(token))
    if stored is None or stored.revoked_at is not None or stored.used_at is not None:
        return None
    return stored if now < stored.expires_at else None


def _mac(key: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def csrf_token_for_session(key: bytes, token: str) -> str:
    return _mac(key, "csrf-session", session_id(token))


def csrf_token_for_login(key: bytes, value: str) -> str:
    return _mac(key, "csrf-login", value)


def accepted_csrf_tokens(request: Request, key: bytes) -> list[str]:
    """The CSRF tokens this browser may send: the one bound to its session cookie and
    the one bound to its login cookie (a stale session cookie must not block sign-in)."""
    tokens = []
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        tokens.append(csrf_token_for_session(key, session))
    login = request.cookies.get(LOGIN_COOKIE)
    if login:
        tokens.append(csrf_token_for_login(key, login))
    return tokens


def tokens_match(sent: str | None, expected: str | None) -> bool:
    """Constant-time comparison; False when either is missing."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


# --- cookies -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """How the web app's cookies are set: HttpOnly, SameSite=Lax, Secure outside
    development and test (both run on plain http://127.0.0.1). An *embedded* policy
    (a session launched from inside an EHR, shown in the EHR's frame) sets
    ``SameSite=None; Secure`` always: a browser sends nothing else to a third-party
    frame, and refuses ``SameSite=None`` without ``Secure``."""

    secure: bool
    embedded: bool = False

    def set(self, response: Response, name: str, value: str, *, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure or self.embedded,
            httponly=True,
            samesite="none" if self.embedded else "lax",
        )

    def delete(self, response: Response, name: str) -> None:
        response.delete_cookie(
            name,
            path="/",
            secure=self.secure or self.embedded,
            httponly=True,
            samesite="none" if self.embedded else "lax",
        )


# --- flash messages --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flash:
    """A message shown once, on the next page (after a redirect)."""

    kind: str
    text: str


def sign_flashes(key: bytes, flashes: list[Flash]) -> str:
    payload = base64.urlsafe_b64encode(
        json.dumps([[f.kind, f.text] for f in flashes]).encode("utf-8")
    ).decode("ascii")
    return payload + "." + _mac(key, "flash", payload)


def read_flashes(key: bytes, cookie: str | None) -> list[Flash]:
    """The messages of a flash cookie; none when it is missing, altered or malformed.

    >>> key = b"k" * 32
    >>> read_flashes(key, sign_flashes(key, [Flash("success", "Saved")]))
    [Flash(kind='success', text='Saved')]
    >>> read_flashes(key, sign_flashes(b"x" * 32, [Flash("error", "forged")]))
    []
    """
    if not cookie or "." not in cookie:
        return []
    payload, mac = cookie.rsplit(".", 1)
    if not tokens_match(mac, _mac(key, "flash", payload)):
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except ValueError:
        return []
    return [
        Flash(kind, text)
        for kind, text in items
        if isinstance(kind, str) and kind in FLASH_KINDS and isinstance(text, str)
    ]
