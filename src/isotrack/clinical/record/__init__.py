"""The patient record as it changes: a command is checked, then applied.

- :mod:`.aggregate`: :func:`apply` (check, then change; refused commands change
  nothing), :func:`replay` of a command log, :func:`to_snapshot`;
- :mod:`.checks` and :mod:`.course_checks`: every rule a command must meet,
  the programme's included;
- :mod:`.changes`: how each accepted command changes the record;
- :mod:`.snapshot`: the record as the engine reads it on one day, and its
  findings of the day (:func:`findings_on`);
- :mod:`.supply_checks`: SUPPLY-ON-HAND at prescribing, authorisation and dispensing;
- :mod:`.view`: what ``isotrack course show`` and the patient page show;
- :mod:`.worklist` and :mod:`.reports`: the patient's worklist on one day
  (:func:`patient_worklist`) and the stop instruction a report left
  (:func:`stop_instruction`); :mod:`.work_checks`: the rules of a clinician's step.

The top of clinical/: built on the record's data model
(:mod:`isotrack.clinical.state`), the programme, dosing, monitoring and
screening; nothing in clinical/ imports it.
"""

from __future__ import annotations

from isotrack.clinical.record.aggregate import (
    Override,
    PatientRecord,
    apply,
    cumulative_dose,
    replay,
    to_snapshot,
)
from isotrack.clinical.record.reports import stop_instruction
from isotrack.clinical.record.snapshot import findings_on
from isotrack.clinical.record.supply_checks import early_supply
from isotrack.clinical.record.view import (
    CourseView,
    course_on,
    course_view,
    describe_command,
    record_schedule,
)
from isotrack.clinical.record.worklist import patient_worklist

__all__ = [
    "CourseView",
    "Override",
    "PatientRecord",
    "apply",
    "course_on",
    "course_view",
    "cumulative_dose",
    "describe_command",
    "early_supply",
    "findings_on",
    "patient_worklist",
    "record_schedule",
    "replay",
    "stop_instruction",
    "to_snapshot",
]
