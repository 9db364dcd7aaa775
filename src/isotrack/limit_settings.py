"""The settings of the shared limits (fields of :class:`isotrack.settings.Settings`).

Declared here and read with the rest of the settings by the one settings class;
nothing here reads the environment. docs/deploy.md explains when to set them.

>>> LimitSettings().cds_issuer_rate_per_second
50.0
>>> LimitSettings(redis_url="http://x")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for LimitSettings
...
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class LimitSettings(BaseModel):
    """Where the rate limits and the CDS replay cache live, and the CDS issuers' rate."""

    redis_url: str | None = None
    """``ISOTRACK_REDIS_URL`` (``redis://host:6379/0``, ``rediss://`` for TLS): keep the
    rate limits and the CDS Hooks replay cache in Redis. Unset: in the database
    (PostgreSQL), or — on SQLite, one worker — the buckets in memory and the replay
    cache in the database."""

    cds_issuer_rate_per_second: float = Field(default=50.0, gt=0, le=100_000)
    """Requests a second each trusted CDS Hooks issuer (``iss`` of a verified token)
    may make, sustained, whatever address it calls from (an EHR gateway sends a whole
    hospital's orders from one address)."""

    cds_issuer_burst: int = Field(default=200, ge=1, le=1_000_000)
    """Requests a CDS Hooks issuer may make at once before its per-second rate applies."""

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not value.startswith(REDIS_SCHEMES):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value
