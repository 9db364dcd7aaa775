"""The clinic's settings: its name, phone, out-of-hours number and country (one
row). Every page that tells a patient to call shows them, with the crisis line
of the clinic's country from the knowledge base.

:func:`read_clinic_settings` returns :data:`UNSET` fields when nothing has been
saved yet (the pages then say the number is missing); :func:`save_clinic_settings`
writes the row and its audit entry (``settings:clinic``, old and new values) in
one transaction. Validation (a crisis line for the country, no empty name) is
the caller's: the store keeps what it is given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from isotrack.store.audit import AuditTrail
from isotrack.store.db import storage_errors
from isotrack.store.hashing import JsonValue
from isotrack.store.models import ClinicSettingsRow

ROW_ID = 1
SETTINGS_ACTION = "settings:clinic"


@dataclass(frozen=True, slots=True)
class ClinicSettings:
    name: str = ""
    phone: str = ""
    out_of_hours_phone: str = ""
    country: str = ""
    """ISO 3166-1 alpha-2 code ('US'); empty when not set."""
    updated_by: str = ""
    updated_at: datetime | None = None

    @property
    def is_set(self) -> bool:
        return bool(self.name and self.phone)


UNSET = ClinicSettings()


def read_clinic_settings(engine: Engine) -> ClinicSettings:
    """The saved settings, or :data:`UNSET`."""
    with storage_errors(engine), Session(engine) as session:
        row = session.get(ClinicSettingsRow, ROW_ID)
        if row is None:
            return UNSET
        return ClinicSettings(
            name=row.name,
            phone=row.phone,
            out_of_hours_phone=row.out_of_hours_phone,
            country=row.country,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )


def save_clinic_settings(
    engine: Engine, settings: ClinicSettings, *, actor: str, now: datetime
) -> ClinicSettings:
    """Store ``settings`` (by ``actor`` at ``now``) with its audit entry; the saved settings."""
    with (
        storage_errors(engine),
        Session(engine, expire_on_commit=False, autoflush=False) as session,
        session.begin(),
    ):
        row = session.get(ClinicSettingsRow, ROW_ID)
        before: dict[str, JsonValue] = _values(row) if row is not None else {}
        if row is None:
            row = ClinicSettingsRow(id=ROW_ID)
            session.add(row)
        row.name, row.phone = settings.name, settings.phone
        row.out_of_hours_phone, row.country = settings.out_of_hours_phone, settings.country
        row.updated_at, row.updated_by = now, actor
        AuditTrail(session).append(
            at=now,
            actor=actor,
            action=SETTINGS_ACTION,
            detail={"before": before, "after": _values(row)},
        )
    return ClinicSettings(**{**asdict(settings), "updated_by": actor, "updated_at": now})


def _values(row: ClinicSettingsRow) -> dict[str, JsonValue]:
    return {
        "name": row.name,
        "phone": row.phone,
        "out_of_hours_phone": row.out_of_hours_phone,
        "country": row.country,
    }
