"""FHIR elements read from untyped JSON (``msgspec.json.decode`` without a type), as the
draft-order walk, the import readers and the command extension do.

An element FHIR defines as an array of objects (``coding``, ``identifier``,
``extension``, ``component`` …) may arrive as anything: ``true``, a number, a string,
an object. :func:`objects` reads such an element as the JSON objects it holds, and as
none when it is not an array, so a wrongly typed element is unreadable (the caller's
missing-data finding or note), never a ``TypeError`` and a server error.

>>> objects({"coding": [{"code": "a"}, 7, "b"]}, "coding")
({'code': 'a'},)
>>> objects({"coding": True}, "coding"), objects({"coding": {"code": "a"}}, "coding")
((), ())
>>> objects("not an object", "coding")
()
"""

from __future__ import annotations

from typing import Any


def objects(holder: object, key: str) -> tuple[dict[str, Any], ...]:
    """The JSON objects of the array element ``key`` of ``holder``; none when
    ``holder`` is not an object or the element is missing or not an array."""
    if not isinstance(holder, dict):
        return ()
    value = holder.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, dict))
