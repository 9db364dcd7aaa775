"""Pregnancy: recorded pregnancy, pregnancy tests before a prescription and
during or after the course, and breastfeeding (rules.md; facts.md §4, §6, §7).

PPP-CATEGORY-UNCONFIRMED asks for a recorded category when the record's sex
and gender elements disagree. Every other rule here except BREASTFEEDING
applies only to patients who can get pregnant
(:func:`~isotrack.clinical.screening.pregnancy.cbp_status`); a recorded pregnancy or
positive test is also reported when the engine assumed from age alone that the
patient cannot get pregnant. BREASTFEEDING is a
contraindication whatever the pregnancy capability (e.g. after a hysterectomy
at caesarean section).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from isotrack.clinical.findings import SUMMARY_MAX, Finding, Severity, make_finding
from isotrack.clinical.screening.context import (
    ScreeningContext,
    course_rule,
    describe_hits,
    order_rule,
)
from isotrack.clinical.screening.contraception import contraception_status
from isotrack.clinical.screening.pregnancy import (
    CbpStatus,
    cbp_status,
    describe_pregnancy_test,
    is_recent_pregnancy,
    negative_in_window,
    pregnancy_tests_newest_first,
    procedures_without_result,
    recorded_pregnancies,
    standing_negatives,
    window_first_day,
)
from isotrack.clinical.snapshot import PregnancyTest, TestResult, TestSetting


def _capability(cbp: CbpStatus) -> str:
    return f" Pregnancy capability: {cbp.label}."


def _clip(text: str, limit: int = SUMMARY_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _no_result_note(ctx: ScreeningContext) -> str:
    hits = procedures_without_result(ctx)
    if not hits:
        return ""
    return (
        f" Pregnancy tests recorded only as procedures, with no result, do not count: "
        f"{describe_hits(hits)}."
    )


def _when(test: PregnancyTest) -> str:
    """'on 2026-02-20 (medical setting)'."""
    return f"on {test.on.isoformat()} ({test.setting} setting)"


def _no_negative(ctx: ScreeningContext) -> str:
    """'no negative test recorded', or what overrode the earlier negative ones."""
    tests = pregnancy_tests_newest_first(ctx.snapshot, ctx.on)
    if any(t.result is TestResult.NEGATIVE for t in tests):
        return f"no negative test since the {tests[0].result} result of {tests[0].on.isoformat()}"
    return "no negative test recorded"


def _negatives(ctx: ScreeningContext) -> list[PregnancyTest]:
    """Negative results up to the evaluation date that no later positive or indeterminate
    result overrides, oldest first."""
    return standing_negatives(ctx.snapshot, ctx.on)


@order_rule("PREG-ACTIVE")
def pregnancy_recorded(ctx: ScreeningContext) -> Iterator[Finding]:
    """Critical for a pregnancy recorded within the longest a pregnancy lasts (or
    undated); a warning asking to confirm for an older one that no record ends."""
    cbp = cbp_status(ctx)
    if not cbp.pregnancy_evidence_counts:
        return
    pregnancies = recorded_pregnancies(ctx)
    if not pregnancies:
        return
    listed = "; ".join(p.describe() for p in pregnancies)
    recent = [p for p in pregnancies if is_recent_pregnancy(p, ctx.on, ctx.kb)]
    newest = (recent or pregnancies)[0]
    when = newest.on.isoformat() if newest.on is not None else "date unknown"
    data = [("pregnancy", listed), ("recorded on", when), ("pregnancy capability", cbp.label)]
    if recent:
        yield make_finding(
            ctx.kb,
            "PREG-ACTIVE",
            _clip(f"Pregnancy recorded: {newest.describe()}"),
            "Isotretinoin is contraindicated in pregnancy (embryo-fetal toxicity). Recorded, "
            f"with no later end: {listed}." + _capability(cbp),
            data=data,
        )
        return
    days = ctx.kb.number("pregnancy.longest_duration_days")
    yield make_finding(
        ctx.kb,
        "PREG-ACTIVE",
        _clip(f"Pregnancy recorded {when}, no end recorded: confirm it is over"),
        f"A pregnancy was recorded more than {days:g} days ago (the longest a pregnancy "
        f"lasts) and no end is recorded (an outcome, or a later 'not pregnant' status): "
        f"{listed}. It is probably over; confirm the patient is not pregnant and record "
        "its end." + _capability(cbp),
        severity=Severity.WARNING,
        data=data,
    )


def _latest_test_if(
    ctx: ScreeningContext, result: TestResult
) -> tuple[CbpStatus, PregnancyTest, int] | None:
    """(capability, latest test, tests up to the evaluation date) when the latest result
    is ``result`` and a pregnancy there would be reported, else None."""
    cbp = cbp_status(ctx)
    tests = pregnancy_tests_newest_first(ctx.snapshot, ctx.on)
    if not cbp.pregnancy_evidence_counts or not tests or tests[0].result is not result:
        return None
    return cbp, tests[0], len(tests)


@order_rule("PREG-TEST-POSITIVE")
def pregnancy_test_positive(ctx: ScreeningContext) -> Iterator[Finding]:
    found = _latest_test_if(ctx, TestResult.POSITIVE)
    if found is None:
        return
    cbp, latest, count = found
    yield make_finding(
        ctx.kb,
        "PREG-TEST-POSITIVE",
        f"Latest pregnancy test positive: specimen {latest.on.isoformat()}",
        f"The most recent hCG result is {describe_pregnancy_test(latest)}; "
        f"{count} result(s) recorded up to {ctx.on.isoformat()}." + _capability(cbp),
        data=[("latest pregnancy test", describe_pregnancy_test(latest))],
    )


@order_rule("PREG-TEST-INDETERMINATE")
def pregnancy_test_indeterminate(ctx: ScreeningContext) -> Iterator[Finding]:
    found = _latest_test_if(ctx, TestResult.INDETERMINATE)
    if found is None:
        return
    cbp, latest, _ = found
    why = latest.detail or "neither positive nor negative"
    yield make_finding(
        ctx.kb,
        "PREG-TEST-INDETERMINATE",
        _clip(f"Latest pregnancy test indeterminate: specimen {latest.on.isoformat()}"),
        f"The most recent hCG result, {describe_pregnancy_test(latest)}, is neither clearly "
        f"negative nor positive ({why}); it is not a negative test. Repeat the test before "
        "prescribing." + _capability(cbp),
        data=[("latest pregnancy test", describe_pregnancy_test(latest)), ("why", why)],
    )


@order_rule("PREG-TEST-REQUIRED")
def pregnancy_test_required(ctx: ScreeningContext) -> Iterator[Finding]:
    cbp = cbp_status(ctx)
    if not cbp.can_get_pregnant or negative_in_window(ctx.snapshot, ctx.on, ctx.kb):
        return
    first = window_first_day(ctx.on, ctx.kb).isoformat()
    days = ctx.kb.number("ppp.test_window_days")
    tests = pregnancy_tests_newest_first(ctx.snapshot, ctx.on)
    last = describe_pregnancy_test(tests[0]) if tests else "none recorded"
    summary = (
        f"No negative pregnancy test since {first}; last: {tests[0].result} {tests[0].on}"
        if tests
        else f"No negative pregnancy test since {first}; none recorded"
    )
    yield make_finding(
        ctx.kb,
        "PREG-TEST-REQUIRED",
        summary,
        f"A prescription needs a negative pregnancy test with a specimen date on or after "
        f"{first} (the {days:g}-day window up to {ctx.on.isoformat()}, day 1 = specimen "
        f"date); the last result: {last}." + _no_result_note(ctx) + _capability(cbp),
        data=[("window starts", first), ("last pregnancy test", last)],
    )


def _start_tests_problem(ctx: ScreeningContext) -> tuple[str, str] | None:
    """(short, full) description of what is missing from the two start tests. The
    confirmation test must be a standing negative one (no positive or indeterminate result
    since); the screening test is the first negative one."""
    negatives = _negatives(ctx)
    days = ctx.kb.number("ppp.contraception_before_days")
    need = (
        f"a negative screening test, then a negative confirmation test in a medical setting "
        f"after at least {days:g} days of documented contraception"
    )
    if not negatives:
        short = _no_negative(ctx)
        return short, f"{short}; needs {need}"
    every = [
        t
        for t in pregnancy_tests_newest_first(ctx.snapshot, ctx.on)
        if t.result is TestResult.NEGATIVE
    ]
    screening = every[-1]  # the first negative: a later indeterminate one does not undo it
    later = [t for t in negatives if t.on > screening.on]
    if not later:
        return (
            f"only one negative test ({screening.on.isoformat()})",
            f"only one negative test, {_when(screening)}; needs {need}",
        )
    medical = [t for t in later if t.setting is TestSetting.MEDICAL]
    if not medical:
        listed = ", ".join(describe_pregnancy_test(t) for t in later)
        return (
            "no confirmation test in a medical setting",
            f"screening test {_when(screening)}; the later negative "
            f"test(s) were not in a medical setting ({listed}); needs {need}",
        )
    uncovered = _uncovered_last_test(ctx, medical)
    if uncovered is None:
        return None
    last, reason = uncovered
    return (
        f"confirmation test {last.on.isoformat()} before {days:g} days of contraception",
        f"screening test {_when(screening)}; confirmation test "
        f"{_when(last)} was not preceded by {days:g} days of documented "
        f"contraception (on that day: {reason}); needs {need}",
    )


def _uncovered_last_test(
    ctx: ScreeningContext, medical: list[PregnancyTest]
) -> tuple[PregnancyTest, str] | None:
    """None when one of the medical tests followed the programme's contraception;
    else the last of them and why its day was not covered."""
    for test in medical:
        if contraception_status(ctx.snapshot, test.on, ctx.kb).met:
            return None
    last = medical[-1]
    return last, contraception_status(ctx.snapshot, last.on, ctx.kb).reason


def _single_start_test_problem(ctx: ScreeningContext) -> tuple[str, str] | None:
    """(short, full) for a programme that asks for one medically supervised start test."""
    days = ctx.kb.number("ppp.contraception_before_days")
    need = (
        f"a negative pregnancy test in a medical setting after at least {days:g} days of "
        "documented contraception"
    )
    medical = [t for t in _negatives(ctx) if t.setting is TestSetting.MEDICAL]
    if not medical:
        return (
            "no negative test in a medical setting",
            f"no negative pregnancy test in a medical setting is recorded; needs {need}",
        )
    uncovered = _uncovered_last_test(ctx, medical)
    if uncovered is None:
        return None
    last, reason = uncovered
    return (
        f"test {last.on.isoformat()} before {days:g} days of contraception",
        f"the negative test {_when(last)} was not preceded by {days:g} days of documented "
        f"contraception (on that day: {reason}); needs {need}",
    )


def _start_tests_required(ctx: ScreeningContext) -> int:
    """How many negative start tests the clinic's programme asks for (rule-set data)."""
    programme = ctx.kb.text("ppp.default_programme")
    return int(ctx.kb.programme_rule(programme, "start_tests").value)


