"""The clinic's settings: one row, each change audited with what it was before."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from isotrack.store import ClinicSettings, read_clinic_settings, save_clinic_settings, verify_audit
from isotrack.store.models import AuditRow

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_unset_settings_read_as_empty_and_not_set(database: Engine) -> None:
    settings = read_clinic_settings(database)
    assert settings == ClinicSettings()
    assert not settings.is_set


def test_saving_twice_keeps_one_row_and_audits_each_change(database: Engine) -> None:
    first = ClinicSettings("Lakeside Dermatology", "555-0100", "555-0199", "US")
    save_clinic_settings(database, first, actor="admin", now=AT)
    second = ClinicSettings("Lakeside Dermatology", "555-0111", "555-0199", "GB")
    saved = save_clinic_settings(database, second, actor="admin2", now=AT)
    assert saved.updated_by == "admin2"
    back = read_clinic_settings(database)
    assert (back.phone, back.country, back.updated_by) == ("555-0111", "GB", "admin2")
    assert back.updated_at == AT
    with Session(database) as session:
        rows = session.scalars(select(AuditRow).where(AuditRow.action == "settings:clinic")).all()
    details = [json.loads(r.detail) for r in rows]
    assert [d["after"]["phone"] for d in details] == ["555-0100", "555-0111"]
    assert details[0]["before"] == {}
    assert details[1]["before"]["country"] == "US"
    assert verify_audit(database).ok
