"""The example of docs/cds-hooks.md gives the cards the guide says it gives."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from isotrack.settings import Settings

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "cds-hooks.md"


def test_the_guide_example_request_gets_the_cards_it_describes(cds_client: TestClient) -> None:
    text = GUIDE.read_text()
    block = text.split("<!-- example-request -->", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    request = json.loads(block)
    described = text.split("<!-- example-cards -->", 1)[1].split("\n\n", 1)[0]
    expected = re.findall(r"`([A-Z][A-Z0-9-]+)` \(", described)
    response = cds_client.post("/cds-services/isotretinoin-order-sign", json=request)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert [card["source"]["topic"]["code"] for card in cards] == expected
    dose = next(c for c in cards if c["source"]["topic"]["code"] == "DOSE-ABOVE-RANGE")
    assert "30 mg 2×/day" in dose["suggestions"][0]["label"]
    assert "allergies" in cards[-1]["summary"]


def test_the_guide_documents_every_cds_setting() -> None:
    text = GUIDE.read_text()
    names = [name for name in Settings.model_fields if name.startswith("cds_")]
    assert len(names) >= 6
    for name in names:
        assert f"ISOTRACK_{name.upper()}" in text, f"ISOTRACK_{name.upper()} is undocumented"
