"""What the patient's pages show, in plain words (pure: record, day, knowledge in).

- :func:`patient_home`: the next test, the next visit and their window dates, the
  daily dose in force, and the recent days a missed dose can be ticked for (days
  with capsules to take: after the first dispense, not paused, not already recorded,
  not in the future, as the record checks ``RecordMissedDoses``).
- :func:`phq9_result`: the PHQ-9 total from its nine answers and what it means, by
  the thresholds of the knowledge base (``mood.phq9_positive_score``;
  ``mood.phq9_item9_positive_score``: any self-harm answer is a "stop and call").
- :func:`symptom_groups`: the triage table's symptoms, red flags first.

The PHQ-9's nine questions and its four answers are the questionnaire's published
wording (Kroenke, Spitzer and Williams 2001; free to use, no permission needed);
the page cites the source ``kroenke-2001`` of the knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from isotrack.clinical.dosing import administration_names
from isotrack.clinical.monitoring import ItemStatus, Schedule, ScheduleItem, TriageAction
from isotrack.clinical.order import times_a_day
from isotrack.clinical.state import ComprehensionCheck, CourseState, DoseStep
from isotrack.errors import InvalidInputError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Question, Symptom

MISSED_DOSE_DAYS = 7
"""How many recent days the missed-dose checklist offers (a page choice, not a rule)."""

PHQ9_QUESTIONS: tuple[str, ...] = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself, or that you are a failure or have let yourself or "
    "your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed; or the opposite, "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
)
"""'Over the last 2 weeks, how often have you been bothered by any of the following
problems?' (PHQ-9, Kroenke 2001)."""
PHQ9_ANSWERS: tuple[str, ...] = (
    "Not at all",
    "Several days",
    "More than half the days",
    "Nearly every day",
)
"""Scored 0 to 3, in this order."""
PHQ9_SOURCE = "kroenke-2001"
SELF_HARM_SYMPTOM = "suicidal-thoughts"
"""The triage symptom whose advice a positive PHQ-9 item 9 shows (same question)."""


# --- home ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DoseLine:
    """The daily dose in force, as the patient takes it."""

    dose_mg: float
    times_per_day: int
    since: date
    doses_mg: tuple[float, ...] = ()
    """Each administration of the day, when they differ (a split regimen)."""

    @property
    def daily_mg(self) -> float:
        return sum(self.doses_mg) if self.doses_mg else self.dose_mg * self.times_per_day

    @property
    def text(self) -> str:
        """'30 mg twice a day (60 mg a day)'; a split dose: '30 mg in the morning and
        25 mg in the evening (55 mg a day)'."""
        if len(set(self.doses_mg)) > 1:
            names = administration_names(len(self.doses_mg))
            each = " and ".join(
                f"{mg:g} mg in the {name}" if name in ("morning", "evening") else f"{mg:g} mg"
                for name, mg in zip(names, self.doses_mg, strict=True)
            )
            return f"{each} ({self.daily_mg:g} mg a day)"
        times = times_a_day(self.times_per_day)
        return f"{self.dose_mg:g} mg {times} ({self.daily_mg:g} mg a day)"


@dataclass(frozen=True, slots=True)
class MissedDay:
    day: date
    recorded: bool
    """Already recorded as missed (shown ticked, cannot be sent again)."""


@dataclass(frozen=True, slots=True)
class PatientHome:
    name: str
    on: date
    course_id: str | None
    course_status: str | None
    """'active', 'paused', 'ended' or None without a course."""
    product: str
    food: str
    """How to take it with respect to meals (the product's ``food`` in the knowledge base)."""
    dose: DoseLine | None
    next_test: ScheduleItem | None
    next_visit: ScheduleItem | None
    overdue: tuple[ScheduleItem, ...]
    coming: tuple[ScheduleItem, ...]
    """Items not done yet, soonest first."""
    missed_days: tuple[MissedDay, ...]
    schedule_reason: str
    """Why the schedule is empty, when it is."""

    @property
    def can_record_missed(self) -> bool:
        return any(not d.recorded for d in self.missed_days)


_TEST_KINDS = frozenset(
    {
        "pregnancy-test",
        "end-of-course-pregnancy-test",
        "post-course-pregnancy-test",
        "lipids",
        "alt",
    }
)


def patient_home(
    name: str, course: CourseState | None, schedule: Schedule, *, on: date, kb: KnowledgeBase
) -> PatientHome:
    """The home page of a patient on ``on``: ``course`` is the one the schedule is about."""
    open_items = [i for i in schedule.items if i.status not in (ItemStatus.DONE, ItemStatus.LATE)]
    tests = [i for i in open_items if i.kind in _TEST_KINDS]
    visits = [i for i in open_items if i.kind == "visit"]
    dose = None
    product = food = ""
    if course is not None:
        product = kb.product(course.product).name
        food = kb.product(course.product).food
        step = course.dose_on(on) if not course.ended else None
        dose = _dose_line(step)
    return PatientHome(
        name=name,
        on=on,
        course_id=course.course_id if course else None,
        course_status=course.status if course else None,
        product=product,
        food=food,
        dose=dose,
        next_test=tests[0] if tests else None,
        next_visit=visits[0] if visits else None,
        overdue=tuple(i for i in open_items if i.status is ItemStatus.OVERDUE),
        coming=tuple(open_items),
        missed_days=missed_day_choices(course, on=on),
        schedule_reason=schedule.reason,
    )


