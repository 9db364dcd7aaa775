"""The clinic's worklist: what needs a clinician, derived from the record.

- :mod:`.model`: :class:`WorkItem` (severity, assignment, acknowledgement,
  resolution) and :func:`with_reviews`, the clinicians' recorded steps applied;
- :mod:`.reports`: :func:`report_items`, the patient's reports that ask the
  clinic to act (red-flag symptoms, a positive PHQ-9, a positive home test, a
  late period, a stopped contraceptive method): REPORT-NEEDS-REVIEW until
  acknowledged;
- :mod:`.due`: :func:`window_items`, test windows about to close or missed, and
  :func:`dispense_item`, a next dispense the programme blocks;
- :mod:`.steps`: a clinician's step in plain words.

Built on the record's data model and monitoring (the triage and the schedule);
the record (:mod:`isotrack.clinical.record`) puts it together for one patient on
one day and records the clinicians' steps as commands.
"""

from __future__ import annotations

from isotrack.clinical.worklist.due import dispense_item, window_items
from isotrack.clinical.worklist.model import WorkItem, WorkKind, WorkStatus, with_reviews
from isotrack.clinical.worklist.reports import report_items
from isotrack.clinical.worklist.steps import WORK_STEPS, describe_step, item_words

__all__ = [
    "WORK_STEPS",
    "WorkItem",
    "WorkKind",
    "WorkStatus",
    "describe_step",
    "dispense_item",
    "item_words",
    "report_items",
    "window_items",
    "with_reviews",
]
