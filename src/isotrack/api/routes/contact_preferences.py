"""``/api/v1/patients/{id}/contact-preferences``: a patient's consent to reminders.

- ``GET``: the stored choices (or the defaults, ``chosen: false``) and who receives
  the reminders, on which channels (``patient.read``: the patient, staff with it);
- ``PUT``: replace them (``self.report``: the patient themself, a prescriber, a
  nurse). Only a clinician (``clinical.record``) sets, changes or removes a
  guardian (403 otherwise), and only for a minor (422 on ``guardian_name`` for an
  adult; :mod:`isotrack.delivery.guardians`). Bad values are a 422 naming the
  field (``phone``, ``channels``, ``time_zone``, ``guardian_email`` ...), nothing
  changed; every change is audited (``contact-preferences:update``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from isotrack.delivery.guardians import check_guardian_change
from isotrack.delivery.preferences import ContactChoices, ContactPreferences, Guardian
from isotrack.http.access import PatientIdPath, read_allowed_record
from isotrack.http.authz import Action, Principal, ensure_patient_access, require
from isotrack.http.deps import EngineDep, KbDep, NowDep, SettingsDep
from isotrack.http.problems import ProblemError
from isotrack.store.contact_preferences import (
    read_contact_choices,
    read_contact_state,
    write_contact_preferences,
)

router = APIRouter(prefix="/api/v1/patients", tags=["contact preferences"])

ChannelName = Literal["email", "sms"]


class GuardianBody(BaseModel):
    """The adult who receives a minor's reminders."""

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32, description="E.164, e.g. +15555550123")


class ContactPreferencesBody(BaseModel):
    """What the patient chose. Channels without an address are refused (422)."""

    opted_out: bool = Field(default=False, description="Stop all reminders")
    channels: list[ChannelName] = Field(default_factory=list, max_length=2)
    phone: str | None = Field(
        default=None, max_length=32, description="The patient's mobile number, E.164"
    )
    guardian: GuardianBody | None = Field(
        default=None, description="A minor's guardian receives the reminders (clinicians only)"
    )
    time_zone: str | None = Field(
        default=None, max_length=64, description="IANA time zone; null: the clinic's"
    )


class RecipientOut(BaseModel):
    kind: Literal["patient", "guardian"]
    name: str
    email: str | None
    phone: str | None
    time_zone: str


class ContactPreferencesOut(ContactPreferencesBody):
    patient_id: str
    chosen: bool = Field(description="False: nothing saved yet, the defaults apply")
    recipient: RecipientOut
    sends_by: list[ChannelName] = Field(
        description="The channels messages go out on now (none when opted out)"
    )


@router.get(
    "/{patient_id}/contact-preferences",
    response_model=ContactPreferencesOut,
    summary="A patient's reminder channels, opt-out and recipient",
)
def get_contact_preferences(
    patient_id: PatientIdPath,
    engine: EngineDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require(Action.PATIENT_READ))],
) -> ContactPreferencesOut:
    ensure_patient_access(principal, patient_id)
    state = read_contact_state(engine, patient_id, default_time_zone=settings.time_zone)
    return _out(state.preferences, state.choices, chosen=state.chosen)


@router.put(
    "/{patient_id}/contact-preferences",
    response_model=ContactPreferencesOut,
    summary="Replace a patient's reminder channels, opt-out and recipient",
)
def put_contact_preferences(
    patient_id: PatientIdPath,
    body: ContactPreferencesBody,
    engine: EngineDep,
    kb: KbDep,
    now: NowDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require(Action.SELF_REPORT))],
) -> ContactPreferencesOut:
    ensure_patient_access(principal, patient_id)
    stored = read_contact_choices(engine, patient_id)
    guardian = None if body.guardian is None else Guardian(
        body.guardian.name, body.guardian.email, body.guardian.phone
    )  # fmt: skip
    if guardian != stored.guardian:
        if not principal.may(Action.CLINICAL_RECORD):
            raise ProblemError(403, "forbidden", "only a clinician sets or removes a guardian")
        record, _ = read_allowed_record(engine, patient_id, principal, now=now, kb=kb)
        check_guardian_change(stored.guardian, guardian, birth_date=record.birth_date,
                              on=now.date(), kb=kb)  # fmt: skip
    choices = ContactChoices(body.opted_out, frozenset(body.channels), body.phone, guardian,
                             body.time_zone)  # fmt: skip
    preferences = write_contact_preferences(
        engine, patient_id, choices, actor=principal.username, now=now,
        default_time_zone=settings.time_zone,
    )  # fmt: skip
    return _out(preferences, read_contact_choices(engine, patient_id), chosen=True)


def _out(
    preferences: ContactPreferences, choices: ContactChoices, *, chosen: bool
) -> ContactPreferencesOut:
    recipient = preferences.recipient
    guardian = choices.guardian
    return ContactPreferencesOut(
        patient_id=preferences.patient_id,
        opted_out=choices.opted_out,
        channels=[c for c in ("email", "sms") if c in choices.channels],
        phone=choices.phone,
        guardian=None if guardian is None else GuardianBody(
            name=guardian.name, email=guardian.email, phone=guardian.phone
        ),
        time_zone=choices.time_zone,
        chosen=chosen,
        recipient=RecipientOut(
            kind="guardian" if recipient.kind == "guardian" else "patient",
            name=recipient.name, email=recipient.email, phone=recipient.phone,
            time_zone=recipient.time_zone,
        ),
        sends_by=[c for c in ("email", "sms") if c in preferences.usable_channels()],
    )  # fmt: skip
