"""What a command may hold so that it can be stored and read back: the door.

A command is refused at the door (:class:`~isotrack.errors.InvalidInputError`
naming the field, before anything is stored or audited) when it holds:

- a number that is not finite (``NaN``, ``Infinity``, ``1e999``): JSON has no
  such numbers, so it would be stored as ``null`` and the record could never be
  read again;
- text with a NUL byte, another control character, or half of a surrogate pair:
  PostgreSQL refuses NUL in text, and a line break in a name breaks every
  one-line format it is written into (the calendar export, CSV, the audit log).
  Free text (a note, a reason) may hold line breaks and tabs, nothing else;
- a date outside :data:`EARLIEST_DATE` … :data:`LATEST_DATE`: every date isotrack
  stores is a birth date or a day of treatment, and dates near the ends of the
  calendar overflow the date arithmetic of the schedules.

These are limits of storage, not clinical rules: what is clinically possible
(a weight, a lab value, a date of birth) is checked by the record
(:mod:`isotrack.clinical.record`) against the knowledge base.

>>> from datetime import date
>>> from isotrack.clinical.state.commands import RecordWeight, EnrolPatient
>>> check_storable(RecordWeight(on=date(2026, 3, 2), value=float("nan")))
Traceback (most recent call last):
...
isotrack.errors.InvalidInputError: value: is not a finite number (nan); ...
>>> storable_problem(EnrolPatient(on=date(2026, 3, 2), patient_id="p1", name="Ana\\r\\nX",
...     birth_date=date(1999, 5, 4), sex="female"))
('name', 'holds a control character (U+000D); write it on one line without control characters')
>>> storable_problem(RecordWeight(on=date(9999, 12, 31), value=60.0))
('on', 'is 9999-12-31, outside 1900-01-01 to 2199-12-31: check the date')
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date

import msgspec

from isotrack.errors import InvalidInputError

EARLIEST_DATE = date(1900, 1, 1)
"""The earliest date a command may hold (a date of birth of the oldest patient)."""
LATEST_DATE = date(2199, 12, 31)
"""The latest date a command may hold (far past any course, far from the calendar's end)."""

MULTILINE_FIELDS = frozenset({"note", "reason", "override_reason", "capability_reason"})
"""Free-text fields of commands: they may hold line breaks and tabs."""

_ONE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_MULTILINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can.

    >>> text_problem("Ana Müller") is None
    True
    >>> text_problem("itch\\nand rash", multiline=True) is None
    True
    >>> text_problem("a\\x00b", multiline=True)
    'holds a NUL character; remove it'
    """
    pattern = _MULTILINE_FORBIDDEN if multiline else _ONE_LINE_FORBIDDEN
    found = pattern.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "holds a NUL character; remove it"
    code = f"U+{ord(found.group()):04X}"
    if "\ud800" <= found.group() <= "\udfff":
        return f"holds half of a character ({code}); send the text as valid UTF-8"
    if multiline:
        return f"holds a control character ({code}); only line breaks and tabs may be in it"
    return f"holds a control character ({code}); write it on one line without control characters"


def number_problem(value: float) -> str | None:
    """Why ``value`` cannot be stored as a number, or None when it can.

    >>> number_problem(1e308) is None
    True
    >>> number_problem(float("inf"))
    'is not a finite number (inf); give a number such as 4.2'
    """
    if math.isfinite(value):
        return None
    return f"is not a finite number ({value}); give a number such as 4.2"


def date_problem(value: date) -> str | None:
    """Why ``value`` cannot be stored as a date, or None when it can."""
    if EARLIEST_DATE <= value <= LATEST_DATE:
        return None
    return f"is {value.isoformat()}, outside {EARLIEST_DATE} to {LATEST_DATE}: check the date"


def storable_problem(command: msgspec.Struct) -> tuple[str, str] | None:
    """The first field of ``command`` that cannot be stored and read back, and why;
    None when every field can."""
    for name in command.__struct_fields__:
        problem = _value_problem(getattr(command, name), multiline=name in MULTILINE_FIELDS)
        if problem is not None:
            where, why = problem
            return name + where, why
    return None


def check_storable(command: msgspec.Struct) -> None:
    """Raise InvalidInputError (naming the field) unless ``command`` can be stored."""
    problem = storable_problem(command)
    if problem is not None:
        field, why = problem
        raise InvalidInputError(field, f"{why}; nothing was stored")


def _value_problem(value: object, *, multiline: bool) -> tuple[str, str] | None:
    why: str | None = None
    if isinstance(value, str):
        why = text_problem(value, multiline=multiline)
    elif isinstance(value, bool) or value is None or isinstance(value, int):
        why = None
    elif isinstance(value, float):
        why = number_problem(value)
    elif isinstance(value, date):
        why = date_problem(value)
    elif isinstance(value, tuple | list):
        return _items_problem(value, multiline=multiline)
    return None if why is None else ("", why)


def _items_problem(values: Iterable[object], *, multiline: bool) -> tuple[str, str] | None:
    for index, item in enumerate(values):
        problem = _value_problem(item, multiline=multiline)
        if problem is not None:
            return f".{index}{problem[0]}", problem[1]
    return None
