"""Comprehension questions: the programme's bank, the patient's answers, and
whether this month's check is passed.

- Which questions: the whole bank of the patient's programme
  (``questions-<programme>.toml``), every month (:func:`questions_to_ask`). A
  rotation was not chosen: the banks are short (8 questions) and asking all of
  them keeps every month's check comparable.
- A check (``RecordComprehensionAnswers``) answers every question of the bank
  once (:func:`answer_problems` says what is wrong with a set of answers).
- A check counts for the prescription of its month (:func:`comprehension_requirement`):
  recorded after the previous prescription of the course (the aggregate keeps
  how many prescriptions the course had then) and dated within
  ``comprehension_valid_days`` up to the prescription.
- Wrong answers add up over the month's checks. When they reach
  ``comprehension_max_wrong``, counselling (``RecordCounselling``) recorded after
  that check is needed before the prescription and the dispensing authorisation;
  once counselled, the month's check is passed.

>>> from isotrack.knowledge import default_knowledge
>>> kb = default_knowledge()
>>> bank = kb.questions("eu-ppp-2018")
>>> right = tuple((q.id, q.correct) for q in bank)
>>> answer_problems(right, "eu-ppp-2018", kb), wrong_answers(right, "eu-ppp-2018", kb)
((), ())
"""

from __future__ import annotations

from datetime import date

from isotrack.clinical.programme.requirements import ONE_DAY, Requirement
from isotrack.clinical.programme.rule_sets import RuleSet, programme_of
from isotrack.clinical.state import ComprehensionCheck, CourseState, PatientRecord
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Question


def questions_to_ask(record: PatientRecord, kb: KnowledgeBase) -> tuple[Question, ...]:
    """The questions of this month's check: the whole bank of the patient's programme."""
    return kb.questions(programme_of(record, kb).id)


def answer_problems(
    answers: tuple[tuple[str, int], ...], programme_id: str, kb: KnowledgeBase
) -> tuple[str, ...]:
    """What is wrong with a set of answers as a record (not as answers): unknown
    questions, a question answered twice, an option that does not exist, a question
    left out. Empty when the set is a complete check."""
    bank = {q.id: q for q in kb.questions(programme_id)}
    problems: list[str] = []
    seen: set[str] = set()
    for question_id, option in answers:
        question = bank.get(question_id)
        if question is None:
            problems.append(f"{question_id!r} is not a question of {programme_id}")
        elif question_id in seen:
            problems.append(f"{question_id} is answered twice")
        elif not 0 <= option < len(question.options):
            problems.append(
                f"{question_id} has options 0–{len(question.options) - 1}, not {option}"
            )
        seen.add(question_id)
    missing = [q for q in bank if q not in seen]
    if missing:
        problems.append(f"not answered: {', '.join(missing)}")
    return tuple(problems)


def wrong_answers(
    answers: tuple[tuple[str, int], ...], programme_id: str, kb: KnowledgeBase
) -> tuple[str, ...]:
    """The ids of the questions answered wrongly (unknown questions are not counted)."""
    bank = {q.id: q for q in kb.questions(programme_id)}
    return tuple(
        question_id
        for question_id, option in answers
        if question_id in bank and bank[question_id].correct != option
    )


def _counts_for(
    check: ComprehensionCheck,
    course_id: str | None,
    number: int,
    first: date,
    day: date,
    rules: RuleSet,
) -> bool:
    if not first <= check.on <= day or check.programme != rules.id:
        return False
    if check.course_id == course_id and check.prescriptions_before == number - 1:
        return True
    return number == 1 and check.course_id is None


def comprehension_requirement(
    record: PatientRecord,
    rules: RuleSet,
    course: CourseState | None,
    number: int,
    day: date,
    upto: date | None = None,
) -> Requirement:
    """This month's check for prescription ``number`` of ``course`` written on ``day``;
    counselling counts up to ``upto`` (default ``day``)."""
    upto = upto or day
    names = ("comprehension_each_month", "comprehension_valid_days", "comprehension_max_wrong")
    ids = tuple(rules.rule_id(n) for n in names)
    text = "this month's comprehension questions answered"
    first = day - rules.days("comprehension_valid_days") + ONE_DAY
    course_id = course.course_id if course is not None else None
    checks = [
        (index, check)
        for index, check in enumerate(record.comprehension_checks)
        if _counts_for(check, course_id, number, first, day, rules)
    ]
    if not checks:
        needs = _when_to_answer(record, course, number, first, day)
        return Requirement("comprehension", False, text, needs, rule_ids=ids)
    most = rules.whole("comprehension_max_wrong")
    total = 0
    for index, check in checks:
        total += len(check.wrong)
        if total >= most:
            return _counselled(record, index, check, total, most, upto, text, ids)
    latest = checks[-1][1]
    found = f"answered on {latest.on}: {total} wrong answer(s) this month"
    return Requirement("comprehension", True, text, rule_ids=ids, found=found)


def _when_to_answer(
    record: PatientRecord, course: CourseState | None, number: int, first: date, day: date
) -> str:
    since, after = first, ""
    previous = course.prescriptions[number - 2] if course is not None and number > 1 else None
    if previous is not None:
        since = max(first, previous.on)
        after = f", after prescription {previous.id} of {previous.on}"
    needs = (
        f"the comprehension questions answered (RecordComprehensionAnswers) on or after "
        f"{since}{after}"
    )
    earlier = [c for c in record.comprehension_checks if c.on <= day]
    if not earlier:
        return f"{needs}; none is recorded"
    last = earlier[-1].on
    if last < first:
        return f"{needs}; the last check, of {last}, is too old for this month"
    return f"{needs}; the last check, of {last}, was for an earlier prescription"


def _counselled(
    record: PatientRecord,
    index: int,
    check: ComprehensionCheck,
    total: int,
    most: int,
    upto: date,
    text: str,
    ids: tuple[str, ...],
) -> Requirement:
    after = [c for c in record.counselling if c.checks_before > index and check.on <= c.on <= upto]
    if after:
        found = f"{total} wrong answers, then counselling on {after[0].on} ({after[0].topic})"
        return Requirement("comprehension", True, text, rule_ids=ids, found=found)
    wrong = ", ".join(check.wrong)
    needs = (
        f"counselling (RecordCounselling) dated {check.on} or later, after the check of "
        f"{check.on} that brought this month's wrong answers to {total} ({most} or more "
        f"send the patient to counselling; wrong: {wrong})"
    )
    return Requirement("comprehension", False, text, needs, rule_ids=ids)
