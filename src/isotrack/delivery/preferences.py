"""A patient's consent to reminders: the channels they chose, or that they opted out.

:class:`ContactPreferences` is what the reminder worker reads before it queues a
message (:func:`isotrack.store.contact_preferences.read_contact_preferences`):
nothing is sent when ``opted_out`` is set or ``channels`` is empty, and a channel
is used only when the recipient has an address for it (:meth:`usable_channels`).
The recipient is the patient, or — for a minor, set by a clinician — a guardian.
Opting out stops messages only: the portal still shows every iPLEDGE duty.

Values are checked at construction (:class:`ValueError` with a reason a person can
act on): channels among :data:`CHANNELS`, a phone number in E.164 form.

>>> normalise_phone(" +1 (555) 555-0123 ")
'+15555550123'
>>> normalise_phone("555-0123")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: write the number in international form: + then the country code ...
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

from isotrack.delivery import Recipient
from isotrack.errors import InvalidInputError

CHANNELS = frozenset({"email", "sms"})
"""The channels a patient may choose."""
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
"""ITU-T E.164: a plus, a country code that does not start with 0, at most 15 digits."""
_SEPARATORS = re.compile(r"[\s().-]")
NAME_MAX = 200
EMAIL_MAX = 254
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_phone(text: str) -> str:
    """The number in E.164 form (spaces, dots, dashes and brackets removed), or ValueError."""
    compact = _SEPARATORS.sub("", text.strip())
    if not E164.fullmatch(compact):
        raise ValueError(
            "write the number in international form: + then the country code and the "
            "number, for example +15555550123"
        )
    return compact


def check_email(text: str) -> str:
    """The address trimmed, or ValueError when it is not one."""
    address = text.strip()
    if len(address) > EMAIL_MAX or not EMAIL.fullmatch(address) or not _printable(address):
        raise ValueError("write an email address such as name@example.org")
    return address


@cache
def time_zone_names() -> tuple[str, ...]:
    """The IANA time zone names, sorted; read from disk once per process."""
    return tuple(sorted(available_timezones()))


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(time_zone_names())


def check_time_zone(name: str) -> str:
    """An IANA time zone name, or ValueError.

    >>> check_time_zone("America")
    Traceback (most recent call last):
    ...
    ValueError: 'America' is not a time zone name (such as America/New_York)
    """
    if name not in _time_zones():
        raise ValueError(f"{name!r} is not a time zone name (such as America/New_York)")
    return name


def _printable(text: str) -> bool:
    return not any(unicodedata.category(char).startswith("C") for char in text)


@dataclass(frozen=True, slots=True)
class ContactPreferences:
    """What a patient agreed to: the channels, or none, and who receives the messages."""

    patient_id: str
    opted_out: bool
    channels: frozenset[str]
    """A subset of :data:`CHANNELS`; empty: no reminders."""
    recipient: Recipient

    def __post_init__(self) -> None:
        unknown = self.channels - CHANNELS
        if unknown:
            raise ValueError(
                f"unknown channel {sorted(unknown)[0]!r}: choose from {sorted(CHANNELS)}"
            )
        if self.recipient.kind == "staff":
            raise ValueError("a patient's reminders go to the patient or a guardian")
        if self.recipient.phone is not None:
            normalise_phone(self.recipient.phone)
        check_time_zone(self.recipient.time_zone)

    @property
    def receives_reminders(self) -> bool:
        """True when at least one message may be sent."""
        return bool(self.usable_channels())

    def usable_channels(self) -> frozenset[str]:
        """The chosen channels the recipient has an address for (none when opted out)."""
        if self.opted_out:
            return frozenset()
        usable = set()
        if "email" in self.channels and self.recipient.email:
            usable.add("email")
        if "sms" in self.channels and self.recipient.phone:
            usable.add("sms")
        return frozenset(usable)


@dataclass(frozen=True, slots=True)
class Guardian:
    """The adult who receives a minor's reminders (set by a clinician)."""

    name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class ContactChoices:
    """What a patient (or a clinician) sets: the stored values behind :class:`ContactPreferences`.

    ``phone`` is the patient's own mobile number; with a ``guardian`` the messages
    go to the guardian's addresses instead. ``time_zone`` None: the clinic's."""

    opted_out: bool = False
    channels: frozenset[str] = frozenset()
    phone: str | None = None
    guardian: Guardian | None = None
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class Addressee:
    """What the store knows of the patient: their name and their portal account's email."""

    patient_id: str
    name: str
    account_email: str | None


def default_choices(addressee: Addressee) -> ContactChoices:
    """Before the patient chooses: email to their portal address, if they have one."""
    channels = frozenset({"email"}) if addressee.account_email else frozenset()
    return ContactChoices(channels=channels)


def preferences_from(
    choices: ContactChoices, addressee: Addressee, *, default_time_zone: str
) -> ContactPreferences:
    """The preferences these choices make, or InvalidInputError naming the field."""
    time_zone = choices.time_zone or default_time_zone
    guardian = choices.guardian
    if guardian is None:
        recipient = Recipient(
            "patient", addressee.name, addressee.account_email, choices.phone, time_zone
        )
    else:
        recipient = Recipient("guardian", guardian.name, guardian.email, guardian.phone, time_zone)
    try:
        return ContactPreferences(addressee.patient_id, choices.opted_out,
                                  choices.channels, recipient)  # fmt: skip
    except ValueError as error:
        raise InvalidInputError("channels", str(error)) from None


def checked_choices(choices: ContactChoices, addressee: Addressee) -> ContactChoices:
    """The choices with addresses normalised, or InvalidInputError naming the field:
    each chosen channel needs an address, a guardian a name and an address."""
    phone = _checked(normalise_phone, choices.phone, "phone")
    zone = _checked(check_time_zone, choices.time_zone, "time_zone")
    guardian = choices.guardian
    if guardian is not None:
        name = " ".join(guardian.name.split())
        if not name or len(name) > NAME_MAX or not _printable(name):
            raise InvalidInputError("guardian_name", "write the guardian's name")
        guardian = Guardian(
            name,
            _checked(check_email, guardian.email, "guardian_email"),
            _checked(normalise_phone, guardian.phone, "guardian_phone"),
        )
        if guardian.email is None and guardian.phone is None:
            raise InvalidInputError(
                "guardian_email", "give the guardian's email address or mobile number"
            )
    unknown = choices.channels - CHANNELS
    if unknown:
        raise InvalidInputError("channels", "choose email, text message, or neither")
    email, sms_phone = (
        (guardian.email, guardian.phone) if guardian else (addressee.account_email, phone)
    )
    if not choices.opted_out and "sms" in choices.channels and sms_phone is None:
        field = "guardian_phone" if guardian else "phone"
        raise InvalidInputError(field, "give a mobile number for text messages")
    if not choices.opted_out and "email" in choices.channels and email is None:
        field = "guardian_email" if guardian else "channels"
        why = "give the guardian's email address" if guardian else _NO_ACCOUNT_EMAIL
        raise InvalidInputError(field, why)
    return ContactChoices(choices.opted_out, choices.channels, phone, guardian, zone)


_NO_ACCOUNT_EMAIL = (
    "your account has no email address: ask your clinic to add one, or choose text messages"
)


def _checked(check: Callable[[str], str], value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return check(value)
    except ValueError as error:
        raise InvalidInputError(field, str(error)) from None