def home_course(courses: tuple[CourseState, ...], on: date) -> CourseState | None:
    """The course the schedule is about: running on ``on``, else the latest started
    (as :func:`isotrack.clinical.record.record_schedule` chooses)."""
    started = [c for c in courses if c.start <= on]
    running = [c for c in started if c.end is None or c.end >= on]
    chosen = running or started
    return chosen[-1] if chosen else None


def _dose_line(step: DoseStep | None) -> DoseLine | None:
    if step is None:
        return None
    return DoseLine(step.dose_mg, step.times_per_day, step.on, step.doses_mg)


def missed_day_choices(course: CourseState | None, *, on: date) -> tuple[MissedDay, ...]:
    """The last :data:`MISSED_DOSE_DAYS` days, newest first, on which a dose was due."""
    if course is None or course.ended:
        return ()
    first_dispense = min((d.on for d in course.dispenses if d.on <= on), default=None)
    if first_dispense is None:
        return ()
    days = (on - timedelta(days=n) for n in range(MISSED_DOSE_DAYS))
    return tuple(
        MissedDay(day, day in course.missed_days)
        for day in days
        if day >= max(course.start, first_dispense) and not course.paused_on(day)
    )


def missed_days_to_record(choices: tuple[MissedDay, ...], ticked: list[str]) -> tuple[date, ...]:
    """The ticked days (ISO dates) that the checklist offers and that are not recorded yet.

    InvalidInputError (field ``days``) when nothing new is ticked or a day is not offered."""
    offered = {d.day.isoformat(): d for d in choices}
    days: list[date] = []
    for text in dict.fromkeys(ticked):
        choice = offered.get(text)
        if choice is None:
            raise InvalidInputError("days", f"{text} is not a day you can tick here")
        if not choice.recorded:
            days.append(choice.day)
    if not days:
        raise InvalidInputError("days", "tick at least one day you missed a dose")
    return tuple(sorted(days))


# --- PHQ-9 -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Phq9Result:
    total: int
    item9: int | None
    self_harm: bool
    """Item 9 at or above ``mood.phq9_item9_positive_score``: stop and call at once."""
    positive: bool
    """Total at or above ``mood.phq9_positive_score``."""

    @property
    def headline(self) -> str:
        if self.self_harm:
            return "Stop taking isotretinoin and get help now."
        if self.positive:
            return "Your answers show low mood. Call your prescriber in the next few days."
        return "Thank you. Your answers are saved for your prescriber."


def phq9_answers(form: dict[str, str]) -> tuple[tuple[int, ...], dict[str, str]]:
    """The nine answers (0–3) from form fields ``q1`` … ``q9``, and an error message
    per field left out or not one of the answers."""
    answers: list[int] = []
    errors: dict[str, str] = {}
    for number in range(1, len(PHQ9_QUESTIONS) + 1):
        name = f"q{number}"
        raw = form.get(name, "").strip()
        if raw not in {str(i) for i in range(len(PHQ9_ANSWERS))}:
            errors[name] = "Choose one answer for this question."
            answers.append(0)
        else:
            answers.append(int(raw))
    return tuple(answers), errors


def phq9_total(answers: tuple[int, ...]) -> tuple[int, int]:
    """(total, item 9) of nine answers from 0 to 3.

    >>> phq9_total((1, 1, 1, 1, 1, 1, 1, 1, 0))
    (8, 0)
    """
    if len(answers) != len(PHQ9_QUESTIONS) or any(not 0 <= a < len(PHQ9_ANSWERS) for a in answers):
        raise InvalidInputError("answers", "give nine answers, each from 0 to 3")
    return sum(answers), answers[-1]


def phq9_result(total: int, item9: int | None, kb: KnowledgeBase) -> Phq9Result:
    """What a PHQ-9 means for the patient, by the thresholds of the knowledge base
    (the ones MOOD-PHQ9-POSITIVE uses).

    >>> from isotrack.knowledge import default_knowledge
    >>> result = phq9_result(9, 1, default_knowledge())
    >>> result.self_harm, result.positive
    (True, False)
    """
    return Phq9Result(
        total=total,
        item9=item9,
        self_harm=item9 is not None and item9 >= kb.number("mood.phq9_item9_positive_score"),
        positive=total >= kb.number("mood.phq9_positive_score"),
    )


def answer_rows(
    check: ComprehensionCheck | None, kb: KnowledgeBase
) -> list[tuple[Question, int, bool]]:
    """(question, chosen option, right?) for each answer of a comprehension check."""
    if check is None:
        return []
    bank = {q.id: q for q in kb.questions(check.programme)}
    return [(bank[qid], option, qid not in check.wrong) for qid, option in check.answers]


# --- symptoms --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SymptomGroup:
    title: str
    symptoms: tuple[Symptom, ...]


_GROUP_TITLES = {
    TriageAction.STOP_EMERGENCY: "Serious: get emergency care",
    TriageAction.STOP: "Serious: stop the medicine and call today",
    TriageAction.CONTACT: "Call your prescriber",
    TriageAction.MANAGE: "Common side effects",
}


def symptom_groups(kb: KnowledgeBase, *, can_get_pregnant: bool) -> tuple[SymptomGroup, ...]:
    """The symptoms of the triage table that can apply to the patient (a late period
    only to one who can get pregnant), grouped by what to do, most urgent first."""
    grouped: dict[TriageAction, list[Symptom]] = {}
    for symptom in kb.symptoms:
        if symptom.applies_to == "can-get-pregnant" and not can_get_pregnant:
            continue
        grouped.setdefault(TriageAction.of(kb.rule(symptom.rule)), []).append(symptom)
    return tuple(
        SymptomGroup(_GROUP_TITLES[action], tuple(grouped[action])) for action in sorted(grouped)
    )
