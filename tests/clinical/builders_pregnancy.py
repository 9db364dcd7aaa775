"""Builders for pregnancy prevention tests: a woman who can get pregnant and
meets every requirement, so that each test changes exactly one thing."""

from __future__ import annotations

from datetime import date, timedelta

from isotrack.clinical.snapshot import (
    ContraceptionUse,
    IsotretinoinCourse,
    PatientSnapshot,
    PregnancyState,
    PregnancyStatus,
    PregnancyTest,
    Sex,
    TestResult,
    TestSetting,
    Weight,
)
from tests.clinical.builders import TODAY


def ago(days: int, on: date = TODAY) -> date:
    return on - timedelta(days=days)


def negative(days_ago: int, setting: TestSetting = TestSetting.MEDICAL) -> PregnancyTest:
    return PregnancyTest(ago(days_ago), TestResult.NEGATIVE, setting)


def positive(days_ago: int) -> PregnancyTest:
    return PregnancyTest(ago(days_ago), TestResult.POSITIVE, TestSetting.MEDICAL)


def indeterminate(days_ago: int, detail: str = "") -> PregnancyTest:
    return PregnancyTest(ago(days_ago), TestResult.INDETERMINATE, TestSetting.MEDICAL, "", detail)


def status(days_ago: int, state: PregnancyState = PregnancyState.PREGNANT) -> PregnancyStatus:
    """A pregnancy status recorded ``days_ago`` (default: pregnant)."""
    return PregnancyStatus(ago(days_ago), state, f"Observation/status-{days_ago}")


def using(method: str, since_days: int | None, until_days: int | None = None) -> ContraceptionUse:
    """A method in use since ``since_days`` ago (None: start unknown)."""
    return ContraceptionUse(
        method,
        start=None if since_days is None else ago(since_days),
        end=None if until_days is None else ago(until_days),
    )


TWO_METHODS = (using("implant-etonogestrel", 400), using("male-condom", 100))
START_TESTS = (negative(60, TestSetting.HOME), negative(3))


def woman(**changes: object) -> PatientSnapshot:
    """24 years old on TODAY, female, an implant and condoms for months, a negative
    screening test and a negative confirmation test in a medical setting."""
    base: dict[str, object] = {
        "patient_id": "w1",
        "birth_date": date(2001, 6, 1),
        "sex": Sex.FEMALE,
        "weights": (Weight(60.0, ago(10)),),
        "contraception": TWO_METHODS,
        "pregnancy_tests": START_TESTS,
    }
    base.update(changes)
    return PatientSnapshot(**base)  # type: ignore[arg-type]


def course(
    start_days_ago: int, end_days_ago: int | None = None, **changes: object
) -> IsotretinoinCourse:
    base: dict[str, object] = {
        "start": ago(start_days_ago),
        "end": None if end_days_ago is None else ago(end_days_ago),
        "prescriptions": 1,
    }
    base.update(changes)
    return IsotretinoinCourse(**base)  # type: ignore[arg-type]
