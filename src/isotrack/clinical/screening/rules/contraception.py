"""Contraception: the programme's requirement, the minipill, St John's wort,
and contraception after the course (rules.md; facts.md §5, §7).

All rules apply only to patients who can get pregnant
(:func:`~isotrack.clinical.screening.pregnancy.cbp_status`); the programme is the
clinic's default (parameter ``ppp.default_programme``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from isotrack.clinical.findings import SUMMARY_MAX, Finding, make_finding
from isotrack.clinical.screening.context import (
    ScreeningContext,
    course_rule,
    describe_hits,
    order_rule,
)
from isotrack.clinical.screening.contraception import ContraceptionStatus
from isotrack.clinical.screening.pregnancy import cbp_status, screening_contraception

MINIPILL = "progestin-only-pill"
"""Knowledge-base id of the progestin-only pill (CONTRACEPTION-MINIPILL)."""


def _status(ctx: ScreeningContext) -> ContraceptionStatus:
    """The contraception status on the evaluation date, decided once per screening."""
    return screening_contraception(ctx)


def _clip(text: str, limit: int = SUMMARY_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@order_rule("CONTRACEPTION-REQUIRED")
def contraception_required(ctx: ScreeningContext) -> Iterator[Finding]:
    cbp = cbp_status(ctx)
    if not cbp.can_get_pregnant:
        return
    status = _status(ctx)
    if status.met:
        return
    names = ", ".join(m.name for m in status.methods) or "none documented"
    region = status.programme.region
    since = status.window_start.isoformat()
    yield make_finding(
        ctx.kb,
        "CONTRACEPTION-REQUIRED",
        _clip(f"{region} contraception requirement not documented since {since}: {names}"),
        f"{status.programme.name} ({status.programme.version}): {status.reason}. "
        f"Pregnancy capability: {cbp.label}.",
        data=[
            ("programme", status.programme.name),
            ("contraception", "; ".join(m.describe() for m in status.methods) or "none"),
            ("required since", since),
        ],
    )


@order_rule("CONTRACEPTION-MINIPILL")
def minipill(ctx: ScreeningContext) -> Iterator[Finding]:
    cbp = cbp_status(ctx)
    if not cbp.can_get_pregnant:
        return
    status = _status(ctx)
    pills = [m for m in status.methods if m.method.id == MINIPILL]
    if not pills:
        return
    described = "; ".join(m.describe() for m in pills)
    yield make_finding(
        ctx.kb,
        "CONTRACEPTION-MINIPILL",
        _clip(f"Progestin-only minipill in use: not an acceptable primary method ({described})"),
        "Micro-dosed progestin 'minipills' may be inadequate contraception during "
        f"isotretinoin therapy; isotrack does not count it. In use: {described}. "
        f"Pregnancy capability: {cbp.label}.",
        data=[("minipill", described)],
    )


@order_rule("CONTRACEPTION-STJOHNSWORT")
def st_johns_wort(ctx: ScreeningContext) -> Iterator[Finding]:
    cbp = cbp_status(ctx)
    if not cbp.can_get_pregnant:
        return
    herbs = ctx.active_medications("st-johns-wort")
    if not herbs:
        return
    hormonal = _status(ctx).hormonal_methods
    if not hormonal:
        return
    methods = "; ".join(m.describe() for m in hormonal)
    yield make_finding(
        ctx.kb,
        "CONTRACEPTION-STJOHNSWORT",
        _clip(f"St John's wort with hormonal contraception: {hormonal[0].name} may fail"),
        "St John's wort may make hormonal contraception fail (breakthrough bleeding and "
        f"pregnancies reported). St John's wort: {describe_hits(herbs)}. Hormonal "
        f"contraception: {methods}.",
        data=[("St John's wort", describe_hits(herbs)), ("hormonal contraception", methods)],
    )


@course_rule("MON-CONTRACEPTION-AFTER")
def contraception_after_course(ctx: ScreeningContext) -> Iterator[Finding]:
    cbp = cbp_status(ctx)
    course = ctx.previous_course
    if not cbp.can_get_pregnant or ctx.current_course is not None or course is None:
        return
    last_dose = course.end or course.start
    days = ctx.kb.number("ppp.contraception_after_days")
    until = last_dose + timedelta(days=days)
    if ctx.on > until:
        return
    yield make_finding(
        ctx.kb,
        "MON-CONTRACEPTION-AFTER",
        f"Contraception continues until {until.isoformat()} (last dose {last_dose.isoformat()})",
        f"Contraception continues for {days:g} days after the last dose "
        f"({last_dose.isoformat()}), until {until.isoformat()}. Pregnancy capability: "
        f"{cbp.label}.",
        data=[("last dose", last_dose.isoformat()), ("contraception until", until.isoformat())],
    )
