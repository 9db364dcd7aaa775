"""The one typed settings class: the only place isotrack reads the environment.

``ISOTRACK_DATABASE_URL`` (setting ``database_url``): the SQLAlchemy URL of
the database. Default ``sqlite:///isotrack.db``, an SQLite file ``isotrack.db``
in the working directory.

``ISOTRACK_ENV`` (setting ``env``): ``production`` (the default), ``development`` or ``test``.

``ISOTRACK_CORS_ORIGINS`` (setting ``cors_origins``): the web origins allowed to
call the API from a browser, comma-separated. Empty by default: CORS is off.

``ISOTRACK_RATE_LIMIT_PER_MINUTE`` and ``ISOTRACK_RATE_LIMIT_BURST``: the per-user
(else per-address) request rate, a token bucket (CDS issuers: :mod:`isotrack.limit_settings`).

``ISOTRACK_SECRET_KEY`` (setting ``secret_key``): the server key that signs
access tokens, sessions and CSRF tokens (HMAC-SHA256), at least 32 bytes
(pharmacy authorisations are signed with the clinic's Ed25519 key,
:mod:`isotrack.store.ppp_keys`). It is checked only when a command needs it
(:func:`signing_key`), never at import: outside development and test a missing,
short or placeholder key is refused with a message that says how to make one; in
development and test, without a key, a fixed development key is used (with one
warning in development), so tokens signed there prove nothing anywhere else.

``ISOTRACK_TRUSTED_PROXIES``: the addresses (or networks, e.g. ``10.0.0.0/8``) of
the reverse proxies whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are
believed, comma-separated; empty (the default): none, not even a local process.
``ISOTRACK_HSTS_SECONDS`` (default one year; 0: off): the ``max-age`` of the
``Strict-Transport-Security`` header sent on every answer over https.

``ISOTRACK_CDS_ISSUERS`` (setting ``cds_issuers``): the EHRs trusted to call
the CDS Hooks service, a JSON object mapping each issuer (the ``iss`` of its
tokens) to its JWKS, given as an ``https://`` URL or a local file path, e.g.
``{"https://ehr.example.org": "/etc/isotrack/ehr-jwks.json"}``. Empty by
default: every CDS Hooks request is refused (401) unless unsigned requests are
allowed. Invalid JSON, a value that is not a string, or a URL that is not https
is refused with the name of the variable.

``ISOTRACK_CDS_ALLOW_UNSIGNED`` (setting ``cds_allow_unsigned``): ``true``
accepts CDS Hooks requests that carry no token at all (a token that is sent is
still verified). Development and test only: refused with
``ISOTRACK_ENV=production``.

``ISOTRACK_CDS_JWT_LEEWAY_SECONDS`` (setting ``cds_jwt_leeway_seconds``): the
clock difference tolerated between the EHR and this server when checking a
token's ``exp``, ``iat`` and ``nbf`` (default 30, at most 300).

``ISOTRACK_CDS_FHIR_TIMEOUT_SECONDS`` (default 10, at most 60): how long the
CDS Hooks service waits for the EHR's FHIR server when it reads a prefetch key
the request lacked. ``ISOTRACK_CDS_PUBLIC_URL``: the external base URL of the
server, e.g. ``https://isotrack.example.org``; the ``aud`` of CDS Hooks tokens
is checked against it, never against the request's Host. Required (https) with
``ISOTRACK_CDS_ISSUERS`` in production; in development and test the request's
scheme and host stand in for it. ``ISOTRACK_CDS_SMART_APP_URL``: the SMART app
launch URL cards link to. ``ISOTRACK_SMTP_*`` and ``ISOTRACK_MAIL_FROM``: the
mail server of invitations and password resets (docs/accounts.md).

>>> Settings(cds_issuers='{"https://ehr.example.org": "/etc/isotrack/ehr-jwks.json"}',
...          cds_public_url="https://isotrack.example.org").cds_issuers
{'https://ehr.example.org': '/etc/isotrack/ehr-jwks.json'}

A PostgreSQL URL may be written the usual way; it is read with the psycopg 3
driver:

>>> normalise_database_url("postgresql://postgres@127.0.0.1:5432/isotrack")
'postgresql+psycopg://postgres@127.0.0.1:5432/isotrack'
>>> normalise_database_url("sqlite:///isotrack.db")
'sqlite:///isotrack.db'

>>> settings = Settings(env="production", secret_key="changeme")
>>> signing_key(settings)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
isotrack.errors.ConfigurationError: ISOTRACK_SECRET_KEY: is a placeholder ('changeme'); ...
"""

