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
from isotrack.clinical.pk import (
    AUC_INTERVAL,
    DayLevels,
    Exposure,
    Simulation,
    SingleDose,
    day_levels,
    day_of,
    formulation_of,
    regular_regimen,
    simulate,
    single_dose,
)
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


def last_day(result: Simulation, rows: np.ndarray) -> list[DayLevels | None]:
    """Each row's levels on the last dosing day (the day of the last dose)."""
    day = day_of(result.last_dose_h)
    return [day_levels(result.times_h, row, day) for row in rows]


def exposure_json(exposure: Exposure, names: list[str]) -> dict[str, dict[str, float | None]]:
    return {
        name: {
            "cmax_ng_ml": rounded(cmax),
            "tmax_h": rounded(tmax, 2),
            "auc_ng_h_ml": rounded(area, 0),
        }
        for name, cmax, tmax, area in zip(
            names, exposure.cmax, exposure.tmax, exposure.auc, strict=True
        )
    }


def simulation_json(
    result: Simulation, single: SingleDose, request: dict[str, Any]
) -> dict[str, Any]:
    names = row_names(result)

    def species(
        rows: np.ndarray, exposure: Exposure, washout: np.ndarray, steady: np.ndarray
    ) -> dict[str, Any]:
        return {
            "curves_ng_ml": {
                n: [round(float(v), 2) for v in r] for n, r in zip(names, rows, strict=True)
            },
            "last_day": {
                n: None
                if levels is None
                else {
                    "peak_ng_ml": rounded(levels.peak),
                    "trough_ng_ml": None if levels.trough is None else rounded(levels.trough),
                    "mean_ng_ml": rounded(levels.mean),
                }
                for n, levels in zip(names, last_day(result, rows), strict=True)
            },
            "single_dose": exposure_json(exposure, names),
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
        "last_dosing_day": day_of(result.last_dose_h),
        "single_dose": {
            "dose_mg": single.mg,
            "fed": single.fed,
            "formulation": single.formulation,
            "auc_interval": AUC_INTERVAL,
        },
        "times_h": [round(float(t), 4) for t in result.times_h],
        "isotretinoin": species(
            result.parent, single.parent, result.washout_parent_h, result.steady_parent
        ),
        "oxo_isotretinoin": species(
            result.oxo, single.oxo, result.washout_oxo_h, result.steady_oxo
        ),
        "note": MODEL_NOTE,
        "safety": SAFETY_LINE,
    }


def hours_text(hours: float) -> str:
    if math.isnan(hours):
        return "not within the simulated time"
    return f"{hours:.0f} h ({hours / 24:.1f} days)"


def level_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def print_tables(result: Simulation, single: SingleDose, title: str) -> None:
    names = row_names(result)
    view = Table(title=title)
    view.add_column("measure")
    for name in names:
        view.add_column(name, justify="right")
    for label, rows, exposure, washout, steady in (
        (
            "isotretinoin",
            result.parent,
            single.parent,
            result.washout_parent_h,
            result.steady_parent,
        ),
        ("4-oxo-isotretinoin", result.oxo, single.oxo, result.washout_oxo_h, result.steady_oxo),
    ):
        levels = last_day(result, rows)
        view.add_row(
            f"{label}: last-day peak ng/mL", *(level_text(d.peak if d else None) for d in levels)
        )
        view.add_row(
            f"{label}: last-day trough ng/mL",
            *(level_text(d.trough if d else None) for d in levels),
        )
        view.add_row(f"{label}: single-dose Cmax ng/mL", *(f"{v:.0f}" for v in exposure.cmax))
        view.add_row(f"{label}: single-dose Tmax h", *(f"{v:.1f}" for v in exposure.tmax))
        view.add_row(f"{label}: single-dose AUC0–∞ ng·h/mL", *(f"{v:,.0f}" for v in exposure.auc))
        view.add_row(f"{label}: steady-state average ng/mL", *(f"{v:.0f}" for v in steady))
        view.add_row(
            f"{label}: below {result.washout_fraction:.0%} of it after",
            *(hours_text(v) for v in washout),
        )
    out.print(view)
    day = day_of(result.last_dose_h)
    meal = "with food" if single.fed else "fasted"
    out.print(
        f"Last day: day {day} of the history (hours {24 * (day - 1)}–{24 * day}), the day of "
        "the last dose; its trough is the lowest level from the first peak on (–: the "
        "level has not peaked yet, it only rises from zero). Single dose: "
        f"one {single.mg:g} mg dose {meal} taken alone, as in the label's study "
        "(AUC from the dose to infinity).",
        markup=False,
    )
    if result.subjects:
        out.print(
            f"{result.subjects} virtual patients; columns are percentiles of the curves "
            "(washout and single-dose measures: percentiles over patients).",
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
    last_dosing_day (1 = hours 0–24); single_dose (dose_mg, fed, formulation,
    auc_interval "0-inf"); times_h; isotretinoin and oxo_isotretinoin, each with
    curves_ng_ml (one curve per row: typical, or p5/p50/p95), last_day
    (peak_ng_ml, trough_ng_ml: null before the first peak, mean_ng_ml),
    single_dose (cmax_ng_ml, tmax_h, auc_ng_h_ml of one dose taken alone),
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
    span = f"{days} day{'s' if days != 1 else ''}"
    title = f"{kb.product(product).name}: {dose:g} mg × {times_per_day}/day for {span}, {meal}"
    single = single_dose(
        kb, dose, fed=not fasted, formulation=formulation, population=population, seed=seed
    )
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
        print_json(simulation_json(result, single, request))
        return
    print_tables(result, single, title)
    if plot is not None:
        out.print(f"chart written to {plot}", markup=False)
