"""Text messages: the SMS gateway interface and its HTTP webhook implementation.

isotrack speaks to no SMS provider directly: it POSTs each message to a webhook
the clinic runs (or its provider offers), which forwards it. The request::

    POST <ISOTRACK_SMS_WEBHOOK_URL>
    Content-Type: application/json
    X-Isotrack-Timestamp: 1796600000
    X-Isotrack-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>
    Idempotency-Key: <a hash of the message's key: stable, naming nothing>

    {"to": "+15555550123", "body": "...", "idempotency_key": "..."}

The receiver checks the signature (and that the timestamp is recent) and sends
each idempotency key once. The answer decides what the worker does
(:class:`~isotrack.delivery.DeliveryFailed`):

- 2xx: sent;
- 408, 429, 5xx, a timeout or a connection failure: ``retryable`` (try later);
- any other status (4xx, a redirect): not retryable (the number or the
  configuration is wrong; trying again would fail the same way).

What a text says is kind and says nothing clinical: a phone's lock screen shows
it to whoever holds the phone (:func:`reminder_text`).

>>> signature(b"k" * 32, "1700000000", b'{"to":"+15555550123"}')[:7]
'sha256='
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Protocol

import httpx

from isotrack.delivery import DeliveryFailed, OutgoingMessage, opaque_key
from isotrack.delivery_settings import DeliverySettings

SIGNATURE_HEADER = "X-Isotrack-Signature"
TIMESTAMP_HEADER = "X-Isotrack-Timestamp"
RETRYABLE_STATUSES = frozenset({408, 425, 429})
"""4xx answers that mean "not now" rather than "never" (plus every 5xx)."""
SMS_MAX_CHARACTERS = 320
"""Two concatenated SMS segments (GSM-7, 160 each): a longer text is refused."""


class SmsGateway(Protocol):
    """Sends one text message; raises DeliveryFailed when it cannot."""

    def send_text(self, *, to: str, body: str, idempotency_key: str) -> None: ...


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The value of the signature header of a request body sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class WebhookSmsGateway:
    """The SMS gateway as an HTTP webhook (JSON, signed with HMAC-SHA256)."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout_seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._secret = secret
        self._clock = clock
        self._client = httpx.Client(timeout=timeout_seconds, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def send_text(self, *, to: str, body: str, idempotency_key: str) -> None:
        payload = json.dumps(
            {"to": to, "body": body, "idempotency_key": idempotency_key},
            ensure_ascii=False, separators=(",", ":"),
        ).encode("utf-8")  # fmt: skip
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, payload),
            "Idempotency-Key": idempotency_key,
        }
        try:
            response = self._client.post(self._url, content=payload, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryFailed(
                reason="the SMS gateway did not answer in time", retryable=True
            ) from None
        except httpx.TransportError as error:
            reason = f"the SMS gateway cannot be reached ({type(error).__name__})"
            raise DeliveryFailed(reason=reason, retryable=True) from None
        _check_status(response.status_code)


def _check_status(status: int) -> None:
    if 200 <= status < 300:
        return
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    raise DeliveryFailed(reason=f"the SMS gateway answered HTTP {status}", retryable=retryable)


class SmsChannel:
    """The ``sms`` channel: an :class:`~isotrack.delivery.OutgoingMessage`'s body as a
    text to the recipient's mobile number (the subject is not sent)."""

    name = "sms"

    def __init__(self, gateway: SmsGateway) -> None:
        self._gateway = gateway

    def send(self, message: OutgoingMessage) -> None:
        phone = message.recipient.phone
        if not phone:
            raise DeliveryFailed(reason="the recipient has no mobile number", retryable=False)
        if len(message.body) > SMS_MAX_CHARACTERS:
            raise DeliveryFailed(
                reason=f"a text message is at most {SMS_MAX_CHARACTERS} characters",
                retryable=False,
            )
        key = opaque_key(message.idempotency_key)  # the reminder's own key names its kind
        self._gateway.send_text(to=phone, body=message.body, idempotency_key=key)


def sms_gateway(settings: DeliverySettings) -> WebhookSmsGateway | None:
    """The configured webhook gateway, or None when no SMS webhook is set."""
    url, secret = settings.sms_webhook_url, settings.sms_webhook_secret
    if url is None or secret is None:
        return None
    return WebhookSmsGateway(
        url,
        secret.get_secret_value().encode("utf-8"),
        timeout_seconds=settings.sms_webhook_timeout_seconds,
    )


def reminder_text(*, name: str, clinic: str, link: str) -> str:
    """A reminder text: kind, short, nothing clinical (a lock screen shows it).

    >>> print(reminder_text(name="Kara Smith", clinic="Skin Clinic", link="https://x.example/me"))
    ... # doctest: +ELLIPSIS
    Hi Kara, this is Skin Clinic. You have something coming up in your treatment plan. ...
    """
    first = name.split()[0] if name.split() else "there"
    who = f"this is {clinic}" if clinic else "this is your clinic"
    return (
        f"Hi {first}, {who}. You have something coming up in your treatment plan. "
        f"Details: {link} - you can stop these texts there."
    )
