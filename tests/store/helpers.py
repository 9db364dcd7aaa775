"""Shared by the storage tests: fixed times, a few valid commands, raw table reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from isotrack.clinical.state.commands import (
    AnyCommand,
    EnrolPatient,
    RecordLabResult,
    RecordWeight,
    StartCourse,
)
from isotrack.store.models import (
    CLINIC_TABLES_IN_DEPENDENCY_ORDER,
    TABLES_IN_DEPENDENCY_ORDER,
    USER_TABLES_IN_DEPENDENCY_ORDER,
    Base,
)

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
TODAY = NOW.date()
ENROLLED_ON = date(2026, 1, 5)


def url_of(engine: Engine) -> str:
    """The engine's URL with its password, for a subprocess or a raw connection."""
    return engine.url.render_as_string(hide_password=False)


def enrol(patient_id: str = "P-001", name: str = "Alex Example") -> EnrolPatient:
    return EnrolPatient(
        on=ENROLLED_ON,
        patient_id=patient_id,
        name=name,
        birth_date=date(1999, 4, 12),
        sex="male",
    )


def start_course(course_id: str = "C-1") -> StartCourse:
    return StartCourse(on=ENROLLED_ON, course_id=course_id, product="absorica")


def measurement(n: int) -> AnyCommand:
    """The n-th of a stream of valid measurements: weights and lab results."""
    on = ENROLLED_ON + timedelta(days=n % 50)
    if n % 2:
        return RecordWeight(on=on, value=60.0 + (n % 40) / 4)
    return RecordLabResult(on=on, analyte="triglycerides", value=100.0 + n % 97, unit="mg/dL")


def all_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every isotrack table, in primary-key order."""
    with engine.connect() as connection:
        result: dict[str, list[tuple[Any, ...]]] = {}
        for name in (
            *TABLES_IN_DEPENDENCY_ORDER,
            *USER_TABLES_IN_DEPENDENCY_ORDER,
            *CLINIC_TABLES_IN_DEPENDENCY_ORDER,
        ):
            table = Base.metadata.tables[name]
            query = select(table).order_by(*table.primary_key.columns)
            result[name] = [tuple(row) for row in connection.execute(query)]
        return result
