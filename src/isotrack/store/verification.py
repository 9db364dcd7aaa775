"""Checking the audit trail: the chain, then the records it vouches for.

1. The chain: ids run 1, 2, 3 ... without gaps (a gap is a deleted row); each
   row's ``prev_hash`` is the previous row's ``row_hash`` (otherwise a row was
   removed, moved or re-hashed); each row's ``row_hash`` matches its contents
   (otherwise the row was changed).
2. The records: every command in the log has its audit row, whose before and
   after hashes match the patient's record hash recomputed from the log; every
   audited command still exists; every audited read names a version whose hash
   still matches; ``patients.version`` and ``record_hash`` match the log.

3. With a signed :class:`~isotrack.store.checkpoint.Checkpoint`: the trail has at
   least the checkpoint's rows, and the row it ends at still has its hash.
   Without one, deleting the newest rows leaves no gap, and a row changed with
   every later hash recomputed leaves an intact chain: only an anchor kept
   outside the database shows either.

The first problem found is reported, naming the audit row when there is one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, select

from isotrack.store.audit import COMMAND_ACTION_PREFIX, READ_ACTION
from isotrack.store.checkpoint import Checkpoint
from isotrack.store.db import consistent_read, storage_errors
from isotrack.store.hashing import GENESIS, audit_fields, chain, command_fields
from isotrack.store.models import AuditRow, CommandRow, Patient

_BATCH = 1000


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """What :func:`verify_audit` found: ``ok``, or the first broken row and why."""

    ok: bool
    rows: int
    """Audit rows read."""
    first_broken: int | None
    """Id of the first audit row found broken (None when ok, or when the problem
    is a command or patient with no audit row to name)."""
    reason: str
    head_hash: str
    """``row_hash`` of the last row (GENESIS for an empty trail)."""


@dataclass(frozen=True, slots=True)
class _Audited:
    row_id: int
    before_hash: str | None
    after_hash: str | None


class _BrokenChainError(Exception):
    def __init__(self, row_id: int | None, reason: str) -> None:
        super().__init__(reason)
        self.row_id = row_id
        self.reason = reason


def verify_audit(engine: Engine, *, checkpoint: Checkpoint | None = None) -> AuditVerification:
    """Check the whole audit trail against itself and against the command log, and
    against ``checkpoint`` (whose signature the caller checked) when given."""
    with storage_errors(engine), consistent_read(engine) as connection:
        commands: dict[tuple[str, int], _Audited] = {}
        reads: list[tuple[str, int, _Audited]] = []
        rows, head, anchored = 0, GENESIS, GENESIS
        try:
            for checked in _walk_chain(connection, commands, reads):
                rows, head = checked
                if checkpoint is not None and rows == checkpoint.rows:
                    anchored = head
            problems = _check_records(connection, commands, reads)
        except _BrokenChainError as broken:
            return AuditVerification(False, rows + 1, broken.row_id, broken.reason, head)
        if checkpoint is not None:
            problems += _check_anchor(checkpoint, rows, anchored)
        if problems:
            row_id, reason = min(problems, key=lambda p: (p[0] is None, p[0] or 0))
            return AuditVerification(False, rows, row_id, reason, head)
        reason = f"{rows} audit rows verified"
        if checkpoint is not None:
            reason += f", rows 1 to {checkpoint.rows} as signed at {checkpoint.at}"
        return AuditVerification(True, rows, None, reason, head)


def _check_anchor(checkpoint: Checkpoint, rows: int, anchored: str) -> list[tuple[int | None, str]]:
    signed = f"the checkpoint of {checkpoint.at} (key {checkpoint.key_id})"
    if rows < checkpoint.rows:
        gone = (
            f"row {checkpoint.rows}"
            if rows + 1 == checkpoint.rows
            else (f"rows {rows + 1} to {checkpoint.rows}")
        )
        return [(rows + 1, f"{gone} deleted: the trail has {rows} rows, {signed} vouches "
                 f"for {checkpoint.rows}")]  # fmt: skip
    if anchored != checkpoint.head_hash:
        return [
            (
                checkpoint.rows,
                f"row {checkpoint.rows} does not have the hash {signed} signed: a row up to "
                "it was changed and the chain recomputed",
            )
        ]
    return []


def _walk_chain(
    connection: Connection,
    commands: dict[tuple[str, int], _Audited],
    reads: list[tuple[str, int, _Audited]],
) -> Iterator[tuple[int, str]]:
    """Check each row's place and hash; yield (rows so far, last hash)."""
    query = select(*AuditRow.__table__.columns).order_by(AuditRow.id)
    with connection.execute(query.execution_options(yield_per=_BATCH)) as result:
        yield from _walk_rows(result, commands, reads)


