"""``isotrack screen``: screen an isotretinoin order against a patient's FHIR record."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from isotrack import SAFETY_LINE
from isotrack.cli.app import (
    PolicyOption,
    app,
    knowledge,
    out,
    parse_day,
    print_json,
    translate_errors,
)
from isotrack.clinical.findings import Assessment, Finding, Severity
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening import screen_order
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.errors import InvalidInputError, NotFoundError
from isotrack.fhir import (
    FhirBundle,
    find_isotretinoin_order,
    load_bundle_file,
    read_order,
    snapshot_from_bundle,
)
from isotrack.fhir.order import is_isotretinoin, medication_of
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge.base import KnowledgeBase

SEVERITY_STYLES = {Severity.CRITICAL: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def order_under_review(
    bundle: FhirBundle,
    order_file: Path | None,
    patient_file: Path,
    kb: KnowledgeBase,
    patient_id: str | None,
) -> tuple[FhirBundle, MedicationRequest]:
    """The bundle to read (with the order file's resources, if any) and the order."""
    if order_file is None:
        request = find_isotretinoin_order(bundle, kb=kb, patient_id=patient_id)
        if request is None:
            raise NotFoundError(
                f"no isotretinoin order in {patient_file.name}; pass --order ORDER.json"
            )
        return bundle, request
    ordered = load_bundle_file(order_file)
    requests = ordered.of_type(MedicationRequest)
    chosen: MedicationRequest | None
    if ordered.bundle_type is None and requests:
        chosen = requests[0]
        if not is_isotretinoin(medication_of(chosen, ordered)[0], kb):
            raise InvalidInputError(
                str(order_file), "the MedicationRequest is not for isotretinoin"
            )
    else:
        chosen = find_isotretinoin_order(ordered, kb=kb)
    if chosen is None:
        raise NotFoundError(
            f"no draft or active isotretinoin MedicationRequest in {order_file.name}"
        )
    return bundle.including(ordered), chosen


def finding_json(finding: Finding, kb: KnowledgeBase) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity.label,
        "summary": finding.summary,
        "detail": finding.detail,
        "action": finding.action,
        "basis": finding.basis,
        "policy": finding.policy,
        "sources": [{"id": s, "title": kb.source(s).title} for s in finding.sources],
        "data": dict(finding.data),
    }


def order_json(order: IsotretinoinOrder) -> dict[str, Any]:
    return {
        "source": order.source,
        "text": order.text,
        "product": order.product,
        "product_by_text": order.product_by_text,
        "route": order.route,
        "dose_mg": order.dose_mg,
        "times_per_day": order.times_per_day,
        "daily_dose_mg": order.daily_dose_mg,
        "strength_mg": order.strength_mg,
        "quantity": order.quantity,
        "supply_days": order.supply_days,
        "repeats": order.repeats,
    }


def assessment_json(
    assessment: Assessment,
    snapshot: PatientSnapshot,
    order: IsotretinoinOrder,
    kb: KnowledgeBase,
) -> dict[str, Any]:
    return {
        "evaluated_on": assessment.evaluated_on.isoformat(),
        "patient": {
            "id": snapshot.patient_id,
            "birth_date": snapshot.birth_date.isoformat() if snapshot.birth_date else None,
            "sex": snapshot.sex.value,
        },
        "order": order_json(order),
        "findings": [finding_json(f, kb) for f in assessment.findings],
        "assumptions": list(assessment.assumptions),
        "context": dict(assessment.context),
        "safety": SAFETY_LINE,
    }


def print_assessment(
    assessment: Assessment, snapshot: PatientSnapshot, order: IsotretinoinOrder
) -> None:
    daily = f"{order.daily_dose_mg:g} mg/day" if order.daily_dose_mg is not None else "dose ?"
    out.print(
        f"Patient {snapshot.patient_id} ({snapshot.sex.value}, born {snapshot.birth_date}); "
        f"order {order.text or '?'} ({order.product or 'product ?'}, {daily}); "
        f"evaluated on {assessment.evaluated_on.isoformat()}",
        markup=False,
    )
    if not assessment.findings:
        out.print(
            "No findings: no rule of the catalogue fires for this order on this date "
            "(see the assumptions below for what was not known).",
            style="green",
        )
    else:
        view = Table(title=f"{len(assessment.findings)} finding(s), most severe first")
        for column in ("severity", "rule", "summary"):
            view.add_column(column, overflow="fold")
        for finding in assessment.findings:
            style = SEVERITY_STYLES[finding.severity]
            view.add_row(
                finding.severity.label, finding.rule_id, Text(finding.summary), style=style
            )
        out.print(view)
    for finding in assessment.findings:
        out.print(f"\n[bold]{finding.rule_id}[/bold] ({finding.severity.label})")
        out.print(finding.detail, markup=False)
        out.print(f"Action: {finding.action}", markup=False)
        out.print(f"Sources: {', '.join(finding.sources)}", markup=False, style="dim")
    if assessment.context:
        out.print("\n[bold]Context[/bold]")
        for label, value in assessment.context:
            out.print(f"- {label}: {value}", markup=False)
    if assessment.assumptions:
        out.print("\n[bold]Assumptions and notes[/bold]")
        for assumption in assessment.assumptions:
            out.print(f"- {assumption}", markup=False)
    out.print(f"\n{SAFETY_LINE}", markup=False)


@app.command("screen")
@translate_errors
def screen_command(
    patient_file: Annotated[
        Path,
        typer.Argument(
            metavar="PATIENT.json",
            help="FHIR R4 Bundle of the patient's record (.json or .json.gz).",
        ),
    ],
    order_file: Annotated[
        Path | None,
        typer.Option(
            "--order",
            metavar="ORDER.json",
            help="The isotretinoin MedicationRequest to screen (or a Bundle holding it); "
            "default: the latest draft or active isotretinoin order in PATIENT.json.",
        ),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="Evaluation date (default: today)."),
    ] = None,
    patient_id: Annotated[
        str | None,
        typer.Option("--patient", help="Patient id, when the bundle holds several patients."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    policy: PolicyOption = None,
) -> None:
    """Screen an isotretinoin order against a patient's FHIR record.

    Prints the findings, most severe first, with their details, what was
    assumed, and the sources. Exit code 0 when the screen ran (whatever it
    found), 1 for unreadable input, 2 for a usage error.

    Example: [bold]isotrack screen patient.json.gz --order order.json --date 2020-09-15[/bold]
    """
    kb = knowledge(policy)
    day = parse_day("--date", on)
    bundle = load_bundle_file(patient_file)
    bundle, request = order_under_review(bundle, order_file, patient_file, kb, patient_id)
    snapshot = snapshot_from_bundle(bundle, kb=kb, patient_id=patient_id, order=request, on=day)
    order = read_order(request, kb, bundle=bundle).order
    assessment = screen_order(snapshot, order, on=day, kb=kb)
    if as_json:
        document = assessment_json(assessment, snapshot, order, kb)
        print_json(document)
        return
    print_assessment(assessment, snapshot, order)
