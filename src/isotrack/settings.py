"""The one typed settings class: the only place isotrack reads the environment.

``ISOTRACK_DATABASE_URL`` (setting ``database_url``): the SQLAlchemy URL of
the database. Default ``sqlite:///isotrack.db``, an SQLite file ``isotrack.db``
in the working directory.

A PostgreSQL URL may be written the usual way; it is read with the psycopg 3
driver:

>>> normalise_database_url("postgresql://postgres@127.0.0.1:5432/isotrack")
'postgresql+psycopg://postgres@127.0.0.1:5432/isotrack'
>>> normalise_database_url("sqlite:///isotrack.db")
'sqlite:///isotrack.db'
"""

from __future__ import annotations

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///isotrack.db"

_PSYCOPG_SCHEME = "postgresql+psycopg://"
_PLAIN_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


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

    @field_validator("database_url")
    @classmethod
    def _use_psycopg_for_postgresql(cls, value: str) -> str:
        return normalise_database_url(value)


def get_settings() -> Settings:
    """The settings as the environment gives them now (read on each call)."""
    return Settings()
