"""Rules about the patient record itself: age, body weight and data the
source could not provide (facts.md §2, §3, §4).

An unknown birth date is not a silent pass: the age rules add a sentence to
the assumptions and DATA-MISSING lists the birth date with the other gaps.
"""

from __future__ import annotations

from collections.abc import Iterator

from isotrack.clinical.findings import SUMMARY_MAX, Finding, make_finding
from isotrack.clinical.screening.context import ScreeningContext, order_rule

BIRTH_DATE_MISSING = "birth date (age rules AGE-UNDER-12 and AGE-ADOLESCENT-BONE not checked)"
_AGE_UNKNOWN_NOTE = (
    "The birth date is unknown: the age rules (under 12 years, adolescent bone growth) "
    "could not be checked."
)


def _age_or_note(ctx: ScreeningContext) -> int | None:
    """The age in whole years, or None after noting once that it is unknown."""
    age = ctx.age_years
    if age is None and _AGE_UNKNOWN_NOTE not in ctx.assumptions:
        ctx.assumptions.append(_AGE_UNKNOWN_NOTE)
    return age


def _clip(text: str) -> str:
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def _birth(ctx: ScreeningContext) -> str:
    birth = ctx.snapshot.birth_date
    return birth.isoformat() if birth is not None else "unknown"


@order_rule("AGE-UNDER-12")
def age_under_minimum(ctx: ScreeningContext) -> Iterator[Finding]:
    age = _age_or_note(ctx)
    minimum = ctx.kb.number("age.min_years")
    if age is None or age >= minimum:
        return
    yield make_finding(
        ctx.kb,
        "AGE-UNDER-12",
        f"Patient is {age} years old (born {_birth(ctx)}): not established under {minimum:g}",
        f"Age {age} on {ctx.on.isoformat()} (birth date {_birth(ctx)}). Isotretinoin is "
        f"indicated from {minimum:g} years; safety and effectiveness are not established below.",
        data=[("age", f"{age} years"), ("birth date", _birth(ctx))],
    )


@order_rule("AGE-ADOLESCENT-BONE")
def age_adolescent_bone(ctx: ScreeningContext) -> Iterator[Finding]:
    age = _age_or_note(ctx)
    minimum = ctx.kb.number("age.min_years")
    adult = ctx.kb.number("age.adult_years")
    if age is None or not minimum <= age < adult:
        return
    yield make_finding(
        ctx.kb,
        "AGE-ADOLESCENT-BONE",
        f"Patient is {age} years old (born {_birth(ctx)}): bone growth caution",
        f"Age {age} on {ctx.on.isoformat()} (birth date {_birth(ctx)}), under {adult:g}: "
        "premature epiphyseal closure and reduced bone mineral density are reported with "
        "isotretinoin.",
        data=[("age", f"{age} years"), ("birth date", _birth(ctx))],
    )


@order_rule("WEIGHT-MISSING")
def weight_missing(ctx: ScreeningContext) -> Iterator[Finding]:
    if ctx.recent_weight is not None:
        return
    limit = ctx.kb.number("dose.weight_max_age_days")
    since = ctx.days_ago(limit)
    last = ctx.latest_weight
    if last is None:
        summary = "No body weight on record: the dose in mg/kg cannot be checked"
        seen = "No body weight is on record."
        last_text = "none on record"
    else:
        last_text = f"{last.kg:g} kg on {last.on.isoformat()}"
        summary = f"No body weight since {since.isoformat()} (last: {last_text})"
        seen = f"The last body weight is {last_text}, older than {limit:g} days."
    yield make_finding(
        ctx.kb,
        "WEIGHT-MISSING",
        summary,
        f"{seen} By clinic policy a weight must be from the {limit:g} days before "
        f"{ctx.on.isoformat()} (since {since.isoformat()}) to check the dose in mg/kg and the "
        "cumulative dose.",
        data=[("last weight", last_text), ("needed since", since.isoformat())],
        policy=True,
    )


@order_rule("DATA-MISSING")
def data_missing(ctx: ScreeningContext) -> Iterator[Finding]:
    missing = list(dict.fromkeys(ctx.snapshot.missing))
    if ctx.snapshot.birth_date is None:
        missing.append(BIRTH_DATE_MISSING)
    if not missing:
        return
    listed = "; ".join(missing)
    yield make_finding(
        ctx.kb,
        "DATA-MISSING",
        _clip(f"Data missing: {listed}"),
        f"The record did not provide: {listed}. Rules that need these data could not be "
        "checked fully; their absence is not evidence that all is well.",
        data=[("missing", item) for item in missing],
    )
