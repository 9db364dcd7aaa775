"""The HTTP door: every route refuses values that cannot be stored and read back.

:func:`check_request_values` is a dependency of the whole app (``create_app``
puts it on every route of the API, the web pages and the CDS Hooks service),
so no route has to remember it. Before the route runs it refuses (422, the
field named, nothing done) a request whose

- path or query holds a NUL or another control character;
- query holds a number that is not finite (``nan``, ``inf``, ``1e999``) or a
  date outside :data:`~isotrack.clinical.state.EARLIEST_DATE` …
  :data:`~isotrack.clinical.state.LATEST_DATE` (``?date=9999-12-31``);
- JSON or form body holds such a number or date, or text with a NUL or a
  control character other than a line break or a tab.

The CDS Hooks service reads its (large) bodies with its own strict decoder and
stores nothing, so its bodies are left to it. What is stored is checked once
more, field by field, by the command door
(:func:`isotrack.clinical.state.check_storable`), which also refuses line breaks
in one-line fields such as a name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from fastapi import Request

from isotrack.clinical.state import EARLIEST_DATE, LATEST_DATE, text_problem
from isotrack.errors import InvalidInputError

_NUMERIC = re.compile(r"^\s*[+-]?(\d|\.\d)")
_ISO_DAY = re.compile(r"^(\d{4,})-(\d{2})-(\d{2})$")
_JSON_TYPES = ("application/json", "application/fhir+json")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_UNCHECKED_BODY_PREFIXES = ("/cds-services",)


class _NotFiniteError(ValueError):
    pass


async def check_request_values(request: Request) -> None:
    """Raise InvalidInputError (422) for a value of the request that isotrack could
    not store and read back (see the module docstring)."""
    for name, value in request.path_params.items():
        _check_text(str(name), str(value), multiline=False)
    for name, value in request.query_params.multi_items():
        _check_query_value(name, value)
    if request.method in ("GET", "HEAD", "OPTIONS") or request.url.path.startswith(
        _UNCHECKED_BODY_PREFIXES
    ):
        return
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type in _JSON_TYPES:
        _check_json(await request.body())
    elif media_type in _FORM_TYPES:
        form = await request.form()  # read once by the route already; Starlette keeps it
        for name, value in form.multi_items():
            if isinstance(value, str):
                _check_form_value(name, value)


def _check_query_value(name: str, value: str) -> None:
    _check_text(name, value, multiline=False)
    _check_scalar(name, value)


def _check_form_value(name: str, value: str) -> None:
    _check_text(name, value, multiline=True)
    _check_scalar(name, value)


def _check_scalar(name: str, value: str) -> None:
    """A day out of range, or a number too large to be finite (``1e999``), written as
    text. Words are left alone (a patient may be called Nan): a route that reads a
    number refuses ``nan`` and ``inf`` itself, and the command door refuses them."""
    if _check_day(name, value) or not _NUMERIC.match(value):
        return
    try:
        number = float(value)
    except ValueError:
        return
    if number != number or number in (float("inf"), float("-inf")):
        raise InvalidInputError(name, f"is not a finite number ({value[:20]!r}); give a number")


def _check_day(name: str, value: str) -> bool:
    """True when ``value`` is written as a day (YYYY-MM-DD); InvalidInputError when
    that day is outside the range isotrack stores."""
    day = _ISO_DAY.match(value.strip())
    if day is None:
        return False
    try:
        given = date(*(int(part) for part in day.groups()))
    except ValueError:
        given = None  # not a real day (or year 10000+)
    if given is None and not 1 <= int(day.group(2)) <= 12:
        return True  # not a date at all: the route's own validation says so
    if given is None or not EARLIEST_DATE <= given <= LATEST_DATE:
        raise InvalidInputError(
            name, f"is {value[:20]}, outside {EARLIEST_DATE} to {LATEST_DATE}: check the date"
        )
    return True


def _check_text(name: str, value: str, *, multiline: bool) -> None:
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise InvalidInputError(name, problem)


def _check_json(body: bytes) -> None:
    if not body:
        return
    try:
        document = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotFiniteError as error:
        raise InvalidInputError("body", f"holds a number that is not finite ({error})") from None
    except (ValueError, UnicodeDecodeError):
        return  # not JSON: the route's own validation says so
    _check_json_value("body", document)


def _refuse_constant(name: str) -> Any:
    raise _NotFiniteError(name)


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _NotFiniteError(text[:20])
    return number


def _check_json_value(where: str, value: object) -> None:
    if isinstance(value, str):
        _check_text(where, value, multiline=True)
        _check_day(where, value)
    elif isinstance(value, dict):
        for key, item in value.items():
            field = str(key) if where == "body" else f"{where}.{key}"
            _check_text(field, str(key), multiline=False)
            _check_json_value(field, item)
    elif isinstance(value, list):
        _check_items(where, value)


def _check_items(where: str, values: Iterable[object]) -> None:
    for index, item in enumerate(values):
        _check_json_value(f"{where}.{index}", item)
