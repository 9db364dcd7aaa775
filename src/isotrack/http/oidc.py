"""OpenID Connect, the protocol: discovery, the authorization request, the code
exchange and the ID token's checks (Authlib and joserfc do the cryptography).

:class:`OidcClient` talks to one identity provider:

- :meth:`~OidcClient.metadata` reads ``<issuer>/.well-known/openid-configuration``
  (kept :data:`METADATA_LIFETIME`) and refuses a document that names another
  issuer (OpenID Connect Discovery §4.3);
- :meth:`~OidcClient.authorization_url` is the URL a browser is sent to: response
  type ``code``, PKCE ``S256``, a ``state`` and a ``nonce``;
- :meth:`~OidcClient.exchange` swaps the code (with its PKCE verifier) for tokens;
- :meth:`~OidcClient.id_token_claims` checks the ID token: its signature against
  the provider's JWKS (asymmetric algorithms only; fetched again once for an
  unknown key id), ``iss``, ``aud`` (and ``azp``), ``exp`` and ``iat`` (with
  :data:`LEEWAY_SECONDS`), the ``nonce`` of this sign-in and ``at_hash``.

Every failure is an :class:`SsoRefused` carrying what went wrong (for the audit
trail) and what the person is told.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from requests import RequestException

METADATA_LIFETIME = 3600.0
"""Seconds the discovery document and the JWKS are reused before being read again."""
LEEWAY_SECONDS = 60
"""Clock difference tolerated between the identity provider and this server."""
HTTP_TIMEOUT_SECONDS = 10.0
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""ID tokens signed otherwise (``none``, or HMAC with the client secret) are refused."""
UNAVAILABLE = "The clinic's sign-in service cannot be reached. Try again in a few minutes."
NOT_COMPLETED = (
    "The sign-in could not be completed. Start again from the sign-in page; if this "
    "happens again, tell the clinic's administrator."
)


class SsoRefused(Exception):  # noqa: N818  # a refusal, the word the pages and docs use
    """A single sign-on that cannot go on: ``reason`` for the audit trail and the
    logs, ``message`` for the person, ``status`` for the page."""

    def __init__(self, reason: str, message: str = NOT_COMPLETED, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class OidcConfig:
    """isotrack as a client of one identity provider."""

    issuer: str
    client_id: str
    client_secret: str | None
    redirect_url: str
    scopes: str


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What isotrack uses of the provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]


