"""Screen a whole Bulk Data export on every core, with bounded memory, resumably.

The run has three steps, each safe to interrupt:

1. partition: one streaming pass writes each line of the export to one of K
   shard files in the work folder ``OUT.work/`` (all of a patient's lines in
   one shard; :func:`isotrack.fhir.bulk.partition_export`);
2. screen: each shard is grouped in memory, every patient screened with
   :func:`~isotrack.population.patient.screen_patient`, and the lines written
   to a part file, fsynced, then marked done in the state file; shards run in
   ``jobs`` worker processes, each loading the knowledge base once;
3. assemble: the sorted part files are merged into ``OUT`` (ordered by patient
   id, so the output does not depend on the shards or the number of jobs),
   which replaces any earlier file atomically; the work folder is removed.

A rerun with the same export and options skips the shards already done; a
changed export or other options are refused unless ``restart`` is set.
"""

from __future__ import annotations

import hashlib
import heapq
import multiprocessing
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from isotrack import __version__
from isotrack.errors import InvalidInputError
from isotrack.fhir.bulk import (
    MedicationLookup,
    Partition,
    medication_of,
    medication_path,
    partition_export,
    read_export,
    read_shard,
    shard_path,
)
from isotrack.knowledge import default_knowledge, load_knowledge
from isotrack.knowledge.base import KnowledgeBase
from isotrack.population.patient import screen_patient
from isotrack.population.state import RunState, load_state, save_state, sync_folder
from isotrack.population.summary import Summary

Progress = Callable[[int, int], None]
"""Called with (shards done, shards in all) after the partition and after each shard."""


@dataclass(frozen=True, slots=True)
class Job:
    export: Path
    out: Path
    on: date
    order_all: bool = False
    jobs: int = 1
    restart: bool = False
    policy: Path | None = None

    @property
    def work(self) -> Path:
        return self.out.with_name(self.out.name + ".work")

    def options(self) -> dict[str, Any]:
        policy = None
        if self.policy is not None:
            try:
                digest = hashlib.sha256(self.policy.read_bytes()).hexdigest()
            except OSError as exc:
                raise InvalidInputError("--policy", f"cannot read: {exc.strerror}") from None
            policy = {"path": str(self.policy.resolve()), "sha256": digest}
        return {
            "date": self.on.isoformat(),
            "order_all": self.order_all,
            "policy": policy,
            "isotrack": __version__,
        }


@dataclass(frozen=True, slots=True)
class RunResult:
    summary: Summary
    shards: int
    resumed: int
    """Shards already done by an earlier, interrupted run."""
    partition: dict[str, Any]
    skipped_files: tuple[str, ...]


def run_screening(job: Job, *, progress: Progress | None = None) -> RunResult:
    """Run (or resume) the screen of ``job``; see the module docstring."""
    export = read_export(job.export)
    identity = {"export": export.fingerprint(), "options": job.options()}
    state_file = job.work / "state.json"
    state = load_state(state_file)
    if state is not None and (job.restart or state.identity != identity):
        if not job.restart:
            raise InvalidInputError(
                "--restart",
                f"{job.work} holds an interrupted run with another export or other options "
                f"({_difference(state.identity, identity)}); rerun with the same arguments to "
                "resume it, or add --restart to start over",
            )
        state = None
    if state is None:
        if job.work.exists():
            shutil.rmtree(job.work)
        job.work.mkdir(parents=True)
        state = RunState(identity=identity, shards=export.shard_count())
        save_state(state_file, state)
    resumed = len(state.done)
    kb = _knowledge(job.policy)  # refuse a bad policy file before the long partition pass
    if not state.partitioned:
        shutil.rmtree(job.work / "shards", ignore_errors=True)
        medication_path(job.work).unlink(missing_ok=True)
        partition = partition_export(export, job.work, state.shards)
        state.partitioned, state.partition = True, _partition_json(partition)
        save_state(state_file, state)
    (job.work / "parts").mkdir(exist_ok=True)
    if progress is not None:
        progress(len(state.done), state.shards)
    pending = [shard for shard in range(state.shards) if shard not in state.done]
    for shard, summary in _screen_shards(job, pending, kb):
        state.done[shard] = summary
        save_state(state_file, state)
        if progress is not None:
            progress(len(state.done), state.shards)
    _assemble(job, state.shards)
    result = RunResult(state.total(), state.shards, resumed, state.partition, export.skipped)
    shutil.rmtree(job.work)
    return result


