"""The EHR client's own rules, with httpx's mock transport standing in for a
misbehaving server (the real FHIR server is in test_sync.py): the access token never
leaves the FHIR base, and an answer that is not FHIR JSON is an error, not data."""

from __future__ import annotations

import httpx
import pytest

from isotrack.ehr.client import EhrClient, EhrReadError

BASE = "https://ehr.example/fhir"


def client_for(handler: httpx.MockTransport, seen: list[httpx.Request]) -> EhrClient:
    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler.handle_request(request)

    return EhrClient(BASE, "secret-token", httpx.Client(transport=httpx.MockTransport(recording)))


def test_a_next_link_outside_the_fhir_base_is_not_followed() -> None:
    page = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Observation", "id": "o1"}}],
        "link": [{"relation": "next", "url": "https://elsewhere.example/steal?page=2"}],
    }
    seen: list[httpx.Request] = []
    client = client_for(httpx.MockTransport(lambda request: httpx.Response(200, json=page)), seen)

    with pytest.raises(EhrReadError, match="outside its FHIR base"):
        client.search("Observation", {"patient": "Patient/p1"})

    assert [str(r.url.host) for r in seen] == ["ehr.example"]


def test_an_answer_that_is_not_fhir_json_is_an_error() -> None:
    seen: list[httpx.Request] = []
    html = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>login</html>"))
    client = client_for(html, seen)

    with pytest.raises(EhrReadError, match="GET Patient/p1: the EHR's answer is not FHIR JSON"):
        client.read("Patient", "p1")
    assert seen[0].headers["authorization"] == "Bearer secret-token"
