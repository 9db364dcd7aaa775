"""`isotrack audit keygen`, `audit checkpoint`, `audit verify --checkpoint` and
`restore --checkpoint` on an SQLite demo clinic (issue 14, point 5)."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.cli.storage_cli import invoke, load_demo, one_error_line, sqlite_url


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private = tmp_path / "audit-key.pem"
    result = invoke("audit", "keygen", str(private))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    return private, tmp_path / "audit-key.pem.pub"


def _clinic_with_a_read(path: Path) -> str:
    """The demo clinic, its newest audit row a read of a record."""
    url = load_demo(path)
    assert invoke("course", "show", "demo-ana", "--database", url).exit_code == 0
    return url


def _checkpoint(url: str, private: Path, path: Path) -> None:
    made = invoke("audit", "checkpoint", "--database", url, "--key", str(private),
                  "--out", str(path))  # fmt: skip
    assert made.exit_code == 0, made.output


def _delete_newest_audit_row(path: Path) -> None:
    """Delete the newest row, a read: no command loses its audit row."""
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)")


def test_a_checkpoint_detects_deleted_newest_rows(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, public = keys
    url = _clinic_with_a_read(tmp_path / "clinic.db")
    checkpoint = tmp_path / "checkpoint.json"
    _checkpoint(url, private, checkpoint)
    assert json.loads(checkpoint.read_text())["rows"] > 0
    verify = ("audit", "verify", "--database", url)
    anchored = (*verify, "--checkpoint", str(checkpoint), "--key", str(public))
    assert invoke(*anchored).exit_code == 0
    _delete_newest_audit_row(tmp_path / "clinic.db")
    assert invoke(*verify).exit_code == 0  # no gap: the plain chain cannot tell
    result = invoke(*anchored)
    assert result.exit_code == 1
    assert "deleted" in one_error_line(result)


def test_verify_with_a_checkpoint_needs_a_key(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, _ = keys
    url = _clinic_with_a_read(tmp_path / "clinic.db")
    checkpoint = tmp_path / "checkpoint.json"
    _checkpoint(url, private, checkpoint)
    result = invoke("audit", "verify", "--database", url, "--checkpoint", str(checkpoint))
    assert result.exit_code != 0
    assert "--checkpoint needs --key" in one_error_line(result)


def test_restore_refuses_a_backup_whose_trail_was_cut_and_leaves_the_database_alone(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    url = _clinic_with_a_read(tmp_path / "clinic.db")
    checkpoint = tmp_path / "checkpoint.json"
    _checkpoint(url, private, checkpoint)
    _delete_newest_audit_row(tmp_path / "clinic.db")
    assert invoke("backup", str(tmp_path / "backup.db"), "--database", url).exit_code == 0
    target = sqlite_url(tmp_path / "restored.db")
    result = invoke("restore", str(tmp_path / "backup.db"), "--database", target,
                    "--checkpoint", str(checkpoint), "--key", str(public))  # fmt: skip
    assert result.exit_code == 1
    assert "deleted" in one_error_line(result)
    assert "nothing was restored" in one_error_line(result)
    again = invoke("restore", str(tmp_path / "backup.db"), "--database", target)
    assert again.exit_code == 0, again.stderr
