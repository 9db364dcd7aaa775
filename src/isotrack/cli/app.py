"""The Typer application and the one error translator of the CLI."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from isotrack import SAFETY_LINE, __version__
from isotrack.errors import InvalidInputError, IsotrackError
from isotrack.knowledge import KnowledgeBase, default_knowledge, load_knowledge

app = typer.Typer(
    name="isotrack",
    help=f"Decision support for isotretinoin therapy.\n\n{SAFETY_LINE}",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")

PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Clinic policy file (TOML) overriding clinic-policy thresholds.",
        envvar=None,
        exists=False,
        dir_okay=False,
    ),
]


def knowledge(policy: Path | None) -> KnowledgeBase:
    return default_knowledge() if policy is None else load_knowledge(policy)


def local_today() -> date:
    """Today on this machine's calendar (the CLI may read the clock; the engine may not)."""
    return datetime.now(UTC).astimezone().date()


def parse_day(option: str, text: str | None) -> date:
    """A ``YYYY-MM-DD`` option value; today when not given."""
    if text is None:
        return local_today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(option, f"must be a date like 2026-03-02, got {text!r}") from None


def print_json(document: Any) -> None:
    """Plain, indented JSON on stdout (no colour, no wrapping) for scripts."""
    out.print(
        json.dumps(document, ensure_ascii=False, indent=2),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def translate_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Print an IsotrackError as one line on stderr and exit 1."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except IsotrackError as exc:
            # One plain line, never wrapped, so scripts can read it.
            message = " ".join(str(exc).split())
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        out.print(f"isotrack {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Decision support for isotretinoin therapy."""


def _register_commands() -> None:
    # Each command module adds its commands to ``app`` when imported.
    from isotrack.cli import (  # noqa: F401
        audit_cmd,
        bulk_cmd,
        course_cmd,
        db_cmd,
        demo_cmd,
        doctor_cmd,
        knowledge_cmds,
        pk_cmd,
        plan_cmd,
        ppp_cmd,
        ppp_keys_cmd,
        reminders_cmd,
        screen_cmd,
        serve_cmd,
        transfer_cmd,
        user_cmd,
        worklist_cmd,
    )


def main() -> None:
    _register_commands()
    try:
        app()
    except SystemExit as exc:  # click exits 2 on usage errors already
        sys.exit(exc.code)