class OidcClient:
    """One identity provider, its discovery document and keys cached (thread-safe)."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            if self._metadata is not None and time.monotonic() < self._metadata[0]:
                return self._metadata[1]
        found = self._discover()
        with self._lock:
            self._metadata = (time.monotonic() + METADATA_LIFETIME, found)
        return found

    def _discover(self) -> ProviderMetadata:
        """The provider's endpoints, read from its discovery document (uncached)."""
        document = self._get_json(
            self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        )
        return provider_metadata(document, self.config.issuer)

    def authorization_url(
        self,
        *,
        state: str,
        nonce: str,
        code_verifier: str,
        scope: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        """The URL of the authorization request; ``scope`` (default: the configured
        scopes) and ``extra`` parameters (SMART's ``launch`` and ``aud``) as given."""
        with self._oauth() as client:
            url, _ = client.create_authorization_url(
                self.metadata().authorization_endpoint,
                state=state,
                nonce=nonce,
                code_verifier=code_verifier,
                scope=scope or self.config.scopes,
                **dict(extra or {}),
            )
        return str(url)

    def exchange(self, *, code: str, code_verifier: str) -> dict[str, Any]:
        """The token response for ``code``; SsoRefused when the provider refuses it
        (a code used before, expired, or for another client) or cannot be reached."""
        endpoint = self.metadata().token_endpoint
        try:
            with self._oauth() as client:
                token = client.fetch_token(
                    endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    timeout=HTTP_TIMEOUT_SECONDS,
                )
        except OAuthError as error:
            raise SsoRefused(f"token endpoint refused the code: {error.error}") from None
        except RequestException as error:
            raise SsoRefused(f"token endpoint: {error}", UNAVAILABLE, 502) from None
        except ValueError as error:  # not JSON
            raise SsoRefused(f"token endpoint answered no token: {error}") from None
        if not isinstance(token, dict) or not isinstance(token.get("id_token"), str):
            raise SsoRefused("the token response has no id_token")
        return dict(token)

    def id_token_claims(
        self, token: dict[str, Any], *, nonce: str, now: datetime
    ) -> dict[str, Any]:
        """The claims of the token response's ID token once every check has passed."""
        metadata = self.metadata()
        id_token = str(token["id_token"])
        try:
            decoded = self._decode(id_token, metadata, refresh=False)
        except InvalidKeyIdError:
            decoded = self._decode(id_token, metadata, refresh=True)
        except JoseError as error:
            raise SsoRefused(f"ID token signature: {error.error}") from None
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": metadata.issuer},
            "aud": {"essential": True, "value": self.config.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        params = {
            "nonce": nonce,
            "client_id": self.config.client_id,
            "access_token": token.get("access_token"),
        }
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        try:
            claims.validate(now=int(now.timestamp()), leeway=LEEWAY_SECONDS)
        except JoseError as error:
            raise SsoRefused(f"ID token: {error.error}: {error.description}") from None
        return dict(claims)

    # --- internals -----------------------------------------------------------------------

    def _oauth(self) -> OAuth2Session:
        secret = self.config.client_secret
        return OAuth2Session(
            client_id=self.config.client_id,
            client_secret=secret,
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            code_challenge_method="S256",
            redirect_uri=self.config.redirect_url,
        )

    def _decode(self, id_token: str, metadata: ProviderMetadata, *, refresh: bool) -> jwt.Token:
        try:
            return jwt.decode(id_token, self._key_set(metadata, refresh), list(metadata.algorithms))
        except InvalidKeyIdError:
            if refresh:
                raise SsoRefused("ID token signed with a key the JWKS does not hold") from None
            raise
        except JoseError as error:
            raise SsoRefused(f"ID token: {error.error}") from None

    def _key_set(self, metadata: ProviderMetadata, refresh: bool) -> KeySet:
        with self._lock:
            if not refresh and self._keys is not None and time.monotonic() < self._keys[0]:
                return self._keys[1]
        document = self._get_json(metadata.jwks_uri)
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]  # checked by joserfc
        except (JoseError, ValueError, KeyError, TypeError) as error:
            reason = f"the provider's JWKS is unusable: {error}"
            raise SsoRefused(reason, UNAVAILABLE, 502) from None
        with self._lock:
            self._keys = (time.monotonic() + METADATA_LIFETIME, keys)
        return keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            with self._oauth() as session:
                response = session.get(
                    url, timeout=HTTP_TIMEOUT_SECONDS, allow_redirects=False, withhold_token=True
                )
            response.raise_for_status()
            document = response.json()
        except (RequestException, ValueError) as error:
            raise SsoRefused(f"{url}: {error}", UNAVAILABLE, 502) from None
        if not isinstance(document, dict):
            raise SsoRefused(f"{url}: not a JSON object", UNAVAILABLE, 502)
        return document


def provider_metadata(document: dict[str, Any], issuer: str) -> ProviderMetadata:
    """The endpoints of a discovery document that names ``issuer``; SsoRefused (502)
    for another issuer, an endpoint missing or no asymmetric signing algorithm."""
    if document.get("issuer") != issuer:
        raise SsoRefused(
            f"the discovery document names issuer {str(document.get('issuer'))[:200]!r}, "
            f"not the configured {issuer!r}",
            UNAVAILABLE,
            502,
        )
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise SsoRefused(f"the discovery document has no usable {name}", UNAVAILABLE, 502)
        endpoints[name] = value
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(alg for alg in offered if alg in SIGNING_ALGORITHMS)
    if not algorithms:
        raise SsoRefused(
            f"the provider signs ID tokens with none of {sorted(SIGNING_ALGORITHMS)}",
            UNAVAILABLE,
            502,
        )
    return ProviderMetadata(issuer=issuer, algorithms=algorithms, **endpoints)
