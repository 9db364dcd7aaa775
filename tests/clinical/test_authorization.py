"""Dispensing authorisations: issued with the programme's terms, signed with the
server key, checked offline; a changed token, another key, a malformed token and an
expired authorisation are refused with exact reasons."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import date

import pytest
from msgspec.structs import replace

from isotrack.clinical.programme.authorization import (
    Authorization,
    as_command,
    authorize_dispense,
    sign,
    verify_token,
)
from isotrack.clinical.record.aggregate import PatientRecord, apply
from isotrack.clinical.state.commands import Prescribe
from isotrack.errors import InvalidInputError, ProgrammeRefusal
from isotrack.knowledge import KnowledgeBase
from tests.clinical.builders_programme import (
    EU,
    KEY,
    US,
    authorize,
    day,
    dispense,
    eligible,
    man,
    prescribe,
    run,
)

AUTHORIZATION = Authorization(
    id="PA-7KQ2MX9RTD",
    patient_id="w1",
    course_id="c1",
    prescription_id="p2",
    issued_on=date(2026, 3, 2),
    not_after=date(2026, 3, 8),
    max_quantity=60,
    max_days=30,
    programme="us-ipledge-2024",
    version="2024 modification, approved 2024-02-09",
)
BAD_SIGNATURE = (
    "token: the signature does not match: the token was changed or signed with another key"
)


def issued(record: PatientRecord, n: int, kb: KnowledgeBase) -> Authorization:
    return authorize_dispense(record, on=day(n), kb=kb, key=KEY, authorization_id=f"PA-{n}")


# --- signing and checking ---------------------------------------------------------------------


def test_a_signed_token_verifies_to_the_same_authorisation() -> None:
    token = sign(AUTHORIZATION, KEY)
    assert token.count(".") == 1
    assert verify_token(token, KEY) == AUTHORIZATION
    assert verify_token(token, KEY, on=AUTHORIZATION.not_after) == AUTHORIZATION


def test_signing_is_deterministic() -> None:
    assert sign(AUTHORIZATION, KEY) == sign(AUTHORIZATION, KEY)


def test_a_changed_payload_is_refused() -> None:
    payload, signature = sign(AUTHORIZATION, KEY).split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields["max_quantity"] = 600
    forged = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidInputError) as caught:
        verify_token(f"{forged}.{signature}", KEY)
    assert str(caught.value) == BAD_SIGNATURE


def test_a_token_signed_with_another_key_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        verify_token(sign(AUTHORIZATION, b"another-server-key"), KEY)
    assert str(caught.value) == BAD_SIGNATURE


def test_a_changed_signature_is_refused() -> None:
    payload, signature = sign(AUTHORIZATION, KEY).split(".")
    changed = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidInputError) as caught:
        verify_token(f"{payload}.{changed}", KEY)
    assert str(caught.value) == BAD_SIGNATURE


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", ".abc", "abc."])
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        verify_token(token, KEY)
    assert str(caught.value) == (
        "token: is malformed: expected two base64url parts joined by a dot"
    )


def test_a_signed_payload_that_is_not_an_authorisation_is_refused() -> None:
    payload = base64.urlsafe_b64encode(b'{"v": 1, "id": "x"}').rstrip(b"=").decode()
    mac = hmac.new(KEY, payload.encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(InvalidInputError) as caught:
        verify_token(f"{payload}.{signature}", KEY)
    assert str(caught.value).startswith("token: is malformed: ")


def test_an_expired_authorisation_is_refused_on_a_later_day() -> None:
    token = sign(AUTHORIZATION, KEY)
    with pytest.raises(ProgrammeRefusal) as caught:
        verify_token(token, KEY, on=date(2026, 3, 9))
    assert str(caught.value) == (
        "token: authorisation PA-7KQ2MX9RTD expired: do not dispense after 2026-03-08 "
        "(checked on 2026-03-09); needs a new authorisation"
    )


def test_an_authorisation_is_not_in_force_before_it_is_issued() -> None:
    with pytest.raises(ProgrammeRefusal) as caught:
        verify_token(sign(AUTHORIZATION, KEY), KEY, on=date(2026, 3, 1))
    assert str(caught.value) == (
        "token: authorisation PA-7KQ2MX9RTD is issued on 2026-03-02, after 2026-03-01: it is "
        "not in force before then"
    )


def test_an_empty_key_signs_nothing() -> None:
    with pytest.raises(InvalidInputError) as caught:
        sign(AUTHORIZATION, b"")
    assert caught.value.field == "key"
    with pytest.raises(InvalidInputError):
        verify_token(sign(AUTHORIZATION, KEY), b"")


# --- issuing -------------------------------------------------------------------------------------


def test_an_iplege_authorisation_runs_7_days_from_the_specimen_date(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1")], kb, eligible(US, kb))
    authorization = issued(record, 2, kb)
    assert (authorization.prescription_id, authorization.course_id) == ("p1", "c1")
    assert (authorization.issued_on, authorization.not_after) == (day(2), day(6))
    assert (authorization.max_quantity, authorization.max_days) == (60, 30)
    assert (authorization.programme, authorization.version) == (US, kb.programme(US).version)


def test_an_eu_authorisation_runs_7_days_after_the_prescription(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1")], kb, eligible(EU, kb))
    assert issued(record, 0, kb).not_after == day(7)


def test_the_maximum_quantity_is_30_days_of_the_dose(kb: KnowledgeBase) -> None:
    big = Prescribe(
        on=day(0), prescription_id="p1", dose_mg=20.0, times_per_day=2, strength_mg=10.0,
        quantity=150, supply_days=30,
    )  # fmt: skip
    record = run([big], kb, man(kb))
    authorization = issued(record, 0, kb)
    assert authorization.max_quantity == 120  # 30 days × 40 mg / 10 mg, not the 150 written
    short = replace(big, prescription_id="p2", quantity=20, supply_days=10)
    record = run([short], kb, man(kb))
    assert (issued(record, 0, kb).max_quantity, issued(record, 0, kb).max_days) == (20, 10)


def test_an_issued_authorisation_is_recorded_and_allows_the_dispense(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1")], kb, man(kb))
    authorization = issued(record, 0, kb)
    record = apply(record, as_command(authorization), today=day(0), kb=kb)
    (recorded,) = record.courses[0].authorizations
    assert (recorded.id, recorded.not_after, recorded.max_quantity) == (
        authorization.id,
        authorization.not_after,
        authorization.max_quantity,
    )
    record = run([dispense(3, "p1")], kb, record)
    assert record.courses[0].prescriptions[0].dispensed_capsules == 60


def test_an_authorisation_id_is_used_once(kb: KnowledgeBase) -> None:
    record = run([prescribe(0, "p1"), authorize(0)], kb, man(kb))
    with pytest.raises(InvalidInputError) as caught:
        authorize_dispense(record, on=day(0), kb=kb, key=KEY, authorization_id="A0")
    assert str(caught.value) == "authorization_id: A0 is already used: give a new id"
    with pytest.raises(InvalidInputError):
        authorize_dispense(record, on=day(0), kb=kb, key=b"", authorization_id="B")
