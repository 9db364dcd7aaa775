"""A "stop" symptom recorded through `isotrack record` is REPORT-NEEDS-REVIEW in
`isotrack course show --json` until a clinician acknowledges it with
`isotrack worklist ack` (issue 13 acceptance)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.storage_cli import invoke, load_demo, one_error_line


@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    return load_demo(tmp_path / "demo.db")


def today() -> str:
    return datetime.now(UTC).astimezone().date().isoformat()


def review_findings(database: str) -> list[dict[str, str]]:
    result = invoke("course", "show", "demo-ana", "--json", "--database", database)
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    return [f for f in findings if f["rule_id"] == "REPORT-NEEDS-REVIEW"]


def open_items(database: str) -> list[dict[str, str]]:
    result = invoke("worklist", "show", "demo-ana", "--json", "--database", database)
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout)["items"])


def test_a_stop_symptom_needs_review_until_a_clinician_acknowledges_it(demo_db: str) -> None:
    assert review_findings(demo_db) == []
    command = {"type": "RecordSymptoms", "on": today(), "symptoms": ["severe-headache"]}
    recorded = invoke("record", "demo-ana", "-", "--database", demo_db, stdin=json.dumps(command))
    assert recorded.exit_code == 0, recorded.output

    (finding,) = review_findings(demo_db)
    assert finding["severity"] == "critical"
    (item,) = [i for i in open_items(demo_db) if i["patient_report"]]
    assert item["told_to_stop"]
    assert item["status"] == "open"

    acked = invoke("worklist", "ack", "demo-ana", item["id"], "--note", "called",
                   "--database", demo_db)  # fmt: skip
    assert acked.exit_code == 0, acked.output
    assert "acknowledged" in acked.stdout
    assert review_findings(demo_db) == []

    again = invoke("worklist", "ack", "demo-ana", item["id"], "--database", demo_db)
    assert again.exit_code == 1
    assert "already acknowledged" in one_error_line(again)

    no_note = invoke("worklist", "resolve", "demo-ana", item["id"], "--database", demo_db)
    assert no_note.exit_code == 1
    assert "note" in one_error_line(no_note)
    resolved = invoke("worklist", "resolve", "demo-ana", item["id"], "--note", "seen today",
                      "--database", demo_db)  # fmt: skip
    assert resolved.exit_code == 0, resolved.output
    assert not [i for i in open_items(demo_db) if i["id"] == item["id"]]


def test_acknowledging_an_item_that_is_not_there_changes_nothing(demo_db: str) -> None:
    result = invoke("worklist", "ack", "demo-ana", "symptoms-99", "--database", demo_db)
    assert result.exit_code == 1
    assert "not on the patient's worklist" in one_error_line(result)
