"""``POST /api/v1/pk/simulate``: the PK model over HTTP, under the planner's right,
with bounds that keep one request from eating the server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.route_helpers import sign_in

from isotrack.clinical.pk import single_dose
from isotrack.knowledge import default_knowledge

URL = "/api/v1/pk/simulate"


def test_a_prescriber_gets_the_typical_curves_and_washout(
    client: TestClient, api_engine: Engine
) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    body = {"dose_mg": 40, "times_per_day": 2, "days": 30, "follow_days": 20}
    answer = client.post(URL, json=body, headers=doctor)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["formulation"] == "conventional"
    curve = document["isotretinoin"]["curves_ng_ml"]["typical"]
    assert (
        len(curve) == len(document["times_h"]) == 29 * 24 + 12 + 20 * 24 + 1
    )  # to 20 days after the last dose
    washout = document["isotretinoin"]["washout_h"]["typical"]
    assert 24 < washout < document["oxo_isotretinoin"]["washout_h"]["typical"]
    assert "not a substitute for clinical judgment" in document["safety"]


def test_the_answer_has_the_last_days_levels_and_the_single_dose_measures(
    client: TestClient, api_engine: Engine
) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    body = {"dose_mg": 80, "times_per_day": 1, "days": 1, "fed": False}
    answer = client.post(URL, json=body, headers=doctor)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["last_dosing_day"] == 1
    assert document["single_dose"] == {
        "dose_mg": 80.0, "fed": False, "formulation": "conventional", "auc_interval": "0-inf",
    }  # fmt: skip
    reported = single_dose(default_knowledge(), 80, fed=False)
    for species, exposure in (
        ("isotretinoin", reported.parent),
        ("oxo_isotretinoin", reported.oxo),
    ):
        day = document[species]["last_day"]["typical"]
        assert day["peak_ng_ml"] > day["trough_ng_ml"] > 0
        measures = document[species]["single_dose"]["typical"]
        assert measures == {
            "cmax_ng_ml": pytest.approx(exposure.cmax[0], abs=0.01),
            "tmax_h": pytest.approx(exposure.tmax[0], abs=0.01),
            "auc_ng_h_ml": pytest.approx(exposure.auc[0], abs=0.1),
        }


def test_a_population_gives_percentile_curves(client: TestClient, api_engine: Engine) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    body = {"dose_mg": 32, "product": "absorica-ld", "days": 7, "population": 100, "seed": 2}
    answer = client.post(URL, json=body, headers=doctor)
    assert answer.status_code == 200, answer.text
    curves = answer.json()["isotretinoin"]["curves_ng_ml"]
    assert list(curves) == ["p5", "p50", "p95"]
    assert all(lo <= hi for lo, hi in zip(curves["p5"], curves["p95"], strict=True))


def test_more_than_2000_virtual_patients_is_refused(client: TestClient, api_engine: Engine) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    answer = client.post(URL, json={"dose_mg": 40, "population": 2001}, headers=doctor)
    assert answer.status_code == 422


def test_too_many_patient_time_points_are_refused_naming_the_limit(
    client: TestClient, api_engine: Engine
) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    body = {"dose_mg": 40, "days": 365, "population": 2000, "step_h": 1}
    answer = client.post(URL, json=body, headers=doctor)
    assert answer.status_code == 422
    assert "5,000,000" in answer.text


def test_a_topical_product_and_a_missed_day_outside_the_course_are_refused(
    client: TestClient, api_engine: Engine
) -> None:
    doctor = sign_in(client, api_engine, "prescriber")
    topical = client.post(URL, json={"dose_mg": 40, "product": "isotrex-gel"}, headers=doctor)
    assert topical.status_code == 422
    missed = client.post(URL, json={"dose_mg": 40, "days": 5, "missed_days": [6]}, headers=doctor)
    assert missed.status_code == 422


def test_the_pk_simulation_needs_the_plan_right(client: TestClient, api_engine: Engine) -> None:
    assert client.post(URL, json={"dose_mg": 40}).status_code == 401
    nurse = sign_in(client, api_engine, "nurse")
    assert client.post(URL, json={"dose_mg": 40}, headers=nurse).status_code == 403
