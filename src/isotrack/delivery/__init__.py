"""Delivering reminders and digests: who gets a message, on which channel, once.

The shared vocabulary of the delivery service (the reminder engine, the outbox,
the worker and every channel use these names):

- :class:`Recipient`: who a message goes to (the patient, a minor's guardian,
  or a member of staff), where (email, phone) and their time zone;
- :class:`OutgoingMessage`: one message on one channel, with the idempotency
  key that makes it go out once, and the earliest time it may;
- :class:`Channel`: what sends a message (SMTP email, the SMS gateway);
- :class:`DeliveryFailed`: a channel could not send; ``retryable`` says whether
  trying again later may work (a timeout, a 5xx) or not (a refused address, a 4xx).

Elsewhere in the package: ``preferences`` (a patient's consent and channels),
``sms`` (the SMS gateway and its HTTP webhook), ``digest`` (the staff's daily
worklist email).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

__all__ = ["Channel", "DeliveryFailed", "OutgoingMessage", "Recipient"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message goes to, and where."""

    kind: Literal["patient", "guardian", "staff"]
    name: str
    email: str | None
    phone: str | None
    """E.164 (``+15555550123``), or None."""
    time_zone: str
    """An IANA time zone (``America/New_York``): quiet hours are kept in it."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message on one channel; the same ``idempotency_key`` is sent once."""

    idempotency_key: str
    channel: str
    recipient: Recipient
    subject: str
    body: str
    not_before: datetime


class DeliveryFailed(Exception):  # noqa: N818  # the shared delivery contract names it so
    """A channel could not send a message; ``retryable``: trying later may work."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Channel(Protocol):
    """What sends messages of one kind (``name``: ``"email"``, ``"sms"``)."""

    name: str

    def send(self, message: OutgoingMessage) -> None:
        """Send ``message`` or raise :class:`DeliveryFailed`."""
        ...
