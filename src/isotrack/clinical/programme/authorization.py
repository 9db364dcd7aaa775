"""Pharmacy dispensing authorisations, and what their signed token states.

:func:`authorize_dispense` checks every requirement of the programme on a day
(:func:`isotrack.clinical.programme.dispense.dispense_terms`) and returns an
:class:`Authorization`: its id, who it is for (name, date of birth), the
prescription and its product, the capsules per strength, the days of supply, the
do-not-dispense-after date, the prescriber; or raises
:class:`~isotrack.errors.ProgrammeRefusal` naming each unmet requirement. The
store keeps it as a ``RecordAuthorization`` command (:func:`as_command`);
``Dispense`` then needs it, once (:mod:`.authorization_use`).

:func:`authorization_claims` is what the signed token states, in short keys so
that it fits one QR code; :func:`authorization_from_claims` reads them back and
refuses anything malformed; :func:`check_in_force` refuses a day outside the
authorisation. The signature itself (public-key, with the clinic's key) is not
clinical: :mod:`isotrack.http.ppp_tokens`.

>>> from datetime import date
>>> authorization = Authorization(
...     id="PA-1", patient_id="w1", patient_name="Ana Lopez", birth_date=date(2001, 5, 4),
...     prescription_id="p2", product="isotretinoin-capsule",
...     capsules=((30.0, 30), (25.0, 30)), max_days=30, issued_on=date(2026, 3, 2),
...     not_after=date(2026, 3, 8), prescriber="dr.kim", programme="us-ipledge-2024",
... )
>>> authorization.max_quantity
60
>>> authorization_claims(authorization)["caps"]
[[30, 30], [25, 30]]
>>> authorization_from_claims(authorization_claims(authorization)) == authorization
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from isotrack.clinical.programme.dispense import dispense_terms
from isotrack.clinical.programme.rule_sets import rule_set
from isotrack.clinical.state import PatientRecord, PrescriptionState, RecordAuthorization
from isotrack.errors import InvalidInputError, ProgrammeRefusal
from isotrack.knowledge.base import KnowledgeBase

CLAIMS_VERSION = 2
"""Format version of the claims (1 was the HMAC token, no longer accepted)."""


@dataclass(frozen=True, slots=True)
class Authorization:
    """What a pharmacy may dispense for one prescription, to whom, until when."""

    id: str
    patient_id: str
    patient_name: str
    birth_date: date
    prescription_id: str
    product: str
    """The product's id in the knowledge base."""
    capsules: tuple[tuple[float, int], ...]
    """(strength in mg, capsules) per strength of the regimen, largest first."""
    max_days: int
    """Days of treatment the capsules cover at most."""
    issued_on: date
    not_after: date
    """Do-not-dispense-after date (inclusive)."""
    prescriber: str
    """Who wrote the prescription (their account)."""
    programme: str
    version: str = ""
    """The programme's version (kept in the record; not in the token)."""
    course_id: str = ""
    """The course (kept in the record; not in the token: the id finds it)."""

    @property
    def max_quantity(self) -> int:
        """Capsules in all."""
        return sum(count for _, count in self.capsules)


def authorize_dispense(
    record: PatientRecord,
    *,
    on: date,
    kb: KnowledgeBase,
    authorization_id: str,
    prescriber: str = "",
) -> Authorization:
    """An authorisation for the latest prescription of the current course on ``on``.

    Raises ProgrammeRefusal naming every unmet requirement; InvalidInputError for an
    id that is empty or already used in the record."""
    if not authorization_id.strip():
        raise InvalidInputError("authorization_id", "is empty: give the authorisation an id")
    used = {a.id for c in record.courses for a in c.authorizations}
    if authorization_id in used:
        raise InvalidInputError(
            "authorization_id", f"{authorization_id} is already used: give a new id"
        )
    terms = dispense_terms(record, None, on=on, kb=kb)
    programme = rule_set(record, kb).programme
    course = record.course(terms.course_id)
    return Authorization(
        id=authorization_id,
        patient_id=record.patient_id,
        patient_name=record.name,
        birth_date=record.birth_date,
        course_id=terms.course_id,
        prescription_id=terms.prescription.id,
        product=course.product if course is not None else "",
        capsules=capsules_per_strength(terms.prescription, terms.max_quantity),
        max_days=terms.max_days,
        issued_on=on,
        not_after=terms.not_after,
        prescriber=prescriber,
        programme=programme.id,
        version=programme.version,
    )


