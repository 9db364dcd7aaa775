"""Messages to patients and staff, sent once: the values, the channels, the worker.

- this face: :class:`Recipient`, :class:`OutgoingMessage`, the :class:`Channel`
  protocol and :class:`DeliveryFailed` (retryable or not);
- :mod:`.smtp`: email over SMTP (the one place isotrack sends mail; the account
  emails of :mod:`isotrack.http.mail` use it too) and :class:`~.smtp.EmailChannel`;
- :mod:`.compose`: the reminder email (neutral subject, what to do in the body);
- :mod:`.quiet`: quiet hours in the recipient's time zone;
- :mod:`.contacts`: who receives a patient's reminders and on which channels;
- :mod:`.worker`: :func:`~.worker.run_once`, from due reminders to the outbox
  (:mod:`isotrack.store.outbox`) to the channels, exactly once as far as the
  design allows (docs/reminders.md).

Exceptions::

    IsotrackError
    └── DeliveryFailed        a channel did not take a message (retryable or not)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from isotrack.errors import IsotrackError

RecipientKind = Literal["patient", "guardian", "staff"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message goes to, and where."""

    kind: RecipientKind
    name: str
    email: str | None
    phone: str | None
    time_zone: str
    """IANA name ('America/Chicago'): quiet hours and the send hour are local to it."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to send once. ``idempotency_key`` is unique over all messages ever
    queued (a second message with the same key is the same message)."""

    idempotency_key: str
    channel: str
    recipient: Recipient
    subject: str
    body: str
    not_before: datetime
    """Aware; the message is not sent before it (nor in the recipient's quiet hours)."""


def opaque_key(idempotency_key: str) -> str:
    """The key as a channel's far side sees it (an email's Message-ID, an SMS gateway's
    Idempotency-Key): stable for one message and naming nothing, since a reminder's key
    names its kind and item.

    >>> opaque_key("p1/visit/m2/email") == opaque_key("p1/visit/m2/email")
    True
    """
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]


class DeliveryFailed(IsotrackError):  # noqa: N818  # an outcome the worker records
    """A channel did not take the message. ``retryable``: the same message may go
    through later (a server down, a 4xx reply); otherwise it never will."""

    code = "delivery-failed"

    def __init__(self, *, retryable: bool, reason: str) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.reason = reason


class Channel(Protocol):
    """A way to send a message (email, SMS): ``send`` returns once the other side
    has taken it, or raises :class:`DeliveryFailed`."""

    name: str

    def send(self, message: OutgoingMessage) -> None: ...


__all__ = [
    "Channel",
    "DeliveryFailed",
    "OutgoingMessage",
    "Recipient",
    "RecipientKind",
    "opaque_key",
]
