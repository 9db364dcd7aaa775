"""The settings of reminder delivery (fields of :class:`isotrack.settings.Settings`).

Declared here and read with the rest of the settings by the one settings class;
nothing here reads the environment. docs/reminders-preferences.md explains them.

SMS goes through an HTTP webhook (:mod:`isotrack.delivery.sms`): set
``ISOTRACK_SMS_WEBHOOK_URL`` and ``ISOTRACK_SMS_WEBHOOK_SECRET`` together (the
secret signs every request); neither set: no text messages are sent.

>>> DeliverySettings().time_zone
'UTC'
>>> DeliverySettings(time_zone="Mars/Olympus")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for DeliverySettings
...
"""

from __future__ import annotations

from zoneinfo import available_timezones

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator

MIN_WEBHOOK_SECRET_BYTES = 32
"""The shortest webhook secret accepted (an HMAC-SHA256 key of 256 bits)."""


class DeliverySettings(BaseModel):
    """Where text messages go, and the clinic's time zone."""

    sms_webhook_url: str | None = None
    """``ISOTRACK_SMS_WEBHOOK_URL``: the SMS gateway's webhook (``https://``; ``http://``
    only for a gateway on the same host). Unset: no text messages."""

    sms_webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    """``ISOTRACK_SMS_WEBHOOK_SECRET``: the key of the HMAC-SHA256 signature of each
    request (``X-Isotrack-Signature``); at least 32 characters."""

    sms_webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    """``ISOTRACK_SMS_WEBHOOK_TIMEOUT_SECONDS``: how long one request may take; a
    timeout is retried later."""

    time_zone: str = "UTC"
    """``ISOTRACK_TIME_ZONE``: the clinic's IANA time zone (``America/New_York``): that
    of a patient who has not chosen one, and of the staff's daily digest. (The reminder
    worker's branch declares the same setting on ``Settings`` itself; one of the two
    goes when they meet.)"""

    digest_hour: int = Field(default=7, ge=0, le=23)
    """``ISOTRACK_DIGEST_HOUR``: the hour (in the clinic's time zone) from which the staff's
    daily worklist email may go out."""

    @field_validator("sms_webhook_url")
    @classmethod
    def _webhook_scheme(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an https:// URL")
        return value.strip()

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"{value!r} is not an IANA time zone (America/New_York)")
        return value

    @field_validator("sms_webhook_secret")
    @classmethod
    def _secret_with_url(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            value = None
        if info.data.get("sms_webhook_url") is not None and value is None:
            raise ValueError("is required with ISOTRACK_SMS_WEBHOOK_URL (it signs each request)")
        if value is not None and len(value.get_secret_value()) < MIN_WEBHOOK_SECRET_BYTES:
            raise ValueError(
                f"must be at least {MIN_WEBHOOK_SECRET_BYTES} characters (for example: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value
