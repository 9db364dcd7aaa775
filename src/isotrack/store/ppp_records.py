"""What a dispensing authorisation needs from the command log beyond the record:
who wrote the prescription, whose record holds an authorisation, the signed
token of an authorisation (signed with the clinic's active key), and a token
checked with the clinic's published public keys.

>>> prescription_needle("rx-1")
'"prescription_id":"rx-1"'
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, select

from isotrack.clinical.programme import Authorization
from isotrack.clinical.state import PatientRecord
from isotrack.store.db import storage_errors
from isotrack.store.models import CommandRow
from isotrack.store.ppp_keys import active_signing_key, public_jwks
from isotrack.store.ppp_tokens import jwks_keys, sign_authorization, verify_authorization


def prescription_needle(prescription_id: str) -> str:
    return f'"prescription_id":"{prescription_id}"'


def prescriber_of(engine: Engine, patient_id: str, prescription_id: str) -> str:
    """The account that recorded the prescription (its Prescribe command), or ''."""
    if '"' in prescription_id or "\\" in prescription_id:
        return ""
    query = (
        select(CommandRow.actor)
        .where(CommandRow.patient_id == patient_id, CommandRow.type == "Prescribe")
        .where(CommandRow.payload.contains(prescription_needle(prescription_id), autoescape=True))
        .order_by(CommandRow.seq.desc())
        .limit(1)
    )
    with storage_errors(engine), engine.connect() as connection:
        return connection.execute(query).scalar_one_or_none() or ""


def prescriber_of_current(engine: Engine, record: PatientRecord) -> str:
    """Who wrote the latest prescription of the current course (what an authorisation
    issued now is for), or ''."""
    course = record.current_course
    if course is None or not course.prescriptions:
        return ""
    return prescriber_of(engine, record.patient_id, course.prescriptions[-1].id)


def patient_of_authorization(engine: Engine, authorization_id: str) -> str | None:
    """The patient whose log records the authorisation ``authorization_id`` (exact id)."""
    wanted = authorization_id.strip()
    if not wanted or '"' in wanted or "\\" in wanted:
        return None
    needle = f'"authorization_id":"{wanted}"'
    query = (
        select(CommandRow.patient_id)
        .where(CommandRow.type == "RecordAuthorization")
        .where(CommandRow.payload.contains(needle, autoescape=True))
        .limit(1)
    )
    with storage_errors(engine), engine.connect() as connection:
        return connection.execute(query).scalar_one_or_none()


def verify_here(
    engine: Engine, token: str, *, now: datetime, on: date | None = None
) -> Authorization:
    """A token checked with this clinic's published public keys (as a pharmacy would,
    with the same JWKS), on ``on`` when given."""
    keys = jwks_keys(public_jwks(engine, now=now))
    return verify_authorization(token, keys, on=on)


def signed_token(engine: Engine, authorization: Authorization, *, now: datetime, actor: str) -> str:
    """The authorisation's token, signed with the clinic's active key (made if none)."""
    key = active_signing_key(engine, now=now, actor=actor)
    return sign_authorization(authorization, key, now=now)
