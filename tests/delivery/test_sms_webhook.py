"""The SMS webhook against a real HTTP server: each request signed with HMAC-SHA256
over the timestamp and the exact body, the answer read as sent, retry later, or
never; a gateway that does not answer in time is a retryable failure."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from isotrack.delivery import DeliveryFailed, OutgoingMessage, Recipient, opaque_key
from isotrack.delivery.sms import SmsChannel, WebhookSmsGateway, reminder_text, sms_gateway
from isotrack.delivery_settings import DeliverySettings
from isotrack.errors import InvalidInputError
from isotrack.settings import get_settings
from tests.delivery.sms_receiver import Receiver, running_receiver

SECRET = "a-webhook-secret-of-at-least-32-characters"  # noqa: S105  # a test key
NOW = 1_796_600_000.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def _message(phone: str | None = "+15555550123", body: str = "Hi Kara") -> OutgoingMessage:
    recipient = Recipient("patient", "Kara Smith", None, phone, "America/New_York")
    return OutgoingMessage("reminder:P-1:2026-03-02:sms", "sms", recipient, "", body,
                           datetime(2026, 3, 2, 9, tzinfo=UTC))  # fmt: skip


def _channel(receiver: Receiver, timeout: float = 5.0) -> SmsChannel:
    gateway = WebhookSmsGateway(receiver.url, SECRET.encode(), timeout_seconds=timeout,
                                clock=lambda: NOW)  # fmt: skip
    return SmsChannel(gateway)


def test_a_text_is_posted_as_signed_json_the_receiver_can_verify(receiver: Receiver) -> None:
    _channel(receiver).send(_message(body="Hi Kara, this is Skin Clinic. Détails"))
    [request] = receiver.requests
    assert json.loads(request.body) == {
        "to": "+15555550123",
        "body": "Hi Kara, this is Skin Clinic. Détails",
        "idempotency_key": opaque_key("reminder:P-1:2026-03-02:sms"),
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == opaque_key("reminder:P-1:2026-03-02:sms")
    timestamp = request.headers["x-isotrack-timestamp"]
    assert timestamp == str(int(NOW))
    signed = timestamp.encode() + b"." + request.body
    expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-isotrack-signature"], expected)
    forged = hmac.new(b"another-secret", signed, hashlib.sha256).hexdigest()
    assert request.headers["x-isotrack-signature"] != "sha256=" + forged


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (502, True), (503, True), (429, True), (408, True),
     (400, False), (401, False), (404, False), (422, False), (301, False)],
)  # fmt: skip
def test_the_answer_says_whether_to_try_again(
    receiver: Receiver, status: int, retryable: bool
) -> None:
    receiver.status = status
    with pytest.raises(DeliveryFailed) as failed:
        _channel(receiver).send(_message())
    assert failed.value.retryable is retryable
    assert str(status) in failed.value.reason
    assert len(receiver.requests) == 1  # the worker retries, not the gateway


def test_a_gateway_that_does_not_answer_in_time_is_retried_later(receiver: Receiver) -> None:
    receiver.delay_seconds = 2.0
    started = time.monotonic()
    with pytest.raises(DeliveryFailed, match="in time") as failed:
        _channel(receiver, timeout=0.3).send(_message())
    assert failed.value.retryable
    assert time.monotonic() - started < 1.5


def test_a_gateway_that_cannot_be_reached_is_retried_later() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gateway = WebhookSmsGateway(f"http://127.0.0.1:{port}/sms", SECRET.encode(), timeout_seconds=2)
    with pytest.raises(DeliveryFailed, match="cannot be reached") as failed:
        SmsChannel(gateway).send(_message())
    assert failed.value.retryable


def test_no_number_or_a_too_long_text_is_refused_for_good_and_nothing_is_sent(
    receiver: Receiver,
) -> None:
    for message in (_message(phone=None), _message(body="x" * 321)):
        with pytest.raises(DeliveryFailed) as failed:
            _channel(receiver).send(message)
        assert not failed.value.retryable
    assert receiver.requests == []


def test_the_gateway_comes_from_the_settings(receiver: Receiver) -> None:
    assert sms_gateway(DeliverySettings()) is None
    gateway = sms_gateway(DeliverySettings(sms_webhook_url=receiver.url, sms_webhook_secret=SECRET))
    assert gateway is not None
    SmsChannel(gateway).send(_message())
    gateway.close()
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    "values",
    [
        {"sms_webhook_url": "http://gw.example/sms"},  # no secret
        {"sms_webhook_url": "http://gw.example/sms", "sms_webhook_secret": "short"},
        {"sms_webhook_url": "ftp://gw.example/sms", "sms_webhook_secret": SECRET},
        {"time_zone": "Mars/Olympus"},
    ],
)
def test_unusable_settings_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        DeliverySettings.model_validate(values)


def test_a_reminder_text_names_no_test_no_drug_and_no_condition() -> None:
    text = reminder_text(name="Kara Smith", clinic="Skin Clinic", link="https://c.example/me")
    assert text.startswith("Hi Kara, this is Skin Clinic.")
    assert len(text) <= 160
    for word in ("pregnan", "isotretinoin", "test", "lab", "acne", "ipledge", "blood"):
        assert word not in text.lower()


def test_the_server_settings_name_the_missing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOTRACK_SMS_WEBHOOK_URL", "https://gw.example/sms")
    monkeypatch.delenv("ISOTRACK_SMS_WEBHOOK_SECRET", raising=False)
    with pytest.raises(InvalidInputError, match=r"ISOTRACK_SMS_WEBHOOK_SECRET: is required"):
        get_settings()
    monkeypatch.setenv("ISOTRACK_SMS_WEBHOOK_SECRET", SECRET)
    settings = get_settings()
    assert settings.sms_webhook_url == "https://gw.example/sms"
    assert SECRET not in repr(settings)