def _walk_rows(
    rows: Iterable[Row[Any]],
    commands: dict[tuple[str, int], _Audited],
    reads: list[tuple[str, int, _Audited]],
) -> Iterator[tuple[int, str]]:
    previous, expected_id = GENESIS, 1
    for row in rows:
        if row.id != expected_id:
            gone = f"row {expected_id}"
            if row.id > expected_id + 1:
                gone = f"rows {expected_id} to {row.id - 1}"
            raise _BrokenChainError(row.id, f"{gone} missing before row {row.id}: deleted")
        if row.prev_hash != previous:
            raise _BrokenChainError(
                row.id,
                f"row {row.id} does not follow row {row.id - 1}: its prev_hash is not that "
                "row's hash (a row before it was changed, removed or moved)",
            )
        fields = audit_fields(
            id_=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            patient_id=row.patient_id,
            detail=row.detail,
            before_hash=row.before_hash,
            after_hash=row.after_hash,
        )
        if chain(previous, fields) != row.row_hash:
            raise _BrokenChainError(
                row.id, f"row {row.id} was changed: its contents do not match its hash"
            )
        if row.patient_id is not None:
            audited = _Audited(row.id, row.before_hash, row.after_hash)
            detail = json.loads(row.detail)
            if row.action.startswith(COMMAND_ACTION_PREFIX):
                commands[(row.patient_id, int(detail["seq"]))] = audited
            elif row.action == READ_ACTION:
                reads.append((row.patient_id, int(detail["version"]), audited))
        previous, expected_id = row.row_hash, expected_id + 1
        yield row.id, previous


def _check_records(
    connection: Connection,
    commands: dict[tuple[str, int], _Audited],
    reads: list[tuple[str, int, _Audited]],
) -> list[tuple[int | None, str]]:
    """Every problem found between the (intact) chain and the command log."""
    problems: list[tuple[int | None, str]] = []
    hashes: dict[str, list[str]] = {}
    query = select(*CommandRow.__table__.columns).order_by(CommandRow.patient_id, CommandRow.seq)
    with connection.execute(query.execution_options(yield_per=_BATCH)) as result:
        for row in result:
            patient = f"patient {row.patient_id}"
            chained = hashes.setdefault(row.patient_id, [GENESIS])
            if row.seq != len(chained):
                problems.append(
                    (None, f"{patient}: command {len(chained)} is missing from the log")
                )
                continue
            fields = command_fields(
                seq=row.seq,
                type_=row.type,
                payload=row.payload,
                on_date=row.on_date,
                recorded_at=row.recorded_at,
                recorded_on=row.recorded_on,
                actor=row.actor,
            )
            chained.append(chain(chained[-1], fields))
            audited = commands.pop((row.patient_id, row.seq), None)
            if audited is None:
                problems.append(
                    (None, f"{patient}: command {row.seq} ({row.type}) has no audit row")
                )
            elif (audited.before_hash, audited.after_hash) != (chained[-2], chained[-1]):
                problems.append(
                    (
                        audited.row_id,
                        f"row {audited.row_id}: command {row.seq} of {patient} was changed "
                        "after it was recorded",
                    )
                )
    for (patient_id, seq), audited in commands.items():
        problems.append(
            (
                audited.row_id,
                f"row {audited.row_id} records command {seq} of patient {patient_id}, "
                "which is missing from the command log",
            )
        )
    for patient_id, version, audited in reads:
        chained = hashes.get(patient_id, [GENESIS])
        if version >= len(chained) or chained[version] != audited.after_hash:
            problems.append(
                (
                    audited.row_id,
                    f"row {audited.row_id}: the read of patient {patient_id} at version "
                    f"{version} no longer matches the command log",
                )
            )
    for found in connection.execute(select(Patient.id, Patient.version, Patient.record_hash)):
        chained = hashes.get(found.id, [GENESIS])
        if (found.version, found.record_hash) != (len(chained) - 1, chained[-1]):
            problems.append(
                (
                    None,
                    f"patient {found.id}: version {found.version} and record hash do not "
                    f"match the command log ({len(chained) - 1} commands)",
                )
            )
    return problems
