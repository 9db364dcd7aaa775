"""Docs that can be generated are in step with the code; every command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from isotrack.cli.app import _register_commands, app

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"
_register_commands()
runner = CliRunner()


@pytest.mark.parametrize(
    ("page", "command"),
    [("rules.md", "rules"), ("claims.md", "claims"), ("sources.md", "sources")],
)
def test_generated_page_is_up_to_date(page: str, command: str) -> None:
    result = runner.invoke(app, [command, "--markdown"])
    assert result.exit_code == 0
    assert (DOCS / page).read_text() == result.stdout, (
        f"docs/{page} is stale: run `isotrack {command} --markdown > docs/{page}`"
    )


def test_every_command_and_option_is_in_the_cli_reference() -> None:
    reference = (DOCS / "cli.md").read_text()
    for command in app.registered_commands:
        name = str(command.name)
        assert f"## `isotrack {name}`" in reference, f"isotrack {name} is undocumented"
        section = reference.split(f"## `isotrack {name}`", 1)[1].split("\n## ", 1)[0]
        click_command = command.callback
        assert click_command is not None
        help_text = runner.invoke(app, [name, "--help"], terminal_width=200).stdout
        for token in help_text.split():
            option = token.strip("│,")
            if option.startswith("--") and option not in ("--help",) and len(option) > 2:
                assert option in section, f"{option} of isotrack {name} is undocumented"


def test_readme_opens_with_the_two_quick_start_commands() -> None:
    text = README.read_text()
    block = text.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]
    assert "not a substitute for clinical judgment" in text
    assert "docs/claims.md" in text
