"""Authorisation tokens: a compact JWS (``EdDSA``, with ``kid``) over the claims of
:func:`isotrack.clinical.programme.authorization_claims`, and the offline check.

:func:`sign_authorization` needs the clinic's private key
(:func:`isotrack.store.ppp_keys.active_signing_key`). :func:`verify_authorization`
needs only the published public keys (a JWKS, e.g. ``isotrack ppp keys export``):
no database, no secret, no network. It pins the algorithm to ``EdDSA`` and the
key to an Ed25519 key of the JWKS named by the token's ``kid``, so it refuses:

- ``alg: none`` and every other algorithm (``HS256`` signed with the public key
  as the HMAC secret, the classic algorithm confusion; the old HMAC tokens);
- a ``kid`` the JWKS lacks (an unknown key, or one whose rotation overlap ended);
- a signature that does not match (any changed claim);
- claims that are not an authorisation (:func:`authorization_from_claims`);
- with ``on``, a day outside the authorisation (expired, or not yet issued).

Each refusal is an :class:`~isotrack.errors.InvalidInputError` (field ``token``)
or, for the day, a :class:`~isotrack.errors.ProgrammeRefusal`, with the reason.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from isotrack.clinical.programme import (
    Authorization,
    authorization_claims,
    authorization_from_claims,
    check_in_force,
)
from isotrack.errors import InvalidInputError
from isotrack.store.ppp_keys import ALGORITHM, SigningKey

MAX_TOKEN_CHARS = 2048
"""Longer than any token this server signs; a longer one is refused unread."""


class _Utf8Encoder(json.JSONEncoder):
    """JSON as UTF-8 text ("María", not "Mar\\u00eda"): shorter in a QR code."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**(options | {"ensure_ascii": False}))


def sign_authorization(authorization: Authorization, key: SigningKey, *, now: datetime) -> str:
    """The token: header ``{"alg":"EdDSA","kid":…}``, the claims and ``iat``."""
    claims = authorization_claims(authorization) | {"iat": int(now.timestamp())}
    headers = {"kid": key.kid, "typ": None}  # no "typ": every byte counts in a QR code
    return jwt.encode(
        claims, key.private_key, algorithm=ALGORITHM, headers=headers, json_encoder=_Utf8Encoder
    )


def load_jwks(text: str) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 signing keys of a JWKS document by kid; InvalidInputError (field
    ``jwks``) when it is not a JWKS or holds no such key."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise InvalidInputError("jwks", f"is not JSON: {error}") from None
    found = jwks_keys(document)
    if not found:
        raise InvalidInputError("jwks", "holds no Ed25519 (EdDSA) key with a kid")
    return found


def jwks_keys(document: Any) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 signing keys of a parsed JWKS by kid (none: an empty dict);
    InvalidInputError (field ``jwks``) when it is not a JWKS."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise InvalidInputError("jwks", 'is not a JWKS: expected {"keys": [...]}')
    found = {}
    for entry in keys:
        key = _ed25519(entry)
        if key is not None:
            found[str(entry["kid"])] = key
    return found


def _ed25519(entry: Any) -> Ed25519PublicKey | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
        return None
    if (entry.get("kty"), entry.get("crv"), entry.get("alg", ALGORITHM)) != (
        "OKP",
        "Ed25519",
        ALGORITHM,
    ):
        return None
    x = entry.get("x")
    try:
        raw = base64.urlsafe_b64decode(str(x) + "=" * (-len(str(x)) % 4))
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error):
        return None


def verify_authorization(
    token: str, keys: Mapping[str, Ed25519PublicKey], *, on: date | None = None
) -> Authorization:
    """The authorisation a token states, checked against public ``keys`` only."""
    text = token.strip()
    if not text or len(text) > MAX_TOKEN_CHARS:
        raise InvalidInputError("token", f"is empty or longer than {MAX_TOKEN_CHARS} characters")
    try:
        header = jwt.get_unverified_header(text)
    except jwt.InvalidTokenError:
        raise InvalidInputError(
            "token", "is malformed: not a signed authorisation (three base64url parts)"
        ) from None
    algorithm = header.get("alg")
    if algorithm != ALGORITHM:
        raise InvalidInputError(
            "token",
            f"is signed with {algorithm!r}: only {ALGORITHM} (the clinic's public-key "
            "signature) is accepted",
        )
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidInputError(
            "token",
            f"is signed with an unknown key ({kid!r}): not one of the clinic's published "
            "keys (fetch the current keys, or the key's overlap has ended)",
        )
    try:
        claims = jwt.decode(
            text,
            key,
            algorithms=[ALGORITHM],
            options={"require": ["iat"], "verify_iat": False, "verify_exp": False},
        )
    except jwt.InvalidSignatureError:
        raise InvalidInputError(
            "token", "the signature does not match: the token was changed or forged"
        ) from None
    except jwt.InvalidTokenError as error:
        raise InvalidInputError("token", f"is malformed: {error}") from None
    authorization = authorization_from_claims(claims)
    if on is not None:
        check_in_force(authorization, on)
    return authorization
