"""A fake EHR for the CDS security tests: generated keys, their JWKS, and signed tokens."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://ehr.example.org"
AUDIENCE = "https://cds.example.org/cds-services/isotretinoin-order-sign"
NOW = 1_772_442_000.0
"""2026-03-02 09:00 UTC: the moment the unit tests run at."""


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    """The public JWK of ``key`` under ``kid`` (no ``alg``: the verifier infers it)."""
    if isinstance(key, rsa.RSAPrivateKey):
        text = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())
    else:
        text = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())
    return {**json.loads(text), "kid": kid, "use": "sig"}


@dataclass
class Ehr:
    """An EHR that signs CDS Hooks tokens with ``key`` (published as ``kid``)."""

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    kid: str = "ehr-key-1"
    issuer: str = ISSUER
    algorithm: str = "RS384"
    extra_headers: dict[str, Any] = field(default_factory=dict)

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.key, self.kid)]}

    def claims(self, now: float = NOW, **changes: Any) -> dict[str, Any]:
        """Valid claims at ``now``; a change of None removes that claim."""
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "ehr-client-7",
            "aud": AUDIENCE,
            "iat": int(now),
            "exp": int(now) + 120,
            "jti": str(uuid.uuid4()),
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def token(
        self, now: float = NOW, *, headers: dict[str, Any] | None = None, **changes: Any
    ) -> str:
        return jwt.encode(
            self.claims(now, **changes),
            self.key,
            algorithm=self.algorithm,
            headers={"kid": self.kid, **self.extra_headers, **(headers or {})},
        )
