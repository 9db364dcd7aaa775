"""``isotrack pk simulate``: isotretinoin and 4-oxo-isotretinoin concentrations for
a dose regimen, one typical patient or a virtual population, and the washout."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from isotrack import SAFETY_LINE
from isotrack.cli.app import app, knowledge, out, print_json, translate_errors
from isotrack.clinical.pk import Simulation, formulation_of, regular_regimen, simulate
from isotrack.errors import InvalidInputError

pk_app = typer.Typer(
    name="pk",
    help="Pharmacokinetics: simulated isotretinoin and 4-oxo-isotretinoin levels (docs/pk.md).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(pk_app, name="pk")

MODEL_NOTE = (
    "Model built from label means (docs/pk.md); exposure relative to conventional capsules "
    "with food, not a prediction for one patient."
)


def rounded(value: float, digits: int = 1) -> float | None:
    """A JSON number, None for NaN (not reached within the simulated time)."""
    return None if math.isnan(value) else round(float(value), digits)


def row_names(result: Simulation) -> list[str]:
    if not result.subjects:
        return ["typical"]
    return [f"p{p:g}" for p in result.percentiles]


def last_day(result: Simulation) -> np.ndarray:
    """Samples of the 24 h up to the last dose (the last dosing day)."""
    times = result.times_h
    return np.asarray((times > result.last_dose_h - 24) & (times <= result.last_dose_h))


def simulation_json(result: Simulation, request: dict[str, Any]) -> dict[str, Any]:
    names = row_names(result)
    window = last_day(result)

    def species(rows: np.ndarray, washout: np.ndarray, steady: np.ndarray) -> dict[str, Any]:
        return {
            "curves_ng_ml": {
                n: [round(float(v), 2) for v in r] for n, r in zip(names, rows, strict=True)
            },
            "last_day": {
                n: {
                    "peak_ng_ml": rounded(r[window].max()),
                    "trough_ng_ml": rounded(r[window].min()),
                    "mean_ng_ml": rounded(r[window].mean()),
                }
                for n, r in zip(names, rows, strict=True)
            },
            "steady_state_average_ng_ml": dict(
                zip(names, (rounded(v) for v in steady), strict=True)
            ),
            "washout_h": dict(zip(names, (rounded(v) for v in washout), strict=True)),
        }

    return {
        "request": request,
        "subjects": result.subjects,
        "percentiles": list(result.percentiles),
        "last_dose_h": result.last_dose_h,
        "washout_fraction": result.washout_fraction,
        "times_h": [round(float(t), 4) for t in result.times_h],
        "isotretinoin": species(result.parent, result.washout_parent_h, result.steady_parent),
        "oxo_isotretinoin": species(result.oxo, result.washout_oxo_h, result.steady_oxo),
        "note": MODEL_NOTE,
        "safety": SAFETY_LINE,
    }


def hours_text(hours: float) -> str:
    if math.isnan(hours):
        return "not within the simulated time"
    return f"{hours:.0f} h ({hours / 24:.1f} days)"


def print_tables(result: Simulation, title: str) -> None:
    names = row_names(result)
    window = last_day(result)
    view = Table(title=title)
    view.add_column("measure")
    for name in names:
        view.add_column(name, justify="right")
    for label, rows, washout, steady in (
        ("isotretinoin", result.parent, result.washout_parent_h, result.steady_parent),
        ("4-oxo-isotretinoin", result.oxo, result.washout_oxo_h, result.steady_oxo),
    ):
        view.add_row(f"{label}: last-day peak ng/mL", *(f"{r[window].max():.0f}" for r in rows))
        view.add_row(f"{label}: last-day trough ng/mL", *(f"{r[window].min():.0f}" for r in rows))
        view.add_row(f"{label}: steady-state average ng/mL", *(f"{v:.0f}" for v in steady))
        view.add_row(
            f"{label}: below {result.washout_fraction:.0%} of it after",
            *(hours_text(v) for v in washout),
        )
    out.print(view)
    if result.subjects:
        out.print(
            f"{result.subjects} virtual patients; columns are percentiles of the curves "
            "(washout: percentiles over patients).",
            markup=False,
        )
    out.print(MODEL_NOTE, markup=False)
    out.print(SAFETY_LINE, markup=False)


def save_plot(result: Simulation, path: Path, title: str) -> None:
    """Two panels (isotretinoin, 4-oxo-isotretinoin) over days, with the 5–95 %
    band of a population and the washout line. matplotlib is only needed here."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidInputError(
            "--plot", "needs matplotlib: pip install 'isotrack[plot]'"
        ) from None
    days = result.times_h / 24
    figure, axes = plt.subplots(2, 1, figsize=(8, 6), sharex=True, dpi=90)
    panels = (
        ("isotretinoin", result.parent, result.steady_parent),
        ("4-oxo-isotretinoin", result.oxo, result.steady_oxo),
    )
    for axis, (name, rows, steady) in zip(axes, panels, strict=True):
        middle = len(rows) // 2
        if len(rows) > 1:
            axis.fill_between(days, rows[0], rows[-1], alpha=0.25, label="5th–95th percentile")
        axis.plot(days, rows[middle], label="median" if len(rows) > 1 else "typical patient")
        line = result.washout_fraction * float(steady[len(steady) // 2])
        axis.axhline(
            line,
            linestyle=":",
            color="grey",
            label=f"{result.washout_fraction:.0%} of steady state",
        )
        axis.axvline(
            result.last_dose_h / 24, linestyle="--", color="black", linewidth=0.8, label="last dose"
        )
        axis.set_ylabel(f"{name} ng/mL")
        axis.legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("day")
    axes[0].set_title(title, fontsize=10)
    figure.tight_layout()
    try:
        figure.savefig(path)
    except OSError as exc:
        raise InvalidInputError("--plot", f"cannot write {path}: {exc.strerror}") from None
    finally:
        plt.close(figure)


@pk_app.command("simulate")
@translate_errors
def simulate_command(
    dose: Annotated[float, typer.Option("--dose", help="mg per dose.")],
    times_per_day: Annotated[
        int, typer.Option("--times-per-day", help="Doses a day, evenly spaced (1–4).")
    ] = 2,
    days: Annotated[int, typer.Option("--days", help="Days of dosing.")] = 30,
    fasted: Annotated[
        bool, typer.Option("--fasted", help="Taken without food (default: with food).")
    ] = False,
    product: Annotated[
        str,
        typer.Option("--product", help="conventional, absorica, absorica-ld (or eu-capsules)."),
    ] = "conventional",
    population: Annotated[
        int,
        typer.Option(
            "--population",
            help="Virtual patients (0: the typical patient only).",
            min=0,
            max=100_000,
        ),
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the virtual population.")] = 0,
    missed: Annotated[
        list[int] | None,
        typer.Option("--missed", help="A day without any dose, 1 = first day (repeatable)."),
    ] = None,
    until_fraction: Annotated[
        float,
        typer.Option(
            "--until-fraction",
            help="Washout line: this fraction of the steady-state average.",
        ),
    ] = 0.1,
    follow_days: Annotated[
        float, typer.Option("--follow-days", help="Days simulated after the last dose.")
    ] = 30,
    step: Annotated[float, typer.Option("--step", help="Hours between samples.")] = 1.0,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a PNG chart here.", dir_okay=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Simulate isotretinoin and 4-oxo-isotretinoin levels for a regimen, and how
    long after the last dose they fall below a fraction of steady state.

    Example: [bold]isotrack pk simulate --dose 40 --times-per-day 2 --days 30[/]
    Example: [bold]isotrack pk simulate --dose 40 --fasted --population 1000 --plot pk.png[/]
    Example: [bold]isotrack pk simulate --dose 32 --product absorica-ld --missed 10 --json[/]

    JSON output: request; subjects; percentiles; last_dose_h; washout_fraction;
    times_h; isotretinoin and oxo_isotretinoin, each with curves_ng_ml (one curve
    per row: typical, or p5/p50/p95), last_day (peak/trough/mean ng/mL),
    steady_state_average_ng_ml and washout_h (null: not within the simulated
    time); note; safety.
    """
    kb = knowledge(None)
    formulation = formulation_of(kb, product)
    doses = regular_regimen(
        dose,
        times_per_day=times_per_day,
        days=days,
        fed=not fasted,
        formulation=formulation,
        missed_days=missed or (),
    )
    result = simulate(
        kb,
        doses,
        step_h=step,
        follow_h=follow_days * 24,
        population=population,
        seed=seed,
        washout_fraction=until_fraction,
    )
    meal = "fasted" if fasted else "with food"
    title = f"{kb.product(product).name}: {dose:g} mg × {times_per_day}/day for {days} days, {meal}"
    if plot is not None:
        save_plot(result, plot, title)
    if as_json:
        request = {
            "dose_mg": dose,
            "times_per_day": times_per_day,
            "days": days,
            "fed": not fasted,
            "product": product,
            "formulation": formulation,
            "population": population,
            "seed": seed,
            "missed_days": sorted(missed or ()),
            "follow_days": follow_days,
            "step_h": step,
        }
        print_json(simulation_json(result, request))
        return
    print_tables(result, title)
    if plot is not None:
        out.print(f"chart written to {plot}", markup=False)
