"""Access tokens (signed JWTs) and refresh tokens (opaque random strings).

An access token is a JWT signed with HMAC-SHA256 under the server key
(:func:`isotrack.settings.signing_key`), valid :data:`ACCESS_TOKEN_LIFETIME`,
with the claims ``sub`` (user id), ``role``, ``iat``, ``exp``, ``jti``, ``aud``
(:data:`AUDIENCE`) and ``iss`` (:data:`ISSUER`). Expiry is checked against the
``now`` the caller gives (the request's clock), not the machine's.

A refresh token is 256 random bits; the database keeps only its SHA-256.

>>> from datetime import UTC, datetime
>>> key = b"k" * 32
>>> at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
>>> token = issue_access_token(key=key, user_id="u-1", role="nurse", now=at)
>>> read_access_token(token, key=key, now=at).subject
'u-1'
>>> read_access_token(token, key=key, now=at + ACCESS_TOKEN_LIFETIME)
Traceback (most recent call last):
...
isotrack.http.tokens.InvalidTokenError: expired
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
AUDIENCE = "isotrack-api"
ISSUER = "isotrack"
ACCESS_TOKEN_LIFETIME = timedelta(minutes=15)
REFRESH_TOKEN_LIFETIME = timedelta(hours=12)
"""How long a sign-in lasts without a password (one clinic day); each refresh
issues a new token of the family with a new lifetime."""
REFRESH_TOKEN_BYTES = 32
_REQUIRED_CLAIMS = ("sub", "role", "iat", "exp", "jti", "aud", "iss")


class InvalidTokenError(Exception):
    """An access token that cannot be trusted; the message says why, briefly."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: str
    role: str
    token_id: str
    issued_at: datetime
    expires_at: datetime


def issue_access_token(*, key: bytes, user_id: str, role: str, now: datetime) -> str:
    issued = int(now.timestamp())
    claims = {
        "sub": user_id,
        "role": role,
        "iat": issued,
        "exp": issued + int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        "jti": str(uuid.uuid4()),
        "aud": AUDIENCE,
        "iss": ISSUER,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_access_token(token: str, *, key: bytes, now: datetime) -> AccessClaims:
    """The claims of a token signed by this server for this API and not expired at ``now``."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": list(_REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidAudienceError:
        raise InvalidTokenError("wrong audience") from None
    except jwt.InvalidIssuerError:
        raise InvalidTokenError("wrong issuer") from None
    except jwt.InvalidSignatureError:
        raise InvalidTokenError("bad signature") from None
    except jwt.PyJWTError:
        raise InvalidTokenError("malformed") from None
    expires, issued = claims["exp"], claims["iat"]
    if not all(isinstance(value, int) for value in (expires, issued)):
        raise InvalidTokenError("malformed")
    if not all(isinstance(claims[name], str) for name in ("sub", "role", "jti")):
        raise InvalidTokenError("malformed")
    if now.timestamp() >= expires:
        raise InvalidTokenError("expired")
    return AccessClaims(
        subject=claims["sub"],
        role=claims["role"],
        token_id=claims["jti"],
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


def new_refresh_token() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def refresh_token_id(token: str) -> str:
    """What the database keeps of a refresh token: its SHA-256, in hexadecimal."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
