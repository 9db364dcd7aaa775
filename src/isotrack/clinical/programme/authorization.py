"""Pharmacy dispensing authorisations that can be checked offline.

:func:`authorize_dispense` checks every requirement of the programme on a day
(:func:`isotrack.clinical.programme.dispense.dispense_terms`) and returns an
:class:`Authorization`: its id, the prescription, a do-not-dispense-after date
and the maximum quantity; or raises :class:`~isotrack.errors.ProgrammeRefusal`
naming each unmet requirement. The store keeps it as a ``RecordAuthorization``
command (:func:`as_command`); ``Dispense`` then needs it.

:func:`sign` turns it into a compact token, ``base64url(payload).base64url(mac)``
where the payload is the authorisation as canonical JSON and the mac its
HMAC-SHA256 under the server key. A pharmacy holding the key checks a printed
or QR-coded token offline with :func:`verify_token`.

>>> from datetime import date
>>> authorization = Authorization(
...     id="A1", patient_id="w1", course_id="c1", prescription_id="p2",
...     issued_on=date(2026, 3, 2), not_after=date(2026, 3, 8), max_quantity=60,
...     max_days=30, programme="us-ipledge-2024", version="2024 modification",
... )
>>> token = sign(authorization, b"a-long-server-key")
>>> verify_token(token, b"a-long-server-key") == authorization
True
>>> try:
...     verify_token(token, b"another-key")
... except InvalidInputError as error:
...     print(error.field)
token
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from isotrack.clinical.programme.dispense import dispense_terms
from isotrack.clinical.programme.rule_sets import rule_set
from isotrack.clinical.state import PatientRecord, RecordAuthorization
from isotrack.errors import InvalidInputError, ProgrammeRefusal
from isotrack.knowledge.base import KnowledgeBase

TOKEN_VERSION = 1
"""Format version written into every token (not a clinical number)."""


@dataclass(frozen=True, slots=True)
class Authorization:
    """What a pharmacy may dispense for one prescription."""

    id: str
    patient_id: str
    course_id: str
    prescription_id: str
    issued_on: date
    not_after: date
    """Do-not-dispense-after date (inclusive)."""
    max_quantity: int
    """Capsules."""
    max_days: int
    """Days of treatment the capsules cover at most."""
    programme: str
    version: str


def authorize_dispense(
    record: PatientRecord, *, on: date, kb: KnowledgeBase, key: bytes, authorization_id: str
) -> Authorization:
    """An authorisation for the latest prescription of the current course on ``on``.

    Raises ProgrammeRefusal naming every unmet requirement; InvalidInputError for an
    empty key (an authorisation that cannot be signed is not issued) or an id that is
    empty or already used in the record."""
    _check_key(key)
    if not authorization_id.strip():
        raise InvalidInputError("authorization_id", "is empty: give the authorisation an id")
    used = {a.id for c in record.courses for a in c.authorizations}
    if authorization_id in used:
        raise InvalidInputError(
            "authorization_id", f"{authorization_id} is already used: give a new id"
        )
    terms = dispense_terms(record, None, on=on, kb=kb)
    programme = rule_set(record, kb).programme
    return Authorization(
        id=authorization_id,
        patient_id=record.patient_id,
        course_id=terms.course_id,
        prescription_id=terms.prescription.id,
        issued_on=on,
        not_after=terms.not_after,
        max_quantity=terms.max_quantity,
        max_days=terms.max_days,
        programme=programme.id,
        version=programme.version,
    )


def as_command(authorization: Authorization) -> RecordAuthorization:
    """The command that records the authorisation in the patient's log."""
    return RecordAuthorization(
        on=authorization.issued_on,
        authorization_id=authorization.id,
        prescription_id=authorization.prescription_id,
        not_after=authorization.not_after,
        max_quantity=authorization.max_quantity,
    )


def _check_key(key: bytes) -> None:
    if not key:
        raise InvalidInputError("key", "is empty: configure the server key (ISOTRACK_SECRET_KEY)")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _mac(payload: str, key: bytes) -> bytes:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()


def sign(authorization: Authorization, key: bytes) -> str:
    """The token ``base64url(canonical JSON).base64url(HMAC-SHA256)``."""
    _check_key(key)
    fields = asdict(authorization)
    fields["issued_on"] = authorization.issued_on.isoformat()
    fields["not_after"] = authorization.not_after.isoformat()
    fields["v"] = TOKEN_VERSION
    payload = _b64(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(payload, key))}"


def verify_token(token: str, key: bytes, *, on: date | None = None) -> Authorization:
    """The authorisation a token carries, after checking its signature with ``key``.

    InvalidInputError (field ``token``) when it is malformed or the signature does not
    match. With ``on``: ProgrammeRefusal when the token is not in force that day (issued
    later, or expired)."""
    _check_key(key)
    parts = token.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise InvalidInputError(
            "token", "is malformed: expected two base64url parts joined by a dot"
        )
    payload, signature = parts
    try:
        given = _unb64(signature)
        expected = _mac(payload, key)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise InvalidInputError("token", "is malformed: the signature is not base64url") from None
    if not hmac.compare_digest(given, expected):
        raise InvalidInputError(
            "token",
            "the signature does not match: the token was changed or signed with another key",
        )
    authorization = _decode(payload)
    if on is not None:
        _check_in_force(authorization, on)
    return authorization


def _decode(payload: str) -> Authorization:
    try:
        fields: Any = json.loads(_unb64(payload))
        if not isinstance(fields, dict) or fields.pop("v", None) != TOKEN_VERSION:
            raise ValueError("unknown token version")
        fields["issued_on"] = date.fromisoformat(fields["issued_on"])
        fields["not_after"] = date.fromisoformat(fields["not_after"])
        authorization = Authorization(**fields)
        for name, kind in _FIELD_TYPES:
            value = getattr(authorization, name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError(f"{name} is not {kind.__name__}")
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInputError("token", f"is malformed: {error}") from None
    return authorization


_FIELD_TYPES: tuple[tuple[str, type], ...] = (
    ("id", str),
    ("patient_id", str),
    ("course_id", str),
    ("prescription_id", str),
    ("max_quantity", int),
    ("max_days", int),
    ("programme", str),
    ("version", str),
)


def _check_in_force(authorization: Authorization, on: date) -> None:
    if on > authorization.not_after:
        raise ProgrammeRefusal(
            "token",
            f"authorisation {authorization.id} expired: do not dispense after "
            f"{authorization.not_after} (checked on {on}); needs a new authorisation",
            unmet=("authorisation",),
        )
    if on < authorization.issued_on:
        raise ProgrammeRefusal(
            "token",
            f"authorisation {authorization.id} is issued on {authorization.issued_on}, after "
            f"{on}: it is not in force before then",
            unmet=("authorisation",),
        )