from __future__ import annotations

import re
import sys
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from isotrack.delivery_settings import DeliverySettings
from isotrack.errors import ConfigurationError, InvalidInputError
from isotrack.issuer_settings import parse_cds_issuers
from isotrack.limit_settings import LimitSettings
from isotrack.smart_settings import SmartSettings
from isotrack.sso_settings import SsoSettings

DEFAULT_DATABASE_URL = "sqlite:///isotrack.db"

Environment = Literal["production", "development", "test"]
RELAXED_ENVIRONMENTS: frozenset[str] = frozenset({"development", "test"})
"""Where a missing key is replaced by :data:`DEVELOPMENT_KEY`."""

MIN_SECRET_KEY_BYTES = 32
"""HMAC-SHA256 wants a key at least as long as its 32-byte output."""

DEVELOPMENT_KEY = b"isotrack-development-key-not-secret-do-not-use-in-production"
"""Public (it is in the source): used only in development and test, refused elsewhere."""

PLACEHOLDER_KEYS: frozenset[str] = frozenset({
    "changeme", "changethis", "secret", "secretkey", "mysecret", "mysecretkey", "dev", "devkey",
    "development", "test", "testkey", "testing", "password", "default", "example",
    "placeholder", "insecure", "notsecret", "isotrack", "todo", "key", "none", "null",
})  # fmt: skip
"""Values (lower case, letters and digits only) that say "fill me in", whatever their length."""

_PLACEHOLDER_PREFIXES = ("changeme", "changethis", "replaceme", "insecure", "yoursecret")
_NOT_LETTER_OR_DIGIT = re.compile(r"[^0-9a-z]+")
_HOW_TO_MAKE_ONE = (
    "set ISOTRACK_SECRET_KEY to a random value of at least "
    f"{MIN_SECRET_KEY_BYTES} bytes, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` "
    "(or ISOTRACK_ENV=development on a development machine)"
)

_PSYCOPG_SCHEME = "postgresql+psycopg://"
_PLAIN_POSTGRES_SCHEMES = ("postgresql://", "postgres://")

_warned: set[str] = set()
"""The environments whose development-key warning this process has printed."""


