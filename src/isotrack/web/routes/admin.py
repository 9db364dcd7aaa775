"""The administrator's pages: the clinic's settings in one place.

- ``GET  /admin/clinic`` — the clinic's name, phone, out-of-hours number and
  country (whose crisis line patients are given), as saved, and who saved them;
- ``POST /admin/clinic`` — save them (audited ``settings:clinic`` with the old and
  new values); a refused value shows the form again with the error summary at
  the top, the entered values kept.

Only the administrator (``user.manage``) reaches them. Patients see the settings
on every page that tells them to call (:mod:`isotrack.web.clinic_contact`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from isotrack.http.authz import Action
from isotrack.http.deps import EngineDep, KbDep, NowDep
from isotrack.knowledge.base import KnowledgeBase
from isotrack.store import ClinicSettings, read_clinic_settings, save_clinic_settings
from isotrack.web.deps import CsrfDep, WebUser, require_page
from isotrack.web.templating import flash, render

router = APIRouter(prefix="/admin", include_in_schema=False)

AdminUser = Annotated[WebUser, Depends(require_page(Action.USER_MANAGE))]
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{1,30}$")
"""Digits with the usual separators, an optional leading +; not a check that it rings."""
TextField = Annotated[str, Form(max_length=200)]
FIELDS = ("name", "phone", "out_of_hours_phone", "country")


@router.get("/clinic")
def settings_page(request: Request, user: AdminUser, engine: EngineDep, kb: KbDep) -> Response:
    saved = read_clinic_settings(engine)
    values = {name: getattr(saved, name) for name in FIELDS}
    return _page(request, kb, values, saved=saved)


@router.post("/clinic")
def save_settings(
    request: Request,
    user: AdminUser,
    _csrf: CsrfDep,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    name: TextField = "",
    phone: TextField = "",
    out_of_hours_phone: TextField = "",
    country: TextField = "",
) -> Response:
    entered = (name, phone, out_of_hours_phone, country)
    values = {field: value.strip() for field, value in zip(FIELDS, entered, strict=True)}
    errors = _problems(values, kb)
    if errors:
        saved = read_clinic_settings(engine)
        return _page(request, kb, values, saved=saved, errors=errors, status=422)
    settings = ClinicSettings(
        values["name"], values["phone"], values["out_of_hours_phone"], values["country"]
    )
    save_clinic_settings(engine, settings, actor=user.username, now=now)
    response = RedirectResponse("/admin/clinic", status_code=303)
    flash(request, response, "Saved: patients see these numbers wherever they are told to call.")
    return response


def _problems(values: dict[str, str], kb: KnowledgeBase) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Enter the clinic's name, as patients know it."
    for field in ("phone", "out_of_hours_phone"):
        value = values[field]
        if field == "phone" and not value:
            errors[field] = "Enter the clinic's phone number."
        elif value and not PHONE.match(value):
            errors[field] = (
                "Enter a phone number: digits, spaces, brackets or dashes, maybe a leading +."
            )
    if values["country"] not in {line.id for line in kb.crisis_lines}:
        errors["country"] = "Choose the clinic's country: its crisis line is given to patients."
    return errors


def _page(
    request: Request,
    kb: KnowledgeBase,
    values: dict[str, str],
    *,
    saved: ClinicSettings,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    countries = [("", "Choose a country")] + [
        (line.id, f"{line.country}: {line.name} {line.phone}") for line in kb.crisis_lines
    ]
    context: dict[str, Any] = {
        "values": values,
        "saved": saved,
        "errors": errors or {},
        "countries": countries,
    }
    return render(request, "admin/clinic.html", context, status=status)
