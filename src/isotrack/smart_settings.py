"""The SMART on FHIR settings (``ISOTRACK_SMART_*``), fields of :class:`isotrack.settings.Settings`.

Declared here and read with the rest of the settings by the one settings class
(``Settings`` inherits these fields); nothing here reads the environment.
``ISOTRACK_SMART_EHRS`` is a JSON list of EHR registrations, one per EHR that
launches isotrack (:class:`SmartEhr`); ``ISOTRACK_SMART_REDIRECT_URL`` the one
callback URL every EHR registers (``https://isotrack.example.org/smart/callback``).
What is only known with the environment (https outside development, a role
that exists) is checked when the server starts (:func:`isotrack.http.smart.smart_registrations`).
docs/smart.md explains each setting.

>>> SmartSettings(smart_ehrs='[{"iss": "https://ehr.example.org/fhir", "client_id": "iso",'
...     ' "client_secret": "s", "roles": {"Practitioner": "prescriber"}}]').smart_ehrs[0].iss
'https://ehr.example.org/fhir'
>>> SmartSettings(smart_ehrs='{"iss": "x"}')  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for SmartSettings
...
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import NoDecode


class SmartEhr(BaseModel):
    """One EHR that launches isotrack as a SMART app (a confidential client)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    iss: str = Field(min_length=1)
    """The EHR's FHIR base URL, exactly as it sends it in ``iss`` (the launch is
    refused for any other); its ``.well-known/smart-configuration`` is read from it."""

    name: str = ""
    """The EHR's name on pages (default: its address)."""

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    """isotrack's client secret at this EHR (sent with HTTP Basic to the token endpoint)."""

    frame_origins: tuple[str, ...] = ()
    """The origins (``https://ehr.example.org``) that may show isotrack in a frame,
    for sessions launched from this EHR only."""

    patient_identifier_system: str | None = None
    """The identifier system of the EHR's patients that links them to isotrack's records."""

    role_claim: str = "fhirUser"
    """The ID-token claim the role is read from; for ``fhirUser`` (``Practitioner/123``)
    both the whole value and its resource type (``Practitioner``) are looked up."""

    roles: dict[str, str] = Field(default_factory=dict)
    """Which value of :attr:`role_claim` gives which isotrack role, e.g.
    ``{"Practitioner": "prescriber", "PractitionerRole/pharm-1": "pharmacist"}``."""

    standalone: bool = False
    """Whether isotrack may also be opened outside the EHR (standalone launch, the
    person picks a patient at the EHR); False: only launches from the EHR."""

    write_back: bool = False
    """Whether isotrack asks to write the course summary back (``patient/DocumentReference.c``)."""


class SmartSettings(BaseModel):
    """SMART App Launch: the EHRs that may launch isotrack, and its callback URL."""

    smart_ehrs: Annotated[tuple[SmartEhr, ...], NoDecode] = ()
    """The EHR registrations (``ISOTRACK_SMART_EHRS``, a JSON list); empty: SMART off."""

    smart_redirect_url: str | None = None
    """The callback URL registered at every EHR (``ISOTRACK_SMART_REDIRECT_URL``),
    e.g. https://isotrack.example.org/smart/callback."""

    @field_validator("smart_ehrs", mode="before")
    @classmethod
    def _read_ehrs(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return ()
            try:
                value = json.loads(text)
            except ValueError as error:
                raise ValueError(
                    f"is not valid JSON ({error}); write a list of registrations such as "
                    '[{"iss": "https://ehr.example.org/fhir", "client_id": "isotrack", '
                    '"client_secret": "…", "roles": {"Practitioner": "prescriber"}}]'
                ) from None
        if isinstance(value, dict) or not isinstance(value, list | tuple):
            raise ValueError("must be a JSON list of EHR registrations (one object per EHR)")
        return tuple(value)

    @field_validator("smart_redirect_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return (value.strip() or None) if isinstance(value, str) else value
