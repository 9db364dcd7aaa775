"""Laboratory rules of order screening: liver tests, triglycerides and the
baseline labs of a new course (facts.md §6).

The transaminase and triglyceride thresholds are clinic policy (basis P): no
isotretinoin label gives a numeric stop rule, so the findings say "clinic
policy" and name the threshold used. LIPIDS-HIGH also fires on a recorded
hypertriglyceridaemia or familial hyperlipidaemia; plain unspecified
hyperlipidaemia is left to the triglyceride value (see the value set
``hypertriglyceridaemia-conditions`` for why).
"""

from __future__ import annotations

from collections.abc import Iterator

from isotrack.clinical.findings import SUMMARY_MAX, Finding, Severity, make_finding
from isotrack.clinical.screening.context import ScreeningContext, describe_hits, order_rule
from isotrack.clinical.snapshot import LabResult

TRANSAMINASES = (("alt", "ALT"), ("ast", "AST"))
BASELINE_ANALYTES = (("triglycerides", "triglycerides"), ("alt", "ALT"))


def _clip(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def _lab_text(name: str, lab: LabResult) -> str:
    return f"{name} {lab.value:g} {lab.unit} on {lab.on.isoformat()}"


# --- LFT-HIGH ------------------------------------------------------------------


@order_rule("LFT-HIGH")
def liver_tests_high(ctx: ScreeningContext) -> Iterator[Finding]:
    multiple = ctx.kb.number("lft.uln_multiple")
    default_uln = ctx.kb.number("lft.default_uln_u_l")
    high: list[str] = []
    used: list[str] = []
    data: list[tuple[str, object]] = []
    for analyte, name in TRANSAMINASES:
        lab = ctx.latest_lab(analyte)
        if lab is None:
            continue
        uln = lab.reference_high if lab.reference_high is not None else default_uln
        uln_from = "the result's reference range" if lab.reference_high is not None else "default"
        limit = multiple * uln
        used.append(
            f"{_lab_text(name, lab)} against {multiple:g}× ULN {uln:g} U/L ({uln_from}) "
            f"= {limit:g} U/L"
        )
        data.append((f"latest {name}", _lab_text(name, lab)))
        if lab.value > limit:
            high.append(f"{_lab_text(name, lab)} > {limit:g} U/L")
    if not high:
        return
    yield make_finding(
        ctx.kb,
        "LFT-HIGH",
        _clip(f"{'; '.join(high)} ({multiple:g}× ULN, clinic policy)"),
        f"Latest transaminases above {multiple:g}× the upper limit of normal (ULN), a clinic "
        f"policy threshold (no isotretinoin label gives a multiple; default ULN "
        f"{default_uln:g} U/L when the result has no reference range). "
        f"Checked: {'; '.join(used)}.",
        data=[*data, ("threshold", f"{multiple:g}× ULN (clinic policy)")],
        policy=True,
    )


# --- LIPIDS-HIGH -----------------------------------------------------------------


@order_rule("LIPIDS-HIGH")
def triglycerides_high(ctx: ScreeningContext) -> Iterator[Finding]:
    warning = ctx.kb.number("tg.warning_mg_dl")
    critical = ctx.kb.number("tg.critical_mg_dl")
    lab = ctx.latest_lab("triglycerides")
    conditions = ctx.active_conditions("hypertriglyceridaemia-conditions")
    severity: Severity | None = None
    reasons: list[str] = []
    data: list[tuple[str, object]] = []
    summary = ""
    if lab is not None:
        data.append(("latest triglycerides", _lab_text("triglycerides", lab)))
        if lab.value >= critical:
            severity = Severity.CRITICAL
            reasons.append(
                f"Latest {_lab_text('triglycerides', lab)} is at or above {critical:g} mg/dL, "
                "the clinic policy stop threshold (the label reports very high triglycerides "
                "followed by pancreatitis)."
            )
            summary = f"Triglycerides {lab.value:g} mg/dL on {lab.on.isoformat()} ≥ {critical:g}"
        elif lab.value >= warning:
            severity = Severity.WARNING
            reasons.append(
                f"Latest {_lab_text('triglycerides', lab)} is at or above {warning:g} mg/dL, "
                f"the clinic policy threshold for a dose cut or pause (stop from {critical:g})."
            )
            summary = f"Triglycerides {lab.value:g} mg/dL on {lab.on.isoformat()} ≥ {warning:g}"
    if conditions:
        if severity is None:  # Severity.CRITICAL is 0: never test it for truth
            severity = Severity.WARNING
        reasons.append(
            "Hypertriglyceridaemia or a familial hyperlipidaemia is recorded as active: "
            f"{describe_hits(conditions)}."
        )
        data.append(("lipid disorder", describe_hits(conditions)))
        summary = summary or f"Lipid disorder recorded: {conditions[0].label}"
    if severity is None:
        return
    yield make_finding(
        ctx.kb,
        "LIPIDS-HIGH",
        _clip(f"{summary} (clinic policy)"),
        " ".join(reasons),
        severity=severity,
        data=data,
        policy=True,
    )


# --- BASELINE-LABS-MISSING ---------------------------------------------------------


@order_rule("BASELINE-LABS-MISSING")
def baseline_labs_missing(ctx: ScreeningContext) -> Iterator[Finding]:
    if not ctx.first_prescription:
        return
    window = ctx.kb.number("labs.baseline_window_days")
    since = ctx.days_ago(window)
    missing: list[str] = []
    data: list[tuple[str, object]] = []
    for analyte, name in BASELINE_ANALYTES:
        recent = [lab for lab in ctx.labs(analyte) if lab.on >= since]
        if recent:
            data.append((f"baseline {name}", _lab_text(name, recent[0])))
            continue
        missing.append(name)
        older = ctx.latest_lab(analyte)
        last = f"last {_lab_text(name, older)}" if older is not None else "none on record"
        data.append((f"baseline {name}", f"missing ({last})"))
    if not missing:
        return
    what = " and ".join(missing)
    yield make_finding(
        ctx.kb,
        "BASELINE-LABS-MISSING",
        f"First prescription of the course: no {what} since {since.isoformat()}",
        f"A course starts with fasting triglycerides and ALT within {window:g} days before the "
        f"first prescription (from {since.isoformat()} to {ctx.on.isoformat()}). Missing: {what}. "
        + "; ".join(f"{label}: {value}" for label, value in data)
        + ".",
        data=data,
    )
