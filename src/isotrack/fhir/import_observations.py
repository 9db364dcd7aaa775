"""What a Bundle from another system adds to a record: its weights, lab results,
pregnancy tests, pregnancy statuses, PHQ-9 screens, isotrack lesion counts and
contraception, as commands, each skipped when the record already holds it (so
importing the same Bundle twice adds nothing the second time).

What the record cannot hold is said, not dropped in silence: see
:mod:`isotrack.fhir.import_unheld`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import cast

from isotrack.clinical.record.checks import check_lab, check_weight
from isotrack.clinical.snapshot import ContraceptionUse, PatientSnapshot
from isotrack.clinical.state import (
    AnyCommand,
    PatientRecord,
    RecordLabResult,
    RecordLesionCount,
    RecordPHQ9,
    RecordPregnancyStatus,
    RecordPregnancyTest,
    RecordWeight,
    StartContraception,
    StopContraception,
    TestResultName,
    TestSettingName,
)
from isotrack.errors import CommandRejected
from isotrack.fhir.decode import FhirBundle
from isotrack.fhir.own_items import lesion_counts_from
from isotrack.fhir.resources import Observation
from isotrack.knowledge.base import KnowledgeBase

Sourced = tuple[AnyCommand, str]
"""A command and the resource(s) it was read from (``Observation/1``; several joined
by ", " when the reader merged them, e.g. one contraceptive use from two records)."""


def sourced_observations(
    bundle: FhirBundle,
    snapshot: PatientSnapshot,
    existing: PatientRecord | None,
    *,
    kb: KnowledgeBase,
    on: date,
    skipped: list[str],
) -> list[Sourced]:
    """The commands, each with the resource it was read from, that add what the
    Bundle's patient (read as ``snapshot``) has and ``existing`` does not, in date
    order. A method whose labelled protection ends after ``on`` (an implant still in
    place) is started, not stopped. A weight, lab result or PHQ-9 screen the record
    cannot hold (dated after ``on``, a value the record refuses) is left out with a
    line in ``skipped`` naming it and why, so the rest still comes in."""
    holdable = _Holdable(kb, on, skipped)
    body = [
        *_weights(snapshot, existing, holdable),
        *_labs(snapshot, existing, holdable),
        *_pregnancy_tests(snapshot, existing),
        *_pregnancy_statuses(snapshot, existing),
        *_mood_screens(snapshot, existing, holdable),
        *_lesion_counts(bundle, snapshot.patient_id, existing),
        *_contraception(snapshot.contraception, existing, on),
    ]
    body.sort(key=lambda sourced: sourced[0].on)  # stable: a method starts before it stops
    return body


# --- observations ---------------------------------------------------------------------
def _new(key: object, seen: set[object]) -> bool:
    """True the first time ``key`` is met (the existing record's keys are seen already)."""
    if key in seen:
        return False
    seen.add(key)
    return True


class _Holdable:
    """Whether the record can hold a weight, lab result or PHQ-9 screen: the checks the
    record runs on the command (a PHQ-9 screen's scores are checked by the reader), run
    here first so that one such fact is reported, not fatal."""

    def __init__(self, kb: KnowledgeBase, on: date, skipped: list[str]) -> None:
        self.kb, self.on, self.skipped = kb, on, skipped

    def __call__(
        self, command: RecordWeight | RecordLabResult | RecordPHQ9, source: str, what: str
    ) -> bool:
        reason = None
        if command.on > self.on:
            reason = f"dated after the import day {self.on}"
        else:
            try:
                if isinstance(command, RecordWeight):
                    check_weight(command, self.kb)
                elif isinstance(command, RecordLabResult):
                    check_lab(command, self.kb)
            except CommandRejected as refused:
                reason = refused.message
        if reason is None:
            return True
        where = source or "a result"
        self.skipped.append(f"not imported: {where}: {what} on {command.on}: {reason}")
        return False


def _weights(
    snapshot: PatientSnapshot, existing: PatientRecord | None, holdable: _Holdable
) -> list[Sourced]:
    seen: set[object] = {(w.on, round(w.kg, 3)) for w in existing.weights} if existing else set()
    commands: list[Sourced] = []
    for w in sorted(snapshot.weights, key=lambda w: w.on):
        command = RecordWeight(on=w.on, value=w.kg, unit="kg")
        what = f"weight {w.kg:g} kg"
        if _new((w.on, round(w.kg, 3)), seen) and holdable(command, w.source, what):
            commands.append((command, w.source))
    return commands


def _labs(
    snapshot: PatientSnapshot, existing: PatientRecord | None, holdable: _Holdable
) -> list[Sourced]:
    seen: set[object] = (
        {(lab.analyte, lab.on, round(lab.value, 3)) for lab in existing.labs} if existing else set()
    )
    commands: list[Sourced] = []
    for lab in sorted(snapshot.labs, key=lambda lab: (lab.on, lab.analyte)):
        command = RecordLabResult(
            on=lab.on,
            analyte=lab.analyte,
            value=lab.value,
            unit=lab.unit,
            reference_high=lab.reference_high,
            code=lab.code,
        )
        what = f"{lab.analyte} {lab.value:g} {lab.unit}"
        if _new((lab.analyte, lab.on, round(lab.value, 3)), seen) and holdable(
            command, lab.source, what
        ):
            commands.append((command, lab.source))
    return commands


def _pregnancy_tests(snapshot: PatientSnapshot, existing: PatientRecord | None) -> list[Sourced]:
    """Each result with the setting the reader found (isotrack's own category included)."""
    seen: set[object] = {(t.on, t.result) for t in existing.pregnancy_tests} if existing else set()
    commands: list[Sourced] = []
    for test in sorted(snapshot.pregnancy_tests, key=lambda t: t.on):
        if _new((test.on, test.result), seen):
            setting = cast(TestSettingName, test.setting.value)
            result = cast(TestResultName, test.result.value)
            command = RecordPregnancyTest(on=test.on, result=result, setting=setting)
            commands.append((command, test.source))
    return commands


def _pregnancy_statuses(snapshot: PatientSnapshot, existing: PatientRecord | None) -> list[Sourced]:
    """Each dated pregnancy status, old ones too (the rules judge their age)."""
    held = existing.pregnancy_statuses if existing else ()
    seen: set[object] = {(s.on, s.state) for s in held}
    return [
        (RecordPregnancyStatus(on=s.on, status=s.state.value, note=s.detail), s.source)
        for s in sorted(snapshot.pregnancy_statuses, key=lambda s: s.on)
        if _new((s.on, s.state), seen)
    ]


def _mood_screens(
    snapshot: PatientSnapshot, existing: PatientRecord | None, holdable: _Holdable
) -> list[Sourced]:
    seen: set[object] = (
        {(m.on, m.phq9_total, m.item9) for m in existing.mood_screens} if existing else set()
    )
    commands: list[Sourced] = []
    for m in sorted(snapshot.mood_screens, key=lambda m: m.on):
        if m.phq9_total is None:
            holdable.skipped.append(
                f"{m.source}: PHQ-9 item 9 = {m.item9} on {m.on} without a total score: "
                "the record holds whole PHQ-9 screens only; not imported (record the PHQ-9)"
            )
            continue
        command = RecordPHQ9(on=m.on, total=m.phq9_total, item9=m.item9)
        what = f"PHQ-9 total {m.phq9_total}"
        if _new((m.on, m.phq9_total, m.item9), seen) and holdable(command, m.source, what):
            commands.append((command, m.source))
    return commands


def _lesion_counts(
    bundle: FhirBundle, patient_id: str, existing: PatientRecord | None
) -> list[Sourced]:
    seen: set[object] = (
        {(c.on, c.nodules, c.inflammatory, c.comedones) for c in existing.lesion_counts}
        if existing
        else set()
    )
    ours = (
        o for o in bundle.of_type(Observation) if bundle.refers_to(o.subject, "Patient", patient_id)
    )
    commands: list[Sourced] = []
    for count in lesion_counts_from(ours):
        key = (count.on, count.nodules, count.inflammatory, count.comedones)
        if _new(key, seen):
            command = RecordLesionCount(
                on=count.on,
                nodules=count.nodules,
                inflammatory=count.inflammatory,
                comedones=count.comedones,
            )
            commands.append((command, count.source))
    return commands


# --- contraception --------------------------------------------------------------------
def _held_today(use: ContraceptionUse, on: date | None) -> ContraceptionUse:
    """A use protected up to or beyond the import day (an implant in place) is started,
    not stopped: its stop, the day after its last day, would be dated in the future."""
    return replace(use, end=None) if on and use.end and use.end >= on else use


def _start_and_method(use: ContraceptionUse) -> tuple[date, str]:
    return use.start or date.min, use.method


def _contraception(
    uses: Iterable[ContraceptionUse], existing: PatientRecord | None, on: date | None
) -> list[Sourced]:
    """Start (and stop) each method the record does not already show in use."""
    held = list(existing.contraception) if existing is not None else []
    commands: list[Sourced] = []
    for use in sorted((_held_today(u, on) for u in uses), key=_start_and_method):
        if use.start is None:
            continue  # an undated method cannot be started; the reader's notes say so
        covering = next(
            (
                h
                for h in held
                if h.method == use.method
                and h.start is not None
                and h.start <= use.start
                and (h.end is None or h.end >= use.start)
            ),
            None,
        )
        if covering is None:
            commands.append((StartContraception(on=use.start, method=use.method), use.source))
            if use.end is not None:
                commands.append((_stop(use.end, use.method), use.source))
            held.append(use)
        elif covering.end is None and use.end is not None:
            commands.append((_stop(use.end, use.method), use.source))
            held[held.index(covering)] = use
    return commands


def _stop(last_day: date, method: str) -> StopContraception:
    """A use read from FHIR ends on its last day of use (a period's end, a removal);
    the record's stop is the day after, the first day it no longer counts."""
    return StopContraception(on=last_day + timedelta(days=1), method=method)