def recorded_authorization(
    record: PatientRecord, authorization_id: str, *, kb: KnowledgeBase, prescriber: str = ""
) -> Authorization | None:
    """The authorisation recorded in the log under ``authorization_id`` as a token states
    it (to print it again), or None when there is none."""
    for course in record.courses:
        for recorded in course.authorizations:
            prescription = course.prescription(recorded.prescription_id)
            if recorded.id != authorization_id or prescription is None:
                continue
            max_days = min(prescription.supply_days, rule_set(record, kb).whole("max_supply_days"))
            return Authorization(
                id=recorded.id,
                patient_id=record.patient_id,
                patient_name=record.name,
                birth_date=record.birth_date,
                course_id=course.course_id,
                prescription_id=prescription.id,
                product=course.product,
                capsules=capsules_per_strength(prescription, recorded.max_quantity),
                max_days=max_days,
                issued_on=recorded.on,
                not_after=recorded.not_after,
                prescriber=prescriber,
                programme=recorded.programme,
                version=recorded.programme_version,
            )
    return None


def capsules_per_strength(
    prescription: PrescriptionState, capsules: int
) -> tuple[tuple[float, int], ...]:
    """``capsules`` of the prescription per strength; when they are not whole days of a
    regimen of several strengths, the whole days they hold (never more)."""
    by_strength = prescription.capsules_by_strength(capsules)
    if by_strength is not None:
        return by_strength
    regimen = prescription.regimen
    assert regimen is not None  # capsules_by_strength gives None only for a regimen
    return regimen.quantities(capsules // regimen.capsule_count)


def as_command(authorization: Authorization) -> RecordAuthorization:
    """The command that records the authorisation in the patient's log."""
    return RecordAuthorization(
        on=authorization.issued_on,
        authorization_id=authorization.id,
        prescription_id=authorization.prescription_id,
        not_after=authorization.not_after,
        max_quantity=authorization.max_quantity,
    )


def _mg(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def authorization_claims(authorization: Authorization) -> dict[str, Any]:
    """What the token states, in short keys (one QR code): ``v`` format, ``jti`` id,
    ``sub`` patient, ``nm`` name, ``dob`` date of birth, ``rx`` prescription, ``prd``
    product, ``caps`` [mg, capsules] per strength, ``ds`` days of supply, ``isd``
    issued on, ``dnd`` do not dispense after, ``by`` prescriber, ``prg`` programme."""
    return {
        "v": CLAIMS_VERSION,
        "jti": authorization.id,
        "sub": authorization.patient_id,
        "nm": authorization.patient_name,
        "dob": authorization.birth_date.isoformat(),
        "rx": authorization.prescription_id,
        "prd": authorization.product,
        "caps": [[_mg(mg), count] for mg, count in authorization.capsules],
        "ds": authorization.max_days,
        "isd": authorization.issued_on.isoformat(),
        "dnd": authorization.not_after.isoformat(),
        "by": authorization.prescriber,
        "prg": authorization.programme,
    }


_TEXT_CLAIMS = ("jti", "sub", "nm", "rx", "prd", "by", "prg")


def authorization_from_claims(claims: Mapping[str, Any]) -> Authorization:
    """The authorisation stated by verified claims; InvalidInputError (field ``token``)
    when a claim is missing or of the wrong kind, or the format is not this one."""
    try:
        if claims.get("v") != CLAIMS_VERSION:
            raise ValueError(f"format {claims.get('v')!r} is not {CLAIMS_VERSION}")
        for name in _TEXT_CLAIMS:
            if not isinstance(claims[name], str):
                raise ValueError(f"{name} is not text")
        capsules = tuple(_strength(pair) for pair in claims["caps"])
        days = claims["ds"]
        if not capsules or not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise ValueError("no capsules or no days of supply")
        return Authorization(
            id=claims["jti"],
            patient_id=claims["sub"],
            patient_name=claims["nm"],
            birth_date=date.fromisoformat(claims["dob"]),
            prescription_id=claims["rx"],
            product=claims["prd"],
            capsules=capsules,
            max_days=days,
            issued_on=date.fromisoformat(claims["isd"]),
            not_after=date.fromisoformat(claims["dnd"]),
            prescriber=claims["by"],
            programme=claims["prg"],
        )
    except (ValueError, TypeError, KeyError) as error:
        raise InvalidInputError("token", f"is malformed: {error}") from None


def _strength(pair: Any) -> tuple[float, int]:
    mg, count = pair
    numbers = isinstance(mg, int | float) and isinstance(count, int)
    if not numbers or isinstance(mg, bool) or isinstance(count, bool) or mg <= 0 or count < 1:
        raise ValueError(f"capsules {pair!r} are not [mg, count]")
    return float(mg), count


def check_in_force(authorization: Authorization, on: date) -> None:
    """ProgrammeRefusal when the authorisation is not in force on ``on`` (issued later,
    or after its do-not-dispense-after date)."""
    if on > authorization.not_after:
        raise ProgrammeRefusal(
            "token",
            f"authorisation {authorization.id} expired: do not dispense after "
            f"{authorization.not_after} (checked on {on}); needs a new authorisation",
            unmet=("authorisation",),
        )
    if on < authorization.issued_on:
        raise ProgrammeRefusal(
            "token",
            f"authorisation {authorization.id} is issued on {authorization.issued_on}, after "
            f"{on}: it is not in force before then",
            unmet=("authorisation",),
        )
