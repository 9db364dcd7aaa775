"""Acceptance: every Synthea R4 bundle in shared/data screens an isotretinoin order.

Each bundle gets a draft order (Isotretinoin 40 MG Oral Capsule, 40 mg twice a
day, 60 capsules, 30 days, no repeats) dated on its last encounter, and is
screened on that day. The bundles are read-only: they are decompressed in
memory, and the order is decoded on its own and added to the decoded bundle.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

import isotrack.cli.screen_cmd  # registers `isotrack screen`
import isotrack.clinical.screening.rules.contraception  # registers the rules used below
import isotrack.clinical.screening.rules.pregnancy  # noqa: F401
from isotrack.cli.app import app
from isotrack.clinical.codes import match
from isotrack.clinical.findings import Assessment
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.screening.contraception import contraception_status
from isotrack.clinical.snapshot import PatientSnapshot, Sex
from isotrack.fhir import (
    FhirBundle,
    decode_bundle,
    find_isotretinoin_order,
    read_order,
    snapshot_from_bundle,
)
from isotrack.fhir.resources import Encounter, Patient
from isotrack.fhir.values import fhir_date
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.conftest import shared_dir
from tests.fhir.builders import isotretinoin_order

FILES = sorted(p.name for p in (shared_dir() / "data" / "synthea-r4").glob("*.json.gz"))
IMPLANT_USERS = ("Carin_Kerluke", "Casandra_Emmerich", "Jill_Tillman", "Madalyn_Frami")
"""Active etonogestrel implant at the last encounter: an active 389221 order
(Carin), or an insertion or replacement procedure with no later removal."""
CLI_SAMPLE = ("Madalyn_Frami", "Alfonso_Dietrich", "Catherine_Turner", "Estrella_Hettinger")


@dataclass(frozen=True)
class Screened:
    snapshot: PatientSnapshot
    assessment: Assessment
    on: date


def last_encounter_day(bundle: FhirBundle) -> date:
    days = [
        fhir_date(e.period.end or e.period.start, "Encounter.period")
        for e in bundle.of_type(Encounter)
        if e.period is not None
    ]
    return max(d for d in days if d is not None)


def order_document(patient_url: str, on: date) -> dict[str, object]:
    order = isotretinoin_order(id="isotrack-test-order", authored=on.isoformat())
    order["subject"] = {"reference": patient_url}
    return order


def patient_url(bundle: FhirBundle) -> str:
    entry = next(e for e in bundle.entries if e.resource_type == "Patient")
    assert entry.full_url is not None
    return entry.full_url


@cache
def screened(path: Path) -> Screened:
    kb = default_knowledge()
    record = decode_bundle(gzip.decompress(path.read_bytes()))
    on = last_encounter_day(record)
    record = record.including(decode_bundle(order_document(patient_url(record), on)))
    request = find_isotretinoin_order(record, kb=kb)
    assert request is not None
    assert request.id == "isotrack-test-order"
    snapshot = snapshot_from_bundle(record, kb=kb, order=request, on=on)
    order = read_order(request, kb, bundle=record).order
    return Screened(snapshot, screen_order(snapshot, order, on=on, kb=kb), on)


def can_get_pregnant(screen: Screened, kb: KnowledgeBase) -> bool:
    """rules.md "CBP" from FHIR data alone: female, 10–55, no hysterectomy, bilateral
    oophorectomy or menopause recorded."""
    snapshot, on = screen.snapshot, screen.on
    assert snapshot.birth_date is not None
    age = (
        on.year
        - snapshot.birth_date.year
        - ((on.month, on.day) < (snapshot.birth_date.month, snapshot.birth_date.day))
    )
    if snapshot.sex is not Sex.FEMALE:
        return False
    if not kb.number("ppp.cbp_assumed_min_age") <= age <= kb.number("ppp.cbp_assumed_max_age"):
        return False
    ruled_out = [kb.valueset("hysterectomy-oophorectomy"), kb.valueset("menopause")]
    concepts = [p.concept for p in snapshot.procedures if p.done_by(on)]
    concepts += [c.concept for c in snapshot.conditions if c.ever_on(on)]
    return not any(match(c, v).matched for c in concepts for v in ruled_out)


def test_all_86_bundles_are_there(synthea_dir: Path) -> None:
    assert len(FILES) == 86


@pytest.mark.parametrize("name", FILES)
def test_every_bundle_screens_and_pregnancy_testing_follows_capability(
    synthea_dir: Path, kb: KnowledgeBase, name: str
) -> None:
    screen = screened(synthea_dir / name)
    assert screen.assessment.evaluated_on == screen.on
    assert screen.snapshot.pregnancy_tests == ()  # Synthea records no hCG result
    expected = can_get_pregnant(screen, kb)
    assert screen.assessment.has("PREG-TEST-REQUIRED") is expected


def test_the_bundles_include_both_sides_of_the_pregnancy_rule(
    synthea_dir: Path, kb: KnowledgeBase
) -> None:
    sides = {can_get_pregnant(screened(synthea_dir / name), kb) for name in FILES}
    assert sides == {True, False}


@pytest.mark.parametrize("person", IMPLANT_USERS)
def test_an_active_etonogestrel_implant_is_a_primary_method(
    synthea_dir: Path, kb: KnowledgeBase, person: str
) -> None:
    (name,) = [n for n in FILES if n.startswith(person)]
    screen = screened(synthea_dir / name)
    status = contraception_status(screen.snapshot, screen.on, kb)
    assert "implant-etonogestrel" in [m.method.id for m in status.primary_methods]


def test_a_removed_implant_is_not_a_method(synthea_dir: Path, kb: KnowledgeBase) -> None:
    (name,) = [n for n in FILES if n.startswith("Marguerita_Reilly")]
    screen = screened(synthea_dir / name)  # implant inserted 2018-11-15, removed 2019-11-14
    status = contraception_status(screen.snapshot, screen.on, kb)
    assert not status.uses("implant-etonogestrel")


def test_the_cli_screens_a_handful_of_bundles(synthea_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for person in CLI_SAMPLE:
        (name,) = [n for n in FILES if n.startswith(person)]
        screen = screened(synthea_dir / name)
        record = decode_bundle(gzip.decompress((synthea_dir / name).read_bytes()))
        order_file = tmp_path / f"{person}-order.json"
        order_file.write_text(json.dumps(order_document(patient_url(record), screen.on)))
        result = runner.invoke(
            app,
            ["screen", str(synthea_dir / name), "--order", str(order_file),
             "--date", screen.on.isoformat(), "--json"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert document["patient"]["id"] == record.of_type(Patient)[0].id
        assert [f["rule_id"] for f in document["findings"]] == list(screen.assessment.rule_ids)
