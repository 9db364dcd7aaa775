"""Screening benchmark: ``isotrack screen`` end to end vs ``orjson.loads`` alone.

The 86 Synthea R4 bundles of ``shared/data/synthea-r4`` are decompressed in memory
once, each with a draft isotretinoin order (40 mg twice a day, 60 capsules, 30
days) for its patient, evaluated on the day of its last encounter. Then, in the
same run and on the same bytes:

- ``isotrack screen (end to end)``: for each bundle, the path of ``isotrack screen
  PATIENT.json --order ORDER.json --date D`` and of the CDS order hooks
  (:func:`common.screen_bundle`): decode, add the order, snapshot, read the order,
  run every order rule; files are not read and nothing is printed;
- ``orjson.loads``: only parsing the same bytes to dicts, the floor any Python
  pipeline pays before it does anything;
- ``fhir.resources R4B validate``: only validating the same bytes into fhir.resources
  models, before any screening would start (so the ratio understates the gap).

Targets (issue 6): screening at least 0.5× the speed of orjson.loads, and at least
30× faster than the fhir.resources validation path.

Run: ``make bench`` or ``.venv/bin/python bench/bench_screen.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson
from bench_decode import fhir_resources_validation
from common import (
    Timing,
    best_of,
    each,
    load_average,
    load_bundles,
    machine,
    print_table,
    screen_bundle,
)

from isotrack.knowledge import default_knowledge

ORDER_TARGET = 0.5
FHIR_RESOURCES_TARGET = 30.0
SCREEN = "isotrack screen (end to end)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of screen and orjson")
    parser.add_argument("--repeat-slow", type=int, default=3, help="runs of fhir.resources")
    parser.add_argument(
        "--skip-fhir-resources", action="store_true", help="leave out the slow comparison"
    )
    args = parser.parse_args()

    kb = default_knowledge()
    bundles = load_bundles()
    payloads = [b.data for b in bundles]
    megabytes = sum(map(len, payloads)) / 1e6
    findings = sum(len(screen_bundle(b, kb).findings) for b in bundles)
    print(f"Screening benchmark: {len(bundles)} Synthea R4 bundles, {megabytes:.1f} MB of JSON")
    print(f"({findings} findings in all, an isotretinoin order screened per bundle)")
    print(f"Machine: {machine()}; {load_average()} at start")
    print(f"Best and median of {args.repeat} runs (fhir.resources: {args.repeat_slow})\n")

    timings: list[Timing] = [
        best_of("orjson.loads", each(orjson.loads, payloads), args.repeat),
        best_of(SCREEN, each(lambda b: screen_bundle(b, kb), bundles), args.repeat),
    ]
    if not args.skip_fhir_resources:
        slow, failed, _ = fhir_resources_validation(payloads, args.repeat_slow)
        note = f"validation only, no screening; {failed} of {len(payloads)} bundles rejected"
        timings.append(Timing(slow.label, slow.runs, slow.cpu, note))
    print_table(timings, megabytes, len(bundles), "orjson.loads", "bundles")

    by = {t.label: t for t in timings}
    speed = by["orjson.loads"].best / by[SCREEN].best
    cpu_speed = by["orjson.loads"].best_cpu / by[SCREEN].best_cpu
    verdict = "met" if speed >= ORDER_TARGET else "MISSED"
    print(
        f"\nscreening: {speed:.2f}× the speed of orjson.loads (CPU time: {cpu_speed:.2f}×); "
        f"target ≥ {ORDER_TARGET}×: {verdict}"
    )
    if not args.skip_fhir_resources:
        slow_label = "fhir.resources R4B validate"
        gain = by[slow_label].best / by[SCREEN].best
        verdict = "met" if gain >= FHIR_RESOURCES_TARGET else "MISSED"
        print(
            f"screening: {gain:.0f}× faster than fhir.resources validation alone; "
            f"target ≥ {FHIR_RESOURCES_TARGET:.0f}×: {verdict}"
        )
    print(f"{load_average()} at end")


if __name__ == "__main__":
    main()
