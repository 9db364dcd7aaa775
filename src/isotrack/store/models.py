"""The tables: patients, their command logs, the audit trail, and the API's users.

The command log is the record: a patient's state is rebuilt by replaying their
commands in ``seq`` order (``isotrack.clinical.record.replay``). ``patients``
holds the optimistic-locking ``version`` (the number of commands, so the next
command's ``seq`` is ``version + 1``) and ``record_hash``, a SHA-256 chained over
the patient's commands (see :mod:`isotrack.store.hashing`).

Every timestamp is stored in UTC and read back as an aware UTC datetime on both
databases (:class:`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

HASH_LENGTH = 64
"""A SHA-256 digest in hexadecimal."""
EMAIL_LENGTH = 254
"""The longest email address SMTP carries (RFC 5321's path limit less the brackets)."""
PHONE_LENGTH = 16
"""An E.164 number: a plus and at most 15 digits."""


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC; a naive datetime is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"timestamp {value.isoformat()} has no time zone")
        utc = value.astimezone(UTC)
        # SQLite keeps no zone: it stores the UTC wall-clock time.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    """Number of commands in the patient's log; bumped by every command."""
    record_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    """Hash chained over the patient's commands up to ``version``."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommandRow(Base):
    """One command of a patient's log, in the envelope the store adds to it."""

    __tablename__ = "commands"
    __table_args__ = (UniqueConstraint("patient_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    """1, 2, 3 ... within the patient; the patient's version once it was applied."""
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    """The command as JSON, exactly as ``encode_command`` wrote it."""
    on_date: Mapped[date] = mapped_column(Date)
    """The command's clinical date (its ``on``)."""
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_on: Mapped[date] = mapped_column(Date)
    """The clinic's calendar day when it was recorded: the ``today`` it was
    validated against, and replayed with."""
    actor: Mapped[str] = mapped_column(String(200))


class AuditRow(Base):
    """One entry of the audit trail; ``row_hash`` chains it to the previous one.

    Ids are assigned by the trail (1, 2, 3 ... without gaps), not by a sequence,
    so a missing id means a deleted row.
    """

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    """``command:<Type>``, ``rejected:<Type>`` or ``read``."""
    patient_id: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text)
    """Canonical JSON object."""
    before_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    after_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    row_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))


class UserRow(Base):
    """A person who signs in to the API (see :mod:`isotrack.store.users`).

    ``patient_id`` links a ``patient`` user to their own record. It is checked when
    the user is created, not by a foreign key: patients' rows are truncated and
    restored as a set by the storage tools, which know nothing of users.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("username", name="uq_users_username"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    """A UUID (text)."""
    username: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    """An Argon2id hash in PHC string form; never the password."""
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    """Base32 TOTP secret of the second factor, or None without one."""
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The RFC 6238 time step of the last TOTP code accepted: a code of that step
    or an earlier one is refused (each code is used once, RFC 6238 section 5.2)."""
    patient_id: Mapped[str | None] = mapped_column(String(64), index=True)
    active: Mapped[bool] = mapped_column(Boolean)
    """False: locked (by an admin) or deactivated; the user cannot sign in."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH), index=True)
    """Where password-reset links are sent; None: the account gets no email."""


class RefreshTokenRow(Base):
    """One refresh token. ``id`` is the SHA-256 of the opaque token, never the token.

    Tokens of one sign-in share a ``family_id``; using a token marks it used and
    issues the next one of the family. Using a used token again revokes the family.
    """

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginAttemptRow(Base):
    """One sign-in attempt, kept to slow down password guessing."""

    __tablename__ = "login_attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    username: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(Boolean)


class ClinicSettingsRow(Base):
    """The clinic's own details, one row (``id`` 1): its name, its numbers and its
    country, whose crisis line the knowledge base gives (:mod:`isotrack.store.clinic`)."""

    __tablename__ = "clinic_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(64))
    out_of_hours_phone: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    """ISO 3166-1 alpha-2 code of a crisis line of the knowledge base."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))


