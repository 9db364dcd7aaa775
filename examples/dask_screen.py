"""Screen a FHIR Bulk Data export on a Dask cluster with isotrack's per-patient function.

``isotrack screen-bulk`` runs on one machine. For an export that does not fit
one, the same unit of work, :func:`isotrack.population.screen_patient` (one
patient's raw resources in, one JSON-ready dict out; no files, clock or
environment), is mapped over the patients by Dask:

1. read every NDJSON line of the export (a Dask bag; plain or ``.gz``);
2. set the Medication resources aside (they have no patient) and send them
   with the tasks: each patient takes the ones its orders reference;
3. key every other line by its patient (:func:`isotrack.fhir.bulk.patient_of`)
   and group by patient (Dask shuffles);
4. map ``screen_patient`` over the groups and write the lines, ordered by
   patient id, exactly as ``isotrack screen-bulk`` writes them.

Run it on this machine (a small local cluster)::

    python examples/dask_screen.py EXPORT_DIR --date 2024-08-06 --out findings.ndjson

or on a running cluster with ``--scheduler tcp://host:8786`` (every worker
needs isotrack installed: ``pip install 'isotrack[cluster]'``). Needs
``dask[distributed]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import dask.bag as db
import msgspec
from dask.distributed import Client, LocalCluster

from isotrack.fhir.bulk import SHARED_TYPES, medication_of, patient_of, read_export
from isotrack.knowledge import default_knowledge
from isotrack.population import screen_patient


def keyed(line: str) -> tuple[str, str | None, bytes] | None:
    """(resource type, patient id, raw line), or None for a line that is no JSON object."""
    raw = line.strip().encode("utf-8")
    if not raw:
        return None
    try:
        kind, patient_id = patient_of(raw)
    except msgspec.DecodeError:
        return None
    return kind or "", patient_id, raw


def screen_group(
    group: tuple[str, list[tuple[str, str | None, bytes]]],
    medications: dict[str, bytes],
    on: date,
    order_all: bool,
) -> dict[str, Any]:
    """Screen one patient: their lines, plus the Medications their orders name."""
    patient_id, items = group
    lines = [raw for _, _, raw in items]
    wanted = {m for raw in lines if (m := medication_of(raw)) is not None}
    resources = [*lines, *(medications[m] for m in sorted(wanted) if m in medications)]
    # default_knowledge() is loaded once per worker process and cached there.
    result = screen_patient(resources, on=on, kb=default_knowledge(), order_all=order_all)
    if not result.get("patient"):
        result["patient"] = patient_id
    return result


def as_line(result: dict[str, Any]) -> tuple[str, bytes]:
    """(patient id, the NDJSON line) as ``isotrack screen-bulk`` writes it."""
    return str(result["patient"]), msgspec.json.encode(result) + b"\n"


def screen_export(client: Client, folder: Path, on: date, order_all: bool) -> list[bytes]:
    """The output lines (screened patients and errors), ordered by patient id."""
    export = read_export(folder)
    lines = db.read_text([str(f.path) for f in export.files], compression="infer")
    records = lines.map(keyed).filter(lambda item: item is not None)
    shared = records.filter(lambda item: item[0] in SHARED_TYPES)
    medications = {
        msgspec.json.decode(raw)["id"]: raw for _, _, raw in shared.compute() if b'"id"' in raw
    }
    # A few thousand Medications travel with the tasks; for millions, join them
    # to the orders by id instead (a second groupby on the medication id).
    by_patient = records.filter(lambda item: item[0] not in SHARED_TYPES and item[1] is not None)
    groups = by_patient.groupby(lambda item: item[1])
    results = groups.map(screen_group, medications, on, order_all)
    written = results.filter(lambda result: "skipped" not in result).map(as_line)
    return [line for _, line in sorted(written.compute())]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path, help="folder of the Bulk Data export")
    parser.add_argument("--date", required=True, type=date.fromisoformat)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--order-all", action="store_true")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler")
    parser.add_argument("--workers", type=int, default=1, help="local cluster: worker processes")
    args = parser.parse_args(argv)
    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=args.workers > 1,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        lines = screen_export(client, args.export, args.date, args.order_all)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    args.out.write_bytes(b"".join(lines))
    print(f"{len(lines)} patient line(s) written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