@order_rule("PPP-START-TESTS")
def start_tests(ctx: ScreeningContext) -> Iterator[Finding]:
    cbp = cbp_status(ctx)
    if not cbp.can_get_pregnant or not ctx.first_prescription:
        return
    required = _start_tests_required(ctx)
    if required == 1:
        problem = _single_start_test_problem(ctx)
        title = "Start pregnancy test not documented"
    else:
        problem = _start_tests_problem(ctx)
        title = "Two negative start tests not documented"
    if problem is None:
        return
    short, full = problem
    yield make_finding(
        ctx.kb,
        "PPP-START-TESTS",
        _clip(f"{title}: {short}"),
        f"First prescription of a course: {full}." + _no_result_note(ctx) + _capability(cbp),
        data=[("start tests", full)],
    )


@order_rule("PPP-CATEGORY-UNCONFIRMED")
def category_unconfirmed(ctx: ScreeningContext) -> Iterator[Finding]:
    """The record's sex and gender elements disagree and no category is recorded:
    the pregnancy rules apply meanwhile (rules.md "CBP")."""
    cbp = cbp_status(ctx)
    if not cbp.disagreement:
        return
    yield make_finding(
        ctx.kb,
        "PPP-CATEGORY-UNCONFIRMED",
        "Sex and gender elements disagree: record the programme category",
        "The record's sex and gender elements disagree about whether the patient can get "
        f"pregnant ({cbp.disagreement}) and no programme category is recorded in isotrack. "
        "Until one is, the patient is treated as able to get pregnant and the pregnancy "
        "rules apply." + _capability(cbp),
        data=[("sex and gender elements", cbp.disagreement), ("pregnancy capability", cbp.label)],
    )


