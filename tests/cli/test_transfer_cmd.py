"""`isotrack export` / `import` (FHIR R4) and `isotrack backup` / `restore`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.storage_cli import invoke, load_demo, one_error_line, sqlite_url


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return load_demo(tmp_path_factory.mktemp("demo") / "demo.db")


def timeline(url: str, patient: str) -> list[tuple[str, str]]:
    result = invoke("course", "show", patient, "--json", "--date", "2026-03-02", "--database", url)
    assert result.exit_code == 0, result.output
    return [(e["date"], e["what"]) for e in json.loads(result.stdout)["timeline"]]


def export(url: str, patient: str, path: Path) -> dict[str, object]:
    result = invoke("export", patient, "--out", str(path), "--database", url)
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(path.read_text())
    return document


def test_export_writes_a_fhir_bundle_to_stdout_or_a_file(demo_db: str, tmp_path: Path) -> None:
    printed = invoke("export", "demo-kara", "--database", demo_db)
    assert printed.exit_code == 0, printed.output
    bundle = json.loads(printed.stdout)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    assert export(demo_db, "demo-kara", tmp_path / "kara.json") == bundle


def test_import_creates_the_patient_with_the_same_data(demo_db: str, tmp_path: Path) -> None:
    export(demo_db, "demo-ana", tmp_path / "ana.json")
    url = sqlite_url(tmp_path / "other.db")
    assert invoke("db", "upgrade", "--database", url).exit_code == 0
    result = invoke("import", str(tmp_path / "ana.json"), "--date", "2026-03-02", "--database", url)
    assert result.exit_code == 0, result.output
    assert "Patient demo-ana created" in result.stdout
    kept = ("Weight", "Triglycerides", "ALT", "Pregnancy test", "Contraception", "PHQ-9")
    original = [e for e in timeline(demo_db, "demo-ana") if e[1].startswith(kept)]
    assert len(original) > 10
    imported = timeline(url, "demo-ana")
    for entry in original:
        assert entry in imported, entry
    assert invoke("audit", "verify", "--database", url).exit_code == 0


def test_importing_twice_is_refused_unless_update_and_then_adds_nothing(
    demo_db: str, tmp_path: Path
) -> None:
    export(demo_db, "demo-luca", tmp_path / "luca.json")
    url = sqlite_url(tmp_path / "other.db")
    assert invoke("db", "upgrade", "--database", url).exit_code == 0
    first = invoke("import", str(tmp_path / "luca.json"), "--patient", "p-7", "--database", url)
    assert first.exit_code == 0, first.output
    again = invoke("import", str(tmp_path / "luca.json"), "--patient", "p-7", "--database", url)
    assert again.exit_code == 1
    assert "--update" in one_error_line(again)
    update = ("--patient", "p-7", "--update", "--database", url)
    updated = invoke("import", str(tmp_path / "luca.json"), *update)
    assert updated.exit_code == 0, updated.output
    assert "Patient p-7 updated: 0 command(s)" in updated.stdout
    assert timeline(url, "p-7") == timeline(demo_db, "demo-luca")


def test_a_later_export_adds_only_the_newer_commands(tmp_path: Path) -> None:
    source = load_demo(tmp_path / "source.db")
    export(source, "demo-ana", tmp_path / "before.json")
    weight = '{"type": "RecordWeight", "on": "2026-03-02", "value": 61.5}'
    recorded = invoke("record", "demo-ana", "-", "--database", source, stdin=weight)
    assert recorded.exit_code == 0, recorded.output
    export(source, "demo-ana", tmp_path / "after.json")
    url = sqlite_url(tmp_path / "other.db")
    assert invoke("db", "upgrade", "--database", url).exit_code == 0
    assert invoke("import", str(tmp_path / "before.json"), "--database", url).exit_code == 0
    result = invoke("import", str(tmp_path / "after.json"), "--update", "--database", url)
    assert result.exit_code == 0, result.output
    assert "Patient demo-ana updated: 1 command(s)" in result.stdout
    assert timeline(url, "demo-ana") == timeline(source, "demo-ana")
    assert invoke("audit", "verify", "--database", url).exit_code == 0


def test_import_refuses_data_after_the_import_day_and_stores_nothing(
    demo_db: str, tmp_path: Path
) -> None:
    export(demo_db, "demo-hugo", tmp_path / "hugo.json")
    url = sqlite_url(tmp_path / "other.db")
    assert invoke("db", "upgrade", "--database", url).exit_code == 0
    early = invoke("import", str(tmp_path / "hugo.json"), "--date", "2026-02-01", "--database", url)
    assert early.exit_code == 1
    assert "future" in one_error_line(early)
    with sqlite3.connect(tmp_path / "other.db") as connection:
        assert connection.execute("SELECT count(*) FROM commands").fetchone() == (0,)


def test_import_of_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = invoke("import", str(bad), "--database", sqlite_url(tmp_path / "x.db"))
    assert result.exit_code == 1
    one_error_line(result)


def test_backup_and_restore_give_the_same_records(demo_db: str, tmp_path: Path) -> None:
    backup_file = tmp_path / "clinic.backup"
    result = invoke("backup", str(backup_file), "--database", demo_db)
    assert result.exit_code == 0, result.output
    url = sqlite_url(tmp_path / "restored.db")
    restored = invoke("restore", str(backup_file), "--database", url)
    assert restored.exit_code == 0, restored.output
    assert timeline(url, "demo-eva") == timeline(demo_db, "demo-eva")
    assert invoke("audit", "verify", "--database", url).exit_code == 0


def test_json_backup_restores_too(demo_db: str, tmp_path: Path) -> None:
    backup_file = tmp_path / "clinic.json"
    assert (
        invoke("backup", str(backup_file), "--format", "json", "--database", demo_db).exit_code == 0
    )
    assert json.loads(backup_file.read_text())
    url = sqlite_url(tmp_path / "restored.db")
    assert invoke("restore", str(backup_file), "--database", url).exit_code == 0
    assert timeline(url, "demo-grace") == timeline(demo_db, "demo-grace")


def test_restore_refuses_a_database_with_data_unless_forced(demo_db: str, tmp_path: Path) -> None:
    backup_file = tmp_path / "clinic.backup"
    assert invoke("backup", str(backup_file), "--database", demo_db).exit_code == 0
    url = load_demo(tmp_path / "busy.db")
    refused = invoke("restore", str(backup_file), "--database", url)
    assert refused.exit_code == 1
    assert "--force" in one_error_line(refused)
    forced = invoke("restore", str(backup_file), "--force", "--database", url)
    assert forced.exit_code == 0, forced.output
    assert invoke("audit", "verify", "--database", url).exit_code == 0


def test_restore_of_a_missing_file_is_one_line(tmp_path: Path) -> None:
    result = invoke("restore", str(tmp_path / "nope"), "--database", sqlite_url(tmp_path / "x.db"))
    assert result.exit_code == 1
    assert "nope" in one_error_line(result)
