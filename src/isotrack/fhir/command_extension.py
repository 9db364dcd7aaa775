"""The ``command`` extension: which command of a patient's log a FHIR resource
stems from, who recorded it and when, and the command's fields FHIR has no
element for.

>>> from datetime import UTC, date, datetime
>>> from isotrack.clinical.state import PauseCourse
>>> entry = LoggedCommand(
...     seq=7,
...     command=PauseCourse(on=date(2026, 3, 2), reason="dry lips"),
...     recorded_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
...     actor="dr-lee",
...     recorded_on=date(2026, 3, 2),
... )
>>> extension = command_extension(entry, on=date(2026, 3, 2), reason="dry lips")
>>> [sub["url"] for sub in extension["extension"]]
['seq', 'type', 'recordedAt', 'recordedOn', 'actor', 'on', 'reason']
>>> stamp = read_command_extension(extension, "entry 3")
>>> stamp.seq, stamp.type, stamp.actor, stamp.fields["reason"]
(7, 'PauseCourse', 'dr-lee', ['dry lips'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from isotrack.clinical.state import AnyCommand
from isotrack.errors import InvalidInputError
from isotrack.fhir.export_values import COMMAND_EXTENSION, Resource
from isotrack.fhir.raw_json import objects

FieldValue = str | int | float | date | tuple[date, ...] | None
_HEADER = ("seq", "type", "recordedAt", "recordedOn", "actor")


class CommandEntry(Protocol):
    """A command as the log keeps it (the store's ``StoredCommand`` is one)."""

    @property
    def seq(self) -> int: ...
    @property
    def command(self) -> AnyCommand: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def recorded_on(self) -> date: ...


@dataclass(frozen=True, slots=True)
class LoggedCommand:
    """A command with its place in the log, who recorded it and when."""

    seq: int
    command: AnyCommand
    recorded_at: datetime
    actor: str
    recorded_on: date
    source: str = ""
    """Where it was read (the Bundle entry), for messages."""


@dataclass(frozen=True, slots=True)
class CommandStamp:
    """A command extension as read back (the command's fields still to be read)."""

    seq: int
    type: str
    recorded_at: datetime
    recorded_on: date
    actor: str
    fields: dict[str, list[Any]] = field(default_factory=dict)
    """Field name → the values of its sub-extensions (several for a tuple of dates)."""


def command_extension(entry: CommandEntry, **fields: FieldValue) -> Resource:
    """The extension stamping a resource with ``entry``; ``fields`` (None: left out)
    are command fields the resource has no element for."""
    parts: list[Resource] = [
        {"url": "seq", "valueInteger": entry.seq},
        {"url": "type", "valueCode": type(entry.command).__name__},
        {"url": "recordedAt", "valueInstant": entry.recorded_at.isoformat()},
        {"url": "recordedOn", "valueDate": entry.recorded_on.isoformat()},
        {"url": "actor", "valueString": entry.actor},
    ]
    for name, value in fields.items():
        parts.extend({"url": name, **_value(v)} for v in _values(value))
    return {"url": COMMAND_EXTENSION, "extension": parts}


def _values(value: FieldValue) -> Iterable[str | int | float | date]:
    if value is None:
        return ()
    if isinstance(value, tuple):
        return value
    return (value,)


def _value(value: str | int | float | date) -> Resource:
    if isinstance(value, date):
        return {"valueDate": value.isoformat()}
    if isinstance(value, bool):  # not a field type of any command: refuse loudly
        raise TypeError("a command field is never a bool")
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": int(value) if value.is_integer() else value}
    return {"valueString": value}


def command_stamps(resource: Resource, where: str) -> list[CommandStamp]:
    """The command extensions a resource carries (none: it is not from isotrack)."""
    return [
        read_command_extension(e, where)
        for e in objects(resource, "extension")
        if e.get("url") == COMMAND_EXTENSION
    ]


def read_command_extension(extension: Resource, where: str) -> CommandStamp:
    """Read one command extension; InvalidInputError naming ``where`` when malformed."""
    values: dict[str, list[Any]] = {}
    for part in objects(extension, "extension"):
        if not isinstance(part.get("url"), str):
            raise InvalidInputError(where, "a command extension part has no url")
        found = [v for k, v in part.items() if k.startswith("value")]
        if len(found) != 1:
            raise InvalidInputError(where, f"command extension part {part['url']!r} has no value")
        values.setdefault(part["url"], []).append(found[0])
    missing = [name for name in _HEADER if len(values.get(name, ())) != 1]
    if missing:
        raise InvalidInputError(
            where, f"the command extension lacks {', '.join(missing)} (or repeats it)"
        )
    try:
        seq, kind, actor = values["seq"][0], values["type"][0], values["actor"][0]
        recorded_at = datetime.fromisoformat(values["recordedAt"][0])
        recorded_on = date.fromisoformat(values["recordedOn"][0])
    except (TypeError, ValueError) as error:
        raise InvalidInputError(where, f"the command extension is malformed: {error}") from None
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise InvalidInputError(where, f"the command's seq must be a positive integer, not {seq!r}")
    if not isinstance(kind, str) or not isinstance(actor, str) or not actor:
        raise InvalidInputError(where, "the command extension needs a type and an actor")
    if recorded_at.tzinfo is None:
        raise InvalidInputError(where, "the command's recordedAt needs a time zone")
    fields = {k: v for k, v in values.items() if k not in _HEADER}
    return CommandStamp(seq, kind, recorded_at, recorded_on, actor, fields)
