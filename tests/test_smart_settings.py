"""The SMART launch settings: EHR registrations are read from ``ISOTRACK_SMART_EHRS``
and checked when the server starts; anything unusable is refused naming the variable."""

from __future__ import annotations

import json
from typing import Any

import pytest

from isotrack.errors import InvalidInputError
from isotrack.http.authz import Role
from isotrack.http.smart import redirect_url, scopes_for, smart_registrations
from isotrack.settings import Settings, get_settings

EHR = {
    "iss": "https://ehr.example.org/fhir",
    "client_id": "isotrack",
    "client_secret": "a-secret",
    "frame_origins": ["https://ehr.example.org"],
    "roles": {"Practitioner": "prescriber"},
}


def settings(*ehrs: dict[str, Any], **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "production",
        "smart_ehrs": json.dumps(list(ehrs)),
        "smart_redirect_url": "https://isotrack.example.org/smart/callback",
        **changes,
    }
    return Settings(**values)


def test_a_registration_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOTRACK_SMART_EHRS", json.dumps([EHR]))
    monkeypatch.setenv("ISOTRACK_SMART_REDIRECT_URL", "https://isotrack.example.org/smart/callback")
    found = smart_registrations(get_settings())
    registration = found["https://ehr.example.org/fhir"]
    assert registration.roles == {"Practitioner": Role.PRESCRIBER}
    assert registration.frame_origins == ("https://ehr.example.org",)
    assert not registration.standalone
    assert "a-secret" not in repr(get_settings())


def test_an_object_instead_of_a_list_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISOTRACK_SMART_EHRS", json.dumps(EHR))
    with pytest.raises(InvalidInputError, match="ISOTRACK_SMART_EHRS"):
        get_settings()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"iss": "http://ehr.example.org/fhir"}, "must be an https URL"),
        ({"frame_origins": ["https://ehr.example.org/chart"]}, "no path"),
        ({"frame_origins": ["*"]}, "write an origin"),
        ({"roles": {"Practitioner": "superuser"}}, "a role is one of"),
        ({"roles": {"Patient": "patient"}}, "a role is one of"),
        ({"roles": {}}, "roles is required"),
    ],
)
def test_an_unusable_registration_is_refused(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        smart_registrations(settings({**EHR, **changes}))


def test_the_same_ehr_twice_and_a_missing_callback_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="twice"):
        smart_registrations(settings(EHR, EHR))
    with pytest.raises(InvalidInputError, match="ISOTRACK_SMART_REDIRECT_URL"):
        smart_registrations(settings(EHR, smart_redirect_url=""))


def test_the_callback_defaults_to_the_public_url() -> None:
    public = settings(EHR, smart_redirect_url="", cds_public_url="https://iso.example.org")
    assert redirect_url(public) == "https://iso.example.org/smart/callback"


def test_write_back_adds_only_the_document_create_scope() -> None:
    plain = smart_registrations(settings(EHR))[EHR["iss"]]
    writing = smart_registrations(settings({**EHR, "write_back": True}))[EHR["iss"]]
    extra = set(scopes_for(writing, ehr_launch=True).split()) - set(
        scopes_for(plain, ehr_launch=True).split()
    )
    assert extra == {"patient/DocumentReference.c"}
    assert "launch/patient" in scopes_for(plain, ehr_launch=False).split()
