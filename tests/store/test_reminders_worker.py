"""The reminders worker against a real SMTP server (aiosmtpd), on SQLite and
PostgreSQL: three months walked day by day, each reminder arriving once, none
while the course is paused, only the after-course duties after it ends; quiet
hours; retries and giving up (issue 16)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

from sqlalchemy import Engine

from isotrack.clinical.reminders import AFTER_THE_COURSE
from isotrack.clinical.state import RecordPregnancyTest
from isotrack.delivery.worker import MAX_ATTEMPTS, RETRY_BASE, run_once
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import UnitOfWork, execute
from isotrack.store.outbox import outbox_entries
from tests.clinical.reminders.story import (
    END,
    LAST_DAY,
    PATIENT,
    PAUSE,
    RESUME,
    course_story,
    day,
    first_due,
)
from tests.smtp_server import SmtpServer, running_smtp_server
from tests.store.reminder_world import (
    CLINIC,
    EMAIL,
    at,
    ids,
    kinds_by_message_id,
    outlook,
    prepare,
    record_day,
)


def test_three_months_day_by_day_send_each_reminder_once(
    database: Engine, kb: KnowledgeBase
) -> None:
    commands = course_story(kb)
    prepare(database, commands, kb, first=day(-60), until=day(-5))
    arrived_on: dict[str, int] = {}
    with running_smtp_server() as smtp:
        world = outlook(database, smtp)
        for offset in range(-5, LAST_DAY + 1):
            record_day(database, PATIENT, commands, day(offset), kb)
            run_once(database, kb=kb, outlook=world, now=at(day(offset), 10))
            run_once(database, kb=kb, outlook=world, now=at(day(offset), 15))  # a second run
            for message_id in ids(smtp.messages):
                arrived_on.setdefault(message_id, offset)
        messages = smtp.messages

    counts = Counter(ids(messages))
    assert counts
    assert max(counts.values()) == 1, counts.most_common(3)
    entries = outbox_entries(database)
    assert {e.status for e in entries} == {"sent"}
    assert len(entries) == len(messages)
    # nothing lost: every reminder the engine finds due on some day was sent
    assert {e.idempotency_key.removesuffix("/email") for e in entries} == set(
        first_due(commands, kb)
    )
    kinds = kinds_by_message_id(database)
    assert {"visit", "test-window-opens", "comprehension", "mood-check", "labs",
            "contraception-continues", "post-course-test"} <= set(kinds.values())  # fmt: skip
    assert not [m for m, offset in arrived_on.items() if PAUSE <= offset < RESUME]
    after = {kinds[m] for m, offset in arrived_on.items() if offset > END}
    assert after
    assert after <= AFTER_THE_COURSE

    for message in messages:
        assert message["Subject"] == f"A reminder from {CLINIC}"
        assert message["To"] == EMAIL
        body = SmtpServer.body(message)
        assert body.splitlines()[:3] == ["Hello Kara Test,", "", f"This is a friendly "
                                         f"reminder from {CLINIC}."]  # fmt: skip
        assert "https://clinic.example/me" in body
    with UnitOfWork(database) as uow:
        audited = [e for e in uow.audit.entries(PATIENT) if e.action.startswith("message:")]
    assert len(audited) == len(messages)
    assert {e.action for e in audited} == {"message:sent"}
    for entry in audited:
        assert set(entry.detail) == {"message", "kind", "channel", "attempts"}
        assert "pregnan" not in json.dumps(entry.detail).lower()


def test_a_message_due_in_quiet_hours_waits_for_the_morning(
    database: Engine, kb: KnowledgeBase
) -> None:
    commands = course_story(kb)
    prepare(database, commands, kb, first=day(-60), until=day(24))
    with running_smtp_server() as smtp:
        world = outlook(database, smtp, time_zone="America/Chicago")
        late = run_once(database, kb=kb, outlook=world, now=at(day(24), 15))
        assert late.sent > 0
        before = len(smtp.messages)
        record_day(database, PATIENT, commands, day(24), kb)
        # day 25 in Chicago begins at 05:00 UTC; at 23:30 local (04:30 UTC on day 26)
        evening = run_once(database, kb=kb, outlook=world, now=at(day(26), 4, 30))
        assert evening.queued > 0
        assert evening.sent == 0
        assert len(smtp.messages) == before
        night = run_once(database, kb=kb, outlook=world, now=at(day(26), 12, 59))
        assert night.sent == 0
        morning = run_once(database, kb=kb, outlook=world, now=at(day(26), 13, 0))
        assert morning.sent == evening.queued
        assert len(smtp.messages) == before + evening.queued


def test_a_server_out_of_reach_is_retried_with_back_off_then_given_up(
    database: Engine, kb: KnowledgeBase
) -> None:
    commands = course_story(kb)
    prepare(database, commands, kb, first=day(-60), until=day(25))
    with running_smtp_server() as smtp:
        world = outlook(database, smtp)
    # the server has stopped: its port refuses connections
    now = at(day(24), 10)
    first = run_once(database, kb=kb, outlook=world, now=now)
    assert first.queued > 0
    assert first.retried == first.queued
    for attempt in range(1, MAX_ATTEMPTS):
        early = run_once(database, kb=kb, outlook=world,
                         now=now + RETRY_BASE * 2 ** (attempt - 1) - RETRY_BASE / 10)  # fmt: skip
        assert early.retried == early.failed == 0
        now += RETRY_BASE * 2 ** (attempt - 1)
        report = run_once(database, kb=kb, outlook=world, now=now)
        if attempt < MAX_ATTEMPTS - 1:
            assert report.retried == first.queued
        else:
            assert report.failed == first.queued
    assert {e.status for e in outbox_entries(database)} == {"failed"}
    assert {e.attempts for e in outbox_entries(database)} == {MAX_ATTEMPTS}
    with UnitOfWork(database) as uow:
        actions = Counter(e.action for e in uow.audit.entries(PATIENT))
    assert actions["message:failed"] == first.queued
    assert actions["message:retry"] == first.queued * (MAX_ATTEMPTS - 1)


def test_a_patient_without_an_address_gets_nothing_and_it_is_audited(
    database: Engine, kb: KnowledgeBase
) -> None:
    commands = course_story(kb)
    prepare(database, commands, kb, first=day(-60), until=day(25), email=None)
    with running_smtp_server() as smtp:
        world = outlook(database, smtp)
        report = run_once(database, kb=kb, outlook=world, now=at(day(24), 10))
        assert report.queued > 0
        assert report.sent == 0
        assert smtp.messages == []
    assert {e.status for e in outbox_entries(database)} == {"suppressed"}
    with UnitOfWork(database) as uow:
        suppressed = [e for e in uow.audit.entries(PATIENT) if e.action == "message:suppressed"]
    assert len(suppressed) == report.queued
    assert suppressed[0].detail["reason"] == "no-channel"


def test_what_is_done_before_the_send_hour_is_never_sent(
    database: Engine, kb: KnowledgeBase
) -> None:
    commands = course_story(kb)
    prepare(database, commands, kb, first=day(-60), until=day(24))
    with running_smtp_server() as smtp:
        world = outlook(database, smtp, time_zone="America/Chicago")
        # 05:30 in Chicago on day 24, the day the month-2 test window opens
        early = run_once(database, kb=kb, outlook=world, now=at(day(24), 11, 30))
        assert early.queued == 0
        # 08:00 in Chicago: the patient has the test first thing
        test = RecordPregnancyTest(on=day(24), result="negative")
        execute(database, PATIENT, test, actor="clinic", now=at(day(24), 13), kb=kb)
        later = run_once(database, kb=kb, outlook=world, now=at(day(24), 14, 30))
        assert later.queued == 0
        assert smtp.messages == []
        # the next day's reminders still go
        record_day(database, PATIENT, commands, day(25), kb)
        assert run_once(database, kb=kb, outlook=world, now=at(day(25), 15)).sent > 0
    kinds = {e.kind for e in outbox_entries(database)}
    assert "test-window-opens" not in kinds
    assert "comprehension" in kinds


def test_an_opted_out_patients_reminders_are_suppressed_and_audited_not_sent(
    database: Engine, kb: KnowledgeBase
) -> None:
    commands = course_story(kb)
    prepare(database, commands, kb, first=day(-60), until=day(25))
    with running_smtp_server() as smtp:
        world = outlook(database, smtp)
        opted_out = replace(world, contacts=lambda r: replace(world.contacts(r), opted_out=True))
        report = run_once(database, kb=kb, outlook=opted_out, now=at(day(24), 10))
        assert report.queued > 0
        assert report.sent == 0
        assert smtp.messages == []
        # queued once: the next run does not queue them again, nor send them
        again = run_once(database, kb=kb, outlook=opted_out, now=at(day(24), 11))
        assert (again.queued, again.sent) == (0, 0)
    assert {e.status for e in outbox_entries(database)} == {"suppressed"}
    with UnitOfWork(database) as uow:
        suppressed = [e for e in uow.audit.entries(PATIENT) if e.action == "message:suppressed"]
    assert len(suppressed) == report.queued
    assert suppressed[0].detail["reason"] == "opted-out"
