"""The delivery core: quiet hours in the recipient's zone, the email's neutral
subject and first line, and how a real SMTP server's replies are classed (issue 16)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from isotrack.clinical.reminders import REMINDER_KINDS, Reminder
from isotrack.delivery import DeliveryFailed, OutgoingMessage, Recipient
from isotrack.delivery.compose import ClinicContact, reminder_email
from isotrack.delivery.quiet import QuietHours, zone
from isotrack.delivery.smtp import EmailChannel, MailServer, message_id
from isotrack.errors import InvalidInputError
from isotrack.knowledge import default_knowledge
from isotrack.settings import Settings
from tests.smtp_server import running_smtp_server

KB = default_knowledge()
RECIPIENT = Recipient("patient", "Kara", "kara@example.org", None, "UTC")
CLINICAL_WORDS = ("pregnan", "isotretinoin", "test", "contracept", "mood", "lab", "blood")


def test_quiet_hours_are_the_recipients_even_across_a_clock_change() -> None:
    hours = QuietHours.of(KB)
    assert (hours.start, hours.end) == (21, 8)
    # 2026-03-08: US clocks go forward; 04:30 UTC is 23:30 the evening before in Chicago
    until = hours.until(datetime(2026, 3, 8, 4, 30, tzinfo=UTC), "America/Chicago")
    assert until == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 08:00 CDT
    assert hours.until(datetime(2026, 3, 8, 15, 0, tzinfo=UTC), "America/Chicago") is None
    # 07:59 in Berlin is quiet, 08:00 is not
    assert hours.until(datetime(2026, 7, 1, 5, 59, tzinfo=UTC), "Europe/Berlin") is not None
    assert hours.until(datetime(2026, 7, 1, 6, 0, tzinfo=UTC), "Europe/Berlin") is None


def test_an_unknown_time_zone_is_refused_with_its_name() -> None:
    with pytest.raises(InvalidInputError, match="Mars/Olympus"):
        zone("Mars/Olympus")
    with pytest.raises(ValueError, match="IANA"):
        Settings(time_zone="Mars/Olympus")
    assert Settings(time_zone="America/Chicago").time_zone == "America/Chicago"


@pytest.mark.parametrize("kind", REMINDER_KINDS)
def test_no_subject_or_first_line_names_anything_clinical(kind: str) -> None:
    reminder = Reminder(
        "p1/x",
        "p1",
        kind,
        date(2026, 3, 2),
        date(2026, 3, 5),  # type: ignore[arg-type]
        "Have a pregnancy test between 2026-03-01 and 2026-03-05.",
    )
    subject, body = reminder_email(
        reminder, recipient_name="Kara", clinic=ClinicContact("Northside", "555"), portal_url=None
    )
    preview = " ".join([subject, *body.splitlines()[:3]]).lower()
    assert subject == "A reminder from Northside"
    assert not [word for word in CLINICAL_WORDS if word in preview]
    assert "pregnancy test" in body  # the body says what to do
    assert "Wednesday 04 March 2026" not in body
    assert "Thursday 05 March 2026" in body


def message(key: str = "p1/visit/m2/email") -> OutgoingMessage:
    return OutgoingMessage(
        key,
        "email",
        RECIPIENT,
        "A reminder from Northside",
        "Hello\n",
        datetime(2026, 3, 2, tzinfo=UTC),
    )


def test_the_message_id_comes_from_the_key_and_names_nothing() -> None:
    with running_smtp_server() as smtp:
        channel = EmailChannel(MailServer(smtp.host, smtp.port, "none", "clinic@north.example"))
        channel.send(message())
        channel.send(message())
        (first, second) = smtp.messages
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"] == message_id("p1/visit/m2/email", "north.example")
    assert "visit" not in first["Message-ID"]
    assert "p1" not in first["Message-ID"]


@pytest.mark.parametrize(
    ("reply", "retryable"), [("450 mailbox busy", True), ("550 no such user", False)]
)
def test_a_4xx_refusal_is_retryable_and_a_5xx_one_is_not(reply: str, retryable: bool) -> None:
    with running_smtp_server(rcpt_reply=reply) as smtp:
        channel = EmailChannel(MailServer(smtp.host, smtp.port, "none", "clinic@north.example"))
        with pytest.raises(DeliveryFailed) as refused:
            channel.send(message())
        assert smtp.messages == []
    assert refused.value.retryable is retryable
    assert reply.split()[0] in refused.value.reason


def test_a_server_out_of_reach_is_retryable() -> None:
    with running_smtp_server() as smtp:
        server = MailServer(smtp.host, smtp.port, "none", "clinic@north.example")
    with pytest.raises(DeliveryFailed) as refused:
        EmailChannel(server).send(message())
    assert refused.value.retryable
