"""The signing key and the environment: real secrets outside development, a fixed
development key (with one warning) inside it, checked only when a command needs it."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import isotrack.settings as settings_module
from isotrack.errors import InvalidInputError
from isotrack.settings import (
    DEVELOPMENT_KEY,
    MIN_SECRET_KEY_BYTES,
    PLACEHOLDER_KEYS,
    Settings,
    get_settings,
    secret_key_problem,
    signing_key,
)

GOOD_KEY = "kq3V9pZ0uX2m7LwRr1tYb8NcF4sHj6Ae-clinic-2026"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ISOTRACK_ENV", "ISOTRACK_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings_module, "_warned", set())


def test_the_environment_defaults_to_production() -> None:
    assert get_settings().env == "production"
    assert get_settings().secret_key is None


def test_the_environment_and_key_come_from_isotrack_env_and_isotrack_secret_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISOTRACK_ENV", "Development")
    monkeypatch.setenv("ISOTRACK_SECRET_KEY", GOOD_KEY)
    settings = get_settings()
    assert settings.env == "development"
    assert signing_key(settings) == GOOD_KEY.encode()


def test_an_unknown_environment_is_refused_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISOTRACK_ENV", "prod")
    with pytest.raises(InvalidInputError, match=r"ISOTRACK_ENV: .*'production'"):
        get_settings()


def test_the_key_never_shows_in_the_settings_repr() -> None:
    settings = Settings(secret_key=GOOD_KEY)
    assert GOOD_KEY not in repr(settings)
    assert GOOD_KEY not in str(settings)


def test_a_missing_key_is_no_error_until_a_command_needs_it() -> None:
    settings = get_settings()  # production, no key: reading settings is fine
    assert settings.database_url
    with pytest.raises(InvalidInputError, match=r"ISOTRACK_SECRET_KEY: is not set .*secrets"):
        signing_key(settings)


@pytest.mark.parametrize("placeholder", ["changeme", "CHANGE-ME", "secret", "dev", "Change_This"])
def test_a_placeholder_key_is_refused_in_production(placeholder: str) -> None:
    with pytest.raises(InvalidInputError, match="is a placeholder"):
        signing_key(Settings(env="production", secret_key=placeholder))


def test_a_long_placeholder_is_still_a_placeholder() -> None:
    key = "changeme-" + "0123456789" * 4
    assert len(key) >= MIN_SECRET_KEY_BYTES
    with pytest.raises(InvalidInputError, match="is a placeholder"):
        signing_key(Settings(secret_key=key))


def test_a_key_one_byte_short_is_refused_and_one_of_full_length_is_used() -> None:
    short = GOOD_KEY[: MIN_SECRET_KEY_BYTES - 1]
    with pytest.raises(InvalidInputError, match="31 bytes long; at least 32"):
        signing_key(Settings(secret_key=short))
    enough = GOOD_KEY[:MIN_SECRET_KEY_BYTES]
    assert signing_key(Settings(secret_key=enough)) == enough.encode()


def test_the_public_development_key_is_refused_in_production() -> None:
    with pytest.raises(InvalidInputError, match="public development key"):
        signing_key(Settings(secret_key=DEVELOPMENT_KEY.decode()))


def test_a_repeated_character_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="one character repeated"):
        signing_key(Settings(secret_key="a" * 64))


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_test_use_the_fixed_key_when_none_is_set(env: str) -> None:
    assert signing_key(Settings(env=env)) == DEVELOPMENT_KEY  # type: ignore[arg-type]


def test_development_warns_once_about_the_development_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(env="development")
    signing_key(settings)
    signing_key(settings)
    warned = capsys.readouterr().err
    assert warned.count("warning: ISOTRACK_SECRET_KEY is not set") == 1


def test_the_test_environment_uses_the_development_key_silently(
    capsys: pytest.CaptureFixture[str],
) -> None:
    signing_key(Settings(env="test"))
    assert capsys.readouterr().err == ""


def test_a_key_set_in_development_is_used_as_given() -> None:
    weak = "dev"
    assert signing_key(Settings(env="development", secret_key=weak)) == weak.encode()


def test_every_placeholder_is_refused_whatever_the_case() -> None:
    for placeholder in PLACEHOLDER_KEYS:
        assert secret_key_problem(placeholder.upper()) is not None, placeholder


PLACEHOLDER_STARTS = ("changeme", "changethis", "replaceme", "insecure", "yoursecret")


@given(
    st.text(
        alphabet=string.ascii_letters + string.digits + "-_",
        min_size=MIN_SECRET_KEY_BYTES,
        max_size=96,
    )
)
def test_any_key_of_at_least_32_bytes_is_accepted_unless_it_is_a_placeholder(key: str) -> None:
    assume(len(set(key)) > 1)
    assume(not key.lower().replace("-", "").replace("_", "").startswith(PLACEHOLDER_STARTS))
    assert secret_key_problem(key) is None
    assert signing_key(Settings(secret_key=key)) == key.encode()


@given(st.text(min_size=1, max_size=MIN_SECRET_KEY_BYTES - 1))
def test_any_key_shorter_than_32_bytes_is_refused_in_production(key: str) -> None:
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        assert secret_key_problem(key) is not None
