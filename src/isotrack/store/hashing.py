"""The two SHA-256 chains that make tampering visible.

*Record hash* (per patient): ``H0 = GENESIS``; after command ``n``,
``Hn = sha256(H(n-1) + canonical JSON of command n's stored row)``. The audit
row of a command carries ``H(n-1)`` and ``Hn`` as its before and after hashes;
a read carries the hash of the record it returned.

*Audit chain* (whole table): ``row_hash = sha256(prev_hash + canonical JSON of
the row's other fields)``, with ``prev_hash`` the previous row's ``row_hash``
(``GENESIS`` for the first row).

Canonical JSON: keys sorted, no blanks, UTF-8, timestamps as UTC ISO-8601 with
microseconds, dates as ISO-8601.

>>> canonical_json({"b": 1, "a": "é"})
'{"a":"é","b":1}'
>>> chain(GENESIS, {"a": 1}) == chain(GENESIS, {"a": 1}) != chain(GENESIS, {"a": 2})
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime

GENESIS = "0" * 64
"""The hash before the first link of a chain."""

JsonScalar = str | int | float | bool | None
JsonValue = JsonScalar | list["JsonValue"] | dict[str, "JsonValue"]


def canonical_json(value: Mapping[str, JsonValue]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain(previous: str, fields: Mapping[str, JsonValue]) -> str:
    """The next link: sha256 of the previous hash followed by the canonical fields."""
    data = previous + canonical_json(fields)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def timestamp_text(value: datetime) -> str:
    """A timestamp as it is hashed: UTC, ISO-8601, always with microseconds."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def command_fields(
    *,
    seq: int,
    type_: str,
    payload: str,
    on_date: date,
    recorded_at: datetime,
    recorded_on: date,
    actor: str,
) -> dict[str, JsonValue]:
    """The hashed fields of one stored command."""
    return {
        "seq": seq,
        "type": type_,
        "payload": payload,
        "on_date": on_date.isoformat(),
        "recorded_at": timestamp_text(recorded_at),
        "recorded_on": recorded_on.isoformat(),
        "actor": actor,
    }


def audit_fields(
    *,
    id_: int,
    at: datetime,
    actor: str,
    action: str,
    patient_id: str | None,
    detail: str,
    before_hash: str | None,
    after_hash: str | None,
) -> dict[str, JsonValue]:
    """The hashed fields of one audit row (all but ``prev_hash`` and ``row_hash``)."""
    return {
        "id": id_,
        "at": timestamp_text(at),
        "actor": actor,
        "action": action,
        "patient_id": patient_id,
        "detail": detail,
        "before_hash": before_hash,
        "after_hash": after_hash,
    }
