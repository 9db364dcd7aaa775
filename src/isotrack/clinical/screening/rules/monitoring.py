"""Rules of the "during the course" table: lab rechecks, nodule response,
mood screening and the restrictions that last beyond the last dose
(facts.md §2, §4, §6, §9). The pregnancy reminders of the same table live in
the pregnancy rules.

Decisions written down here:

- MON-LABS-DUE counts a recheck drawn from ``labs.recheck_early_days`` before
  the due day ("about 1 month"), but never one drawn on or before the start or
  the dose increase itself.
- RESPONSE-NODULES-70 takes as baseline the latest nodule count on or before
  the course start (else the first count of the course) and compares it with
  the latest count of the course.
- MOOD-PHQ9-POSITIVE reads the latest PHQ-9: always during an active course,
  otherwise only if it is from the last ``mood.screen_interval_days`` days.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from isotrack.clinical.findings import SUMMARY_MAX, Finding, Severity, make_finding
from isotrack.clinical.screening.context import ScreeningContext, course_rule
from isotrack.clinical.snapshot import IsotretinoinCourse, LesionCount, MoodScreen

RECHECK_ANALYTES = (("triglycerides", "triglycerides"), ("alt", "ALT"))


def _days(ctx: ScreeningContext, parameter_id: str) -> timedelta:
    return timedelta(days=ctx.kb.number(parameter_id))


# --- MON-LABS-DUE ----------------------------------------------------------------


@course_rule("MON-LABS-DUE")
def labs_recheck_due(ctx: ScreeningContext) -> Iterator[Finding]:
    course = ctx.current_course
    if course is None:
        return
    reference, reason = course.start, f"the start on {course.start.isoformat()}"
    increase = course.last_dose_increase
    if increase is not None and increase > course.start:
        reference, reason = increase, f"the last dose increase on {increase.isoformat()}"
    due = reference + _days(ctx, "labs.recheck_after_days")
    if ctx.on < due:
        return
    counts_from = max(due - _days(ctx, "labs.recheck_early_days"), reference + timedelta(days=1))
    missing: list[str] = []
    data: list[tuple[str, object]] = [("due", due.isoformat())]
    for analyte, name in RECHECK_ANALYTES:
        results = [lab for lab in ctx.labs(analyte) if lab.on >= counts_from]
        if results:
            data.append((name, f"{results[0].value:g} {results[0].unit} on {results[0].on}"))
        else:
            missing.append(name)
            latest = ctx.latest_lab(analyte)
            data.append((name, f"not rechecked (last: {latest.on})" if latest else "none"))
    if not missing:
        return
    what = " and ".join(missing)
    yield make_finding(
        ctx.kb,
        "MON-LABS-DUE",
        f"Recheck of {what} due since {due.isoformat()} (after {reason})",
        f"Triglycerides and ALT are rechecked about {(due - reference).days} days after "
        f"{reason}. No {what} result dated from {counts_from.isoformat()} "
        f"(counted as the recheck, clinic policy) up to {ctx.on.isoformat()}.",
        data=data,
    )


# --- RESPONSE-NODULES-70 -----------------------------------------------------------


def _nodule_counts(
    ctx: ScreeningContext, course: IsotretinoinCourse
) -> tuple[LesionCount, LesionCount] | None:
    counts = sorted((c for c in ctx.snapshot.lesion_counts if c.on <= ctx.on), key=lambda c: c.on)
    before = [c for c in counts if c.on <= course.start]
    during = [c for c in counts if c.on >= course.start]
    baseline = before[-1] if before else (during[0] if during else None)
    if baseline is None:
        return None
    later = [c for c in during if c.on > baseline.on]
    return (baseline, later[-1]) if later else None


@course_rule("RESPONSE-NODULES-70")
def nodule_response(ctx: ScreeningContext) -> Iterator[Finding]:
    course = ctx.current_course
    if course is None:
        return
    pair = _nodule_counts(ctx, course)
    if pair is None:
        ctx.assumptions.append(
            "No baseline and follow-up nodule counts for the current course: the early-stop "
            "response (nodules down by the label's fraction) could not be assessed."
        )
        return
    baseline, latest = pair
    fraction = ctx.kb.number("course.nodule_response_fraction")
    if baseline.nodules == 0:
        return
    fall = (baseline.nodules - latest.nodules) / baseline.nodules
    if fall <= fraction:
        return
    yield make_finding(
        ctx.kb,
        "RESPONSE-NODULES-70",
        f"Nodules {baseline.nodules} on {baseline.on.isoformat()} → {latest.nodules} on "
        f"{latest.on.isoformat()} (down {fall:.0%}): early stop allowed",
        f"The total nodule count fell from {baseline.nodules} ({baseline.on.isoformat()}) to "
        f"{latest.nodules} ({latest.on.isoformat()}), {fall:.0%}, more than {fraction:.0%}, "
        "before the planned end of the course. The label allows stopping early; it does not "
        "require it.",
        data=[
            ("baseline nodules", f"{baseline.nodules} on {baseline.on.isoformat()}"),
            ("latest nodules", f"{latest.nodules} on {latest.on.isoformat()}"),
            ("fall", f"{fall:.0%}"),
        ],
    )


# --- MOOD-SCREEN-DUE / MOOD-PHQ9-POSITIVE ----------------------------------------------


def _latest_screen(ctx: ScreeningContext, *, whole: bool = False) -> MoodScreen | None:
    """The latest screen (``whole``: with a total score); on a tie, the worse one
    (deterministic, errs on safety)."""
    screens = [
        m
        for m in ctx.snapshot.mood_screens
        if m.on <= ctx.on and not (whole and m.phq9_total is None)
    ]
    return max(screens, key=lambda m: (m.on, m.item9 or 0, m.phq9_total or 0), default=None)


def _describe_screen(screen: MoodScreen) -> str:
    item9 = "not recorded" if screen.item9 is None else str(screen.item9)
    total = "total not recorded" if screen.phq9_total is None else str(screen.phq9_total)
    return f"PHQ-9 {total} on {screen.on.isoformat()} (item 9: {item9})"


@course_rule("MOOD-SCREEN-DUE")
def mood_screen_due(ctx: ScreeningContext) -> Iterator[Finding]:
    if ctx.current_course is None:
        return
    interval = ctx.kb.number("mood.screen_interval_days")
    since = ctx.days_ago(interval)
    latest = _latest_screen(ctx, whole=True)
    if latest is not None and latest.on >= since:
        return
    last = _describe_screen(latest) if latest is not None else "none on record"
    yield make_finding(
        ctx.kb,
        "MOOD-SCREEN-DUE",
        f"No mood screen since {since.isoformat()} (last: {last})"[:SUMMARY_MAX],
        f"Mood is screened at every visit of an active course (at least every {interval:g} "
        f"days). No PHQ-9 or equivalent from {since.isoformat()} to {ctx.on.isoformat()}; "
        f"last: {last}.",
        data=[("last mood screen", last), ("needed since", since.isoformat())],
    )


@course_rule("MOOD-PHQ9-POSITIVE")
def phq9_positive(ctx: ScreeningContext) -> Iterator[Finding]:
    latest = _latest_screen(ctx)
    if latest is None:
        return
    recent = latest.on >= ctx.days_ago(ctx.kb.number("mood.screen_interval_days"))
    if ctx.current_course is None and not recent:
        return
    total_cut = ctx.kb.number("mood.phq9_positive_score")
    item9_cut = ctx.kb.number("mood.phq9_item9_positive_score")
    described = _describe_screen(latest)
    if latest.item9 is not None and latest.item9 >= item9_cut:
        yield make_finding(
            ctx.kb,
            "MOOD-PHQ9-POSITIVE",
            f"Self-harm thoughts reported: PHQ-9 item 9 = {latest.item9} on "
            f"{latest.on.isoformat()}: stop and refer urgently",
            f"Latest {described}. Item 9 (thoughts of being better off dead or of self-harm) "
            f"is {latest.item9}, at or above {item9_cut:g}: stop isotretinoin and refer "
            "urgently for a mental-health assessment.",
            severity=Severity.CRITICAL,
            data=[("latest PHQ-9", described)],
        )
        return
    if latest.item9 is None:
        ctx.assumptions.append(
            f"The PHQ-9 of {latest.on.isoformat()} has no item 9 (self-harm) answer: only the "
            "total score was checked."
        )
    if latest.phq9_total is None or latest.phq9_total < total_cut:
        return
    ask = " Item 9 was not recorded: ask about self-harm today." if latest.item9 is None else ""
    yield make_finding(
        ctx.kb,
        "MOOD-PHQ9-POSITIVE",
        f"PHQ-9 {latest.phq9_total} on {latest.on.isoformat()} ≥ {total_cut:g}: assess mood",
        f"Latest {described}: a total of {total_cut:g} or more is a positive screen.{ask}",
        severity=Severity.WARNING,
        data=[("latest PHQ-9", described)],
    )


# --- BLOOD-DONATION / COSMETIC-PROCEDURES ------------------------------------------------


def _restriction(ctx: ScreeningContext, parameter_id: str) -> tuple[str, str] | None:
    """(when, until) if the patient is on a course or within the days after one."""
    days = _days(ctx, parameter_id)
    course = ctx.current_course
    if course is not None:
        if course.end is None:
            return f"course active since {course.start.isoformat()}", (
                f"{days.days} days after the last dose"
            )
        return f"course active since {course.start.isoformat()}", _until(course.end, days)
    previous = ctx.previous_course
    if previous is None or previous.end is None or ctx.on > previous.end + days:
        return None
    return f"course ended {previous.end.isoformat()}", _until(previous.end, days)


def _until(end: date, days: timedelta) -> str:
    return f"{(end + days).isoformat()} ({days.days} days after the last dose)"


@course_rule("BLOOD-DONATION")
def blood_donation(ctx: ScreeningContext) -> Iterator[Finding]:
    found = _restriction(ctx, "after.blood_donation_days")
    if found is None:
        return
    when, until = found
    yield make_finding(
        ctx.kb,
        "BLOOD-DONATION",
        f"No blood donation until {until}",
        f"{when.capitalize()}. No blood donation during the course and for "
        f"{ctx.kb.number('after.blood_donation_days'):g} days after the last dose.",
        data=[("course", when), ("no donation until", until)],
    )


@course_rule("COSMETIC-PROCEDURES")
def cosmetic_procedures(ctx: ScreeningContext) -> Iterator[Finding]:
    found = _restriction(ctx, "after.cosmetic_procedures_days")
    if found is None:
        return
    when, until = found
    yield make_finding(
        ctx.kb,
        "COSMETIC-PROCEDURES",
        f"No waxing, dermabrasion or laser until {until}",
        f"{when.capitalize()}. Wax epilation, dermabrasion and laser risk scarring, epidermal "
        "stripping and dermatitis during the course and for "
        f"{ctx.kb.number('after.cosmetic_procedures_days'):g} days after the last dose.",
        data=[("course", when), ("no procedures until", until)],
    )
