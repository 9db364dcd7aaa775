"""The clinic's key pairs that sign pharmacy dispensing authorisations.

One key is active (it signs); after :func:`rotate_keys` the old one is retired
but still published, so tokens it signed keep verifying, until the overlap ends
(``verify_until``); after that it is no longer published and its tokens are
refused as signed with an unknown key. The keys are Ed25519 (JWS ``EdDSA``):
64-byte signatures keep a token small enough for one QR code.

The private key is kept in the database (table ``ppp_keys``, PKCS#8 PEM) and
never leaves it except to sign (:func:`active_signing_key`): :func:`public_jwks`
is built from the public halves only. A first key is made the first time one is
needed (:func:`active_signing_key`), so a new clinic can authorise at once.
Making and rotating keys are audited (``ppp-key:create|rotate``).

>>> kid_of({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
'kPrK_qmxVWaYVA9w'
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from isotrack.errors import InvalidInputError
from isotrack.store.audit import AuditTrail
from isotrack.store.db import session_transaction, storage_errors
from isotrack.store.models import PppKeyRow

ALGORITHM = "EdDSA"
"""The one JWS algorithm of authorisation tokens (verifiers pin it)."""
ACTION_PREFIX = "ppp-key:"
KeyStatus = Literal["active", "overlap", "expired"]


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The active key: its id and the private key (never shown, never served)."""

    kid: str
    private_key: Ed25519PrivateKey


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A stored key as ``isotrack ppp keys list`` shows it (no private part)."""

    kid: str
    status: KeyStatus
    created_at: datetime
    created_by: str
    retired_at: datetime | None
    verify_until: datetime | None


def kid_of(public_jwk: dict[str, Any]) -> str:
    """The key id: the first 16 characters of the key's RFC 7638 thumbprint."""
    canonical = json.dumps(
        {k: public_jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")[:16]


def _new_row(now: datetime, actor: str) -> PppKeyRow:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    jwk: dict[str, Any] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii"),
    }
    kid = kid_of(jwk)
    jwk |= {"kid": kid, "alg": ALGORITHM, "use": "sig"}
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return PppKeyRow(
        kid=kid,
        private_pem=pem,
        public_jwk=json.dumps(jwk, separators=(",", ":")),
        created_by=actor,
        created_at=now,
    )


def active_signing_key(engine: Engine, *, now: datetime, actor: str) -> SigningKey:
    """The key that signs now; the first one is made (and audited) when there is none."""
    with session_transaction(engine) as session:
        row = _active(session)
        if row is None:
            row = _new_row(now, actor)
            session.add(row)
            session.flush()
            _audit(session, "create", actor, now, {"kid": row.kid})
        private = serialization.load_pem_private_key(row.private_pem.encode("ascii"), None)
        assert isinstance(private, Ed25519PrivateKey)  # only Ed25519 keys are stored
        return SigningKey(row.kid, private)


def rotate_keys(engine: Engine, *, now: datetime, actor: str, overlap: timedelta) -> str:
    """Make a new active key; the old one keeps verifying for ``overlap``. The new kid."""
    if overlap < timedelta(0):
        raise InvalidInputError("overlap_days", "must be 0 or more days")
    with session_transaction(engine) as session:
        old = _active(session)
        if old is not None:
            old.retired_at = now
            old.verify_until = now + overlap
        row = _new_row(now, actor)
        session.add(row)
        session.flush()
        detail = {"kid": row.kid, "retired": old.kid if old else "", "overlap": str(overlap)}
        _audit(session, "rotate", actor, now, detail)
        return row.kid


def list_keys(engine: Engine, *, now: datetime) -> list[KeyInfo]:
    """Every stored key, newest first, with its status on ``now``."""
    query = select(PppKeyRow).order_by(PppKeyRow.created_at.desc())
    with storage_errors(engine), Session(engine) as session:
        return [
            KeyInfo(
                r.kid, _status(r, now), r.created_at, r.created_by, r.retired_at, r.verify_until
            )
            for r in session.scalars(query)
        ]


def public_jwks(engine: Engine, *, now: datetime) -> dict[str, Any]:
    """The JWKS a pharmacy verifies with: the active key and those still overlapping."""
    query = select(PppKeyRow).order_by(PppKeyRow.created_at.desc())
    with storage_errors(engine), Session(engine) as session:
        rows = [r for r in session.scalars(query) if _status(r, now) != "expired"]
        return {"keys": [json.loads(r.public_jwk) for r in rows]}


def _status(row: PppKeyRow, now: datetime) -> KeyStatus:
    if row.retired_at is None:
        return "active"
    if row.verify_until is not None and now < row.verify_until:
        return "overlap"
    return "expired"


def _active(session: Session) -> PppKeyRow | None:
    query = (
        select(PppKeyRow)
        .where(PppKeyRow.retired_at.is_(None))
        .order_by(PppKeyRow.created_at.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def _audit(
    session: Session, action: str, actor: str, now: datetime, detail: dict[str, str]
) -> None:
    AuditTrail(session).append(
        at=now, actor=actor, action=ACTION_PREFIX + action, detail=dict(detail)
    )
