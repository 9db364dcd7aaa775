"""The clinic's worklist across patients: every item that needs a clinician
(:func:`isotrack.clinical.record.patient_worklist`), with the patient it is about.

Pure: the records, the day and the knowledge base are arguments. The page is
``/clinic/worklist`` (:mod:`isotrack.web.routes.worklist`); the count of items not
yet resolved is in every clinician page's navigation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from isotrack.clinical.record import PatientRecord, patient_worklist
from isotrack.clinical.worklist import WorkItem, WorkStatus
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.records import UnreadableRecord

_STATUS_ORDER = {WorkStatus.OPEN: 0, WorkStatus.ACKNOWLEDGED: 1, WorkStatus.RESOLVED: 2}


@dataclass(frozen=True, slots=True)
class WorkRow:
    patient_id: str
    name: str
    item: WorkItem


def clinic_worklist(
    records: Iterable[PatientRecord | UnreadableRecord],
    *,
    on: date,
    kb: KnowledgeBase,
    resolved: bool = False,
    assignee: str | None = None,
) -> list[WorkRow]:
    """Items of every patient on ``on``: open ones first (then acknowledged), most
    severe first, oldest first; resolved ones only when asked; only ``assignee``'s
    when given. A record that cannot be read back has no items here: the dashboard
    shows it as an error row and ``isotrack doctor`` lists it."""
    rows = [
        WorkRow(record.patient_id, record.name, item)
        for record in records
        if isinstance(record, PatientRecord)
        for item in patient_worklist(record, on=on, kb=kb)
        if (resolved or item.is_open) and (assignee is None or item.assignee == assignee)
    ]
    return sorted(
        rows,
        key=lambda r: (_STATUS_ORDER[r.item.status], *r.item.sort_key, r.patient_id),
    )


def open_count(
    records: Iterable[PatientRecord | UnreadableRecord], *, on: date, kb: KnowledgeBase
) -> int:
    """How many items are not resolved yet (the navigation's count)."""
    return len(clinic_worklist(records, on=on, kb=kb))


def item_anchor(key: str) -> str:
    """The page id of a worklist item (``patient id|item id``): the template's anchor of
    its row and the error summary's link to its note field (``<anchor>-note``)."""
    return "item-" + key.replace("|", "-").replace("/", "-")
