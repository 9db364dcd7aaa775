"""Patients' consent to reminders on both backends: the defaults before any choice,
a round trip of every field, refusals that write nothing, and an audit entry per
change that says what changed but keeps no address."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from isotrack.delivery import Recipient
from isotrack.delivery.preferences import ContactChoices, ContactPreferences, Guardian
from isotrack.errors import InvalidInputError, NotFoundError
from isotrack.knowledge import KnowledgeBase
from isotrack.store import UnitOfWork, verify_audit
from isotrack.store.contact_preferences import (
    ACTION,
    read_contact_choices,
    read_contact_preferences,
    write_contact_preferences,
)
from isotrack.store.models import ContactPreferencesRow
from isotrack.store.service import execute
from isotrack.store.users import StoredUser, user_transaction
from tests.store.helpers import NOW, enrol

PATIENT = "P-001"


@pytest.fixture
def patient(database: Engine, kb: KnowledgeBase) -> str:
    execute(database, PATIENT, enrol(PATIENT, "Alex Example"), actor="ann", now=NOW, kb=kb)
    return PATIENT


def _account(engine: Engine, email: str | None) -> None:
    user = StoredUser.new(
        f"alex-{uuid.uuid4().hex[:8]}", "patient", "$argon2id$stored-hash",
        created_at=NOW, patient_id=PATIENT, email=email,
    )  # fmt: skip
    with user_transaction(engine) as tx:
        tx.users.add(user)


def _entries(engine: Engine) -> list[tuple[str, str, dict[str, object]]]:
    with UnitOfWork(engine) as uow:
        return [(e.actor, e.action, dict(e.detail)) for e in uow.audit.entries(PATIENT)
                if e.action == ACTION]  # fmt: skip


def test_without_a_choice_reminders_go_by_email_to_the_portal_address(
    database: Engine, patient: str
) -> None:
    _account(database, "alex@example.org")
    with database.connect() as connection:
        preferences = read_contact_preferences(connection, patient)
    assert preferences == ContactPreferences(
        patient, False, frozenset({"email"}),
        Recipient("patient", "Alex Example", "alex@example.org", None, "UTC"),
    )  # fmt: skip
    assert preferences.usable_channels() == {"email"}
    assert _entries(database) == []  # reading changes nothing


def test_without_a_portal_email_the_default_is_no_channel(database: Engine, patient: str) -> None:
    preferences = read_contact_preferences(database, patient, default_time_zone="America/Chicago")
    assert preferences.channels == frozenset()
    assert preferences.recipient.time_zone == "America/Chicago"
    assert not preferences.receives_reminders


def test_an_unknown_patient_is_not_found(database: Engine) -> None:
    with pytest.raises(NotFoundError):
        read_contact_preferences(database, "nobody")
    with pytest.raises(NotFoundError):
        write_contact_preferences(database, "nobody", ContactChoices(), actor="x", now=NOW)


def test_every_field_round_trips_and_each_change_is_audited_without_addresses(
    database: Engine, patient: str
) -> None:
    _account(database, "alex@example.org")
    sms = ContactChoices(channels=frozenset({"sms", "email"}), phone="+1 (555) 555-0123",
                         time_zone="America/New_York")  # fmt: skip
    saved = write_contact_preferences(database, patient, sms, actor="alex", now=NOW)
    assert saved.recipient == Recipient(
        "patient", "Alex Example", "alex@example.org", "+15555550123", "America/New_York"
    )
    assert read_contact_preferences(database, patient) == saved
    guardian = Guardian("Sam Example", "sam@example.org", "+447700900123")
    to_guardian = ContactChoices(channels=frozenset({"sms"}), phone="+15555550123",
                                 guardian=guardian)  # fmt: skip
    later = NOW + timedelta(minutes=5)
    saved = write_contact_preferences(database, patient, to_guardian, actor="dr.lee", now=later)
    assert saved.recipient == Recipient(
        "guardian", "Sam Example", "sam@example.org", "+447700900123", "UTC"
    )
    assert read_contact_choices(database, patient) == ContactChoices(
        False, frozenset({"sms"}), "+15555550123", guardian, None
    )
    opted_out = ContactChoices(opted_out=True, phone="+15555550123", guardian=guardian)
    saved = write_contact_preferences(database, patient, opted_out, actor="alex", now=later)
    assert saved.opted_out
    assert saved.usable_channels() == frozenset()
    # the same choices again: nothing written, nothing audited
    write_contact_preferences(database, patient, opted_out, actor="alex", now=later)
    entries = _entries(database)
    assert entries == [
        ("alex", ACTION, {"changed": {
            "channels": {"before": ["email"], "after": ["email", "sms"]},
            "phone": True,
            "time_zone": {"before": None, "after": "America/New_York"},
        }}),
        ("dr.lee", ACTION, {"changed": {
            "channels": {"before": ["email", "sms"], "after": ["sms"]},
            "guardian_email": True, "guardian_name": True, "guardian_phone": True,
            "recipient": {"before": "patient", "after": "guardian"},
            "time_zone": {"before": "America/New_York", "after": None},
        }}),
        ("alex", ACTION, {"changed": {
            "channels": {"before": ["sms"], "after": []},
            "opted_out": {"before": False, "after": True},
        }}),
    ]  # fmt: skip
    for address in ("555", "447700", "sam@", "Sam Example"):
        assert address not in repr(entries)
    assert verify_audit(database).ok


def test_a_first_save_of_the_defaults_is_on_record(database: Engine, patient: str) -> None:
    write_contact_preferences(database, patient, ContactChoices(), actor="alex", now=NOW)
    assert _entries(database) == [("alex", ACTION, {"changed": {}})]
    with database.connect() as connection:
        assert connection.scalar(select(ContactPreferencesRow.updated_by)) == "alex"


@pytest.mark.parametrize(
    ("choices", "field"),
    [
        (ContactChoices(channels=frozenset({"sms"})), "phone"),
        (ContactChoices(channels=frozenset({"sms"}), phone="555-0123"), "phone"),
        (ContactChoices(channels=frozenset({"email"})), "channels"),
        (ContactChoices(channels=frozenset({"fax"})), "channels"),
        (ContactChoices(time_zone="Mars/Olympus"), "time_zone"),
        (ContactChoices(time_zone="America"), "time_zone"),  # a folder of the zone database
        (ContactChoices(guardian=Guardian("Sam\x00", "sam@example.org", None)), "guardian_name"),
        (ContactChoices(guardian=Guardian("Sam", "s\x00m@example.org", None)), "guardian_email"),
        (ContactChoices(guardian=Guardian(" ", "sam@example.org", None)), "guardian_name"),
        (ContactChoices(guardian=Guardian("Sam", None, None)), "guardian_email"),
        (ContactChoices(guardian=Guardian("Sam", "not an address", None)), "guardian_email"),
        (
            ContactChoices(channels=frozenset({"sms"}), guardian=Guardian("Sam", "s@e.org", None)),
            "guardian_phone",
        ),
    ],
)
def test_bad_choices_are_refused_naming_the_field_and_change_nothing(
    database: Engine, patient: str, choices: ContactChoices, field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        write_contact_preferences(database, patient, choices, actor="alex", now=NOW)
    assert refused.value.field == field
    with database.connect() as connection:
        assert connection.scalar(select(ContactPreferencesRow.patient_id)) is None
    assert _entries(database) == []


def test_a_naive_time_is_refused(database: Engine, patient: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        write_contact_preferences(
            database, patient, ContactChoices(), actor="alex", now=datetime(2026, 3, 2, 9, 0)
        )
    assert NOW.tzinfo is UTC


def test_a_read_inside_the_callers_transaction_leaves_it_open(
    database: Engine, patient: str
) -> None:
    """The worker reads the preferences on its own connection, mid-transaction."""
    write_contact_preferences(database, patient, ContactChoices(opted_out=True), actor="a", now=NOW)
    with database.begin() as connection:
        assert read_contact_preferences(connection, patient).opted_out
        assert connection.in_transaction()
        connection.execute(
            ContactPreferencesRow.__table__.update().values(updated_by="worker")  # type: ignore[attr-defined]
        )
        assert not read_contact_preferences(connection, "P-001").receives_reminders
    with database.connect() as connection:
        assert connection.scalar(select(ContactPreferencesRow.updated_by)) == "worker"
