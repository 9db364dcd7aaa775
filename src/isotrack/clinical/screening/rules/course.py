"""Course-level rules of order screening: the gap before a second course and
the cumulative dose target (facts.md §2).

The cumulative dose in mg/kg needs a recent body weight; without one the rule
cannot decide and says so in the assumptions (WEIGHT-MISSING fires as well).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from isotrack.clinical.findings import Finding, make_finding
from isotrack.clinical.screening.context import ScreeningContext, order_rule


@order_rule("SECOND-COURSE-TOO-EARLY")
def second_course_too_early(ctx: ScreeningContext) -> Iterator[Finding]:
    previous = ctx.previous_course
    if previous is None or previous.end is None or not ctx.first_prescription:
        return
    gap_days = ctx.kb.number("course.second_course_gap_days")
    elapsed = (ctx.on - previous.end).days
    if elapsed >= gap_days:
        return
    earliest = previous.end + timedelta(days=gap_days)
    yield make_finding(
        ctx.kb,
        "SECOND-COURSE-TOO-EARLY",
        f"Previous course ended {previous.end.isoformat()}, {elapsed} days ago: "
        f"wait until {earliest.isoformat()}",
        f"This order starts a new course {elapsed} days after the previous one ended "
        f"(course {previous.start.isoformat()} to {previous.end.isoformat()}). The labels ask "
        f"for at least {gap_days:g} days between courses: acne can keep improving off "
        f"the drug. Earliest start: {earliest.isoformat()}.",
        data=[
            ("previous course", f"{previous.start.isoformat()} to {previous.end.isoformat()}"),
            ("days since it ended", elapsed),
            ("earliest new start", earliest.isoformat()),
        ],
    )


@order_rule("CUMULATIVE-TARGET-REACHED")
def cumulative_target_reached(ctx: ScreeningContext) -> Iterator[Finding]:
    course = ctx.current_course
    if course is None:
        return
    if course.cumulative_mg is None:
        ctx.assumptions.append(
            f"The cumulative dose of the course started {course.start.isoformat()} is not "
            "recorded: whether it has reached its target could not be checked."
        )
        return
    weight = ctx.recent_weight
    if weight is None:
        ctx.assumptions.append(
            f"Cumulative dose {course.cumulative_mg:g} mg: no recent body weight, so the dose "
            "in mg/kg and the cumulative target could not be checked."
        )
        return
    default_target = ctx.kb.number("course.cumulative_target_mg_per_kg")
    target = course.target_mg_per_kg if course.target_mg_per_kg is not None else default_target
    target_from = "this course's target" if course.target_mg_per_kg is not None else "default"
    per_kg = course.cumulative_mg / weight.kg
    if per_kg < target:
        return
    yield make_finding(
        ctx.kb,
        "CUMULATIVE-TARGET-REACHED",
        f"Cumulative dose {per_kg:.0f} mg/kg (weight {weight.kg:g} kg on "
        f"{weight.on.isoformat()}) ≥ target {target:g} mg/kg",
        f"The course started {course.start.isoformat()} has had {course.cumulative_mg:g} mg; at "
        f"{weight.kg:g} kg ({weight.on.isoformat()}) that is {per_kg:.1f} mg/kg, at or above "
        f"{target_from} {target:g} mg/kg. Extra benefit beyond the conventional target is "
        "uncertain (weak evidence); some clinicians aim higher.",
        data=[
            ("cumulative dose", f"{course.cumulative_mg:g} mg"),
            ("weight", f"{weight.kg:g} kg on {weight.on.isoformat()}"),
            ("cumulative mg/kg", f"{per_kg:.1f}"),
            ("target", f"{target:g} mg/kg ({target_from})"),
        ],
    )
