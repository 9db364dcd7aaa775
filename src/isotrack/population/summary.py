"""Counts of a population screen: patients, outcomes and findings per rule and severity.

A summary is kept per shard (in the run's state file, so a resumed run still
reports the whole export) and the shards' summaries are added up.

>>> total = Summary()
>>> total.add({"patient": "p1", "on_isotretinoin": False, "order": {"hypothetical": True},
...            "findings": [{"rule_id": "WEIGHT-MISSING", "severity": "warning"}]})
>>> total.add({"patient": "p2", "skipped": "deceased"})
>>> total.read, total.screened, total.with_findings, total.rules
(2, 1, 1, {'WEIGHT-MISSING': {'warning': 1}})
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Summary:
    read: int = 0
    """Patients read (every patient id with resources in the export)."""
    screened: int = 0
    with_findings: int = 0
    errors: int = 0
    on_isotretinoin: int = 0
    hypothetical_orders: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    """Patients not screened, by reason."""
    rules: dict[str, dict[str, int]] = field(default_factory=dict)
    """Findings per rule id and severity."""

    def add(self, result: dict[str, Any]) -> None:
        """Count one result of :func:`~isotrack.population.patient.screen_patient`."""
        self.read += 1
        if "error" in result:
            self.errors += 1
            return
        if "skipped" in result:
            reason = str(result["skipped"])
            self.skipped[reason] = self.skipped.get(reason, 0) + 1
            return
        self.screened += 1
        self.on_isotretinoin += bool(result.get("on_isotretinoin"))
        order = result.get("order") or {}
        self.hypothetical_orders += bool(order.get("hypothetical"))
        findings = result.get("findings") or []
        self.with_findings += bool(findings)
        for finding in findings:
            by_severity = self.rules.setdefault(str(finding["rule_id"]), {})
            severity = str(finding["severity"])
            by_severity[severity] = by_severity.get(severity, 0) + 1

    def merge(self, other: Summary) -> None:
        self.read += other.read
        self.screened += other.screened
        self.with_findings += other.with_findings
        self.errors += other.errors
        self.on_isotretinoin += other.on_isotretinoin
        self.hypothetical_orders += other.hypothetical_orders
        for reason, count in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count
        for rule_id, by_severity in other.rules.items():
            mine = self.rules.setdefault(rule_id, {})
            for severity, count in by_severity.items():
                mine[severity] = mine.get(severity, 0) + count

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(**data)
