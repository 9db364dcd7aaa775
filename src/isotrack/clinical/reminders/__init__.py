"""Reminders: what a patient needs to be told, and when, from the record.

- :mod:`.model`: :class:`Reminder` (key, kind code, send day, deadline, what to do)
  and the kinds;
- :mod:`.plan`: :func:`plan_reminders` (every reminder of what is open on a day,
  by send day) and :func:`reminders_due` (those to send by that day).

Pure: the day is an argument, the lead times are ``reminders.*`` parameters of the
knowledge base. Built on the record (its schedule and course), the programme (the
comprehension check) and monitoring; sending is :mod:`isotrack.delivery`'s.
"""

from __future__ import annotations

from isotrack.clinical.reminders.model import (
    AFTER_THE_COURSE,
    REMINDER_KINDS,
    Reminder,
    ReminderKind,
)
from isotrack.clinical.reminders.plan import plan_reminders, reminders_due

__all__ = [
    "AFTER_THE_COURSE",
    "REMINDER_KINDS",
    "Reminder",
    "ReminderKind",
    "plan_reminders",
    "reminders_due",
]