class ContactPreferencesRow(Base):
    """A patient's consent to reminders (:mod:`isotrack.store.contact_preferences`):
    at most one row per patient; no row means the defaults (email to the portal
    account's address, not opted out)."""

    __tablename__ = "contact_preferences"

    patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean)
    by_email: Mapped[bool] = mapped_column(Boolean)
    by_sms: Mapped[bool] = mapped_column(Boolean)
    phone: Mapped[str | None] = mapped_column(String(PHONE_LENGTH))
    """The patient's mobile number (E.164), or None."""
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    """Set (by a clinician, for a minor): the guardian receives the reminders."""
    guardian_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    guardian_phone: Mapped[str | None] = mapped_column(String(PHONE_LENGTH))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    """An IANA time zone; None: the clinic's."""
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SsoIdentityRow(Base):
    """A user's account at the clinic's identity provider: (issuer, subject) → user.

    Created on the first single sign-on; later sign-ins find the user through it."""

    __tablename__ = "sso_identities"

    issuer: Mapped[str] = mapped_column(String(255), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SsoRequestRow(Base):
    """A single sign-on under way: used (deleted) by the callback that ends it.

    ``id`` is the SHA-256 of the ``state`` sent to the identity provider and
    ``browser`` that of the random cookie of the browser that started it."""

    __tablename__ = "sso_requests"

    id: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    browser: Mapped[str] = mapped_column(String(HASH_LENGTH))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str] = mapped_column(String(2000))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SmartLaunchRow(Base):
    """A SMART launch under way, deleted by its callback (``id``, ``browser``: SHA-256 of
    the ``state`` and of the starting browser's cookie)."""

    __tablename__ = "smart_launches"

    id: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    browser: Mapped[str] = mapped_column(String(HASH_LENGTH))
    iss: Mapped[str] = mapped_column(String(500))
    ehr_launch: Mapped[bool] = mapped_column(Boolean)  # False: a standalone launch
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(2000))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SmartSessionRow(Base):
    """The EHR side of a web session started by a SMART launch: the access token the
    EHR granted (server-side only, never in a cookie, not used after
    ``token_expires_at``), its patient and scopes; kept until the session's end."""

    __tablename__ = "smart_sessions"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("refresh_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    iss: Mapped[str] = mapped_column(String(500))
    patient: Mapped[str] = mapped_column(String(128))  # the EHR's Patient id in context
    access_token: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(2000))
    app_context: Mapped[str] = mapped_column(Text)  # JSON: the patient, a card's order
    embedded: Mapped[bool] = mapped_column(Boolean)  # may be framed by the EHR's origins
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    token_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RateBucketRow(Base):
    """One token bucket of the shared rate limits (:mod:`isotrack.store.limits`):
    ``tokens`` left at ``updated_at`` (seconds since 1970); ``allowed`` says whether
    the last request taken from it was let through."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float, index=True)
    allowed: Mapped[bool] = mapped_column(Boolean)


class SeenTokenRow(Base):
    """A CDS Hooks token id (``jti``) already used by its issuer, kept until it expires."""

    __tablename__ = "seen_tokens"

    issuer: Mapped[str] = mapped_column(String(255), primary_key=True)
    jti: Mapped[str] = mapped_column(String(256), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class AccountTokenRow(Base):
    """A one-time link: a patient portal invitation or a password reset.

    ``id`` is the SHA-256 of the token the link carries, never the token. A token
    is used once (``used_at``) and not after ``expires_at``. An invitation names
    the patient whose record the new account will hold; a reset names the user.
    """

    __tablename__ = "account_tokens"

    id: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    """``invitation`` or ``password-reset``."""
    user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    patient_id: Mapped[str | None] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    """Where the link was sent (None: handed over in person only)."""
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When it was used, or withdrawn (a newer link replaced it)."""


