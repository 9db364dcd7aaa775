"""Refused commands with their clinical payload, for readers with clinical rights.

A refused command is audited as ``rejected:<Type>`` with the command and the reason
it was refused (see :mod:`isotrack.store.service`). Both are clinical: a symptom
note, a pregnancy test, a lab value. The audit trail as an admin reads it withholds
them (:func:`isotrack.store.audit.without_clinical_detail`); this module reads them
back for one patient, the read itself audited as ``read:refused-commands``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from isotrack.errors import NotFoundError
from isotrack.store.audit import REJECTED_ACTION_PREFIX
from isotrack.store.db import describe
from isotrack.store.unit_of_work import UnitOfWork

REFUSALS_READ_ACTION = "read:refused-commands"


@dataclass(frozen=True, slots=True)
class RefusedCommand:
    """One refused command as its audit row keeps it."""

    audit_id: int
    at: datetime
    actor: str
    type: str
    field: str | None
    reason: str
    command: dict[str, Any]
    batch_index: int | None
    batch_size: int | None


def read_refused_commands(
    engine: Engine, patient_id: str, *, actor: str, now: datetime
) -> list[RefusedCommand]:
    """The patient's refused commands, oldest first (the read audited).

    NotFoundError when the database knows neither the patient nor a refusal for them.
    """
    with UnitOfWork(engine) as uow:
        refused = [
            _refused(entry.id, entry.at, entry.actor, entry.action, entry.detail)
            for entry in uow.audit.entries(patient_id)
            if entry.action.startswith(REJECTED_ACTION_PREFIX)
        ]
        if not refused and uow.patients.version(patient_id) == 0:
            raise NotFoundError(f"no patient {patient_id!r} in the database {describe(engine)}")
        uow.audit.append(
            at=now,
            actor=actor,
            action=REFUSALS_READ_ACTION,
            patient_id=patient_id,
            detail={"count": len(refused)},
        )
    return refused


def _refused(audit_id: int, at: datetime, actor: str, action: str, detail: Any) -> RefusedCommand:
    command = detail.get("command")
    batch_index, batch_size = detail.get("batch_index"), detail.get("batch_size")
    return RefusedCommand(
        audit_id=audit_id,
        at=at,
        actor=actor,
        type=action.removeprefix(REJECTED_ACTION_PREFIX),
        field=detail.get("field"),
        reason=str(detail.get("reason", "")),
        command=json.loads(command) if isinstance(command, str) else {},
        batch_index=batch_index if isinstance(batch_index, int) else None,
        batch_size=batch_size if isinstance(batch_size, int) else None,
    )
