"""`isotrack rules` names the active pregnancy prevention programme rule set and its
version; `isotrack rules --programme` lists that rule set's rules with values and sources."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from isotrack.cli.app import _register_commands, app

_register_commands()
runner = CliRunner()

US_LINE = (
    "Pregnancy prevention programme: iPLEDGE REMS (us-ipledge-2024, "
    "version 2024 modification, approved 2024-02-09)"
)


def rules(*args: str) -> Result:
    return runner.invoke(app, ["rules", *args], terminal_width=200)


def eu_policy(tmp_path: Path) -> Path:
    policy = tmp_path / "eu-clinic.toml"
    policy.write_text('[parameters]\n"ppp.default_programme" = "eu-ppp-2018"\n')
    return policy


def test_the_catalogue_table_names_the_active_rule_set_and_its_version() -> None:
    result = rules()
    assert result.exit_code == 0, result.output
    assert US_LINE in result.stdout
    assert "isotrack rules --programme" in result.stdout


def test_a_clinic_that_chooses_the_eu_rule_set_sees_it_named(tmp_path: Path) -> None:
    result = rules("--policy", str(eu_policy(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "eu-ppp-2018, version EMA 2018 revision" in result.stdout
    assert "us-ipledge-2024" not in result.stdout.split("Pregnancy prevention programme:")[1]


def test_rules_json_stays_a_list_of_catalogue_rules() -> None:
    document = json.loads(rules("--json").stdout)
    assert isinstance(document, list)
    assert all("severities" in rule for rule in document)


def test_programme_json_lists_the_active_rule_set_with_values_and_sources() -> None:
    result = rules("--programme", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["id"], document["active"]) == ("us-ipledge-2024", True)
    assert document["version"] == "2024 modification, approved 2024-02-09"
    assert document["questions"] > 0
    by_name = {rule["name"]: rule for rule in document["rules"]}
    assert by_name["test_window_days"]["value"] == 7
    assert by_name["test_window_days"]["value_text"] == "7 d"
    assert by_name["lockout_days"]["value"] == 0
    for rule in document["rules"]:
        assert rule["id"] == f"us-ipledge-2024.{rule['name']}"
        assert rule["sources"], rule["id"]
        assert all(source["citation"] for source in rule["sources"])


def test_another_rule_set_can_be_shown_without_becoming_active() -> None:
    document = json.loads(rules("--programme", "--rule-set", "eu-ppp-2018", "--json").stdout)
    assert (document["id"], document["active"]) == ("eu-ppp-2018", False)
    assert {rule["name"] for rule in document["rules"]} >= {"test_window_days", "contraception"}


def test_programme_table_shows_each_rule_its_value_and_its_sources() -> None:
    result = rules("--programme")
    assert result.exit_code == 0, result.output
    assert f"{US_LINE} (active rule set)" in result.stdout
    assert "test_window_days" in result.stdout
    assert "ipledge-rems" in result.stdout
    assert "decision support" in result.stdout


def test_programme_markdown_is_one_rule_set_page() -> None:
    result = rules("--programme", "--rule-set", "eu-ppp-2018", "--markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "# EU pregnancy prevention programme for oral retinoids (`eu-ppp-2018`)"
    )
    assert "| `test_window_days` | 7 d |" in result.stdout


def test_the_markdown_catalogue_ends_with_every_rule_set() -> None:
    page = rules("--markdown").stdout
    section = page.split("## Pregnancy prevention programmes", 1)[1]
    assert "### iPLEDGE REMS (`us-ipledge-2024`)" in section
    assert "(`eu-ppp-2018`)" in section
    assert (
        "## Pregnancy prevention programmes" not in rules("--markdown", "--table", "order").stdout
    )


def test_an_unknown_rule_set_is_refused_with_the_known_ones() -> None:
    result = rules("--programme", "--rule-set", "us-ipledge-2019")
    assert result.exit_code == 1
    assert "known: us-ipledge-2024, eu-ppp-2018" in result.stderr or (
        "known: eu-ppp-2018, us-ipledge-2024" in result.stderr
    )


def test_rule_set_without_programme_and_programme_with_table_are_refused() -> None:
    alone = rules("--rule-set", "eu-ppp-2018")
    assert alone.exit_code == 1
    assert "--rule-set: goes with --programme" in alone.stderr
    mixed = rules("--programme", "--table", "order")
    assert mixed.exit_code == 1
    assert "--table" in mixed.stderr
