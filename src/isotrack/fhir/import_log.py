"""A Bundle written by :mod:`isotrack.fhir.export` back into the command log it
came from: every command, with its place in the log, who recorded it and when.

Each resource's :data:`~isotrack.fhir.export_values.COMMAND_EXTENSION` says which
commands it stems from; the command's fields are read from the resource's
elements (and, for those FHIR has no element for, from the extension). A
resource that cannot be read back raises InvalidInputError naming the Bundle
entry and the command; :func:`check_log` then checks the log as the record
would (each command on the day it was recorded), so an import stores all of it
or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, cast

import msgspec

from isotrack.clinical.record import PatientRecord, apply
from isotrack.clinical.state import AnyCommand, EnrolPatient
from isotrack.errors import CommandRejected, InvalidInputError
from isotrack.fhir.command_extension import (
    CommandEntry,
    CommandStamp,
    LoggedCommand,
    command_stamps,
)
from isotrack.fhir.decode import BundleEntry, FhirBundle
from isotrack.fhir.export_values import (
    COMMAND_EXTENSION,
    Resource,
)
from isotrack.fhir.import_readers import READERS, MissingElementError
from isotrack.knowledge.base import KnowledgeBase


def is_isotrack_export(bundle: FhirBundle) -> bool:
    """True when a resource of the Bundle carries isotrack's command extension."""
    marker = COMMAND_EXTENSION.encode()
    return any(marker in bytes(entry.raw) for entry in bundle.entries)


def logged_commands(bundle: FhirBundle) -> list[LoggedCommand]:
    """Every command the Bundle's resources carry, in the order of the log.

    InvalidInputError (naming the entry) when a resource cannot be read back, or
    the log is not whole: its seqs must run 1, 2, 3 ... and start with one
    ``EnrolPatient``."""
    found: list[LoggedCommand] = []
    for entry in bundle.entries:
        raw = cast(Resource, msgspec.json.decode(entry.raw))
        where = _where(entry, raw)
        found.extend(_command(raw, stamp, where) for stamp in command_stamps(raw, where))
    found.sort(key=lambda logged: logged.seq)
    for expected, logged in enumerate(found, start=1):
        if logged.seq != expected:
            problem = (
                "is there twice" if logged.seq < expected else f"is missing before {logged.seq}"
            )
            raise InvalidInputError(
                logged.source,
                f"the Bundle's command log is not whole: command {expected} {problem}",
            )
    if not found or not isinstance(found[0].command, EnrolPatient):
        raise InvalidInputError(
            "Bundle", "the Bundle's command log does not start with EnrolPatient"
        )
    if any(isinstance(logged.command, EnrolPatient) for logged in found[1:]):
        raise InvalidInputError("Bundle", "the Bundle's command log enrols a patient twice")
    return found


def check_log(
    log: Iterable[LoggedCommand],
    *,
    kb: KnowledgeBase,
    on: date,
    record: PatientRecord | None = None,
) -> PatientRecord | None:
    """Check each command as the record did when it was recorded (its ``recorded_on``
    as today), after ``record``; InvalidInputError naming the Bundle entry for the
    first one refused or recorded after ``on`` (the import day)."""
    for logged in log:
        label = f"{logged.source}, command {logged.seq} ({type(logged.command).__name__})"
        if logged.recorded_on > on or logged.command.on > on:
            raise InvalidInputError(
                label,
                f"recorded on {logged.recorded_on} for {logged.command.on}: in the future of the "
                f"import day {on}; import on a later day (--date)",
            )
        try:
            record = apply(record, logged.command, today=logged.recorded_on, kb=kb)
        except CommandRejected as rejected:
            raise InvalidInputError(label, f"refused: {rejected}; nothing was imported") from None
    return record


def _where(entry: BundleEntry, raw: Resource) -> str:
    return f"entry {entry.index} ({raw.get('resourceType')}/{raw.get('id', '?')})"


def _command(resource: Resource, stamp: CommandStamp, where: str) -> LoggedCommand:
    label = f"{where}, command {stamp.seq} ({stamp.type})"
    found = READERS.get(stamp.type)
    if found is None:
        raise InvalidInputError(label, f"{stamp.type!r} is not an isotrack command")
    kinds, reader = found
    if resource.get("resourceType") not in kinds:
        raise InvalidInputError(
            label, f"a {stamp.type} command is carried by a {' or '.join(kinds)} resource"
        )
    try:
        fields = reader(resource, stamp)
        command = msgspec.convert({"type": stamp.type, **fields}, cast(Any, AnyCommand))
    except MissingElementError as missing:
        raise InvalidInputError(label, f"{missing} is missing") from None
    except (msgspec.ValidationError, TypeError, ValueError) as error:
        raise InvalidInputError(label, f"cannot be read back: {error}") from None
    return LoggedCommand(
        stamp.seq, command, stamp.recorded_at, stamp.actor, stamp.recorded_on, source=where
    )


def continues(log: Sequence[LoggedCommand], held: Sequence[CommandEntry]) -> bool:
    """True when the stored log ``held`` (commands with actor and moment) is the
    start of ``log``: the Bundle is a later export of the same record."""
    if len(held) > len(log):
        return False
    return all(
        (h.command, h.actor, h.recorded_at, h.recorded_on)
        == (b.command, b.actor, b.recorded_at, b.recorded_on)
        for h, b in zip(held, log, strict=False)
    )
