"""Findings: what every rule returns, and the assessment that collects them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum

from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase

SUMMARY_LIMIT = 140
"""CDS Hooks 2.0.1: a card summary is a "One-sentence, <140-character summary"
(contracts/cds-hooks.md), strictly fewer than this many characters. Not a clinical fact."""
SUMMARY_MAX = SUMMARY_LIMIT - 1
"""The longest summary a finding may have."""


def clip_summary(text: str) -> str:
    """``text`` cut to :data:`SUMMARY_MAX` characters, with an ellipsis when cut.

    >>> len(clip_summary("x" * 200)), clip_summary("short")
    (139, 'short')
    """
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


class Severity(IntEnum):
    """Ordered so that sorting puts the most severe first."""

    CRITICAL = 0
    WARNING = 1
    INFO = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Severity:
        return cls[label.upper()]


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    severity: Severity
    summary: str
    detail: str
    action: str
    basis: str
    sources: tuple[str, ...]
    data: tuple[tuple[str, str], ...] = ()
    """The patient data the rule used, as (label, value) pairs."""
    policy: bool = False
    """True when a clinic-policy (basis P) threshold decided the finding."""

    def __post_init__(self) -> None:
        if len(self.summary) > SUMMARY_MAX:
            raise InvalidInputError(
                "finding summary", f"{self.rule_id}: {len(self.summary)} characters > {SUMMARY_MAX}"
            )
        if not self.sources:
            raise InvalidInputError("finding sources", f"{self.rule_id} has no source")

    @property
    def sort_key(self) -> tuple[int, str]:
        return (int(self.severity), self.rule_id)


def make_finding(
    kb: KnowledgeBase,
    rule_id: str,
    summary: str,
    detail: str,
    *,
    severity: Severity | None = None,
    data: Iterable[tuple[str, object]] = (),
    action: str | None = None,
    policy: bool | None = None,
) -> Finding:
    """Build a finding for a catalogue rule; severity, basis, action and sources
    come from the catalogue unless given. A severity the catalogue does not
    allow for the rule is refused; a summary too long for a card is clipped
    (:func:`clip_summary`), whichever rule wrote it."""
    rule = kb.rule(rule_id)
    allowed = [Severity.from_label(s) for s in rule.severities]
    chosen = severity if severity is not None else allowed[0]
    if chosen not in allowed:
        raise InvalidInputError("finding severity", f"{rule_id} cannot be {chosen.label}")
    return Finding(
        rule_id=rule_id,
        severity=chosen,
        summary=clip_summary(summary),
        detail=detail,
        action=action if action is not None else rule.action,
        basis=rule.basis,
        sources=rule.sources,
        data=tuple((label, str(value)) for label, value in data),
        policy=("P" in rule.basis) if policy is None else policy,
    )


@dataclass(frozen=True, slots=True)
class Assessment:
    """The result of screening: findings most severe first, then by rule id."""

    evaluated_on: date
    findings: tuple[Finding, ...]
    assumptions: tuple[str, ...] = ()
    context: tuple[tuple[str, str], ...] = field(default=())
    """Facts the engine derived (e.g. pregnancy capability, contraception), for display."""

    @staticmethod
    def collect(
        evaluated_on: date,
        findings: Iterable[Finding],
        assumptions: Iterable[str] = (),
        context: Iterable[tuple[str, str]] = (),
    ) -> Assessment:
        return Assessment(
            evaluated_on=evaluated_on,
            findings=tuple(sorted(findings, key=lambda f: f.sort_key)),
            assumptions=tuple(dict.fromkeys(assumptions)),
            context=tuple(context),
        )

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(f.rule_id for f in self.findings)

    def has(self, rule_id: str) -> bool:
        return rule_id in self.rule_ids

    @property
    def blocked(self) -> bool:
        """True when a critical finding stops the order as written."""
        return any(f.severity is Severity.CRITICAL for f in self.findings)
