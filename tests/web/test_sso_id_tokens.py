"""The ID-token checks of single sign-on, on real tokens of a real OpenID Provider.

Two oidc-provider instances run side by side; they sign with the same
development keys (checked below), so a token of one passes the other's
signature check and only its ``iss`` tells them apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from isotrack.http.oidc import OidcClient, OidcConfig, SsoRefused
from tests.oidc.provider import CLIENT_SECRET, OpenIdProvider, running_provider

REDIRECT = "http://testserver/login/sso/callback"
NONCE = "the-nonce-of-this-sign-in"


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIdProvider]:
    with running_provider([REDIRECT]) as running:
        yield running


@pytest.fixture(scope="module")
def second_provider() -> Iterator[OpenIdProvider]:
    with running_provider([REDIRECT]) as running:
        yield running


def client_of(issuer: str, client_id: str = "isotrack") -> OidcClient:
    return OidcClient(
        OidcConfig(
            issuer=issuer,
            client_id=client_id,
            client_secret=CLIENT_SECRET.format(client_id),
            redirect_url=REDIRECT,
            scopes="openid profile email groups",
        )
    )


def token_from(provider: OpenIdProvider, client_id: str = "isotrack") -> dict[str, Any]:
    """A token response the provider gives ``client_id`` after dr.sso signs in."""
    client = client_of(provider.issuer, client_id)
    verifier = "v" * 20 + client_id + "v" * 30
    url = client.authorization_url(state="some-state", nonce=NONCE, code_verifier=verifier)
    code = parse_qs(urlsplit(provider.authorize(url, "dr.sso")).query)["code"][0]
    return client.exchange(code=code, code_verifier=verifier)


@pytest.fixture(scope="module")
def token(provider: OpenIdProvider) -> dict[str, Any]:
    return token_from(provider)


def now() -> datetime:
    return datetime.now(UTC)


def test_a_real_id_token_passes_with_its_groups(
    provider: OpenIdProvider, token: dict[str, Any]
) -> None:
    claims = client_of(provider.issuer).id_token_claims(token, nonce=NONCE, now=now())
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == "isotrack"
    assert claims["sub"] == "dr.sso"
    assert claims["groups"] == ["derm-prescribers", "all-staff"]


def test_a_token_for_another_client_is_refused(provider: OpenIdProvider) -> None:
    other = token_from(provider, "other-app")
    with pytest.raises(SsoRefused, match="aud"):
        client_of(provider.issuer).id_token_claims(other, nonce=NONCE, now=now())


def test_a_token_of_another_issuer_is_refused_though_its_signature_verifies(
    provider: OpenIdProvider, second_provider: OpenIdProvider, token: dict[str, Any]
) -> None:
    jwks = [httpx.get(p.issuer + "/jwks").json() for p in (provider, second_provider)]
    assert jwks[0] == jwks[1], "premise: both instances sign with the same keys"
    with pytest.raises(SsoRefused, match="iss"):
        client_of(second_provider.issuer).id_token_claims(token, nonce=NONCE, now=now())


def test_another_nonce_is_refused(provider: OpenIdProvider, token: dict[str, Any]) -> None:
    with pytest.raises(SsoRefused, match="nonce"):
        client_of(provider.issuer).id_token_claims(token, nonce="another-nonce", now=now())


def test_an_expired_token_is_refused(provider: OpenIdProvider, token: dict[str, Any]) -> None:
    later = now() + timedelta(hours=2)
    with pytest.raises(SsoRefused, match="exp"):
        client_of(provider.issuer).id_token_claims(token, nonce=NONCE, now=later)


def test_an_altered_token_is_refused(provider: OpenIdProvider, token: dict[str, Any]) -> None:
    header, payload, signature = token["id_token"].split(".")
    forged = payload[:-4] + ("AAAA" if not payload.endswith("AAAA") else "BBBB")
    altered = {**token, "id_token": f"{header}.{forged}.{signature}"}
    with pytest.raises(SsoRefused, match="ID token"):
        client_of(provider.issuer).id_token_claims(altered, nonce=NONCE, now=now())
