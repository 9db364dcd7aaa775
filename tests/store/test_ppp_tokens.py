"""Authorisation tokens signed with the clinic's key and checked with the public keys
only: a token round-trips; algorithm confusion (HS256 keyed with the public key), the
old HMAC token, ``alg: none``, an unknown kid, a changed claim and an expired
authorisation are refused; a rotated key keeps verifying the tokens it signed until
the overlap ends and not after (the clock is an argument); no private key is
published; the token fits one QR code a phone reads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import segno
from cryptography.hazmat.primitives import serialization
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from isotrack.clinical.programme import Authorization, authorization_claims
from isotrack.errors import InvalidInputError, ProgrammeRefusal
from isotrack.store.models import AuditRow, PppKeyRow
from isotrack.store.ppp_keys import active_signing_key, list_keys, public_jwks, rotate_keys
from isotrack.store.ppp_tokens import load_jwks, sign_authorization, verify_authorization

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AUTHORIZATION = Authorization(
    id="PA-7KQ2MX9RTD",
    patient_id="w1",
    patient_name="Ana López",
    birth_date=date(2001, 5, 4),
    prescription_id="p2",
    product="isotretinoin-capsule",
    capsules=((30.0, 30), (25.0, 30)),
    max_days=30,
    issued_on=date(2026, 3, 2),
    not_after=date(2026, 3, 8),
    prescriber="dr.kim",
    programme="us-ipledge-2024",
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def keys_now(engine: Engine, now: datetime = AT) -> Any:
    """The public keys as a pharmacy holds them: the JWKS document, through JSON."""
    return load_jwks(json.dumps(public_jwks(engine, now=now)))


def signed(engine: Engine, authorization: Authorization = AUTHORIZATION, now: datetime = AT) -> str:
    return sign_authorization(
        authorization, active_signing_key(engine, now=now, actor="dr.kim"), now=now
    )


def refusal(token: str, keys: Any) -> str:
    with pytest.raises(InvalidInputError) as caught:
        verify_authorization(token, keys)
    assert caught.value.field == "token"
    return caught.value.message


def test_a_token_verifies_with_the_public_keys_only(database: Engine) -> None:
    token = signed(database)
    header = json.loads(unb64(token.split(".")[0]))
    (kid,) = (k.kid for k in list_keys(database, now=AT))
    assert header == {"alg": "EdDSA", "kid": kid}
    assert verify_authorization(token, keys_now(database), on=date(2026, 3, 8)) == AUTHORIZATION


def test_the_first_key_is_made_once_and_audited(database: Engine) -> None:
    first = active_signing_key(database, now=AT, actor="dr.kim")
    again = active_signing_key(database, now=AT, actor="dr.kim")
    assert first.kid == again.kid
    with Session(database) as session:
        actions = session.scalars(select(AuditRow.action)).all()
    assert actions == ["ppp-key:create"]


def test_no_private_key_is_published(database: Engine) -> None:
    rotate_keys(database, now=AT, actor="admin", overlap=timedelta(days=30))
    rotate_keys(database, now=AT + timedelta(days=1), actor="admin", overlap=timedelta(days=30))
    document = public_jwks(database, now=AT + timedelta(days=2))
    assert len(document["keys"]) == 2
    for key in document["keys"]:
        assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}
    with Session(database) as session:
        pems = session.scalars(select(PppKeyRow.private_pem)).all()
    assert all(pem not in json.dumps(document) for pem in pems)


def test_algorithm_confusion_hs256_keyed_with_the_public_key_is_refused(
    database: Engine,
) -> None:
    token = signed(database)
    kid = json.loads(unb64(token.split(".")[0]))["kid"]
    (jwk,) = public_jwks(database, now=AT)["keys"]
    public_key = keys_now(database)[kid]
    secrets = [
        unb64(jwk["x"]),
        public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        json.dumps(jwk).encode(),
    ]
    claims = authorization_claims(AUTHORIZATION) | {"caps": [[30, 300]], "iat": 0}
    for secret in secrets:
        head = b64(json.dumps({"alg": "HS256", "kid": kid}).encode())
        body = b64(json.dumps(claims).encode())
        mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        message = refusal(f"{head}.{body}.{b64(mac)}", keys_now(database))
        assert message == (
            "token: is signed with 'HS256': only EdDSA (the clinic's public-key signature) "
            "is accepted"
        )


def test_the_old_hmac_token_is_refused(database: Engine) -> None:
    payload = b64(json.dumps({"id": "PA-1", "max_quantity": 60, "v": 1}).encode())
    mac = hmac.new(b"a-long-server-key", payload.encode(), hashlib.sha256).digest()
    signed(database)
    assert refusal(f"{payload}.{b64(mac)}", keys_now(database)) == (
        "token: is malformed: not a signed authorisation (three base64url parts)"
    )


def test_alg_none_is_refused(database: Engine) -> None:
    token = signed(database)
    _, body, _ = token.split(".")
    for alg in ("none", "None", "NONE"):
        head = b64(json.dumps({"alg": alg, "kid": "x"}).encode())
        for signature in ("", "AAAA"):
            assert f"is signed with '{alg}'" in refusal(
                f"{head}.{body}.{signature}", keys_now(database)
            )


def test_an_unknown_kid_is_refused(database: Engine) -> None:
    token = signed(database)
    _, body, signature = token.split(".")
    other = b64(json.dumps({"alg": "EdDSA", "kid": "not-a-clinic-key"}).encode())
    assert refusal(f"{other}.{body}.{signature}", keys_now(database)) == (
        "token: is signed with an unknown key ('not-a-clinic-key'): not one of the clinic's "
        "published keys (fetch the current keys, or the key's overlap has ended)"
    )
    no_kid = b64(json.dumps({"alg": "EdDSA"}).encode())
    assert "unknown key (None)" in refusal(f"{no_kid}.{body}.{signature}", keys_now(database))


@pytest.mark.parametrize(
    ("claim", "value"),
    [("caps", [[30, 300], [25, 30]]), ("dnd", "2026-12-31"), ("nm", "Someone Else"), ("ds", 90)],
)
def test_a_changed_claim_is_refused(database: Engine, claim: str, value: object) -> None:
    head, body, signature = signed(database).split(".")
    claims = json.loads(unb64(body)) | {claim: value}
    forged = b64(json.dumps(claims, separators=(",", ":")).encode())
    assert refusal(f"{head}.{forged}.{signature}", keys_now(database)) == (
        "token: the signature does not match: the token was changed or forged"
    )


def test_another_clinics_key_with_the_same_kid_is_refused(
    database: Engine, tmp_path: object
) -> None:
    token = signed(database)
    kid = json.loads(unb64(token.split(".")[0]))["kid"]
    rotate_keys(database, now=AT, actor="admin", overlap=timedelta(0))
    stranger = active_signing_key(database, now=AT, actor="admin")
    forged = sign_authorization(AUTHORIZATION, type(stranger)(kid, stranger.private_key), now=AT)
    assert "unknown key" in refusal(forged, keys_now(database))  # the old key is gone
    keys = {kid: keys_now(database)[stranger.kid]}
    assert verify_authorization(forged, keys) == AUTHORIZATION  # only with that key
    assert "signature does not match" in refusal(token, keys)


def test_an_expired_authorisation_is_refused(database: Engine) -> None:
    token = signed(database)
    with pytest.raises(ProgrammeRefusal) as caught:
        verify_authorization(token, keys_now(database), on=date(2026, 3, 9))
    assert "expired: do not dispense after 2026-03-08 (checked on 2026-03-09)" in str(caught.value)


def test_a_rotated_key_verifies_its_tokens_until_the_overlap_ends(database: Engine) -> None:
    before = signed(database, now=AT)
    rotated = AT + timedelta(days=1)
    new_kid = rotate_keys(database, now=rotated, actor="admin", overlap=timedelta(days=10))
    after = signed(database, now=rotated)
    assert json.loads(unb64(after.split(".")[0]))["kid"] == new_kid
    for moment in (rotated, rotated + timedelta(days=10) - timedelta(seconds=1)):
        assert verify_authorization(before, keys_now(database, moment)) == AUTHORIZATION
    statuses = {k.status for k in list_keys(database, now=rotated)}
    assert statuses == {"active", "overlap"}
    ended = rotated + timedelta(days=10)
    assert "unknown key" in refusal(before, keys_now(database, ended))
    assert verify_authorization(after, keys_now(database, ended)) == AUTHORIZATION
    assert {k.status for k in list_keys(database, now=ended)} == {"active", "expired"}


def test_a_negative_overlap_is_refused(database: Engine) -> None:
    with pytest.raises(InvalidInputError):
        rotate_keys(database, now=AT, actor="admin", overlap=timedelta(days=-1))


def test_the_token_fits_one_qr_code_a_phone_reads(database: Engine) -> None:
    long = Authorization(
        id="PA-7KQ2MX9RTD",
        patient_id="demo-ana-lopez-garcia",
        patient_name="Ana María López García de la Fuente",
        birth_date=date(2001, 5, 4),
        prescription_id="rx-2026-03-02-1",
        product="isotretinoin-oral-capsule",
        capsules=((40.0, 30), (30.0, 30), (10.0, 30)),
        max_days=30,
        issued_on=date(2026, 3, 2),
        not_after=date(2026, 3, 8),
        prescriber="dr.kimberly.okonkwo",
        programme="us-ipledge-2024",
    )
    token = signed(database, long)
    assert len(token.encode()) <= 600
    assert verify_authorization(token, keys_now(database)) == long
    assert segno.make(token, error="m", micro=False).version <= 20


def test_a_jwks_without_an_ed25519_key_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_jwks(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "a"}]}))
    assert str(caught.value) == "jwks: holds no Ed25519 (EdDSA) key with a kid"
    with pytest.raises(InvalidInputError):
        load_jwks("not json")
    with pytest.raises(InvalidInputError):
        load_jwks("[]")
