"""The Typer application and the one error translator of the CLI."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from isotrack import SAFETY_LINE, __version__
from isotrack.errors import IsotrackError
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
    from isotrack.cli import knowledge_cmds, plan_cmd  # noqa: F401


def main() -> None:
    _register_commands()
    try:
        app()
    except SystemExit as exc:  # click exits 2 on usage errors already
        sys.exit(exc.code)
