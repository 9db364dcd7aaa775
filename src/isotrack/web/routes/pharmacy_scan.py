"""The pharmacist's counter check of an authorisation the patient carries.

===========================================  ==========================================
page                                         what
===========================================  ==========================================
``GET  /pharmacy/scan``                      scan the QR code with the camera (the
                                             browser's BarcodeDetector) or paste it
``POST /pharmacy/scan``                      verify it; show name, date of birth,
                                             medicine and capsules to compare with the
                                             person at the counter
``POST /pharmacy/scan/dispense``             record the dispense against it (once)
===========================================  ==========================================

The token is checked with the clinic's public keys only
(:func:`isotrack.store.ppp_tokens.verify_authorization`: the algorithm is pinned
to EdDSA, the key found by its ``kid``), on today's date. The dispense is the
``Dispense`` command naming the authorisation: the record refuses a second one
under the same authorisation (:mod:`isotrack.clinical.programme.authorization_use`),
saying when and by whom the first was, and refuses more capsules than it allows.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from isotrack.clinical.programme import Authorization, first_use, used_text
from isotrack.clinical.state import Dispense, PatientRecord
from isotrack.errors import CommandRejected, InvalidInputError, ProgrammeRefusal
from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.store.ppp_records import patient_of_authorization, verify_here
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.routes._records import read_for, store_for
from isotrack.web.templating import flash, render
from isotrack.web.views.authorisation import product_name
from isotrack.web.views.words import plain

router = APIRouter(prefix="/pharmacy/scan", include_in_schema=False)

DispenserDep = Annotated[WebUser, Depends(require_page(Action.DISPENSE))]
TokenField = Annotated[str, Form(max_length=4096)]


@router.get("")
def scan_page(request: Request, user: DispenserDep) -> Response:
    return _page(request, {})


@router.post("")
def check_token(
    request: Request,
    user: DispenserDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    token: TokenField = "",
) -> Response:
    try:
        authorization, record, _ = _verified(user, engine, kb, now, token)
    except (InvalidInputError, ProgrammeRefusal) as error:
        return _refused(request, token, error)
    return _page(request, _verified_context(authorization, record, kb, token))


@router.post("/dispense")
def dispense(
    request: Request,
    user: DispenserDep,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    token: TokenField = "",
    checked: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    try:
        authorization, record, _ = _verified(user, engine, kb, now, token)
    except (InvalidInputError, ProgrammeRefusal) as error:
        return _refused(request, token, error)
    context = _verified_context(authorization, record, kb, token)
    if checked != "yes":
        message = "Confirm that you checked the name and date of birth of the person present."
        return _page(request, context | {"errors": {"checked": message}}, status=422)
    command = Dispense(
        on=now.date(), prescription_id=authorization.prescription_id,
        quantity=authorization.max_quantity, authorization_id=authorization.id,
        dispensed_by=user.username,
    )  # fmt: skip
    try:  # checked against the record as it is now: the token fixes what is dispensed
        store_for(user, engine, authorization.patient_id, command, now=now, kb=kb, version=None)
    except (CommandRejected, ProgrammeRefusal) as error:
        message = plain(error.message.removeprefix(f"{error.field}: "))
        return _page(request, context | {"errors": {"dispense": message}}, status=422)
    response = RedirectResponse(
        f"/pharmacy/patients/{quote(authorization.patient_id)}", status_code=303
    )
    flash(
        request,
        response,
        f"Dispense recorded under authorisation {authorization.id}: "
        f"{capsules_words(authorization)} for {authorization.patient_name}.",
    )
    return response


def capsules_words(authorization: Authorization) -> str:
    """'30 capsules of 30 mg and 30 capsules of 25 mg'."""
    return " and ".join(f"{n} capsules of {mg:g} mg" for mg, n in authorization.capsules)


def _verified(
    user: WebUser, engine: EngineDep, kb: KbDep, now: NowDep, token: str
) -> tuple[Authorization, PatientRecord, int]:
    """The authorisation the token states, checked with the published public keys on
    today's date, and the record that holds it (read as ``user``, audited)."""
    authorization = verify_here(engine, token, now=now, on=now.date())
    owner = patient_of_authorization(engine, authorization.id)
    if owner != authorization.patient_id:
        raise InvalidInputError(
            "token",
            f"authorisation {authorization.id} is not in this clinic's records for this "
            "patient: do not dispense; call the clinic",
        )
    record, version = read_for(user, engine, owner, now=now, kb=kb)
    return authorization, record, version


def _verified_context(
    authorization: Authorization, record: PatientRecord, kb: KbDep, token: str
) -> dict[str, Any]:
    course = next(
        (c for c in record.courses if any(a.id == authorization.id for a in c.authorizations)),
        None,
    )
    used = first_use(course, authorization.id) if course is not None else None
    return {
        "authorization": authorization,
        "product_name": product_name(kb, authorization.product),
        "capsules": capsules_words(authorization),
        "used": used_text(used) if used is not None else "",
        "token": token.strip(),
    }


def _refused(request: Request, token: str, error: InvalidInputError | ProgrammeRefusal) -> Response:
    message = plain(error.message.removeprefix(f"{error.field}: "))
    return _page(
        request, {"token": token, "errors": {"token": f"Do not dispense: {message}"}}, status=422
    )


def _page(request: Request, context: dict[str, Any], *, status: int = 200) -> Response:
    base: dict[str, Any] = {
        "authorization": None,
        "token": "",
        "used": "",
        "errors": {},
        "error_ids": {"token": "field-token", "checked": "field-checked", "dispense": "verified"},
        "page_url": "/pharmacy/scan",
    }
    return render(request, "pharmacy/scan.html", base | context, status=status)
