"""The pregnancy-test requirements of a programme: which tests count (negative,
accepted in their setting, not cancelled by a later positive or indeterminate
one), the test in the window before a prescription, the two start tests with
their confirmation timing, and the suspension after a positive test. Each
returns a :class:`~isotrack.clinical.programme.requirements.Requirement`."""

from __future__ import annotations

from datetime import date

from isotrack.clinical.programme.requirements import ONE_DAY, Requirement, contraception_on
from isotrack.clinical.programme.rule_sets import RuleSet
from isotrack.clinical.screening import current_pregnancy
from isotrack.clinical.snapshot import PregnancyTest, TestResult, TestSetting
from isotrack.clinical.state import PatientRecord


def negatives(record: PatientRecord, on: date, *, overridden: bool = False) -> list[PregnancyTest]:
    """Negative tests dated on or before ``on``, oldest first, leaving out those an
    indeterminate result on the same day or later overrides (``overridden=True``: all,
    e.g. for the screening test that came before the confirmation test)."""
    indeterminate = [
        t.on for t in record.pregnancy_tests if t.on <= on and t.result is TestResult.INDETERMINATE
    ]
    after = max(indeterminate, default=date.min)
    found = [
        t
        for t in record.pregnancy_tests
        if t.on <= on
        and t.result is TestResult.NEGATIVE
        and (overridden or not indeterminate or t.on > after)
    ]
    return sorted(found, key=lambda t: t.on)


def pregnancy_status_requirement(record: PatientRecord, on: date, rules: RuleSet) -> Requirement:
    """No current pregnancy recorded (:func:`~isotrack.clinical.screening.current_pregnancy`)."""
    current = current_pregnancy(record.pregnancy_statuses, on, rules.kb)
    if current is None:
        return Requirement("pregnancy-status", True, "no pregnancy recorded", found="none current")
    needs = (
        f"a pregnancy status recorded as not pregnant (RecordPregnancyStatus) after the "
        f"pregnancy recorded on {current.on}: isotretinoin is contraindicated in pregnancy"
    )
    return Requirement("pregnancy-status", False, "no pregnancy recorded", needs)


def describe_test(test: PregnancyTest) -> str:
    return f"{test.result} on {test.on} ({test.setting} setting)"


def medical_only(rules: RuleSet, *, start: bool) -> bool:
    """Whether only a test in a medical setting counts (start tests; programmes
    without home tests)."""
    if start:
        return rules.text("start_test_setting") == TestSetting.MEDICAL.value
    return not rules.flag("home_tests_during_treatment")


def accepted(test: PregnancyTest, rules: RuleSet, *, start: bool) -> bool:
    return not medical_only(rules, start=start) or test.setting is TestSetting.MEDICAL


def unresolved_positive(record: PatientRecord, on: date, rules: RuleSet) -> PregnancyTest | None:
    """The latest positive test up to ``on`` unless it has been resolved (see the module doc)."""
    positives = [
        t for t in record.pregnancy_tests if t.on <= on and t.result is TestResult.POSITIVE
    ]
    if not positives:
        return None
    latest = max(positives, key=lambda t: t.on)
    later = [
        t for t in negatives(record, on) if t.on > latest.on and accepted(t, rules, start=True)
    ]
    if not later:
        return latest
    rule_id = rules.text("positive_test_override_rule")
    if any(o.rule_id == rule_id and later[0].on <= o.on <= on for o in record.overrides):
        return None
    return latest


def positive_test_requirement(record: PatientRecord, on: date, rules: RuleSet) -> Requirement:
    names = ("positive_test_override_rule", "positive_test_referral")
    ids = tuple(rules.rule_id(n) for n in names)
    text = "no unresolved positive pregnancy test"
    positive = unresolved_positive(record, on, rules)
    if positive is None:
        return Requirement("positive-test", True, text, rule_ids=ids, found="none")
    rule_id = rules.text("positive_test_override_rule")
    referral = rules.text("positive_test_referral")
    later = [
        t for t in negatives(record, on) if t.on > positive.on and accepted(t, rules, start=True)
    ]
    if later:
        needs = (
            f"a clinician's override of {rule_id} (RecordOverride) dated {later[0].on} or "
            f"later, after the negative test of {later[0].on} that followed the positive "
            f"test of {positive.on}"
        )
    else:
        needs = (
            f"a negative pregnancy test in a medical setting dated after the positive test of "
            f"{positive.on} ({positive.setting} setting), then a clinician's override of "
            f"{rule_id} (RecordOverride)"
        )
    return Requirement("positive-test", False, text, f"{needs}; meanwhile {referral}", rule_ids=ids)


