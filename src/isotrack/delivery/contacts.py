"""Who receives a patient's reminders, on which channels.

Until the patient's own choices are stored, every patient gets the default:
email to the address of their portal account, in the clinic's time zone; a
patient without a portal account (or without an address on it) has no address,
so a reminder for them is recorded as undeliverable (audited) instead of sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from isotrack.delivery import Recipient
from isotrack.store.users import user_transaction


@dataclass(frozen=True, slots=True)
class ContactPreferences:
    patient_id: str
    opted_out: bool
    channels: frozenset[str]
    """A subset of {"email", "sms"}."""
    recipient: Recipient


def default_preferences(
    engine: Engine, patient_id: str, *, name: str, time_zone: str
) -> ContactPreferences:
    """Email to the patient's portal account address, not opted out."""
    with user_transaction(engine) as users:
        account = users.users.by_patient(patient_id)
    email = account.email if account is not None and account.active else None
    recipient = Recipient("patient", name, email, None, time_zone)
    return ContactPreferences(patient_id, False, frozenset({"email"}), recipient)
