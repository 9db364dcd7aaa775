"""``isotrack demo``: what ``make run`` shows until the server exists."""

from __future__ import annotations

from pathlib import Path

from rich.rule import Rule

from isotrack import SAFETY_LINE
from isotrack.cli.app import app, knowledge, out, translate_errors
from isotrack.cli.plan_cmd import print_tables
from isotrack.cli.screen_cmd import order_under_review, print_assessment
from isotrack.clinical.planner import plan_course
from isotrack.clinical.product_doses import default_mg_per_kg_day, label_doses
from isotrack.clinical.screening import screen_order
from isotrack.demo import DEMO_DATE, DEMO_PATIENTS, demo_bundle
from isotrack.fhir import decode_bundle, read_order, snapshot_from_bundle

DEMO_WEIGHT_KG = 64.0
"""Dana's weight in the demo bundle."""
DEMO_PRODUCT = "absorica"


@app.command("demo")
@translate_errors
def demo_command() -> None:
    """Show a course plan and the screening of two made-up patients' orders.

    The demo patients are FHIR bundles shipped with isotrack (no real person),
    evaluated on 2026-03-02.

    Example: [bold]isotrack demo[/bold]
    """
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