class CalendarFeedRow(Base):
    """A patient's subscribed calendar link (``/calendar/{token}.ics``): at most one
    per patient. ``token_digest`` is the SHA-256 of the link's token, never the token;
    revoking the link deletes the row, so a revoked token matches nothing."""

    __tablename__ = "calendar_feeds"

    patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True, index=True)
    clinical_titles: Mapped[bool] = mapped_column(Boolean, default=False)
    """The patient chose event titles that name the test ("Pregnancy test")."""
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PppKeyRow(Base):
    """A key pair that signs pharmacy dispensing authorisations (Ed25519). The
    private key (PKCS#8 PEM) never leaves the server: only ``public_jwk`` is
    published (``/.well-known/jwks.json``). The active key has no ``retired_at``;
    a retired key still verifies until ``verify_until`` (the rotation's overlap)."""

    __tablename__ = "ppp_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    """The public key as a JSON Web Key (with ``kid``, ``alg`` and ``use``)."""
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verify_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxRow(Base):
    """A message to send once (:mod:`isotrack.store.outbox`): queued with a unique
    idempotency key, claimed by one worker for a lease, then sent, failed or suppressed."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(300))
    patient_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    """A code ('visit', 'labs'...): what the audit trail names, never the content."""
    channel: Mapped[str] = mapped_column(String(20))
    recipient_kind: Mapped[str] = mapped_column(String(20))
    recipient_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    phone: Mapped[str | None] = mapped_column(String(40))
    time_zone: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    """pending, sending (claimed), sent, failed (given up) or suppressed (opted out)."""
    not_before: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claim: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The claiming worker's token: only its holder may mark the row."""
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


URL_LENGTH = 500
"""The longest FHIR base URL (or code system URI) kept."""


class EhrLinkRow(Base):
    """An EHR's patient linked to an isotrack record: at most one link per EHR patient
    (FHIR base and the EHR's Patient id), with the identifier (system and value) the
    link was made by and who made it when."""

    __tablename__ = "ehr_links"

    fhir_base: Mapped[str] = mapped_column(String(URL_LENGTH), primary_key=True)
    ehr_patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    identifier_system: Mapped[str] = mapped_column(String(URL_LENGTH))
    identifier_value: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[str] = mapped_column(String(64), ForeignKey("patients.id"), index=True)
    linked_by: Mapped[str] = mapped_column(String(200))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EhrResourceRow(Base):
    """An EHR resource read into a record, at the version read (what makes a second
    read of the same version add nothing, and a changed version be reported)."""

    __tablename__ = "ehr_resources"

    fhir_base: Mapped[str] = mapped_column(String(URL_LENGTH), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[str] = mapped_column(String(64))
    """``meta.versionId`` as read ('' when the EHR gives none)."""
    last_updated: Mapped[str] = mapped_column(String(40))
    """``meta.lastUpdated`` as read ('' when the EHR gives none)."""
    patient_id: Mapped[str] = mapped_column(String(64), ForeignKey("patients.id"), index=True)
    read_by: Mapped[str] = mapped_column(String(200))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EhrCommandSourceRow(Base):
    """The EHR resource(s) a stored command was read from: its provenance."""

    __tablename__ = "ehr_command_sources"

    patient_id: Mapped[str] = mapped_column(String(64), ForeignKey("patients.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    fhir_base: Mapped[str] = mapped_column(String(URL_LENGTH))
    resources: Mapped[str] = mapped_column(Text)
    """``Observation/7``; several joined by ", " when the reader merged them (the
    version read is in ``ehr_resources``)."""


TABLES_IN_DEPENDENCY_ORDER = (
    "patients",
    "commands",
    "audit",
    "ehr_links",
    "ehr_resources",
    "ehr_command_sources",
)
"""The clinical record and its audit trail, with the EHR links and the provenance of
what was read from an EHR: what the backup tools copy as JSON."""
USER_TABLES_IN_DEPENDENCY_ORDER = (
    "users",
    "sso_identities",
    "refresh_tokens",
    "login_attempts",
    "account_tokens",
)
"""The users, their single sign-on identities, their sign-in tokens and attempts, and
their one-time links."""
CLINIC_TABLES_IN_DEPENDENCY_ORDER = (
    "clinic_settings",
    "contact_preferences",
    "calendar_feeds",
    "outbox",
)
"""What the clinic has set up beside the record: its settings, each patient's reminder
choices (a restore must not write to a patient who opted out, or to a minor instead of
the guardian), the calendar links patients subscribed to, and the reminders already
sent (a restore must not send them again)."""
