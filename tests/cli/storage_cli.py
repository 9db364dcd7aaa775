"""Running the storage commands of the CLI against a temporary SQLite database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner, Result

from isotrack.cli.app import _register_commands, app

_register_commands()

DEMO_DAY = date(2026, 3, 2)
"""The demo clinic is dated to this day in the tests, so the output is fixed."""

runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=stdin, terminal_width=200)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def load_demo(path: Path) -> str:
    """Load the demo clinic into a new SQLite file; its URL."""
    url = sqlite_url(path)
    result = invoke("demo", "load", "--today", DEMO_DAY.isoformat(), "--database", url)
    assert result.exit_code == 0, result.output
    return url


def one_error_line(result: Result) -> str:
    """The CLI says what went wrong on one line of stderr, starting 'error:'."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    return lines[0]
