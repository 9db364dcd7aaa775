"""The single sign-on settings: SSO is off without an issuer; an unusable combination
is refused naming its variable (isotrack serve stops at start with that line)."""

from __future__ import annotations

from typing import Any

import pytest

from isotrack.errors import InvalidInputError
from isotrack.http.authz import Role
from isotrack.http.sso import sso_config
from isotrack.settings import Settings, get_settings

COMPLETE: dict[str, Any] = {
    "env": "production",
    "oidc_issuer": "https://login.clinic.example.org/realms/staff",
    "oidc_client_id": "isotrack",
    "oidc_redirect_url": "https://isotrack.clinic.example.org/login/sso/callback",
    "oidc_role_groups": {"derm": "prescriber", "pharmacy": "pharmacist"},
}


def test_sso_is_off_without_an_issuer() -> None:
    assert sso_config(Settings(env="test")) is None


def test_a_complete_configuration_maps_groups_to_roles_and_keeps_the_issuer_exact() -> None:
    config = sso_config(Settings(**{**COMPLETE, "oidc_issuer": "https://idp.example.org/"}))
    assert config is not None
    assert config.oidc.issuer == "https://idp.example.org/"
    assert config.role_groups == {"derm": Role.PRESCRIBER, "pharmacy": Role.PHARMACIST}
    assert config.oidc.client_secret is None
    assert config.groups_claim == "groups"


@pytest.mark.parametrize(
    ("change", "variable", "words"),
    [
        ({"oidc_client_id": None}, "ISOTRACK_OIDC_CLIENT_ID", "is required"),
        ({"oidc_redirect_url": ""}, "ISOTRACK_OIDC_REDIRECT_URL", "is required"),
        ({"oidc_role_groups": {}}, "ISOTRACK_OIDC_ROLE_GROUPS", "is required"),
        ({"oidc_role_groups": {"all": "patient"}}, "ISOTRACK_OIDC_ROLE_GROUPS", "'patient'"),
        ({"oidc_role_groups": {"all": "doctor"}}, "ISOTRACK_OIDC_ROLE_GROUPS", "'doctor'"),
        ({"oidc_issuer": "http://idp.example.org"}, "ISOTRACK_OIDC_ISSUER", "https"),
        ({"oidc_redirect_url": "http://x.example/cb"}, "ISOTRACK_OIDC_REDIRECT_URL", "https"),
        ({"oidc_scopes": "profile email"}, "ISOTRACK_OIDC_SCOPES", "openid"),
    ],
)
def test_an_unusable_configuration_names_its_variable(
    change: dict[str, Any], variable: str, words: str
) -> None:
    with pytest.raises(InvalidInputError, match=variable) as raised:
        sso_config(Settings(**{**COMPLETE, **change}))
    assert words in str(raised.value)


def test_plain_http_is_allowed_in_development_and_test_only() -> None:
    local = {
        **COMPLETE,
        "env": "test",
        "oidc_issuer": "http://127.0.0.1:9000",
        "oidc_redirect_url": "http://127.0.0.1:8000/login/sso/callback",
    }
    assert sso_config(Settings(**local)) is not None


def test_the_group_map_is_read_from_json_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISOTRACK_OIDC_ROLE_GROUPS", '{"derm": "nurse"}')
    assert get_settings().oidc_role_groups == {"derm": "nurse"}
    monkeypatch.setenv("ISOTRACK_OIDC_ROLE_GROUPS", "derm=nurse")
    with pytest.raises(InvalidInputError, match="ISOTRACK_OIDC_ROLE_GROUPS: is not valid JSON"):
        get_settings()
