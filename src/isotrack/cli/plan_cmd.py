"""``isotrack plan``: plan a course by weight, product and cumulative target."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

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
from isotrack.clinical.dosing import (
    CoursePlan,
    DosePeriod,
    HistoryEvent,
    LabelDose,
    MissedDose,
    Regimen,
    administration_names,
    default_mg_per_kg_day,
    label_doses,
    plan_course,
)
from isotrack.knowledge.model import Product

LEVEL_NAMES = {
    "usual_min": "usual minimum",
    "usual_max": "usual maximum",
    "absolute_max": "absolute maximum",
}


def number(value: float) -> int | float:
    """A JSON number: whole values without a decimal point, others to 4 decimals."""
    return int(value) if float(value).is_integer() else round(value, 4)


def doses_json(capsules: Regimen) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "capsules_mg": [number(c) for c in dose.capsules_mg],
            "total_mg": number(dose.total_mg),
        }
        for name, dose in zip(
            administration_names(len(capsules.doses)), capsules.doses, strict=True
        )
    ]


def doses_text(capsules: Regimen) -> str:
    """'morning 25 mg, evening 10 mg'; a dose of several capsules shows them: '40+40 mg'."""
    return ", ".join(
        f"{name} {'+'.join(f'{c:g}' for c in dose.capsules_mg)} mg"
        for name, dose in zip(
            administration_names(len(capsules.doses)), capsules.doses, strict=True
        )
    )


def product_json(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "strengths_mg": [number(s) for s in product.strengths_mg],
        "usual_min_mg_per_kg_day": product.usual_min_mg_per_kg_day,
        "usual_max_mg_per_kg_day": product.usual_max_mg_per_kg_day,
        "absolute_max_mg_per_kg_day": product.absolute_max_mg_per_kg_day,
        "divided_doses": product.divided_doses,
    }


def label_dose_json(dose: LabelDose) -> dict[str, Any]:
    return {
        "level": dose.level,
        "mg_per_kg_day": dose.mg_per_kg_day,
        "daily_mg": number(dose.daily_mg),
        "achieved_mg_per_kg_day": number(dose.achieved_mg_per_kg_day),
        "doses": doses_json(dose.capsules),
    }


def period_json(period: DosePeriod) -> dict[str, Any]:
    return {
        "start": period.start.isoformat(),
        "reason": period.reason,
        "weight_kg": number(period.weight_kg),
        "mg_per_kg_day": period.mg_per_kg_day,
        "daily_mg": number(period.daily_mg),
        "achieved_mg_per_kg_day": number(period.achieved_mg_per_kg_day),
        "doses": doses_json(period.capsules),
    }


def plan_json(plan: CoursePlan, *, dose_source: str, start_low: bool) -> dict[str, Any]:
    return {
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "mg_per_kg_day": plan.mg_per_kg_day,
        "mg_per_kg_day_source": dose_source,
        "daily_mg": number(plan.daily_mg),
        "achieved_mg_per_kg_day": number(plan.achieved_mg_per_kg_day),
        "doses": doses_json(plan.capsules),
        "target_mg_per_kg": number(plan.target_mg_per_kg),
        "dosing_days": plan.dosing_days,
        "cumulative_mg": number(plan.cumulative_mg),
        "cumulative_mg_per_kg": number(plan.cumulative_mg_per_kg),
        "start_low": start_low,
        "weight_based": plan.weight_based,
        "periods": [period_json(p) for p in plan.periods],
        "missed": [d.isoformat() for d in plan.missed],
        "weeks": [
            {
                "week": w.week,
                "date": w.on.isoformat(),
                "cumulative_mg": number(w.cumulative_mg),
                "cumulative_mg_per_kg": number(w.cumulative_mg_per_kg),
                "daily_mg": number(w.daily_mg),
            }
            for w in plan.weeks
        ],
        "notes": list(plan.notes),
    }


def print_tables(
    product: Product,
    weight: float,
    labels: tuple[LabelDose, ...],
    plan: CoursePlan,
    *,
    weekly: bool = True,
) -> None:
    out.print(f"{product.name}, {weight:g} kg", markup=False)
    label_view = Table(title="Label doses at this weight")
    for column in ("dose", "mg/kg/day", "mg/day", "capsules"):
        label_view.add_column(column)
    for dose in labels:
        label_view.add_row(
            LEVEL_NAMES.get(dose.level, dose.level),
            f"{dose.mg_per_kg_day:g}",
            f"{dose.daily_mg:g}",
            doses_text(dose.capsules),
        )
    out.print(label_view)
    summary = Table(title="Plan", show_header=False)
    summary.add_column("item")
    summary.add_column("value")
    summary.add_row("daily dose", f"{plan.daily_mg:g} mg ({plan.achieved_mg_per_kg_day:.2f} mg/kg)")
    summary.add_row("capsules", doses_text(plan.capsules))
    summary.add_row("target", f"{plan.target_mg_per_kg:g} mg/kg")
    summary.add_row("dosing days", str(plan.dosing_days))
    summary.add_row("start – end", f"{plan.start.isoformat()} – {plan.end.isoformat()}")
    summary.add_row("missed days", str(len(plan.missed)))
    out.print(summary)
    if len(plan.periods) > 1:
        periods = Table(title="Dose periods")
        for column in ("from", "why", "kg", "mg/day", "capsules"):
            periods.add_column(column)
        for p in plan.periods:
            periods.add_row(
                p.start.isoformat(),
                p.reason,
                f"{p.weight_kg:g}",
                f"{p.daily_mg:g}",
                doses_text(p.capsules),
            )
        out.print(periods)
    if weekly:
        weeks = Table(title="Week by week")
        for column in ("week", "date", "mg/day", "cumulative mg", "cumulative mg/kg"):
            weeks.add_column(column, justify="right")
        for w in plan.weeks:
            weeks.add_row(
                str(w.week),
                w.on.isoformat(),
                f"{w.daily_mg:g}",
                f"{w.cumulative_mg:g}",
                f"{w.cumulative_mg_per_kg:.1f}",
            )
        out.print(weeks)
    for note in plan.notes:
        out.print(f"note: {note}", markup=False)
    out.print(SAFETY_LINE, markup=False)


@app.command("plan")
@translate_errors
def plan_command(
    weight: Annotated[float, typer.Option("--weight", help="Body weight in kg.")],
    product: Annotated[
        str, typer.Option("--product", help="Product id: absorica, absorica-ld, conventional …")
    ],
    mg_per_kg: Annotated[
        float | None,
        typer.Option(
            "--mg-per-kg",
            help="Daily dose in mg/kg/day (default: planner.default_dose_level, the top "
            "of the product's usual range).",
        ),
    ] = None,
    target: Annotated[
        float | None,
        typer.Option(
            "--target",
            help="Cumulative target in mg/kg (default: course.cumulative_target_mg_per_kg).",
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="First day, YYYY-MM-DD (default: today).")
    ] = None,
    start_low: Annotated[
        bool,
        typer.Option(
            "--start-low", help="Start at the lower flare-avoidance dose for the first weeks."
        ),
    ] = False,
    missed: Annotated[
        list[str] | None,
        typer.Option("--missed", help="A day without a dose, YYYY-MM-DD (repeat the option)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    policy: PolicyOption = None,
) -> None:
    """Plan a course: the label doses at this weight as real capsules, the
    daily dose, the days to the cumulative target, the end date and a
    weekly table.

    Example: [bold]isotrack plan --weight 70 --product absorica --target 150[/]
    Example: [bold]isotrack plan --weight 56 --product absorica-ld --json[/]
    Example: [bold]isotrack plan --weight 70 --product absorica --start-low[/]

    JSON output (snake_case keys; dates YYYY-MM-DD):
    - product: id, name, strengths_mg, usual_min_mg_per_kg_day,
      usual_max_mg_per_kg_day, absolute_max_mg_per_kg_day, divided_doses
    - weight_kg
    - label_doses: one per label level (usual_min, usual_max,
      absolute_max): level, mg_per_kg_day, daily_mg,
      achieved_mg_per_kg_day, doses
    - plan: start, end (last dosing day), mg_per_kg_day,
      mg_per_kg_day_source (option or default), daily_mg,
      achieved_mg_per_kg_day, doses, target_mg_per_kg, dosing_days,
      cumulative_mg, cumulative_mg_per_kg, start_low, weight_based,
      periods, missed, weeks, notes
    - safety: the decision-support line
    doses item: name (morning, evening, once daily), capsules_mg, total_mg
    periods item: start, reason, weight_kg, mg_per_kg_day, daily_mg,
      achieved_mg_per_kg_day, doses
    weeks item: week, date, cumulative_mg, cumulative_mg_per_kg,
      daily_mg (the dose in force that day)
    """
    kb = knowledge(policy)
    first_day = parse_day("--start", start)
    history: list[HistoryEvent] = [MissedDose(parse_day("--missed", d)) for d in missed or ()]
    labels = label_doses(kb, product, weight)
    dose = mg_per_kg if mg_per_kg is not None else default_mg_per_kg_day(kb, product)
    goal = target if target is not None else kb.number("course.cumulative_target_mg_per_kg")
    plan = plan_course(
        weight, product, goal, dose, start=first_day, kb=kb, start_low=start_low, history=history
    )
    chosen = kb.product(product)
    if as_json:
        document = {
            "product": product_json(chosen),
            "weight_kg": number(weight),
            "label_doses": [label_dose_json(d) for d in labels],
            "plan": plan_json(
                plan,
                dose_source="option" if mg_per_kg is not None else "default",
                start_low=start_low,
            ),
            "safety": SAFETY_LINE,
        }
        print_json(document)
        return
    print_tables(chosen, weight, labels, plan)