# --- patients who can get pregnant -----------------------------------------------------------
def window_start(day: date, rules: RuleSet) -> date:
    """The first specimen date in the window that ends on ``day`` (day 1 = specimen date)."""
    return day - rules.days("test_window_days") + ONE_DAY


def test_requirement(record: PatientRecord, day: date, rules: RuleSet) -> Requirement:
    """A negative test in the window up to ``day`` (a monthly prescription)."""
    window = rules.whole("test_window_days")
    ids = tuple(rules.rule_id(n) for n in ("monthly_test", "test_window_days"))
    medical = medical_only(rules, start=False)
    if medical:
        ids += (rules.rule_id("home_tests_during_treatment"),)
    where = " in a medical setting" if medical else ""
    text = (
        f"a negative pregnancy test{where} in the {window} days up to {day} (day 1 = specimen date)"
    )
    first = window_start(day, rules)
    tests = negatives(record, day)
    fitting = [t for t in tests if t.on >= first and accepted(t, rules, start=False)]
    if fitting:
        return Requirement(
            "pregnancy-test", True, text, rule_ids=ids, found=describe_test(fitting[-1])
        )
    return Requirement(
        "pregnancy-test",
        False,
        text,
        f"a negative pregnancy test{where} dated {first} or later; {_last(tests)}",
        rule_ids=ids,
    )


def _last(tests: list[PregnancyTest]) -> str:
    if not tests:
        return "none is recorded"
    last = tests[-1]
    return f"the last one is from {last.on} ({last.setting} setting)"


def confirmation_ready(record: PatientRecord, test: PregnancyTest, rules: RuleSet) -> bool:
    """Whether ``test`` can be the (last) start test: negative, in the start-test setting,
    after the programme's contraception was documented for the required days."""
    return (
        test.result is TestResult.NEGATIVE
        and accepted(test, rules, start=True)
        and contraception_on(record, test.on, rules).met
    )


def start_tests_requirement(record: PatientRecord, day: date, rules: RuleSet) -> Requirement:
    """The start tests before the first prescription of a course on ``day``: the last in the
    window up to ``day``, after the required contraception; with two, a screening test
    dated before it."""
    count = rules.whole("start_tests")
    window = rules.whole("test_window_days")
    days = rules.whole("confirmation_after_contraception_days")
    names = ("start_tests", "start_test_setting", "confirmation_after_contraception_days")
    ids = tuple(rules.rule_id(n) for n in (*names, "test_window_days", "lockout_days"))
    where = " in a medical setting" if medical_only(rules, start=True) else ""
    tests_word = "a negative start test" if count == 1 else f"{count} negative start tests"
    text = (
        f"{tests_word}{where}, the last in the {window} days up to {day} and after {days} "
        "days of contraception"
    )
    first = max(window_start(day, rules), _after_lockout(record, day, rules))
    every = negatives(record, day)
    tests = [t for t in every if accepted(t, rules, start=True)]
    in_window = [t for t in tests if t.on >= first]
    ready = [t for t in in_window if confirmation_ready(record, t, rules)]
    if not ready:
        if in_window:
            last = in_window[-1]
            reason = contraception_on(record, last.on, rules).reason
            found = f"the test of {last.on} came before that contraception ({reason})"
        else:
            found = _last(every)
        needs = (
            f"a negative confirmation test{where} dated {first} or later, taken after "
            f"{days} days of the programme's contraception; {found}"
        )
        return Requirement("start-tests", False, text, needs, rule_ids=ids)
    confirmation = ready[-1]
    screenings = negatives(record, day, overridden=True)
    earlier = [t for t in screenings if t.on < confirmation.on and accepted(t, rules, start=True)]
    if len(earlier) < count - 1:
        needs = (
            f"{count - 1} negative screening test(s){where} dated before the confirmation "
            f"test of {confirmation.on}; {len(earlier)} recorded"
        )
        return Requirement("start-tests", False, text, needs, rule_ids=ids)
    screening = earlier[len(earlier) - (count - 1) :] if count > 1 else []
    found = ", then ".join(describe_test(t) for t in [*screening, confirmation])
    return Requirement("start-tests", True, text, rule_ids=ids, found=found)


def _after_lockout(record: PatientRecord, day: date, rules: RuleSet) -> date:
    """The first day a new confirmation test counts after a missed first window
    (``lockout_days``; 0 since 2024: no wait)."""
    lockout = rules.days("lockout_days")
    if not lockout:
        return date.min
    missed = [
        t
        for t in negatives(record, day)
        if t.on + rules.days("test_window_days") - ONE_DAY < day
        and confirmation_ready(record, t, rules)
    ]
    if not missed:
        return date.min
    return missed[-1].on + rules.days("test_window_days") + lockout
