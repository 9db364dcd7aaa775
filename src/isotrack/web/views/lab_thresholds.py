"""The thresholds the patient page draws on the lab charts, read from the knowledge
base (never written here).

- triglycerides: ``tg.warning_mg_dl`` (LIPIDS-HIGH warning) and ``tg.critical_mg_dl``
  (critical), in mg/dL;
- ALT: ``lft.uln_multiple`` × the upper limit of normal, the result's own
  ``reference_high`` or ``lft.default_uln_u_l`` (LFT-HIGH), in U/L.
"""

from __future__ import annotations

from dataclasses import dataclass

from isotrack.clinical.snapshot import LabResult
from isotrack.knowledge.base import KnowledgeBase

ANALYTE_NAMES = {"triglycerides": "Triglycerides", "alt": "ALT"}


@dataclass(frozen=True, slots=True)
class Limit:
    label: str
    """'warning (LIPIDS-HIGH)'."""
    value: float
    unit: str
    sources: tuple[str, ...]


def limits(analyte: str, kb: KnowledgeBase, lab: LabResult | None = None) -> tuple[Limit, ...]:
    """The thresholds of ``analyte`` (ALT: for ``lab``'s own upper limit of normal)."""
    if analyte == "triglycerides":
        return tuple(
            Limit(label, kb.number(pid), "mg/dL", kb.parameter(pid).sources)
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
                tuple(dict.fromkeys((*multiple.sources, *default.sources))),
            ),
        )
    return ()
