"""The one typed settings class: the only place isotrack reads the environment.

``ISOTRACK_DATABASE_URL`` (setting ``database_url``): the SQLAlchemy URL of
the database. Default ``sqlite:///isotrack.db``, an SQLite file ``isotrack.db``
in the working directory.

``ISOTRACK_ENV`` (setting ``env``): ``production`` (the default),
``development`` or ``test``.

``ISOTRACK_CORS_ORIGINS`` (setting ``cors_origins``): the web origins allowed
to call the API from a browser, comma-separated (e.g.
``https://clinic.example.org``). Empty by default: CORS is off.

``ISOTRACK_RATE_LIMIT_PER_MINUTE`` and ``ISOTRACK_RATE_LIMIT_BURST``: the
per-user (else per-address) request rate of the API, a token bucket refilled
at that many requests a minute and holding at most the burst.

``ISOTRACK_SECRET_KEY`` (setting ``secret_key``): the server key that signs
pharmacy authorisations (HMAC-SHA256), at least 32 bytes. It is checked only
when a command needs it (:func:`signing_key`), never at import: outside
development and test a missing, short or placeholder key is refused with a
message that says how to make one; in development and test, without a key,
a fixed development key is used (with one warning in development), so tokens
signed there prove nothing anywhere else.

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
isotrack.errors.InvalidInputError: ISOTRACK_SECRET_KEY: is a placeholder ('changeme'); ...
"""

from __future__ import annotations

import re
import sys
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from isotrack.errors import InvalidInputError

DEFAULT_DATABASE_URL = "sqlite:///isotrack.db"

Environment = Literal["production", "development", "test"]
RELAXED_ENVIRONMENTS: frozenset[str] = frozenset({"development", "test"})
"""Where a missing key is replaced by :data:`DEVELOPMENT_KEY`."""

MIN_SECRET_KEY_BYTES = 32
"""HMAC-SHA256 wants a key at least as long as its 32-byte output."""

DEVELOPMENT_KEY = b"isotrack-development-key-not-secret-do-not-use-in-production"
"""Public (it is in the source): used only in development and test, refused elsewhere."""

PLACEHOLDER_KEYS: frozenset[str] = frozenset(
    {
        "changeme",
        "changethis",
        "secret",
        "secretkey",
        "mysecret",
        "mysecretkey",
        "dev",
        "devkey",
        "development",
        "test",
        "testkey",
        "testing",
        "password",
        "default",
        "example",
        "placeholder",
        "insecure",
        "notsecret",
        "isotrack",
        "todo",
        "key",
        "none",
        "null",
    }
)
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


class Settings(BaseSettings):
    """isotrack's settings, read from ``ISOTRACK_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="ISOTRACK_", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL of the database: ``sqlite:///path/to/file.db`` (the embedded
    default) or ``postgresql://user@host:5432/name``."""

    env: Environment = "production"
    """``production`` (default), ``development`` or ``test``: outside the last two,
    secrets must be real."""

    secret_key: SecretStr | None = None
    """The server key that signs pharmacy authorisations; read it with
    :func:`signing_key`, which checks it."""

    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    """Origins allowed to call the API from a browser (comma-separated in the
    environment); empty: no CORS headers at all."""

    rate_limit_per_minute: int = Field(default=120, ge=1)
    """Requests a minute each user (or, before sign-in, each address) may make."""

    rate_limit_burst: int = Field(default=60, ge=1)
    """Requests a user may make at once before the per-minute rate applies."""

    @field_validator("cors_origins", mode="before")
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
        raise InvalidInputError(
            "ISOTRACK_SECRET_KEY",
            f"is not set (ISOTRACK_ENV={settings.env}); it signs pharmacy authorisations: "
            + _HOW_TO_MAKE_ONE,
        )
    problem = secret_key_problem(given)
    if problem is not None:
        raise InvalidInputError("ISOTRACK_SECRET_KEY", f"{problem}; {_HOW_TO_MAKE_ONE}")
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