def _difference(saved: dict[str, Any], wanted: dict[str, Any]) -> str:
    if saved.get("export") != wanted["export"]:
        return "the export's files changed"
    old, new = saved.get("options", {}), wanted["options"]
    changed = [name for name in new if old.get(name) != new[name]]
    return "different " + ", ".join(changed) if changed else "another format"


def _partition_json(partition: Partition) -> dict[str, Any]:
    return {
        "lines": partition.lines,
        "unassigned": partition.unassigned,
        "unreadable": len(partition.unreadable),
        "unreadable_first": list(partition.unreadable[:5]),
    }


def _knowledge(policy: Path | None) -> KnowledgeBase:
    return default_knowledge() if policy is None else load_knowledge(policy)


# --- screening the shards -------------------------------------------------------------------
def _screen_shards(
    job: Job, pending: list[int], kb: KnowledgeBase
) -> Iterator[tuple[int, Summary]]:
    if not pending:
        return
    if job.jobs <= 1 or len(pending) == 1:
        for shard in pending:
            yield shard, screen_shard(job.work, shard, job.on, job.order_all, kb)
        return
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(
        min(job.jobs, len(pending)), initializer=_start_worker, initargs=(job.policy,)
    )
    try:
        tasks = [(job.work, shard, job.on, job.order_all) for shard in pending]
        for shard, summary in pool.imap_unordered(_worker_shard, tasks):
            yield shard, Summary.from_json(summary)
        pool.close()
    finally:
        pool.terminate()  # also on Ctrl-C: stop the workers now; their shards are redone
        pool.join()


_WORKER_KB: KnowledgeBase | None = None


def _start_worker(policy: Path | None) -> None:
    """Load the knowledge base once per worker; Ctrl-C is the parent's to handle."""
    global _WORKER_KB  # one knowledge base per worker process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_KB = _knowledge(policy)


def _worker_shard(task: tuple[Path, int, date, bool]) -> tuple[int, dict[str, Any]]:
    work, shard, on, order_all = task
    kb = _WORKER_KB if _WORKER_KB is not None else _knowledge(None)
    return shard, screen_shard(work, shard, on, order_all, kb).to_json()


class _Key(msgspec.Struct, frozen=True):
    patient: str | None = None


_KEY = msgspec.json.Decoder(_Key)
_ENCODER = msgspec.json.Encoder()


def part_path(work: Path, shard: int) -> Path:
    return work / "parts" / f"part-{shard:04d}.ndjson"


def screen_shard(work: Path, shard: int, on: date, order_all: bool, kb: KnowledgeBase) -> Summary:
    """Screen every patient of one shard; write the part file (sorted by patient
    id) durably; return the shard's counts."""
    groups = read_shard(shard_path(work, shard))
    summary = Summary()
    final = part_path(work, shard)
    temporary = final.with_name(final.name + ".tmp")
    lookup = MedicationLookup(medication_path(work))
    try:
        with temporary.open("wb") as stream:
            for patient_id in sorted(groups):
                lines = groups.pop(patient_id)
                wanted = [m for line in lines if b'"medicationReference"' in line
                          or b'"medication"' in line  # R5: medication.reference
                          if (m := medication_of(line)) is not None]  # fmt: skip
                resources = [*lines, *lookup.get(wanted)] if wanted else lines
                result = screen_patient(resources, on=on, kb=kb, order_all=order_all)
                if not result.get("patient"):
                    result["patient"] = patient_id
                summary.add(result)
                if "skipped" not in result:
                    stream.write(_ENCODER.encode(result) + b"\n")
            stream.flush()
            os.fsync(stream.fileno())
    finally:
        lookup.close()
    os.replace(temporary, final)
    sync_folder(final.parent)
    return summary


# --- assembling the output --------------------------------------------------------------------
def _part_lines(path: Path) -> Iterator[tuple[str, bytes]]:
    with path.open("rb") as stream:
        for line in stream:
            yield _KEY.decode(line).patient or "", line


def _assemble(job: Job, shards: int) -> None:
    """Merge the part files, each sorted by patient id, into ``job.out`` atomically."""
    temporary = job.out.with_name(job.out.name + ".tmp")
    parts = [_part_lines(part_path(job.work, shard)) for shard in range(shards)]
    with temporary.open("wb") as stream:
        for _, line in heapq.merge(*parts):
            stream.write(line)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, job.out)
    sync_folder(job.out.parent)
