"""Who is calling: the EHR's signed JWT on every CDS Hooks request (CDS Hooks 2.0 security).

An EHR sends ``Authorization: Bearer <JWT>``; :func:`authenticate_cds_request`
reads the header and :class:`EhrTokenVerifier` proves the token, in this order:

1. the header's ``alg`` is RS384 or ES384 (``none``, HS*, RS256 … are refused),
   it names its key with ``kid``, and its ``typ``, when given, is ``JWT`` (a token
   typed as something else, e.g. an access token ``at+jwt``, is not a CDS Hooks
   client token);
2. the payload's ``iss`` (read unverified only to choose the issuer) is one of
   ``ISOTRACK_CDS_ISSUERS``; keys named by the token itself (``jku``, ``jwk``,
   ``x5u``) are never fetched;
3. the signature verifies under the key ``kid`` of that issuer's JWKS;
4. the claims of the CDS Hooks 2.0.1 table (:data:`REQUIRED_CLAIMS`): ``iss``,
   ``aud``, ``exp``, ``iat`` and ``jti`` are present; ``sub`` and ``tenant`` are
   optional (the specification's own example token and the CDS Hooks sandbox send
   neither ``sub``), and when present are non-empty strings. ``aud`` (a string or
   an array holding it) is the service's URL, the token has not expired, ``iat``
   and ``nbf`` are not in the future (each within the leeway), and ``exp`` is at
   most :data:`MAX_TOKEN_LIFETIME_SECONDS` ahead (an EHR signs one short-lived
   token per request; the bound also bounds the replay cache);
5. its ``jti`` was not seen before from that issuer.

Any failure is a :class:`~isotrack.errors.CdsAuthError` (401) whose message
says why. A JWKS that cannot be read (file missing, server down, not a JWKS)
refuses that issuer's tokens with 401, the cause going to the server log
(``isotrack.cds.security``); :mod:`isotrack.cds.jwks` says when a JWKS is read
again (key rotation, at most once a minute). The token itself is never logged.

The replay cache is the server's shared store when it is given one
(``replays``, :mod:`isotrack.store.limits`: PostgreSQL, Redis, or the SQLite
database), so that a token used once is refused on every worker and after a
restart; without one (tests, tools) it is a bounded cache of this process.

>>> verifier = EhrTokenVerifier({}, jwks_fetcher=lambda location: {"keys": []})
>>> verifier.verify("not-a-jwt", audiences=["https://cds.example.org/cds-services/x"])
Traceback (most recent call last):
...
isotrack.errors.CdsAuthError: the bearer token is not a well-formed JWT
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt

from isotrack.cds.jwks import (
    ALLOWED_ALGORITHMS,
    IssuerKeys,
    JwksFetcher,
    JwksLoader,
    SigningKey,
    shown,
)
from isotrack.errors import CdsAuthError
from isotrack.settings import Settings

REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")
"""The required claims of the CDS Hooks 2.0.1 JWT table (§ Trusting CDS Clients)."""
OPTIONAL_TEXT_CLAIMS = ("sub", "tenant")
"""Claims a token may carry (``tenant`` from the 2.0.1 table; ``sub`` from RFC 7519),
never required; when present, each is a non-empty string."""
JWT_TYPE = "JWT"
"""The header ``typ`` the 2.0.1 table fixes; a token without ``typ`` is accepted."""
DEFAULT_LEEWAY_SECONDS = 30
MAX_TOKEN_LIFETIME_SECONDS = 300
"""How far ahead ``exp`` may be (plus the leeway): an EHR signs a fresh token per call."""
DEFAULT_REPLAY_CACHE_SIZE = 100_000
"""``jti`` values remembered per issuer: 333 requests a second of longest-lived tokens."""
MAX_TOKEN_CHARS = 16 * 1024
MAX_JTI_CHARS = 256

log = logging.getLogger("isotrack.cds.security")


@dataclass(frozen=True, slots=True)
class EhrCaller:
    """The EHR a request came from; all None and ``unsigned`` in unsigned development mode.
    ``subject`` and ``tenant`` are None when the token does not carry them."""

    issuer: str | None
    subject: str | None
    jti: str | None
    unsigned: bool
    tenant: str | None = None


class ReplayStore(Protocol):
    """A replay cache shared by every worker (:class:`isotrack.store.limits.Limits`)."""

    def first_use(self, issuer: str, jti: str, *, expires: float, now: float) -> bool:
        """Remember ``jti`` of ``issuer`` until ``expires`` (it is ``now``); False when
        seen before."""
        ...


class _ReplayCache:
    """The ``jti`` values seen per issuer until their token expires; bounded; thread-safe."""

    def __init__(self, size: int, clock: Callable[[], float]) -> None:
        self._size = size
        self._clock = clock
        self._seen: dict[tuple[str, str], float] = {}
        self._expiries: list[tuple[float, str, str]] = []
        self._per_issuer: dict[str, int] = {}
        self._lock = threading.Lock()

    def first_use(self, issuer: str, jti: str, expires: float) -> None:
        """Remember ``jti``; CdsAuthError when it was seen already (or no room is left)."""
        with self._lock:
            self._forget_expired(self._clock())
            if (issuer, jti) in self._seen:
                raise _replayed(jti)
            if self._per_issuer.get(issuer, 0) >= self._size:
                log.error("CDS issuer %r: replay cache full (%d live tokens)", issuer, self._size)
                raise CdsAuthError(
                    "too many recent tokens from this issuer to check for replay; retry shortly"
                )
            self._seen[(issuer, jti)] = expires
            self._per_issuer[issuer] = self._per_issuer.get(issuer, 0) + 1
            heapq.heappush(self._expiries, (expires, issuer, jti))

    def _forget_expired(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] < now:
            _, issuer, jti = heapq.heappop(self._expiries)
            del self._seen[(issuer, jti)]
            self._per_issuer[issuer] -= 1


class EhrTokenVerifier:
    """Verifies EHR tokens against the configured issuers (issuer → JWKS location).

    ``clock`` (seconds since the epoch) and ``jwks_fetcher`` are parameters so that
    tests control time and never touch the network."""

    def __init__(
        self,
        issuers: Mapping[str, str],
        *,
        jwks_fetcher: JwksFetcher | None = None,
        clock: Callable[[], float] = time.time,
        leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
        replay_cache_size: int = DEFAULT_REPLAY_CACHE_SIZE,
        replays: ReplayStore | None = None,
    ) -> None:
        fetcher = jwks_fetcher if jwks_fetcher is not None else JwksLoader()
        self._issuers = {
            issuer: IssuerKeys(issuer, location, fetcher, clock)
            for issuer, location in issuers.items()
        }
        self._clock = clock
        self._leeway = leeway_seconds
        self._replays = _ReplayCache(replay_cache_size, clock)
        self._shared_replays = replays

    @classmethod
    def from_settings(
        cls, settings: Settings, replays: ReplayStore | None = None
    ) -> EhrTokenVerifier:
        """The verifier of ``ISOTRACK_CDS_ISSUERS``; warns in the log when the CDS
        service accepts unsigned requests or trusts no issuer at all, and logs an error
        for each JWKS file that is not there (its issuer's tokens will get 401)."""
        if settings.cds_allow_unsigned:
            log.warning(
                "ISOTRACK_CDS_ALLOW_UNSIGNED=true: CDS Hooks requests without a token are "
                "accepted (ISOTRACK_ENV=%s); never use this with real patients",
                settings.env,
            )
        elif not settings.cds_issuers:
            log.warning(
                "ISOTRACK_CDS_ISSUERS is empty: every CDS Hooks request will be refused (401)"
            )
        for issuer, location in settings.cds_issuers.items():
            if not location.startswith("https://") and not Path(location).is_file():
                log.error(
                    "ISOTRACK_CDS_ISSUERS: the JWKS file of %r, %s, is not there; its tokens "
                    "will be refused until it is",
                    issuer,
                    location,
                )
        return cls(
            settings.cds_issuers, leeway_seconds=settings.cds_jwt_leeway_seconds, replays=replays
        )

    def verify(self, token: str, *, audiences: Collection[str]) -> EhrCaller:
        """The caller proven by ``token``; CdsAuthError saying why it is not trusted."""
        header, unverified = _unverified_parts(token)
        algorithm = _accepted_algorithm(header)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise CdsAuthError("the token header has no kid naming the EHR's signing key")
        token_type = header.get("typ", JWT_TYPE)
        if not isinstance(token_type, str) or token_type.upper() != JWT_TYPE:
            raise CdsAuthError(
                f"the token header's typ is {shown(str(token_type))}, not {JWT_TYPE}: "
                "it is not a CDS Hooks client token"
            )
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or not issuer:
            raise CdsAuthError("the token has no iss claim naming the EHR")
        keys = self._issuers.get(issuer)
        if keys is None:
            raise CdsAuthError(
                f"issuer {shown(issuer)} is not trusted (not in ISOTRACK_CDS_ISSUERS)"
            )
        key = keys.key(kid)
        if key.algorithm != algorithm:
            raise CdsAuthError(f"key {shown(kid)} signs with {key.algorithm}, not {algorithm}")
        claims = self._decode(token, key, algorithm, issuer, audiences)
        jti, expires = self._checked_claims(claims)
        subject, tenant = (_optional_text(claims, name) for name in OPTIONAL_TEXT_CLAIMS)
        if self._shared_replays is None:
            self._replays.first_use(issuer, jti, expires)
        elif not self._shared_replays.first_use(issuer, jti, expires=expires, now=self._clock()):
            raise _replayed(jti)
        return EhrCaller(issuer=issuer, subject=subject, jti=jti, unsigned=False, tenant=tenant)

    def _decode(
        self, token: str, key: SigningKey, algorithm: str, issuer: str, audiences: Collection[str]
    ) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=list(audiences),
                issuer=issuer,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,  # checked below against the injected clock
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_sub": False,  # sub and jti: checked below, with our messages
                    "verify_jti": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise CdsAuthError(
                "bad signature: the token was not signed by its issuer's key"
            ) from None
        except jwt.MissingRequiredClaimError as error:
            raise CdsAuthError(f"the token has no {error.claim} claim") from None
        except jwt.InvalidAudienceError:
            raise CdsAuthError(
                "wrong audience: aud must be this CDS service's URL ("
                + ", ".join(sorted(audiences))
                + ")"
            ) from None
        except jwt.PyJWTError as error:
            raise CdsAuthError(f"the token cannot be read ({type(error).__name__})") from None

    def _checked_claims(self, claims: Mapping[str, Any]) -> tuple[str, float]:
        """(jti, when to forget it) of claims whose times hold now."""
        jti = claims["jti"]
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_CHARS:
            raise CdsAuthError(
                f"the token's jti must be a string of 1 to {MAX_JTI_CHARS} characters"
            )
        expires, issued = _instant(claims, "exp"), _instant(claims, "iat")
        now = self._clock()
        if expires <= now - self._leeway:
            raise CdsAuthError("the token has expired (exp is past)")
        if issued > now + self._leeway:
            raise CdsAuthError("the token is issued in the future (iat); check the EHR's clock")
        if "nbf" in claims and _instant(claims, "nbf") > now + self._leeway:
            raise CdsAuthError("the token is not valid yet (nbf is in the future)")
        if expires > now + MAX_TOKEN_LIFETIME_SECONDS + self._leeway:
            raise CdsAuthError(
                f"the token lives too long: exp may be at most {MAX_TOKEN_LIFETIME_SECONDS} "
                "seconds ahead; sign a fresh token for each request"
            )
        return jti, expires + self._leeway


def authenticate_cds_request(
    authorization: str | None,
    *,
    audiences: Collection[str],
    verifier: EhrTokenVerifier,
    settings: Settings,
) -> EhrCaller:
    """The caller of a CDS Hooks request from its ``Authorization`` header.

    No header: the unsigned caller when ``settings.cds_allow_unsigned`` (development
    and test only), else CdsAuthError. A header must be ``Bearer <JWT>`` and the JWT
    must verify, unsigned mode or not."""
    if authorization is None or not authorization.strip():
        if settings.cds_allow_unsigned and settings.relaxed:
            return EhrCaller(issuer=None, subject=None, jti=None, unsigned=True)
        raise CdsAuthError(
            "no Authorization header: the EHR must send 'Authorization: Bearer <JWT>' "
            "signed with a key of an issuer in ISOTRACK_CDS_ISSUERS",
            token_given=False,
        )
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CdsAuthError("the Authorization header must be 'Bearer <JWT>'")
    return verifier.verify(token.strip(), audiences=audiences)


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if len(token) > MAX_TOKEN_CHARS:
        raise CdsAuthError(f"the bearer token is longer than {MAX_TOKEN_CHARS} characters")
    try:  # one parse for both parts: PyJWT's parse is most of a verification's cost
        parts = jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise CdsAuthError("the bearer token is not a well-formed JWT") from None
    return parts["header"], parts["payload"]


def _accepted_algorithm(header: Mapping[str, Any]) -> str:
    algorithm = header.get("alg")
    if algorithm in ALLOWED_ALGORITHMS:
        return str(algorithm)
    if not isinstance(algorithm, str) or not algorithm:
        reason = "the token header names no alg"
    elif algorithm.lower() == "none":
        reason = "an unsigned token (alg none) proves nothing"
    elif algorithm.upper().startswith("HS"):
        reason = f"{shown(algorithm)} uses a shared secret; an EHR signs with its private key"
    else:
        reason = f"{shown(algorithm)} is not accepted"
    raise CdsAuthError(f"{reason}: sign the token with RS384 or ES384")


def _replayed(jti: str) -> CdsAuthError:
    return CdsAuthError(f"token id (jti) {shown(jti)} was already used: replayed")


def _optional_text(claims: Mapping[str, Any], name: str) -> str | None:
    """An optional claim's text (None when absent); CdsAuthError when it is not text."""
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    if not isinstance(value, str) or not value:
        raise CdsAuthError(f"the token's {name} claim, when given, must be a non-empty string")
    return value


def _instant(claims: Mapping[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise CdsAuthError(f"the token's {name} claim must be a number of seconds since 1970")
    return float(value)
