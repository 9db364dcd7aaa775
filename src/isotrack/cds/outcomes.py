"""The EHR's own word that it could not fill a prefetch key: a FHIR OperationOutcome.

CDS Hooks 2.0.1 (§ Prefetch Template): "If the CDS Client encounters errors
prefetching the requested data, OperationOutcome(s) SHOULD be used to communicate
those errors to prevent the CDS Service from incurring an unneeded follow-up
query ... CDS Services SHOULD check any prefetched data for the existence of
OperationOutcomes." An OperationOutcome comes either as the key's whole value or
as an entry of its searchset (``search.mode: outcome``). Either way it is an
EHR-side error for that key, not a malformed request: the service answers with
what the other keys allow and says which key failed and what the EHR said.

An outcome whose issues are all of severity ``information`` reports no error (a
server's remark on a search that succeeded) and is only noted.

>>> read_outcome(b'{"resourceType": "OperationOutcome", "issue": [{"severity": "error",'
...     b' "code": "timeout", "diagnostics": "search  took   too long"}]}')
Outcome(text='error (timeout): search took too long', error=True)
>>> read_outcome(b'{"resourceType": "OperationOutcome", "issue": [{"severity":'
...     b' "information", "code": "informational", "details": {"text": "done"}}]}').error
False
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

from isotrack.fhir import FhirBundle

OPERATION_OUTCOME = "OperationOutcome"
NOT_ERRORS = frozenset({"information"})
"""Issue severities that do not say the data is wrong or incomplete."""
MAX_MESSAGE_CHARS = 300
"""Characters of the EHR's message kept (the rest is cut with an ellipsis)."""
UNREADABLE = "the EHR sent an OperationOutcome that could not be read"
_SPACE = re.compile(r"\s+")


class _Coding(msgspec.Struct, frozen=True):
    code: str | None = None
    display: str | None = None


class _Details(msgspec.Struct, frozen=True):
    text: str | None = None
    coding: tuple[_Coding, ...] = ()


class _Issue(msgspec.Struct, frozen=True):
    severity: str | None = None
    code: str | None = None
    details: _Details | None = None
    diagnostics: str | None = None


class _Outcome(msgspec.Struct, frozen=True, rename="camel"):
    resource_type: str | None = None
    issue: tuple[_Issue, ...] = ()


_OUTCOME = msgspec.json.Decoder(_Outcome)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an OperationOutcome says, on one line, and whether it reports an error."""

    text: str
    error: bool


def read_outcome(raw: bytes) -> Outcome:
    """The OperationOutcome in ``raw``. It reports an error unless every issue is of
    severity ``information``; one that cannot be read, or has no issue, is an error
    all the same (the EHR sent it instead of the data)."""
    try:
        outcome = _OUTCOME.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return Outcome(UNREADABLE, error=True)
    if not outcome.issue:
        return Outcome("the EHR sent an OperationOutcome with no issue", error=True)
    error = not all(issue.severity in NOT_ERRORS for issue in outcome.issue)
    shown = [i for i in outcome.issue if i.severity not in NOT_ERRORS] if error else outcome.issue
    return Outcome(one_line("; ".join(_issue_text(issue) for issue in shown)), error)


def outcome_in(raw: bytes) -> Outcome | None:
    """The OperationOutcome ``raw`` holds (e.g. the body of an HTTP error), or None when
    it is not one."""
    try:
        resource_type = _OUTCOME.decode(raw).resource_type
    except (msgspec.DecodeError, RecursionError):
        return None
    return read_outcome(raw) if resource_type == OPERATION_OUTCOME else None


def bundle_outcomes(bundle: FhirBundle) -> list[Outcome]:
    """The OperationOutcome entries of a decoded searchset (``search.mode: outcome``)."""
    return [
        read_outcome(bytes(entry.raw))
        for entry in bundle.entries
        if entry.resource_type == OPERATION_OUTCOME
    ]


def joined(texts: Iterable[str]) -> str:
    """Several messages as one line (cut like each)."""
    return one_line("; ".join(texts))


def _issue_text(issue: _Issue) -> str:
    words = [
        issue.details.text if issue.details is not None else None,
        *(c.display for c in (issue.details.coding if issue.details is not None else ())),
        issue.diagnostics,
    ]
    said = next((w for w in words if w and w.strip()), None)
    head = issue.severity or "issue"
    if issue.code:
        head = f"{head} ({issue.code})"
    return f"{head}: {said}" if said else head


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed, control characters dropped, and cut to
    :data:`MAX_MESSAGE_CHARS`: the EHR's text is shown inside a card."""
    flat = "".join(c for c in _SPACE.sub(" ", text) if c.isprintable()).strip()
    if len(flat) > MAX_MESSAGE_CHARS:
        flat = flat[: MAX_MESSAGE_CHARS - 1] + "…"
    return flat
