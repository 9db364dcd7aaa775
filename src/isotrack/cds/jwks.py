"""The EHRs' public keys (JWKS), read from an https URL or a local file and kept.

:class:`IssuerKeys` holds one issuer's keys: read on first use, read again at
most once every :data:`JWKS_RETRY_SECONDS` when a token names a ``kid`` it lacks
(key rotation) and at the latest after :data:`JWKS_MAX_AGE_SECONDS`. A JWKS
that cannot be read leaves the keys read before (or none) and logs why on
``isotrack.cds.security``; the token is refused with a CdsAuthError, never a 500.
Only RS384 and ES384 public keys of at least :data:`MIN_RSA_KEY_BITS` bits
(RSA) are kept; every other entry is skipped with a warning in the log.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from isotrack.errors import CdsAuthError

ALLOWED_ALGORITHMS: Mapping[str, tuple[str, str | None]] = {
    "RS384": ("RSA", None),
    "ES384": ("EC", "P-384"),
}
"""The signing algorithms CDS Hooks 2.0 names, with the key type (and curve) each needs."""
MIN_RSA_KEY_BITS = 2048
JWKS_RETRY_SECONDS = 60.0
JWKS_MAX_AGE_SECONDS = 3600.0
JWKS_TIMEOUT_SECONDS = 5.0
MAX_JWKS_BYTES = 1024 * 1024

log = logging.getLogger("isotrack.cds.security")

JwksFetcher = Callable[[str], Mapping[str, Any]]
"""Reads the JWKS at a location (https URL or file path); raises when it cannot."""


class JwksLoader:
    """The default :data:`JwksFetcher`: an https URL through httpx (with a timeout, no
    redirects, at most :data:`MAX_JWKS_BYTES`), anything else as a local file.

    Tests pass ``client=httpx.Client(transport=httpx.MockTransport(...))``."""

    def __init__(
        self, *, client: httpx.Client | None = None, timeout: float = JWKS_TIMEOUT_SECONDS
    ) -> None:
        self._client = client
        self._timeout = timeout

    def __call__(self, location: str) -> Mapping[str, Any]:
        raw = self._download(location) if location.startswith("https://") else _read(location)
        document = json.loads(raw)
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError('not a JWKS: expected a JSON object with a "keys" list')
        return document

    def _download(self, url: str) -> bytes:
        client = self._client if self._client is not None else httpx.Client()
        try:
            with client.stream(
                "GET", url, timeout=self._timeout, headers={"Accept": "application/json"}
            ) as response:
                response.raise_for_status()
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise ValueError(f"larger than {MAX_JWKS_BYTES} bytes")
                return bytes(body)
        finally:
            if self._client is None:
                client.close()


def _read(path: str) -> bytes:
    with Path(path).open("rb") as file:
        raw = file.read(MAX_JWKS_BYTES + 1)
    if len(raw) > MAX_JWKS_BYTES:
        raise ValueError(f"larger than {MAX_JWKS_BYTES} bytes")
    return raw


@dataclass(frozen=True, slots=True)
class SigningKey:
    algorithm: str
    key: Any  # a cryptography public key object


class IssuerKeys:
    """The signing keys of one issuer, read from its JWKS and kept; thread-safe."""

    def __init__(
        self, issuer: str, location: str, fetcher: JwksFetcher, clock: Callable[[], float]
    ) -> None:
        self.issuer = issuer
        self.location = location
        self._fetcher = fetcher
        self._clock = clock
        self._keys: dict[str, SigningKey] | None = None
        self._loaded_at = float("-inf")
        self._tried_at = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str) -> SigningKey:
        with self._lock:
            now = self._clock()
            stale = self._keys is None or now - self._loaded_at >= JWKS_MAX_AGE_SECONDS
            missing = self._keys is not None and kid not in self._keys
            if (stale or missing) and now - self._tried_at >= JWKS_RETRY_SECONDS:
                self._load(now)
            if self._keys is None:
                raise CdsAuthError(
                    f"the keys of issuer {shown(self.issuer)} cannot be read now; "
                    "try again later (the server log says why)"
                )
            found = self._keys.get(kid)
        if found is None:
            raise CdsAuthError(f"issuer {shown(self.issuer)} has no signing key {shown(kid)}")
        return found

    def _load(self, now: float) -> None:
        self._tried_at = now
        try:
            document = self._fetcher(self.location)
            keys = signing_keys(document, self.issuer)
        except Exception as error:  # any failure of a JWKS source is a 401, never a 500
            log.error(
                "cannot read the JWKS of CDS issuer %r at %s: %s: %s",
                self.issuer,
                self.location,
                type(error).__name__,
                error,
            )
            return
        self._keys = keys
        self._loaded_at = now


def signing_keys(document: Mapping[str, Any], issuer: str) -> dict[str, SigningKey]:
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError('not a JWKS: expected a JSON object with a "keys" list')
    keys: dict[str, SigningKey] = {}
    for index, entry in enumerate(entries):
        problem, key = _signing_key(entry)
        if key is None:
            log.warning("CDS issuer %r: JWKS key #%d skipped: %s", issuer, index, problem)
            continue
        keys[entry["kid"]] = key
    return keys


def _signing_key(entry: object) -> tuple[str, SigningKey | None]:
    """``("", key)`` for a usable verification key, else ``(why not, None)``."""
    if not isinstance(entry, dict):
        return "not a JSON object", None
    kid, kty, use = entry.get("kid"), entry.get("kty"), entry.get("use", "sig")
    if not isinstance(kid, str) or not kid:
        return "no kid", None
    if use != "sig":
        return f"kid {kid!r} is for use {use!r}, not sig", None
    algorithm = entry.get("alg")
    if algorithm is None:
        algorithm = next(
            (name for name, (k, crv) in ALLOWED_ALGORITHMS.items() if (k, crv) == _shape(entry)),
            None,
        )
    if not isinstance(algorithm, str) or ALLOWED_ALGORITHMS.get(algorithm) != _shape(entry):
        return f"kid {kid!r} ({kty}, alg {algorithm}) is not an RS384 or ES384 key", None
    if "d" in entry:
        return f"kid {kid!r} holds a private key; publish only the public part", None
    try:
        key = jwt.PyJWK(entry, algorithm=algorithm).key
    except jwt.PyJWTError as error:
        return f"kid {kid!r} is not a valid {algorithm} key ({type(error).__name__})", None
    if isinstance(key, RSAPublicKey) and key.key_size < MIN_RSA_KEY_BITS:
        return f"kid {kid!r} is a {key.key_size}-bit RSA key; {MIN_RSA_KEY_BITS} at least", None
    return "", SigningKey(algorithm, key)


def _shape(entry: Mapping[str, Any]) -> tuple[object, object]:
    kty = entry.get("kty")
    return kty, entry.get("crv") if kty == "EC" else None


def shown(value: str, limit: int = 80) -> str:
    """A value from a token, quoted and cut short for a message.

    >>> shown("x" * 100, limit=3)
    "'xxx…'"
    """
    return repr(value if len(value) <= limit else value[:limit] + "…")
