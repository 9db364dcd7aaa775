"""The worker follows the patient's stored choices (i16-prefs' contact preferences):
a minor's guardian receives the email, an opt-out sends nothing (audited), and the
SMS channel sends a text that names nothing to a real HTTP webhook (issue 16)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine

from isotrack.delivery import OutgoingMessage
from isotrack.delivery.digest import digest_messages
from isotrack.delivery.preferences import ContactChoices, Guardian
from isotrack.delivery.sms import SmsChannel, WebhookSmsGateway
from isotrack.delivery.worker import DigestPlan, run_once
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store.contact_preferences import write_contact_preferences
from isotrack.store.outbox import outbox_entries
from isotrack.store.users import StoredUser, user_transaction
from tests.clinical.reminders.story import PATIENT, course_story, day
from tests.delivery.sms_receiver import running_receiver
from tests.smtp_server import SmtpServer, running_smtp_server
from tests.store.reminder_world import AT, at, outlook, prepare

SECRET = b"s" * 32


def choose(engine: Engine, choices: ContactChoices) -> None:
    write_contact_preferences(engine, PATIENT, choices, actor="dr-lee", now=AT)


def test_a_guardian_on_file_receives_the_reminders(database: Engine, kb: KnowledgeBase) -> None:
    prepare(database, course_story(kb), kb, first=day(-60), until=day(25))
    guardian = Guardian("Pat Parent", "pat@example.org", None)
    choose(database, ContactChoices(channels=frozenset({"email"}), guardian=guardian))
    with running_smtp_server() as smtp:
        report = run_once(database, kb=kb, outlook=outlook(database, smtp), now=at(day(24), 10))
        assert report.sent > 0
        assert {str(m["To"]) for m in smtp.messages} == {"pat@example.org"}
        assert SmtpServer.body(smtp.messages[0]).startswith("Hello Pat Parent,")


def test_an_opt_out_on_file_sends_nothing(database: Engine, kb: KnowledgeBase) -> None:
    prepare(database, course_story(kb), kb, first=day(-60), until=day(25))
    choose(database, ContactChoices(opted_out=True, channels=frozenset({"email"})))
    with running_smtp_server() as smtp:
        report = run_once(database, kb=kb, outlook=outlook(database, smtp), now=at(day(24), 10))
        assert report.queued > 0
        assert smtp.messages == []
    assert {e.status for e in outbox_entries(database)} == {"suppressed"}


def test_the_sms_channel_sends_a_text_that_names_nothing(
    database: Engine, kb: KnowledgeBase
) -> None:
    prepare(database, course_story(kb), kb, first=day(-60), until=day(25))
    choose(database, ContactChoices(channels=frozenset({"sms"}), phone="+15555550123"))
    with running_smtp_server() as smtp, running_receiver() as receiver:
        world = outlook(database, smtp)
        gateway = WebhookSmsGateway(receiver.url, SECRET, timeout_seconds=5)
        world = replace(world, channels={**world.channels, "sms": SmsChannel(gateway)})
        report = run_once(database, kb=kb, outlook=world, now=at(day(24), 10))
        assert report.sent == report.queued > 0
        assert smtp.messages == []
        texts = [json.loads(r.body) for r in receiver.requests]
    assert len(texts) == report.sent
    words = json.dumps(texts).lower()
    assert "+15555550123" in words
    assert not [w for w in ("pregnan", "test", "isotretinoin", "contracept") if w in words]
    assert {e.channel for e in outbox_entries(database)} == {"sms"}


def test_the_staff_digest_is_queued_once_a_day_from_the_digest_hour(
    database: Engine, kb: KnowledgeBase
) -> None:
    prepare(database, course_story(kb), kb, first=day(-60), until=day(29))
    with user_transaction(database) as tx:
        tx.users.add(StoredUser.new("dr-lee", "prescriber", "$argon2id$x", created_at=AT,
                                    email="lee@northside.example"))  # fmt: skip

    def make(moment: datetime) -> list[OutgoingMessage]:
        return digest_messages(database, moment, kb=kb, base_url="https://clinic.example")

    with running_smtp_server() as smtp:
        world = replace(outlook(database, smtp), digests=DigestPlan(make, 7, "UTC"))
        run_once(database, kb=kb, outlook=world, now=at(day(28), 6, 59))
        assert smtp.to("lee@northside.example") == []
        run_once(database, kb=kb, outlook=world, now=at(day(28), 7, 0))
        run_once(database, kb=kb, outlook=world, now=at(day(28), 12, 0))
        assert len(smtp.to("lee@northside.example")) == 1
    digests = [e for e in outbox_entries(database) if e.kind == "digest"]
    assert [e.status for e in digests] == ["sent"]
    assert digests[0].idempotency_key.endswith(f":{day(28).isoformat()}")
