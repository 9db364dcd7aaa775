"""``isotrack demo``: what ``make run`` shows until the server exists, and
``isotrack demo load``: the demo clinic in a database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.rule import Rule
from rich.table import Table
from sqlalchemy import Engine

from isotrack import SAFETY_LINE
from isotrack.cli.app import PolicyOption, app, knowledge, out, parse_day, translate_errors
from isotrack.cli.db_cmd import DatabaseOption, now, open_database
from isotrack.cli.plan_cmd import print_tables
from isotrack.cli.screen_cmd import order_under_review, print_assessment
from isotrack.clinical.dosing import default_mg_per_kg_day, label_doses, plan_course
from isotrack.clinical.screening import screen_order
from isotrack.demo import DEMO_DATE, DEMO_PATIENTS, demo_bundle
from isotrack.demo.clinic import demo_clinic
from isotrack.demo.story import DemoPatient
from isotrack.errors import ConflictError, InvalidInputError
from isotrack.fhir import decode_bundle, read_order, snapshot_from_bundle
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import downgrade, execute, patient_ids, upgrade

DEMO_WEIGHT_KG = 64.0
"""Dana's weight in the demo bundle."""
DEMO_PRODUCT = "absorica"
DEMO_ACTOR = "demo"
"""Who the audit trail says recorded the demo clinic."""

demo_app = typer.Typer(
    name="demo",
    help="The demo: a plan and two screened orders; `demo load` puts a demo clinic in a database.",
    rich_markup_mode="rich",
)
app.add_typer(demo_app, name="demo")


@demo_app.callback(invoke_without_command=True)
@translate_errors
def demo_command(ctx: typer.Context) -> None:
    """Show a course plan and the screening of two made-up patients' orders.

    The demo patients are FHIR bundles shipped with isotrack (no real person),
    evaluated on 2026-03-02. [bold]isotrack demo load[/bold] loads a demo clinic
    of made-up patients into a database.

    Example: [bold]isotrack demo[/bold]
    """
    if ctx.invoked_subcommand is None:
        show_demo()


def show_demo() -> None:
    kb = knowledge(None)
    out.print(Rule("isotrack demo"))
    out.print(f"{SAFETY_LINE}\n", markup=False)
    product, weight = kb.product(DEMO_PRODUCT), DEMO_WEIGHT_KG
    out.print(
        Rule(
            f"1. isotrack plan --weight {weight:g} --product {product.id} --start {DEMO_DATE}",
            style="dim",
        )
    )
    plan = plan_course(
        weight,
        product.id,
        kb.number("course.cumulative_target_mg_per_kg"),
        default_mg_per_kg_day(kb, product.id),
        start=DEMO_DATE,
        kb=kb,
    )
    labels = label_doses(kb, product.id, weight)
    print_tables(product, weight, labels, plan, weekly=False)
    for number, name in enumerate(DEMO_PATIENTS, start=2):
        out.print()
        out.print(Rule(f"{number}. isotrack screen {name}.json --date {DEMO_DATE}", style="dim"))
        bundle = decode_bundle(demo_bundle(name))
        bundle, request = order_under_review(bundle, None, Path(f"{name}.json"), kb, None)
        snapshot = snapshot_from_bundle(bundle, kb=kb, order=request, on=DEMO_DATE)
        order = read_order(request, kb, bundle=bundle).order
        print_assessment(screen_order(snapshot, order, on=DEMO_DATE, kb=kb), snapshot, order)
    out.print()
    out.print(Rule("next", style="dim"))
    out.print(
        "Try: isotrack plan --help · isotrack screen --help · isotrack rules · "
        "isotrack claims · isotrack monograph",
        markup=False,
    )


@demo_app.command("load")
@translate_errors
def load_command(
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            metavar="YYYY-MM-DD",
            help="The day the demo clinic is dated to (default: today).",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Empty the database first (refused when it holds patients other than the "
            "demo ones).",
        ),
    ] = False,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Load a demo clinic of made-up patients into the database.

    No real person: patients in different states, dated relative to today,
    each command recorded through the store as a clinic would have recorded
    it (actor "demo", audited). Migrates the database first if needed.

    Example: [bold]isotrack demo load --database sqlite:///demo.db[/bold]
    Then: [bold]isotrack course show demo-ana --database sqlite:///demo.db[/bold]
    """
    kb = knowledge(policy)
    moment = now()
    day = parse_day("--today", today)
    if day > moment.date():
        raise InvalidInputError("--today", f"{day} is after today ({moment.date()})")
    clinic = demo_clinic(day, kb)
    ids = {p.patient_id for p in clinic}
    with open_database(database) as engine:
        upgrade(engine)
        held = set(patient_ids(engine))
        if held & ids:
            if not replace:
                raise ConflictError(
                    f"the database already holds the demo patients ({len(held & ids)} of "
                    f"{len(ids)}): load into another database, or pass --replace to empty "
                    "it and load again"
                )
            others = sorted(held - ids)
            if others:
                raise ConflictError(
                    f"--replace would empty a database that holds other patients "
                    f"({', '.join(others[:3])}{' …' if len(others) > 3 else ''}): "
                    "load the demo into another database"
                )
            downgrade(engine, "base")
            upgrade(engine)
        for patient in clinic:
            _load_patient(engine, patient, moment, kb)
    print_clinic(clinic)


def _load_patient(
    engine: Engine, patient: DemoPatient, moment: datetime, kb: KnowledgeBase
) -> None:
    """Each command recorded on its day (at this time of day), as the clinic did."""
    for command, recorded in patient.commands:
        at = datetime.combine(recorded, moment.timetz())
        execute(engine, patient.patient_id, command, actor=DEMO_ACTOR, now=at, kb=kb)


def print_clinic(clinic: list[DemoPatient]) -> None:
    table = Table(title=f"Demo clinic: {len(clinic)} made-up patients")
    for column in ("patient", "name", "what it shows"):
        table.add_column(column, overflow="fold")
    for patient in clinic:
        table.add_row(patient.patient_id, patient.name, patient.story)
    out.print(table)
    first = clinic[0].patient_id
    out.print(f"Next: isotrack course show {first} · isotrack audit verify", markup=False)
