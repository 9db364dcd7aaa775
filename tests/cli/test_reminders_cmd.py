"""`isotrack reminders preview` on the demo clinic, and `isotrack worker`'s refusals
(issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.storage_cli import DEMO_DAY, invoke, load_demo, one_error_line


@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    return load_demo(tmp_path / "demo.db")


def test_preview_lists_the_coming_reminders_of_demo_kara(demo_db: str) -> None:
    day = DEMO_DAY.isoformat()
    result = invoke("reminders", "preview", "demo-kara", "--date", day, "--database", demo_db)
    assert result.exit_code == 0, result.output
    assert "Reminders for Kara Singh" in result.stdout
    assert "the monthly visit" in result.stdout
    assert "a test window opens" in result.stdout

    as_json = invoke("reminders", "preview", "demo-kara", "--date", day, "--json",
                     "--database", demo_db)  # fmt: skip
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    rows = document["reminders"]
    assert {"visit", "mood-check", "test-window-opens"} <= {r["kind"] for r in rows}
    assert all(r["send_on"] <= "2026-04-01" for r in rows)
    assert len({r["key"] for r in rows}) == len(rows)
    assert all(r["status"] == "not queued" for r in rows)
    assert document["recipient"]["email"] is None  # the demo patients have no portal account

    shorter = invoke("reminders", "preview", "demo-kara", "--date", day, "--days", "3", "--json",
                     "--database", demo_db)  # fmt: skip
    assert len(json.loads(shorter.stdout)["reminders"]) < len(rows)


def test_preview_of_an_unknown_patient_is_one_error_line(demo_db: str) -> None:
    result = invoke("reminders", "preview", "nobody", "--database", demo_db)
    assert result.exit_code == 1
    assert "nobody" in one_error_line(result)


def test_the_worker_needs_a_mail_server_and_now_only_with_once(
    demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISOTRACK_ENV", "test")
    monkeypatch.delenv("ISOTRACK_SMTP_HOST", raising=False)
    no_server = invoke("worker", "--once", "--database", demo_db)
    assert no_server.exit_code == 1
    assert "ISOTRACK_SMTP_HOST" in one_error_line(no_server)
    looping = invoke("worker", "--now", "2026-03-02T10:00:00+00:00", "--database", demo_db)
    assert "--once" in one_error_line(looping)
    naive = invoke("worker", "--once", "--now", "2026-03-02T10:00", "--database", demo_db)
    assert "time zone" in one_error_line(naive)
