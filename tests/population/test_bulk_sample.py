"""`isotrack screen-bulk` on the 10-patient Bulk Data sample (issue 6, acceptance).

Every expectation is computed here from the NDJSON with plain ``json`` and the
contraception code table of tests/clinical/test_contraception_codes.py; nothing
of the output is written down in advance.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from isotrack.cli.app import _register_commands, app
from tests.clinical.test_contraception_codes import LISTED, MINIPILL, PRIMARY
from tests.population.exports import copy_plain, read_lines

_register_commands()
runner = CliRunner()
ON = "2024-08-06"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
SYSTEMS = {RXNORM: "rxnorm", SNOMED: "snomed"}


def screen_bulk(export: Path, out: Path, *extra: str) -> Any:
    result = runner.invoke(
        app, ["screen-bulk", str(export), "--out", str(out), *extra], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    return result


def resources(export: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(export.glob("*.ndjson.gz")):
        for line in gzip.decompress(path.read_bytes()).splitlines():
            if line.strip():
                found.append(json.loads(line))
    return found


def patient_of(resource: dict[str, Any]) -> str:
    return str(resource["subject"]["reference"]).rsplit("/", 1)[-1]


def contraceptive_records(export: Path) -> list[tuple[str, str, str, str, str]]:
    """(patient, record, method, US class, date) of every coded contraceptive record."""
    found = []
    for resource in resources(export):
        kind = resource["resourceType"]
        element = {
            "MedicationRequest": "medicationCodeableConcept",
            "Procedure": "code",
            "Condition": "code",
        }.get(kind)
        if element is None or element not in resource:
            continue
        when = (
            resource.get("authoredOn")
            or resource.get("onsetDateTime")
            or resource.get("performedPeriod", {}).get("start")
        )
        for coding in resource[element]["coding"]:
            listed = LISTED.get((SYSTEMS.get(coding["system"], ""), coding["code"]))
            if listed is not None and listed.method is not None:
                record = f"{kind}/{resource['id']}"
                found.append(
                    (patient_of(resource), record, listed.method, listed.us_class, when[:10])
                )
    return found


def alive_on(export: Path, day: str) -> set[str]:
    return {
        r["id"]
        for r in resources(export)
        if r["resourceType"] == "Patient" and r.get("deceasedDateTime", "9999")[:10] > day
    }


@pytest.fixture(scope="module")
def screened(bulk_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("bulk") / "findings.ndjson"
    result = screen_bulk(bulk_dir, out, "--order-all", "--date", ON, "--jobs", "1")
    return out, result.stdout


def test_every_living_patient_is_screened_once_with_a_hypothetical_order(
    bulk_dir: Path, screened: tuple[Path, str]
) -> None:
    lines = read_lines(screened[0])
    ids = [line["patient"] for line in lines]
    assert ids == sorted(set(ids)), "one line per patient, ordered by id"
    assert set(ids) == alive_on(bulk_dir, ON)
    assert all(line["order"]["hypothetical"] for line in lines)
    assert not any("error" in line for line in lines)


def test_contraceptive_records_are_recognised_as_their_methods_with_their_classes(
    bulk_dir: Path, screened: tuple[Path, str]
) -> None:
    expected: dict[str, set[tuple[str, str]]] = {}
    records: dict[str, set[str]] = {}
    for pid, record, method, us_class, _ in contraceptive_records(bulk_dir):
        expected.setdefault(pid, set()).add((method, us_class))
        records.setdefault(pid, set()).add(record)
    kinds = {method for methods in expected.values() for method, _ in methods}
    assert {"iud-levonorgestrel", "iud-unspecified", "implant-etonogestrel"} <= kinds
    assert {"vaginal-ring", MINIPILL} <= kinds
    for line in read_lines(screened[0]):
        listed = line["contraception"]
        pid = line["patient"]
        assert {(c["method"], c["class"]) for c in listed} == expected.get(pid, set()), pid
        sources = ", ".join(c["source"] for c in listed)
        assert all(record in sources for record in records.get(pid, set())), pid


def test_the_progestin_only_pills_are_minipills_never_primary(
    bulk_dir: Path, screened: tuple[Path, str]
) -> None:
    pills = {(pid, record) for pid, record, method, *_ in contraceptive_records(bulk_dir)
             if method == MINIPILL}  # fmt: skip
    assert pills, "the sample holds Camila and Errin"
    listed = [
        (line["patient"], c) for line in read_lines(screened[0]) for c in line["contraception"]
    ]
    for pid, record in pills:
        entry = next(c for p, c in listed if p == pid and record in c["source"])
        assert entry["minipill"] is True
        assert entry["class"] != PRIMARY
    assert all(c["minipill"] == (c["method"] == MINIPILL) for _, c in listed)


def test_contraception_minipill_fires_on_a_day_a_minipill_is_in_use(
    bulk_dir: Path, tmp_path: Path
) -> None:
    """The sample's pills were stopped on the day they were prescribed: screen that day."""
    pills = [(pid, day) for pid, _, method, _, day in contraceptive_records(bulk_dir)
             if method == MINIPILL]  # fmt: skip
    pid, day = sorted(pills)[0]
    out = tmp_path / "findings.ndjson"
    screen_bulk(bulk_dir, out, "--order-all", "--date", day, "--jobs", "1")
    expected = {p for p, d in pills if d == day}
    fired = {
        line["patient"]
        for line in read_lines(out)
        if any(f["rule_id"] == "CONTRACEPTION-MINIPILL" for f in line["findings"])
    }
    assert fired == expected
    line = next(line for line in read_lines(out) if line["patient"] == pid)
    in_use = [c for c in line["contraception"] if c["in_use"]]
    assert any(c["minipill"] for c in in_use)


