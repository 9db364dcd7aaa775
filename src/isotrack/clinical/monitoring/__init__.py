"""Monitoring during a course: what is due when, what a reported symptom
means, how the lesions have changed.

- :mod:`.schedule` (values in :mod:`.schedule_model`): :func:`monitoring_schedule`,
  the visits, pregnancy tests, labs and mood screens of a course with their
  windows and status;
- :mod:`.triage`: :func:`triage` of the symptoms a patient reports;
- :mod:`.lesions`: :func:`lesion_change` against the course's baseline counts.

Built on the record's data model and on screening's pregnancy questions.
"""

from __future__ import annotations

from isotrack.clinical.monitoring.lesions import LesionChange, lesion_change
from isotrack.clinical.monitoring.schedule import monitoring_schedule, schedule_course
from isotrack.clinical.monitoring.schedule_model import (
    ItemKind,
    ItemStatus,
    Schedule,
    ScheduleItem,
)
from isotrack.clinical.monitoring.triage import TriageAction, TriageResult, triage

__all__ = [
    "ItemKind",
    "ItemStatus",
    "LesionChange",
    "Schedule",
    "ScheduleItem",
    "TriageAction",
    "TriageResult",
    "lesion_change",
    "monitoring_schedule",
    "schedule_course",
    "triage",
]
