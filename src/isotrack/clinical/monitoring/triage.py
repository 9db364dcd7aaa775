"""Symptom triage: what a patient reports, what to do about it now.

Each symptom of the knowledge base (``data/triage.toml``) maps to one TRIAGE-*
rule of the catalogue; the rule gives the severity and the action (stop,
stop and get emergency care, contact the prescriber, or manage at home). The
result lists the findings and the reported symptoms most severe first, and a
top-level verdict a patient screen can show in one line.

>>> from isotrack.knowledge import default_knowledge
>>> result = triage(["dry-lips", "severe-stomach-pain"], default_knowledge())
>>> result.stop_now, result.emergency
(True, True)
>>> [s.id for s in result.symptoms]
['severe-stomach-pain', 'dry-lips']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from isotrack.clinical.findings import SUMMARY_MAX, Finding, Severity, make_finding
from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Rule, Symptom


class TriageAction(IntEnum):
    """What the patient does now; ordered so that sorting puts the most urgent first."""

    STOP_EMERGENCY = 0
    STOP = 1
    CONTACT = 2
    MANAGE = 3

    @property
    def label(self) -> str:
        """The catalogue's wording (``triage_action`` in data/rules.toml)."""
        return _ACTION_LABELS[self]

    @classmethod
    def of(cls, rule: Rule) -> TriageAction:
        for action, label in _ACTION_LABELS.items():
            if rule.triage_action == label:
                return action
        raise InvalidInputError(
            f"rule {rule.id} triage_action",
            f"{rule.triage_action!r} is not one of {', '.join(_ACTION_LABELS.values())}",
        )

    @property
    def stops_drug(self) -> bool:
        return self in (TriageAction.STOP_EMERGENCY, TriageAction.STOP)


_ACTION_LABELS = {
    TriageAction.STOP_EMERGENCY: "stop, emergency",
    TriageAction.STOP: "stop",
    TriageAction.CONTACT: "contact",
    TriageAction.MANAGE: "manage",
}

_HEADLINES = {
    TriageAction.STOP_EMERGENCY: "Stop isotretinoin and get emergency care now.",
    TriageAction.STOP: "Stop isotretinoin and call your prescriber today.",
    TriageAction.CONTACT: "Call your prescriber; see the advice below.",
    TriageAction.MANAGE: "No urgent action: follow the advice and mention it at your next visit.",
}
NOTHING_REPORTED = "No symptoms reported."


@dataclass(frozen=True, slots=True)
class ReportedSymptom:
    """One reported symptom with its rule, severity, action and advice."""

    id: str
    text: str
    advice: str
    rule_id: str
    severity: Severity
    action: TriageAction

    @property
    def sort_key(self) -> tuple[int, int, str, str]:
        return (int(self.severity), int(self.action), self.rule_id, self.id)


@dataclass(frozen=True, slots=True)
class TriageResult:
    """Findings (one per TRIAGE-* rule) and symptoms, most severe first, and the verdict."""

    findings: tuple[Finding, ...]
    symptoms: tuple[ReportedSymptom, ...]

    @property
    def action(self) -> TriageAction | None:
        """The most urgent action over all reported symptoms (None: nothing reported)."""
        return min((s.action for s in self.symptoms), default=None)

    @property
    def stop_now(self) -> bool:
        """Stop taking isotretinoin now."""
        return any(s.action.stops_drug for s in self.symptoms)

    @property
    def emergency(self) -> bool:
        """Get emergency care now."""
        return any(s.action is TriageAction.STOP_EMERGENCY for s in self.symptoms)

    @property
    def contact_prescriber(self) -> bool:
        """Contact the prescriber (today when ``stop_now``)."""
        return any(s.action is not TriageAction.MANAGE for s in self.symptoms)

    @property
    def headline(self) -> str:
        """One line a patient screen shows first."""
        action = self.action
        return NOTHING_REPORTED if action is None else _HEADLINES[action]

    @property
    def advice(self) -> tuple[tuple[str, str], ...]:
        """(symptom text, advice) per symptom, most severe first."""
        return tuple((s.text, s.advice) for s in self.symptoms)


def triage(symptom_ids: Iterable[str], kb: KnowledgeBase) -> TriageResult:
    """Map reported symptom ids to TRIAGE-* findings, most severe first.

    Unknown ids are refused with :class:`~isotrack.errors.InvalidInputError`
    naming them and listing the valid ids; ids are trimmed and lower-cased,
    repeated ids count once, and a single string is read as one id.
    """
    wanted = [symptom_ids] if isinstance(symptom_ids, str) else list(symptom_ids)
    known = {s.id: s for s in kb.symptoms}
    ids = list(dict.fromkeys(str(i).strip().lower() for i in wanted))
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise InvalidInputError(
            "symptom",
            f"unknown symptom id(s) {', '.join(repr(i) for i in unknown)}; "
            f"valid ids: {', '.join(sorted(known))}",
        )
    reported = sorted((_reported(known[i], kb) for i in ids), key=lambda s: s.sort_key)
    by_rule: dict[str, list[ReportedSymptom]] = {}
    for symptom in reported:
        by_rule.setdefault(symptom.rule_id, []).append(symptom)
    findings = [_finding(kb, rule_id, group) for rule_id, group in by_rule.items()]
    return TriageResult(findings=tuple(findings), symptoms=tuple(reported))


def _reported(symptom: Symptom, kb: KnowledgeBase) -> ReportedSymptom:
    rule = kb.rule(symptom.rule)
    if rule.table != "triage":
        raise InvalidInputError(
            f"symptom {symptom.id}", f"maps to {rule.id}, which is not a triage rule"
        )
    return ReportedSymptom(
        id=symptom.id,
        text=symptom.text,
        advice=symptom.advice,
        rule_id=rule.id,
        severity=Severity.from_label(rule.severities[0]),
        action=TriageAction.of(rule),
    )


def _finding(kb: KnowledgeBase, rule_id: str, group: list[ReportedSymptom]) -> Finding:
    rule = kb.rule(rule_id)
    action = group[0].action
    reported = "; ".join(s.text for s in group)
    summary = f"{rule.title} ({action.label}): {reported}"
    if len(summary) > SUMMARY_MAX:
        summary = summary[: SUMMARY_MAX - 1] + "…"
    return make_finding(
        kb,
        rule_id,
        summary,
        f"Patient reports: {reported}. Action: {action.label}. {rule.action}",
        severity=group[0].severity,
        data=[("reported", s.text) for s in group],
    )
