"""The thresholds the patient page draws on the lab charts and the dashboard
flags, read from the knowledge base (never written here).

- triglycerides: ``tg.warning_mg_dl`` (LIPIDS-HIGH warning) and ``tg.critical_mg_dl``
  (critical), in mg/dL;
- ALT: ``lft.uln_multiple`` × the upper limit of normal, the result's own
  ``reference_high`` or ``lft.default_uln_u_l`` (LFT-HIGH), in U/L.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from isotrack.clinical.record import PatientRecord
from isotrack.clinical.snapshot import LabResult
from isotrack.knowledge.base import KnowledgeBase

THRESHOLD_ANALYTES = ("triglycerides", "alt")
ANALYTE_NAMES = {"triglycerides": "Triglycerides", "alt": "ALT"}


@dataclass(frozen=True, slots=True)
class Limit:
    label: str
    """'warning (LIPIDS-HIGH)'."""
    value: float
    unit: str
    parameter: str
    """The knowledge-base parameter(s) it comes from."""
    sources: tuple[str, ...]


def latest_lab(record: PatientRecord, analyte: str, on: date) -> LabResult | None:
    found = [lab for lab in record.labs if lab.analyte == analyte and lab.on <= on]
    return max(found, key=lambda lab: lab.on, default=None)


def limits(analyte: str, kb: KnowledgeBase, lab: LabResult | None = None) -> tuple[Limit, ...]:
    """The thresholds of ``analyte`` (ALT: for ``lab``'s own upper limit of normal)."""
    if analyte == "triglycerides":
        return tuple(
            Limit(label, kb.number(pid), "mg/dL", pid, kb.parameter(pid).sources)
            for label, pid in (
                ("warning (LIPIDS-HIGH)", "tg.warning_mg_dl"),
                ("critical (LIPIDS-HIGH)", "tg.critical_mg_dl"),
            )
        )
    if analyte == "alt":
        multiple = kb.parameter("lft.uln_multiple")
        uln = lab.reference_high if lab is not None and lab.reference_high else None
        default = kb.parameter("lft.default_uln_u_l")
        upper = uln if uln is not None else kb.number(default.id)
        return (
            Limit(
                f"{kb.number(multiple.id):g} × upper limit of normal (LFT-HIGH)",
                kb.number(multiple.id) * upper,
                "U/L",
                multiple.id if uln is not None else f"{multiple.id} × {default.id}",
                tuple(dict.fromkeys((*multiple.sources, *default.sources))),
            ),
        )
    return ()


def warning_limit(lab: LabResult, kb: KnowledgeBase) -> Limit | None:
    """The lowest threshold of the result's analyte."""
    found = limits(lab.analyte, kb, lab)
    return min(found, key=lambda limit: limit.value, default=None)


def result_text(lab: LabResult, limit: Limit) -> str:
    name = ANALYTE_NAMES.get(lab.analyte, lab.analyte)
    return (
        f"{name} {lab.value:g} {lab.unit} on {lab.on} is at or above the {limit.label} "
        f"threshold of {limit.value:g} {limit.unit}"
    )
