"""The rules of a clinician's step on the worklist (``AssignWorkItem``,
``AcknowledgeWorkItem``, ``ResolveWorkItem``): the item must be on the patient's
worklist that day and not resolved yet; an item is acknowledged once; an
assignment names someone; a resolution says how in a note.
"""

from __future__ import annotations

from isotrack.clinical.state import (
    AcknowledgeWorkItem,
    AssignWorkItem,
    PatientRecord,
    ResolveWorkItem,
)
from isotrack.clinical.worklist import WorkItem, WorkStatus
from isotrack.errors import CommandRejected
from isotrack.knowledge.base import KnowledgeBase

WorkCommand = AssignWorkItem | AcknowledgeWorkItem | ResolveWorkItem


def check_work_command(record: PatientRecord, command: WorkCommand, kb: KnowledgeBase) -> None:
    """Raise CommandRejected when the step cannot be recorded."""
    item = _item(record, command, kb)
    if item.status is WorkStatus.RESOLVED:
        raise CommandRejected(
            "item", f"{item.summary!r} was resolved on {item.resolved_on}: nothing left to do"
        )
    match command:
        case AssignWorkItem():
            if not command.assignee.strip():
                raise CommandRejected("assignee", "is empty: name the clinician to assign it to")
        case AcknowledgeWorkItem():
            if item.status is WorkStatus.ACKNOWLEDGED:
                raise CommandRejected(
                    "item",
                    f"{item.summary!r} was already acknowledged on {item.acknowledged_on}: "
                    "resolve it with a note when it is dealt with",
                )
        case ResolveWorkItem():
            if not command.note.strip():
                raise CommandRejected("note", "is empty: say how the item was dealt with")


def _item(record: PatientRecord, command: WorkCommand, kb: KnowledgeBase) -> WorkItem:
    # Imported here: the worklist reads the schedule of record.view, which imports the
    # aggregate that runs these checks.
    from isotrack.clinical.record.worklist import patient_worklist

    items = patient_worklist(record, on=command.on, kb=kb)
    found = next((i for i in items if i.id == command.item), None)
    if found is None:
        known = ", ".join(i.id for i in items if i.is_open) or "none"
        raise CommandRejected(
            "item",
            f"{command.item!r} is not on the patient's worklist on {command.on} "
            f"(open items: {known})",
        )
    return found
