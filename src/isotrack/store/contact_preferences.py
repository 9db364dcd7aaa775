"""Patients' consent to reminders: read with its defaults, write with its audit entry.

:func:`read_contact_preferences` is what the reminder worker asks before it
queues a message. With no row the defaults apply (:func:`default_choices`):
email to the address of the patient's portal account (an active one), if any,
not opted out, the patient as recipient, the clinic's time zone.

:func:`write_contact_preferences` stores a patient's (or a clinician's) choices
and appends one audit row (``contact-preferences:update``) in the same
transaction: who, when, and what changed — the channels, the opt-out, the
recipient kind and the time zone with their old and new values; for the
addresses (the patient's mobile, a guardian's name, email and phone) only that
they changed, never the values (the audit trail keeps every row for ever).
The first save is written and audited even when it keeps the defaults (the
patient's choice is then on record); a later save that changes nothing writes
and audits nothing. The caller decides who may
set a guardian (clinicians, for a minor: :mod:`isotrack.delivery.guardians`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from isotrack.delivery.preferences import (
    Addressee,
    ContactChoices,
    ContactPreferences,
    Guardian,
    checked_choices,
    default_choices,
    preferences_from,
)
from isotrack.errors import NotFoundError
from isotrack.store.audit import AuditTrail
from isotrack.store.db import storage_errors
from isotrack.store.hashing import JsonValue
from isotrack.store.models import ContactPreferencesRow, Patient, UserRow
from isotrack.store.records import require_time_zone

ACTION = "contact-preferences:update"
DEFAULT_TIME_ZONE = "UTC"
"""The time zone when neither the patient nor the clinic (``ISOTRACK_TIME_ZONE``)
set one."""
_ADDRESS_FIELDS = ("phone", "guardian_name", "guardian_email", "guardian_phone")


def read_contact_preferences(
    bind: Connection | Engine, patient_id: str, *, default_time_zone: str = DEFAULT_TIME_ZONE
) -> ContactPreferences:
    """The patient's preferences, or the defaults; NotFoundError for no such patient."""
    with _session(bind) as session:
        addressee = _addressee(session, patient_id)
        return preferences_from(
            _choices(session, addressee), addressee, default_time_zone=default_time_zone
        )


def read_contact_choices(bind: Connection | Engine, patient_id: str) -> ContactChoices:
    """What is stored (or the defaults), as a form shows it; NotFoundError for no patient."""
    with _session(bind) as session:
        return _choices(session, _addressee(session, patient_id))


@dataclass(frozen=True, slots=True)
class ContactState:
    """What a preferences page or the API shows, read in one session."""

    preferences: ContactPreferences
    choices: ContactChoices
    chosen: bool
    """Whether the patient's choices were ever saved (else the defaults apply)."""


def read_contact_state(
    bind: Connection | Engine, patient_id: str, *, default_time_zone: str = DEFAULT_TIME_ZONE
) -> ContactState:
    """The preferences, the stored choices (or the defaults) and whether any were saved;
    NotFoundError for no such patient."""
    with _session(bind) as session:
        addressee = _addressee(session, patient_id)
        chosen = session.get(ContactPreferencesRow, patient_id) is not None
        choices = _choices(session, addressee)
        preferences = preferences_from(choices, addressee, default_time_zone=default_time_zone)
        return ContactState(preferences, choices, chosen)


def write_contact_preferences(
    engine: Engine,
    patient_id: str,
    choices: ContactChoices,
    *,
    actor: str,
    now: datetime,
    default_time_zone: str = DEFAULT_TIME_ZONE,
) -> ContactPreferences:
    """Store ``choices`` (checked: InvalidInputError naming the field, nothing written)
    with its audit entry; the preferences they make."""
    require_time_zone(now)
    with (
        storage_errors(engine),
        Session(engine, expire_on_commit=False, autoflush=False) as session,
        session.begin(),
    ):
        addressee = _addressee(session, patient_id)
        checked = checked_choices(choices, addressee)
        preferences = preferences_from(checked, addressee, default_time_zone=default_time_zone)
        row = session.get(ContactPreferencesRow, patient_id)
        changed = _changes(_choices(session, addressee), checked)
        if row is None or changed:
            if row is None:
                row = ContactPreferencesRow(patient_id=patient_id)
                session.add(row)
            _fill(row, checked, actor=actor, now=now)
            AuditTrail(session).append(
                at=now, actor=actor, action=ACTION, patient_id=patient_id,
                detail={"changed": changed},
            )  # fmt: skip
    return preferences


@contextmanager
def _session(bind: Connection | Engine) -> Iterator[Session]:
    engine = bind.engine if isinstance(bind, Connection) else bind
    with storage_errors(engine), Session(bind) as session:
        yield session


def _addressee(session: Session, patient_id: str) -> Addressee:
    name = session.scalar(select(Patient.name).where(Patient.id == patient_id))
    if name is None:
        raise NotFoundError(f"no patient {patient_id!r}")
    email = session.scalar(
        select(UserRow.email)
        .where(UserRow.patient_id == patient_id, UserRow.active.is_(True))
        .order_by(UserRow.created_at)
        .limit(1)
    )
    return Addressee(patient_id, name, email or None)


def _choices(session: Session, addressee: Addressee) -> ContactChoices:
    row = session.get(ContactPreferencesRow, addressee.patient_id)
    if row is None:
        return default_choices(addressee)
    channels = {name for name, on in (("email", row.by_email), ("sms", row.by_sms)) if on}
    guardian = (
        None
        if row.guardian_name is None
        else Guardian(row.guardian_name, row.guardian_email, row.guardian_phone)
    )
    return ContactChoices(row.opted_out, frozenset(channels), row.phone, guardian, row.time_zone)


def _fill(
    row: ContactPreferencesRow, choices: ContactChoices, *, actor: str, now: datetime
) -> None:
    guardian = choices.guardian
    row.opted_out = choices.opted_out
    row.by_email = "email" in choices.channels
    row.by_sms = "sms" in choices.channels
    row.phone = choices.phone
    row.guardian_name = guardian.name if guardian else None
    row.guardian_email = guardian.email if guardian else None
    row.guardian_phone = guardian.phone if guardian else None
    row.time_zone = choices.time_zone
    row.updated_by, row.updated_at = actor, now


def _changes(before: ContactChoices, after: ContactChoices) -> dict[str, JsonValue]:
    """What changed: old and new values of the settings, only the names of the addresses."""
    old, new = _audited(before), _audited(after)
    changed: dict[str, JsonValue] = {}
    for key in old:
        if old[key] == new[key]:
            continue
        changed[key] = True if key in _ADDRESS_FIELDS else {"before": old[key], "after": new[key]}
    return changed


def _audited(choices: ContactChoices) -> dict[str, JsonValue]:
    guardian = choices.guardian
    channels: list[JsonValue] = [*sorted(choices.channels)]
    return {
        "opted_out": choices.opted_out,
        "channels": channels,
        "recipient": "guardian" if guardian else "patient",
        "time_zone": choices.time_zone,
        "phone": choices.phone,
        "guardian_name": guardian.name if guardian else None,
        "guardian_email": guardian.email if guardian else None,
        "guardian_phone": guardian.phone if guardian else None,
    }