def test_the_summary_table_counts_what_the_output_holds(
    bulk_dir: Path, screened: tuple[Path, str]
) -> None:
    out, stdout = screened
    lines = read_lines(out)
    per_rule = Counter(f["rule_id"] for line in lines for f in line["findings"])
    assert "Population screen" in stdout
    assert "Findings per rule" in stdout
    table = {row.split("│")[1].strip(): row.split("│")[-2].strip()
             for row in stdout.splitlines() if row.count("│") >= 3}  # fmt: skip
    assert table["patients read"] == str(len({r["id"] for r in resources(bulk_dir)
                                              if r["resourceType"] == "Patient"}))  # fmt: skip
    assert table["screened"] == str(len(lines))
    for rule_id, count in per_rule.items():
        assert table[rule_id] == str(count), rule_id


def test_one_or_two_jobs_and_plain_or_gzipped_files_give_the_same_output(
    bulk_dir: Path, screened: tuple[Path, str], tmp_path: Path
) -> None:
    two_jobs = tmp_path / "two.ndjson"
    screen_bulk(bulk_dir, two_jobs, "--order-all", "--date", ON, "--jobs", "2")
    plain = copy_plain(bulk_dir, tmp_path / "plain")
    from_plain = tmp_path / "plain.ndjson"
    screen_bulk(plain, from_plain, "--order-all", "--date", ON, "--jobs", "2")
    reference = screened[0].read_bytes()
    assert two_jobs.read_bytes() == reference
    assert from_plain.read_bytes() == reference


def test_without_order_all_only_patients_on_isotretinoin_are_written(
    bulk_dir: Path, tmp_path: Path
) -> None:
    on_isotretinoin = [r for r in resources(bulk_dir) if r["resourceType"] == "MedicationRequest"
                       and "isotretinoin" in json.dumps(r).lower()]  # fmt: skip
    out = tmp_path / "findings.ndjson"
    result = screen_bulk(bulk_dir, out, "--date", ON, "--jobs", "1")
    assert len(read_lines(out)) == len({patient_of(r) for r in on_isotretinoin
                                        if r["authoredOn"][:10] <= ON and
                                        r["status"] in ("draft", "active")})  # fmt: skip
    assert "not screened: not on isotretinoin" in result.stdout
