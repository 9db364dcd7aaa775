"""Every subcommand of a command group (`isotrack db upgrade` ...) and each of its
options is in docs/cli.md (tests/test_docs.py checks the top-level commands)."""

from __future__ import annotations

from pathlib import Path

import pytest

from isotrack.cli.app import app
from tests.cli.storage_cli import invoke

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
SUBCOMMANDS = [
    (str(group.name), str(command.name))
    for group in app.registered_groups
    if group.typer_instance is not None
    for command in group.typer_instance.registered_commands
]


def test_the_storage_groups_are_registered() -> None:
    assert {("db", "upgrade"), ("db", "downgrade"), ("demo", "load")} <= set(SUBCOMMANDS)
    assert {("course", "show"), ("audit", "verify")} <= set(SUBCOMMANDS)
    assert {("ppp", "status"), ("ppp", "authorize"), ("ppp", "verify")} <= set(SUBCOMMANDS)


@pytest.mark.parametrize(("group", "name"), SUBCOMMANDS)
def test_every_subcommand_and_option_is_in_the_cli_reference(group: str, name: str) -> None:
    reference = REFERENCE.read_text()
    heading = f"## `isotrack {group} {name}`"
    assert heading in reference, f"isotrack {group} {name} is undocumented"
    section = reference.split(heading, 1)[1].split("\n## ", 1)[0]
    help_text = invoke(group, name, "--help").stdout
    assert "Example" in help_text
    for token in help_text.split():
        option = token.strip("│,")
        if option.startswith("--") and option != "--help" and len(option) > 2:
            assert option in section, f"{option} of isotrack {group} {name} is undocumented"