def normalise_database_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://``; the
    rest is returned unchanged (surrounding blanks removed)."""
    url = url.strip()
    for scheme in _PLAIN_POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return _PSYCOPG_SCHEME + url[len(scheme) :]
    return url


class Settings(SsoSettings, SmartSettings, LimitSettings, DeliverySettings, BaseSettings):
    """isotrack's settings from ``ISOTRACK_*`` variables (SSO: :mod:`isotrack.sso_settings`;
    SMART launch: :mod:`isotrack.smart_settings`; Redis and the CDS issuers' rate:
    :mod:`isotrack.limit_settings`; reminders: :mod:`isotrack.delivery_settings`)."""

    model_config = SettingsConfigDict(env_prefix="ISOTRACK_", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL of the database: ``sqlite:///path/to/file.db`` (the embedded
    default) or ``postgresql://user@host:5432/name``."""

    env: Environment = "production"
    """``production`` (default), ``development`` or ``test``: outside the last two,
    secrets must be real."""

    secret_key: SecretStr | None = None
    """The server key that signs access tokens, sessions and CSRF tokens; read it
    with :func:`signing_key`, which checks it."""

    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    """Origins allowed to call the API from a browser (comma-separated in the
    environment); empty: no CORS headers at all."""

    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    """Reverse proxies (addresses or networks) whose X-Forwarded-* headers are believed."""

    hsts_seconds: int = Field(default=31_536_000, ge=0)
    """``Strict-Transport-Security: max-age`` on answers over https; 0 sends none."""

    rate_limit_per_minute: int = Field(default=120, ge=1)
    """Requests a minute each user (or, before sign-in, each address) may make."""

    rate_limit_burst: int = Field(default=60, ge=1)
    """Requests a user may make at once before the per-minute rate applies."""

    cds_issuers: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    """The EHRs trusted to call the CDS Hooks service: issuer (``iss``) → its JWKS,
    an https URL or a local file path (a JSON object in the environment)."""

    cds_allow_unsigned: bool = False
    """Accept CDS Hooks requests without a token (development and test only)."""

    cds_jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    """Clock skew tolerated on a CDS Hooks token's ``exp``, ``iat`` and ``nbf``."""

    cds_fhir_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    """Seconds the CDS Hooks service waits for the EHR's ``fhirServer`` on each read
    of a prefetch key the request did not carry."""

    cds_public_url: str | None = Field(default=None, validate_default=True)
    """The external base URL of this server (e.g. ``https://isotrack.example.org``):
    the ``aud`` of CDS Hooks tokens is checked against it. Required with
    ``cds_issuers`` in production; in development and test the request's own scheme
    and host stand in for it."""

    cds_smart_app_url: str | None = None
    """The launch URL of isotrack's SMART app; when set, cards link to the patient's
    course page through it."""

    smtp_host: str | None = None
    """The SMTP server of invitation and password-reset emails; None: no email is sent."""

    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls`` (port 587), ``tls`` (implicit TLS, port 465) or ``none`` (a relay
    on the same host or network; never with a password outside development and test)."""

    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "isotrack@localhost"
    """The From address of the emails."""

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("database_url")
    @classmethod
    def _use_psycopg_for_postgresql(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("env", mode="before")
    @classmethod
    def _lower_case_env(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("cds_issuers", mode="before")
    @classmethod
    def _read_cds_issuers(cls, value: object) -> object:
        return parse_cds_issuers(value)

    @field_validator("cds_allow_unsigned")
    @classmethod
    def _unsigned_only_outside_production(cls, value: bool, info: ValidationInfo) -> bool:
        env = info.data.get("env")
        if value and env is not None and env not in RELAXED_ENVIRONMENTS:
            raise ValueError(
                f"accepts CDS Hooks requests without a token; refused with ISOTRACK_ENV={env} "
                "(configure ISOTRACK_CDS_ISSUERS instead, or set ISOTRACK_ENV=development)"
            )
        return value

    @field_validator("cds_public_url")
    @classmethod
    def _public_url_for_signed_cds(cls, value: str | None, info: ValidationInfo) -> str | None:
        env = info.data.get("env")
        relaxed = env is None or env in RELAXED_ENVIRONMENTS
        if value is None or not value.strip():
            if info.data.get("cds_issuers") and not relaxed:
                raise ValueError(
                    f"is required with ISOTRACK_CDS_ISSUERS (ISOTRACK_ENV={env}): the https "
                    "base URL EHRs call, e.g. https://isotrack.example.org; the aud of their "
                    "tokens is checked against it, never against the request's Host"
                )
            return None
        text = value.strip().rstrip("/")
        scheme, separator, rest = text.partition("://")
        allowed = ("https", "http") if relaxed else ("https",)
        if not separator or scheme.lower() not in allowed or not rest:
            raise ValueError(
                f"must be an {' or '.join(allowed)} base URL such as "
                f"https://isotrack.example.org, not {value[:80]!r}"
            )
        return text

    @field_validator("smtp_password")
    @classmethod
    def _no_password_in_clear(cls, value: SecretStr | None, info: ValidationInfo) -> object:
        env, security = info.data.get("env"), info.data.get("smtp_security")
        if value is not None and security == "none" and env not in RELAXED_ENVIRONMENTS:
            raise ValueError("would be sent in clear with ISOTRACK_SMTP_SECURITY=none")
        return value

    @property
    def relaxed(self) -> bool:
        """True in development and test, where a missing key is replaced by a fixed one."""
        return self.env in RELAXED_ENVIRONMENTS


def get_settings() -> Settings:
    """The settings as the environment gives them now (read on each call).

    An impossible value (e.g. ``ISOTRACK_ENV=prod``) is refused with the name of
    its environment variable."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = "ISOTRACK_" + "_".join(str(part) for part in first["loc"]).upper()
        raise InvalidInputError(name, _plain(first["msg"])) from None


