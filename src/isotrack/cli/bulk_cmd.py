"""``isotrack screen-bulk``: screen a FHIR Bulk Data export, one NDJSON line per patient."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from isotrack import SAFETY_LINE
from isotrack.cli.app import PolicyOption, app, err, out, parse_day, translate_errors
from isotrack.clinical.findings import Severity
from isotrack.errors import InvalidInputError
from isotrack.population.runner import Job, RunResult, run_screening
from isotrack.population.runner import Progress as ProgressCallback
from isotrack.population.summary import Summary

INTERRUPTED_EXIT = 130
"""The shell's code for a run stopped by Ctrl-C."""
SEVERITIES = [s.label for s in Severity]


@contextmanager
def shard_progress() -> Iterator[ProgressCallback]:
    """A progress bar on stderr (shown only on a terminal) fed by the runner."""
    bar = Progress(
        TextColumn("screening shards"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
        transient=True,
    )
    task = bar.add_task("shards", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield update


def summary_table(summary: Summary) -> Table:
    view = Table(title="Findings per rule (patients screened)")
    view.add_column("rule")
    for severity in SEVERITIES:
        view.add_column(severity, justify="right")
    view.add_column("total", justify="right")
    for rule_id in sorted(summary.rules, key=lambda r: (-sum(summary.rules[r].values()), r)):
        counts = summary.rules[rule_id]
        view.add_row(
            rule_id,
            *(str(counts.get(s, "")) for s in SEVERITIES),
            str(sum(counts.values())),
        )
    return view


def print_summary(result: RunResult, out_file: Path) -> None:
    summary = result.summary
    if result.resumed:
        out.print(
            f"Resumed: {result.resumed} of {result.shards} shards were already done "
            "by an earlier run and were skipped.",
            markup=False,
        )
    counts = Table(title="Population screen", show_header=False)
    counts.add_column("what")
    counts.add_column("patients", justify="right")
    counts.add_row("patients read", str(summary.read))
    counts.add_row("screened", str(summary.screened))
    counts.add_row("  on isotretinoin", str(summary.on_isotretinoin))
    counts.add_row("  hypothetical order", str(summary.hypothetical_orders))
    counts.add_row("  with findings", str(summary.with_findings))
    counts.add_row("errors (unreadable records)", str(summary.errors))
    for reason, number in sorted(summary.skipped.items()):
        counts.add_row(f"not screened: {reason}", str(number))
    out.print(counts)
    if summary.rules:
        out.print(summary_table(summary))
    partition = result.partition
    if partition.get("unassigned") or partition.get("unreadable"):
        first = ", ".join(partition.get("unreadable_first", []))
        out.print(
            f"Skipped lines: {partition.get('unassigned', 0)} name no patient, "
            f"{partition.get('unreadable', 0)} are not JSON objects"
            + (f" (first: {first})" if first else ""),
            markup=False,
        )
    if result.skipped_files:
        out.print(f"Files not read: {', '.join(result.skipped_files)}", markup=False)
    out.print(f"One line per patient screened (and per error) in {out_file}", markup=False)
    out.print(SAFETY_LINE, markup=False)


@app.command("screen-bulk")
@translate_errors
def screen_bulk_command(
    export: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="Folder of a FHIR Bulk Data export (NDJSON, plain or .gz)."
        ),
    ],
    on: Annotated[
        str,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help="Evaluation date: screen as of this day."
        ),
    ],
    out_file: Annotated[
        Path,
        typer.Option("--out", metavar="FILE", help="NDJSON output: one line per patient screened."),
    ],
    order_all: Annotated[
        bool,
        typer.Option(
            "--order-all",
            help="Screen a hypothetical new isotretinoin order for every patient "
            "(default: only patients on isotretinoin).",
        ),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", min=1, help="Worker processes (default: every core)."),
    ] = None,
    restart: Annotated[
        bool,
        typer.Option("--restart", help="Start over instead of resuming an interrupted run."),
    ] = False,
    policy: PolicyOption = None,
) -> None:
    """Screen every patient of a FHIR Bulk Data export for isotretinoin safety.

    Finds the patients on isotretinoin on the date (or, with --order-all, screens a
    hypothetical new order for everyone), writes one NDJSON line per patient screened,
    and prints a summary table. Runs on every core with bounded memory, and resumes
    after an interruption when rerun with the same arguments. Exit code 0 when it
    ran (whatever it found), 1 for bad input, 130 when interrupted.

    Example: [bold]isotrack screen-bulk export/ --date 2024-08-06 --out findings.ndjson[/bold]
    """
    day = parse_day("--date", on)
    if not out_file.parent.is_dir():
        raise InvalidInputError(
            "--out", f"folder {out_file.parent} does not exist; create it first"
        )
    job = Job(
        export=export,
        out=out_file,
        on=day,
        order_all=order_all,
        jobs=jobs or os.cpu_count() or 1,
        restart=restart,
        policy=policy,
    )
    try:
        with shard_progress() as progress:
            result = run_screening(job, progress=progress)
    except KeyboardInterrupt:
        typer.echo(
            f"interrupted: finished shards are kept in {job.work}; rerun the same command "
            "to resume",
            err=True,
        )
        raise typer.Exit(INTERRUPTED_EXIT) from None
    print_summary(result, out_file)
