"""The single sign-on settings (``ISOTRACK_OIDC_*``), fields of :class:`isotrack.settings.Settings`.

They are declared here and read with the rest of the settings by the one
settings class (``Settings`` inherits these fields); nothing here reads the
environment. SSO is on when ``ISOTRACK_OIDC_ISSUER`` is set; then the client
id, the redirect URL and the group → role map are required (checked when the
server starts, by :func:`isotrack.http.sso.sso_config`). docs/sso.md explains
each setting.

>>> SsoSettings(oidc_role_groups='{"derm": "prescriber"}').oidc_role_groups
{'derm': 'prescriber'}
>>> SsoSettings(oidc_role_groups='["derm"]')  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for SsoSettings
...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode


class SsoSettings(BaseModel):
    """OpenID Connect sign-in for staff (authorization code + PKCE)."""

    oidc_issuer: str | None = None
    """The identity provider's issuer URL (``ISOTRACK_OIDC_ISSUER``); its discovery
    document is read from ``<issuer>/.well-known/openid-configuration``. Unset: no SSO."""

    oidc_client_id: str | None = None
    """isotrack's client id at the identity provider (``ISOTRACK_OIDC_CLIENT_ID``)."""

    oidc_client_secret: SecretStr | None = None
    """The client secret (``ISOTRACK_OIDC_CLIENT_SECRET``), sent with HTTP Basic to the
    token endpoint; unset: a public client (PKCE alone)."""

    oidc_redirect_url: str | None = None
    """The callback URL registered at the identity provider
    (``ISOTRACK_OIDC_REDIRECT_URL``), e.g. https://isotrack.example.org/login/sso/callback."""

    oidc_role_groups: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    """Which group of the identity provider gives which isotrack role
    (``ISOTRACK_OIDC_ROLE_GROUPS``, a JSON object, e.g. ``{"derm": "prescriber"}``)."""

    oidc_groups_claim: str = "groups"
    """The ID-token claim that lists the user's groups (``ISOTRACK_OIDC_GROUPS_CLAIM``)."""

    oidc_scopes: str = "openid profile email groups"
    """The scopes asked for (``ISOTRACK_OIDC_SCOPES``); ``openid`` is always among them."""

    @field_validator("oidc_role_groups", mode="before")
    @classmethod
    def _read_role_groups(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return {}
            try:
                value = json.loads(text)
            except ValueError as error:
                raise ValueError(
                    f"is not valid JSON ({error}); write an object such as "
                    '{"derm-prescribers": "prescriber", "pharmacy": "pharmacist"}'
                ) from None
        if not isinstance(value, Mapping) or not all(
            isinstance(key, str) and isinstance(role, str) for key, role in value.items()
        ):
            raise ValueError("must be a JSON object mapping each group name to a role name")
        return dict(value)

    @field_validator("oidc_issuer", "oidc_client_id", "oidc_redirect_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None  # the issuer is compared exactly: no slash removed
        return value