def _plain(message: str) -> str:
    message = message.removeprefix("Value error, ")  # how pydantic wraps a ValueError
    return message[0].lower() + message[1:] if message else message


def secret_key_problem(value: str) -> str | None:
    """Why ``value`` cannot be a production signing key, or None when it can.

    >>> secret_key_problem("dev")
    "is a placeholder ('dev')"
    >>> secret_key_problem("x" * 40)
    'is one character repeated'
    >>> secret_key_problem("s3cr3t-but-short")
    'is 16 bytes long; at least 32 are needed'
    >>> secret_key_problem("kq3V9pZ0uX2m7LwRr1tYb8NcF4sHj6Ae") is None
    True
    """
    stripped = value.strip()
    folded = _NOT_LETTER_OR_DIGIT.sub("", stripped.lower())
    if not stripped:
        return "is empty"
    if folded in PLACEHOLDER_KEYS or folded.startswith(_PLACEHOLDER_PREFIXES):
        return f"is a placeholder ({stripped!r})"
    if stripped.encode() == DEVELOPMENT_KEY:
        return "is the public development key"
    if len(set(stripped)) == 1:
        return "is one character repeated"
    size = len(value.encode("utf-8"))
    if size < MIN_SECRET_KEY_BYTES:
        return f"is {size} bytes long; at least {MIN_SECRET_KEY_BYTES} are needed"
    return None


def signing_key(settings: Settings) -> bytes:
    """The key that signs and verifies pharmacy authorisations.

    Outside development and test: ``ISOTRACK_SECRET_KEY`` itself, refused
    (InvalidInputError naming ISOTRACK_SECRET_KEY and saying how to make one)
    when missing, shorter than 32 bytes or a placeholder. In development and
    test: the key when one is set, else :data:`DEVELOPMENT_KEY` (development
    prints a warning on stderr, once per process)."""
    given = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
    if settings.relaxed:
        if given:
            return given.encode("utf-8")
        _warn_development_key(settings)
        return DEVELOPMENT_KEY
    if not given:
        raise ConfigurationError(
            "ISOTRACK_SECRET_KEY",
            f"is not set (ISOTRACK_ENV={settings.env}); it signs pharmacy authorisations: "
            + _HOW_TO_MAKE_ONE,
        )
    problem = secret_key_problem(given)
    if problem is not None:
        raise ConfigurationError("ISOTRACK_SECRET_KEY", f"{problem}; {_HOW_TO_MAKE_ONE}")
    return given.encode("utf-8")


def _warn_development_key(settings: Settings) -> None:
    if settings.env != "development" or settings.env in _warned:
        return
    _warned.add(settings.env)
    print(
        "warning: ISOTRACK_SECRET_KEY is not set; using the public development key "
        "(ISOTRACK_ENV=development): authorisations signed now are valid on development "
        "machines only.",
        file=sys.stderr,
    )
