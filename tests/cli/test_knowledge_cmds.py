"""`isotrack rules / claims / monograph / sources` through the real CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from isotrack.cli.app import _register_commands, app
from tests.conftest import shared_dir

_register_commands()
runner = CliRunner()


def catalogue_ids() -> set[str]:
    rules_md = shared_dir() / "clinical" / "rules.md"
    if not rules_md.exists():
        pytest.skip(f"{rules_md} not found")
    return set(re.findall(r"^\| `([A-Z0-9-]+)` \|", rules_md.read_text(), flags=re.M))


def test_rules_json_lists_every_catalogue_id_with_severity_basis_and_source() -> None:
    result = runner.invoke(app, ["rules", "--json"])
    assert result.exit_code == 0, result.output
    rules = json.loads(result.stdout)
    assert {r["id"] for r in rules} == catalogue_ids()
    for rule in rules:
        assert rule["severities"]
        assert set(rule["severities"]) <= {"critical", "warning", "info"}
        assert rule["basis"]
        assert rule["basis_text"]
        assert rule["sources"]
        assert all(s["citation"] for s in rule["sources"])


def test_rules_table_filter_and_bad_table() -> None:
    result = runner.invoke(app, ["rules", "--table", "triage", "--json"])
    assert {r["table"] for r in json.loads(result.stdout)} == {"triage"}
    bad = runner.invoke(app, ["rules", "--table", "nope"])
    assert bad.exit_code == 1
    assert "must be order, course or triage" in bad.stderr


def test_rules_policy_file_is_reported(tmp_path: object) -> None:
    from pathlib import Path

    policy = Path(str(tmp_path)) / "clinic.toml"
    policy.write_text('[parameters]\n"tg.warning_mg_dl" = 450\n')
    result = runner.invoke(app, ["rules", "--policy", str(policy)])
    assert result.exit_code == 0
    assert "tg.warning_mg_dl" in result.stdout


def test_bad_policy_file_is_one_line_and_exit_1(tmp_path: object) -> None:
    from pathlib import Path

    policy = Path(str(tmp_path)) / "clinic.toml"
    policy.write_text('[parameters]\n"ppp.test_window_days" = 10\n')
    result = runner.invoke(app, ["rules", "--policy", str(policy)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "only basis-P parameters" in result.stderr


def test_claims_lists_the_fourteen_checked_claims() -> None:
    result = runner.invoke(app, ["claims", "--json"])
    claims = json.loads(result.stdout)
    assert [c["id"] for c in claims] == list("abcdefghijklmn")
    suppository = next(c for c in claims if c["id"] == "c")
    assert suppository["rating"] == "UNSUPPORTED"
    table = runner.invoke(app, ["claims"])
    assert "UNSUPPORTED" in table.stdout


def test_monograph_shows_metabolites_indications_and_sources() -> None:
    result = runner.invoke(app, ["monograph", "--json"])
    doc = json.loads(result.stdout)
    metabolism = next(s for s in doc["monograph"] if s["id"] == "metabolism")
    assert "4-oxo-isotretinoin" in metabolism["text"]
    assert {i["status"] for i in doc["indications"]} >= {"approved", "off-label"}
    assert all(i["sources"] for i in doc["indications"])
    text = runner.invoke(app, ["monograph"])
    assert text.exit_code == 0
    assert "Elimination" in text.stdout


def test_usage_error_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "isotrack", "rules", "--no-such-option"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2


def test_every_command_has_help_with_an_example() -> None:
    for name in [c.name for c in app.registered_commands]:
        result = runner.invoke(app, [str(name), "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.stdout, f"{name} --help has no example"