@order_rule("BREASTFEEDING")
def breastfeeding(ctx: ScreeningContext) -> Iterator[Finding]:
    recorded = ctx.snapshot.lactating
    hits = ctx.active_conditions("lactation") if recorded is None else []
    if recorded is not True and not hits:
        return
    what = "recorded in isotrack" if recorded else describe_hits(hits)
    yield make_finding(
        ctx.kb,
        "BREASTFEEDING",
        _clip(f"Breastfeeding recorded: {what}"),
        f"Isotretinoin is contraindicated while breastfeeding (EU SmPC). Lactation: {what}.",
        data=[("lactation", what)],
    )


@course_rule("MON-PREG-TEST-DUE")
def monthly_test_due(ctx: ScreeningContext) -> Iterator[Finding]:
    cbp = cbp_status(ctx)
    course = ctx.current_course
    if not cbp.can_get_pregnant or course is None:
        return
    negatives = _negatives(ctx)
    interval = ctx.kb.number("ppp.monthly_test_interval_days")
    notice = ctx.kb.number("ppp.test_window_days")
    if negatives:
        base = f"the last negative test was {_when(negatives[-1])}"
        due = negatives[-1].on + timedelta(days=interval)
        short = f"last negative {negatives[-1].on.isoformat()}"
    else:
        tests = pregnancy_tests_newest_first(ctx.snapshot, ctx.on)
        base = f"no negative test recorded (course started {course.start.isoformat()})"
        due, short = course.start, _no_negative(ctx)
        if tests:
            base = f"the last result was {describe_pregnancy_test(tests[0])}, not negative"
            due = max(course.start, tests[0].on)
    if due > ctx.on + timedelta(days=notice):
        return
    when = f"overdue since {due.isoformat()}" if due < ctx.on else f"due by {due.isoformat()}"
    yield make_finding(
        ctx.kb,
        "MON-PREG-TEST-DUE",
        f"Monthly pregnancy test {when} ({short})",
        f"During the course a negative pregnancy test is needed every {interval:g} days, "
        f"before each prescription; {base}. Next test {when}." + _capability(cbp),
        data=[("next pregnancy test", when), ("basis", base)],
    )


@course_rule("MON-POST-COURSE-TEST")
def post_course_test(ctx: ScreeningContext) -> Iterator[Finding]:
    cbp = cbp_status(ctx)
    course = ctx.previous_course
    if not cbp.can_get_pregnant or ctx.current_course is not None or course is None:
        return
    last_dose: date = course.end or course.start
    days = ctx.kb.number("ppp.post_course_test_days")
    due = last_dose + timedelta(days=days)
    if any(t.on >= due for t in _negatives(ctx)):
        return
    when = f"due on {due.isoformat()}" if due > ctx.on else f"overdue since {due.isoformat()}"
    negatives = _negatives(ctx)
    last = (
        f"the last negative test was {_when(negatives[-1])}"
        if negatives
        else "no negative test is recorded"
    )
    yield make_finding(
        ctx.kb,
        "MON-POST-COURSE-TEST",
        f"Post-course pregnancy test {when} (last dose {last_dose.isoformat()})",
        f"A negative pregnancy test is needed at least {days:g} days after the last dose "
        f"({last_dose.isoformat()}), i.e. on or after {due.isoformat()}; {last}."
        + _capability(cbp),
        data=[("last dose", last_dose.isoformat()), ("post-course test", when)],
    )
