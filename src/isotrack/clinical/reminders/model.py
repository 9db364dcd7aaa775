"""The value a reminder is: who, what kind, when to send it, by when to act."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from isotrack.errors import InvalidInputError

ReminderKind = Literal[
    "test-window-opens",
    "test-window-closes",
    "visit",
    "labs",
    "comprehension",
    "mood-check",
    "post-course-test",
    "contraception-continues",
]
"""The kinds, as codes: an audit row or a log names a reminder by its code only."""
REMINDER_KINDS: tuple[ReminderKind, ...] = get_args(ReminderKind)
AFTER_THE_COURSE: frozenset[ReminderKind] = frozenset(
    {"post-course-test", "contraception-continues"}
)
"""The only kinds sent once the last dose is past: duties the programme sets after it."""


@dataclass(frozen=True, slots=True)
class Reminder:
    """One message a patient needs: send it on ``send_on`` (the recipient's day),
    about something to do by ``due``."""

    key: str
    """Stable and unique per patient, kind and due item (course, month or anchor): the
    idempotency key of the message."""
    patient_id: str
    kind: ReminderKind
    send_on: date
    due: date
    what_to_do: str
    """In plain words, for the body of the message (never its subject)."""

    def __post_init__(self) -> None:
        if self.send_on > self.due:
            raise InvalidInputError(
                "reminder", f"{self.key}: sent on {self.send_on}, after its deadline {self.due}"
            )
