"""The CDS Hooks 2.0.1 response schema (``cds-hooks-2.0.1.schema.json``, written from the
specification's tables) and the check every CDS response of the test suite goes through.

:func:`check_exchange` is what :mod:`tests.cds.schema.plugin` runs on each response
to a request under ``/cds-services``: discovery against ``Discovery``, a hook's 200
against ``CardsResponse``, feedback's 200 against ``FeedbackAnswer``, and every
other status as RFC 9457 problem+json. Beyond the schema, a card summary must be one
sentence (:data:`SENTENCE_BREAK`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).with_name("cds-hooks-2.0.1.schema.json")
PREFIX = "/cds-services"
PROBLEM_JSON = "application/problem+json"
PROBLEM_MEMBERS = ("type", "title", "status", "detail", "code")
SENTENCE_BREAK = re.compile(r"[.!?][\"')\]]*\s+[A-Z]")
"""The end of one sentence and the start of another: a card summary has one sentence."""


class CdsConformanceError(AssertionError):
    """A CDS response the 2.0.1 tables do not allow."""


@cache
def schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(document)
    return document


@cache
def validator(kind: str) -> Draft202012Validator:
    """A validator of one definition of the schema (``CardsResponse``, ``Card`` …)."""
    whole = schema()
    if kind not in whole["$defs"]:
        raise KeyError(f"the schema defines no {kind}")
    return Draft202012Validator({**whole, "$ref": f"#/$defs/{kind}"})


def conformance_errors(document: Any, kind: str) -> list[str]:
    """Every way ``document`` breaks the ``kind`` definition, as ``path: message``."""
    found = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator(kind).iter_errors(document), key=lambda e: e.path)
    ]
    for index, summary in enumerate(_summaries(document, kind)):
        if SENTENCE_BREAK.search(summary):
            found.append(f"cards/{index}/summary: more than one sentence: {summary!r}")
    return found


def assert_conformant(document: Any, kind: str) -> None:
    errors = conformance_errors(document, kind)
    if errors:
        shown = json.dumps(document)[:2000]
        raise CdsConformanceError(
            f"not a valid CDS Hooks 2.0.1 {kind}:\n  " + "\n  ".join(errors) + f"\n{shown}"
        )


def _summaries(document: Any, kind: str) -> list[str]:
    if kind == "Card" and isinstance(document, dict):
        cards = [document]
    elif kind == "CardsResponse" and isinstance(document, dict):
        cards = document.get("cards") if isinstance(document.get("cards"), list) else []
    else:
        return []
    return [
        c["summary"] for c in cards if isinstance(c, dict) and isinstance(c.get("summary"), str)
    ]


def kind_of(method: str, path: str, status: int) -> str | None:
    """Which definition a response to ``method path`` with ``status`` must follow (None:
    not a CDS response; ``problem`` for an error)."""
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        return None
    if method == "OPTIONS":  # a CORS preflight, answered by the middleware
        return None
    if status >= 400:
        return "problem"
    if status != 200:
        return None
    parts = path[len(PREFIX) :].strip("/").split("/")
    if method == "GET" and parts == [""]:
        return "Discovery"
    if method == "POST" and len(parts) == 1 and parts[0]:
        return "CardsResponse"
    if method == "POST" and len(parts) == 2 and parts[1] == "feedback":
        return "FeedbackAnswer"
    return None


def check_exchange(
    method: str, path: str, status: int, content_type: str, body: bytes
) -> str | None:
    """Check one response under ``/cds-services`` (CdsConformanceError when it does not
    conform); returns the kind checked, or None when it is not a CDS response."""
    kind = kind_of(method, path, status)
    if kind is None:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        raise CdsConformanceError(
            f"{method} {path} answered {status} with no JSON: {body[:200]!r}"
        ) from None
    if kind == "problem":
        _check_problem(method, path, status, content_type, document)
        return kind
    if not content_type.startswith("application/json"):
        raise CdsConformanceError(f"{method} {path} answered {content_type!r}, not JSON")
    assert_conformant(document, kind)
    return kind


def _check_problem(method: str, path: str, status: int, content_type: str, problem: Any) -> None:
    where = f"{method} {path} answered {status}"
    if not content_type.startswith(PROBLEM_JSON):
        raise CdsConformanceError(f"{where} as {content_type!r}, not {PROBLEM_JSON}")
    if not isinstance(problem, dict):
        raise CdsConformanceError(f"{where} with a problem that is not an object")
    missing = [m for m in PROBLEM_MEMBERS if not problem.get(m)]
    if missing or problem["status"] != status:
        raise CdsConformanceError(f"{where}: problem lacks {missing} or says another status")
