"""The reminder email: a subject and a first line that say nothing clinical (a lock
screen or a preview pane shows them to anyone nearby), then what to do.

>>> from datetime import date
>>> from isotrack.clinical.reminders import Reminder
>>> reminder = Reminder("p1/visit/x", "p1", "visit", date(2026, 3, 2), date(2026, 3, 5),
...                     "See your prescriber.")
>>> subject, body = reminder_email(reminder, recipient_name="Kara Singh",
...     clinic=ClinicContact("Northside Dermatology", "555 0100"), portal_url=None)
>>> subject
'A reminder from Northside Dermatology'
>>> body.splitlines()[0]
'Hello Kara Singh,'
"""

from __future__ import annotations

from dataclasses import dataclass

from isotrack.clinical.reminders import Reminder

UNNAMED_CLINIC = "your clinic"
"""The clinic's name in a message before the clinic settings name it."""


@dataclass(frozen=True, slots=True)
class ClinicContact:
    """What a message says about the clinic (from the clinic settings)."""

    name: str
    phone: str = ""


def reminder_subject(clinic: ClinicContact) -> str:
    return f"A reminder from {clinic.name or UNNAMED_CLINIC}"


def reminder_email(
    reminder: Reminder, *, recipient_name: str, clinic: ClinicContact, portal_url: str | None
) -> tuple[str, str]:
    """(subject, body) of one reminder; the body is plain text."""
    name = clinic.name or UNNAMED_CLINIC
    lines = [
        f"Hello {recipient_name},",
        "",
        f"This is a friendly reminder from {name}.",
        "",
        reminder.what_to_do,
        "",
        f"Please do this by {reminder.due.strftime('%A %d %B %Y')}.",
    ]
    if portal_url:
        lines += ["", f"Your schedule is on your patient page: {portal_url.rstrip('/')}/me"]
    if clinic.phone:
        lines += ["", f"Questions? Call {name} on {clinic.phone}."]
    lines += [
        "",
        "If you have already done this, thank you: you can ignore this message.",
        "",
        f"{name}",
    ]
    return reminder_subject(clinic), "\n".join(lines) + "\n"
