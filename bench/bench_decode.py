"""Decode benchmark: isotrack's FHIR decode vs ``orjson.loads`` vs fhir.resources.

The 86 Synthea R4 bundles of ``shared/data/synthea-r4`` are decompressed in memory
once; then, in the same run and on the same bytes:

- ``isotrack decode_bundle``: :func:`isotrack.fhir.decode_bundle`, the typed partial
  decode every surface uses (msgspec Structs for the resources the rules read, raw
  JSON kept for the others, references indexed);
- ``orjson.loads``: JSON to Python dicts and lists, the floor any Python pipeline pays;
- ``json.loads (stdlib)``: the same with the standard library, for scale;
- ``fhir.resources R4B validate``: ``Bundle.model_validate_json`` of fhir.resources
  (pydantic models of FHIR R4B; the package has no R4 4.0.1 models). Bundles it
  rejects are counted and reported; the time includes them.

Run: ``make bench`` or ``.venv/bin/python bench/bench_decode.py [--repeat N]``.
Nothing is asserted: the numbers go to bench/README.md with the machine and date.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson
from common import Timing, best_of, each, load_average, load_bundles, machine, print_table

from isotrack.fhir import decode_bundle


def fhir_resources_validation(payloads: list[bytes], repeat: int) -> tuple[Timing, int, str]:
    """Time ``Bundle.model_validate_json`` over every bundle; count the rejected ones."""
    from fhir.resources.R4B.bundle import Bundle as R4BBundle

    failures: list[str] = []

    def validate_all() -> None:
        failures.clear()
        for data in payloads:
            try:
                R4BBundle.model_validate_json(data)
            except ValueError as exc:  # pydantic.ValidationError is a ValueError
                failures.append(str(exc).splitlines()[0])

    timing = best_of("fhir.resources R4B validate", validate_all, repeat)
    first = failures[0] if failures else ""
    return timing, len(failures), first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each fast decoder")
    parser.add_argument("--repeat-slow", type=int, default=3, help="runs of fhir.resources")
    args = parser.parse_args()

    bundles = load_bundles()
    payloads = [b.data for b in bundles]
    megabytes = sum(map(len, payloads)) / 1e6
    print(f"Decode benchmark: {len(payloads)} Synthea R4 bundles, {megabytes:.1f} MB of JSON")
    print(f"Machine: {machine()}; {load_average()} at start")
    print(f"Best and median of {args.repeat} runs (fhir.resources: {args.repeat_slow})\n")

    timings = [
        best_of("orjson.loads", each(orjson.loads, payloads), args.repeat),
        best_of("isotrack decode_bundle", each(decode_bundle, payloads), args.repeat),
        best_of("json.loads (stdlib)", each(json.loads, payloads), args.repeat),
    ]
    slow, failed, first = fhir_resources_validation(payloads, args.repeat_slow)
    note = f"{failed} of {len(payloads)} bundles rejected" + (f"; first: {first}" if first else "")
    timings.append(Timing(slow.label, slow.runs, slow.cpu, note))
    print_table(timings, megabytes, len(payloads), "orjson.loads", "bundles")

    by = {t.label: t.best for t in timings}
    print(
        f"\nisotrack decode: {by['orjson.loads'] / by['isotrack decode_bundle']:.2f}× the speed "
        f"of orjson.loads, {by[slow.label] / by['isotrack decode_bundle']:.0f}× the speed of "
        f"fhir.resources validation"
    )
    print(f"{load_average()} at end")


if __name__ == "__main__":
    main()
