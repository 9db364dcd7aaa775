"""Which reminders a patient's record calls for, and on which day each is sent.

:func:`plan_reminders` reads the monitoring schedule of the course on ``on``
(:func:`isotrack.clinical.record.record_schedule`) and the programme's monthly
comprehension check, and returns one :class:`Reminder` per thing still to do:

=========================== ===================================================
kind                        sent on
=========================== ===================================================
``test-window-opens``       the first day of a pregnancy test's window
``test-window-closes``      ``reminders.test_window_closing_lead_days`` before
                            it closes
``visit``                   ``reminders.visit_lead_days`` before the visit day
``labs``                    ``reminders.labs_lead_days`` before the last day of
                            the blood tests' window (one message for the tests
                            of one window)
``comprehension``           ``reminders.comprehension_lead_days`` before the
                            prescription day
``mood-check``              ``reminders.mood_lead_days`` before the visit
``post-course-test``        the first day of the post-course test's window
``contraception-continues`` the day after the last dose
=========================== ===================================================

A send day is never before the window opens (what is done before it does not
count), except a visit's, which is booked ahead. Nothing is planned for an item
already done (in time or late), for one whose deadline has passed (the clinic's
worklist takes over), while the course is paused on ``on``, or, once the last
dose is past, for anything but the programme's duties after the course
(:data:`AFTER_THE_COURSE`). Keys are
'<patient>/<kind>/<item key>' (the schedule's item keys are stable: course start,
kind, month or anchor), so the same reminder keeps its key from one day to the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from isotrack.clinical.monitoring import ItemStatus, Schedule, ScheduleItem
from isotrack.clinical.programme import category_of, comprehension_requirement, rule_set
from isotrack.clinical.record import PatientRecord, course_on, record_schedule
from isotrack.clinical.reminders.model import AFTER_THE_COURSE, Reminder, ReminderKind
from isotrack.clinical.state import CourseState
from isotrack.knowledge.base import KnowledgeBase

_FINISHED = frozenset({ItemStatus.DONE, ItemStatus.LATE})
_LABS = frozenset({"lipids", "alt"})
_TESTS = frozenset({"pregnancy-test", "end-of-course-pregnancy-test"})
_ONE_DAY = timedelta(days=1)


def plan_reminders(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> tuple[Reminder, ...]:
    """Every reminder still to send or sent for what is open on ``on`` (see the module
    doc), by send day. Pure: ``on`` is the recipient's today."""
    course = course_on(record, on)
    if course is None or course.paused_on(on):
        return ()
    schedule = record_schedule(record, on=on, kb=kb)
    open_items = [i for i in schedule.items if i.status not in _FINISHED and i.end >= on]
    found = [r for item in open_items for r in _for_item(record.patient_id, item, kb)]
    found += _labs(record.patient_id, open_items, kb)
    found += _comprehension(record, course, schedule, open_items, kb)
    if course.end is not None and course.end < on:
        found = [r for r in found if r.kind in AFTER_THE_COURSE]
    return tuple(sorted(found, key=lambda r: (r.send_on, r.due, r.kind, r.key)))


def reminders_due(record: PatientRecord, *, on: date, kb: KnowledgeBase) -> tuple[Reminder, ...]:
    """The reminders to send by ``on``: planned for ``on`` or earlier and still needed.
    When a window's closing reminder is due, its opening one is no longer sent."""
    due = [r for r in plan_reminders(record, on=on, kb=kb) if r.send_on <= on]
    closing = {_item_key(r) for r in due if r.kind == "test-window-closes"}
    return tuple(r for r in due if not (r.kind == "test-window-opens" and _item_key(r) in closing))


def _item_key(reminder: Reminder) -> str:
    return reminder.key.split("/", 2)[2]


def _reminder(
    patient_id: str,
    kind: ReminderKind,
    item_key: str,
    send_on: date,
    due: date,
    what_to_do: str,
) -> Reminder:
    return Reminder(f"{patient_id}/{kind}/{item_key}", patient_id, kind, send_on, due, what_to_do)


def _lead(kb: KnowledgeBase, parameter_id: str) -> timedelta:
    return timedelta(days=kb.number(parameter_id))


def _for_item(patient_id: str, item: ScheduleItem, kb: KnowledgeBase) -> Iterator[Reminder]:
    def make(kind: ReminderKind, send_on: date, what: str, *, clip: bool = True) -> Reminder:
        send_on = max(send_on, item.start) if clip else send_on
        return _reminder(patient_id, kind, item.key, send_on, item.end, what)

    if item.kind in _TESTS:
        yield make("test-window-opens", item.start, item.what_to_do)
        closes = item.end - _lead(kb, "reminders.test_window_closing_lead_days")
        if closes > item.start:
            last = f"The last day is {item.end.isoformat()}. {item.what_to_do}"
            yield make("test-window-closes", closes, last)
    elif item.kind == "visit":
        yield make(
            "visit",
            item.end - _lead(kb, "reminders.visit_lead_days"),
            f"Your clinic visit is due on {item.end.isoformat()}. {item.what_to_do}",
            clip=False,
        )
    elif item.kind == "mood-screen":
        yield make("mood-check", item.end - _lead(kb, "reminders.mood_lead_days"), item.what_to_do)
    elif item.kind == "post-course-pregnancy-test":
        yield make("post-course-test", item.start, item.what_to_do)
    elif item.kind == "contraception-end":
        yield make("contraception-continues", item.start, item.what_to_do)


def _labs(patient_id: str, items: list[ScheduleItem], kb: KnowledgeBase) -> Iterator[Reminder]:
    """One message for the blood tests that share a last day."""
    by_due: dict[date, list[ScheduleItem]] = {}
    for item in items:
        if item.kind in _LABS:
            by_due.setdefault(item.end, []).append(item)
    lead = _lead(kb, "reminders.labs_lead_days")
    for due, group in sorted(by_due.items()):
        start = max(item.start for item in group)
        anchor = group[0].key.split("/", 1)[0]
        what = " ".join(dict.fromkeys(item.what_to_do for item in group))
        yield _reminder(
            patient_id,
            "labs",
            f"{anchor}/labs/{due.isoformat()}",
            max(start, due - lead),
            due,
            what,
        )


def _comprehension(
    record: PatientRecord,
    course: CourseState,
    schedule: Schedule,
    items: list[ScheduleItem],
    kb: KnowledgeBase,
) -> Iterator[Reminder]:
    """Before the next prescription: this month's comprehension questions, unless the
    programme's check for it is already met (later months follow once it is written)."""
    rules = rule_set(record, kb)
    if not rules.flag("comprehension_each_month"):
        return
    can_get_pregnant = category_of(record, schedule.on, kb).can_get_pregnant
    if not rules.applies("comprehension_each_month", can_get_pregnant=can_get_pregnant):
        return
    valid = rules.days("comprehension_valid_days")
    lead = _lead(kb, "reminders.comprehension_lead_days")
    for item in items:
        if item.kind != "visit":
            continue
        month = int(item.key.rsplit("/m", 1)[1])
        if month != len(course.prescriptions) + 1:
            continue
        first = item.end - valid + _ONE_DAY
        check = comprehension_requirement(record, rules, course, month, item.end, schedule.on)
        if check.met:
            continue
        yield _reminder(
            record.patient_id,
            "comprehension",
            item.key,
            max(first, item.end - lead, course.start),
            item.end,
            f"Answer this month's questions about the pregnancy prevention programme on your "
            f"patient page before your visit on {item.end.isoformat()}.",
        )
