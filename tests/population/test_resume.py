"""Interruption and resume: the output of an interrupted and resumed run is the
output of an uninterrupted one, with no patient twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import isotrack.cli.bulk_cmd as bulk_cmd
from isotrack.cli.app import _register_commands, app
from isotrack.population.runner import Job, run_screening
from isotrack.population.state import load_state
from tests.population.exports import (
    condition,
    isotretinoin_order,
    patient,
    read_lines,
    weight,
    write_export,
)

_register_commands()
runner = CliRunner()
ON = date(2024, 8, 6)


def population(patients: int) -> list[dict[str, Any]]:
    """Women and men of many ages; every third patient has an isotretinoin order,
    every fourth a medication order that names a Medication resource."""
    iso = {"resourceType": "Medication", "id": "iso", "code": {"text": "Isotretinoin 20 MG"}}
    resources: list[dict[str, Any]] = [iso]
    for number in range(patients):
        pid = f"patient-{number:05d}"
        gender = "female" if number % 2 else "male"
        resources.append(patient(pid, gender=gender, born=f"{1960 + number % 50}-03-04"))
        resources.append(weight(pid, 50 + number % 40, "2024-07-20", id=f"w-{number}"))
        if number % 5 == 0:
            resources.append(condition(pid, "35489007", "Depressive disorder", "2015-01-01",
                                       id=f"c-{number}"))  # fmt: skip
        if number % 3 == 0:
            resources.append(isotretinoin_order(pid, "2024-08-01", id=f"o-{number}"))
        if number % 4 == 1:
            reference = {"reference": "Medication/iso"}
            resources.append(isotretinoin_order(pid, "2024-07-30", id=f"r-{number}",
                                                medication=reference))  # fmt: skip
    return resources


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    return write_export(folder, population(120), gzipped=True, per_file=100)


@pytest.fixture(scope="module")
def reference(export: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("reference") / "findings.ndjson"
    run_screening(Job(export=export, out=out, on=ON, order_all=True, jobs=1))
    return out.read_bytes()


class Interrupt:
    """A progress callback that presses Ctrl-C once ``after`` shards are done."""

    def __init__(self, after: int) -> None:
        self.after = after

    def __call__(self, done: int, total: int) -> None:
        if done >= self.after:
            raise KeyboardInterrupt


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["screen-bulk", *args], terminal_width=200)


def test_the_reference_run_screens_every_patient_and_finds_the_orders(reference: bytes) -> None:
    lines = [json.loads(line) for line in reference.splitlines()]
    assert len(lines) == 120
    on_isotretinoin = {line["patient"] for line in lines if line["on_isotretinoin"]}
    expected = {f"patient-{n:05d}" for n in range(120) if n % 3 == 0 or n % 4 == 1}
    assert on_isotretinoin == expected


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_interrupted_run_resumes_where_it_stopped_and_gives_the_same_output(
    export: Path, reference: bytes, tmp_path: Path, jobs: int
) -> None:
    out = tmp_path / "findings.ndjson"
    job = Job(export=export, out=out, on=ON, order_all=True, jobs=jobs)
    with pytest.raises(KeyboardInterrupt):
        run_screening(job, progress=Interrupt(after=3))
    assert not out.exists()
    state = load_state(job.work / "state.json")
    assert state is not None
    assert len(state.done) == 3
    result = invoke(str(export), "--out", str(out), "--date", ON.isoformat(), "--order-all",
                    "--jobs", str(jobs))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Resumed: 3 of {state.shards} shards" in result.stdout
    assert out.read_bytes() == reference
    ids = [line["patient"] for line in read_lines(out)]
    assert len(ids) == len(set(ids))
    assert not job.work.exists(), "the work folder is removed once the output is complete"


def test_a_resume_with_other_arguments_is_refused_unless_restarted(
    export: Path, reference: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "findings.ndjson"
    job = Job(export=export, out=out, on=ON, order_all=True, jobs=1)
    with pytest.raises(KeyboardInterrupt):
        run_screening(job, progress=Interrupt(after=2))
    refused = invoke(str(export), "--out", str(out), "--date", "2024-08-07", "--order-all")
    assert refused.exit_code == 1
    assert "--restart" in refused.output
    assert "different date" in refused.output
    assert refused.output.count("\n") == 1
    again = invoke(str(export), "--out", str(out), "--date", ON.isoformat(), "--order-all",
                   "--restart", "--jobs", "1")  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "Resumed" not in again.stdout
    assert out.read_bytes() == reference


def test_a_changed_export_is_not_resumed(export: Path, tmp_path: Path) -> None:
    copy = write_export(tmp_path / "export", population(30))
    out = tmp_path / "findings.ndjson"
    with pytest.raises(KeyboardInterrupt):
        run_screening(Job(export=copy, out=out, on=ON, jobs=1), progress=Interrupt(after=1))
    with (copy / "Patient.000.ndjson").open("a") as extra:
        extra.write(json.dumps(patient("newcomer")) + "\n")
    refused = invoke(str(copy), "--out", str(out), "--date", ON.isoformat())
    assert refused.exit_code == 1
    assert "export's files changed" in refused.output


def test_ctrl_c_exits_130_and_says_how_to_resume(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bulk_cmd.run_screening
    monkeypatch.setattr(
        bulk_cmd, "run_screening", lambda job, progress: real(job, progress=Interrupt(1))
    )
    out = tmp_path / "findings.ndjson"
    result = invoke(str(export), "--out", str(out), "--date", ON.isoformat(), "--jobs", "1")
    assert result.exit_code == 130
    assert "rerun the same command to resume" in result.output


def test_a_run_killed_mid_way_resumes_to_the_same_output(tmp_path: Path) -> None:
    """A real process, killed with SIGKILL once the state file shows finished shards."""
    export = write_export(tmp_path / "export", population(1000), gzipped=True, per_file=400)
    command = [sys.executable, "-m", "isotrack", "screen-bulk", str(export), "--date",
               ON.isoformat(), "--order-all", "--jobs", "1"]  # fmt: skip
    killed = tmp_path / "killed.ndjson"
    state_file = killed.with_name(killed.name + ".work") / "state.json"
    process = subprocess.Popen([*command, "--out", str(killed)], stdout=subprocess.DEVNULL)
    try:
        done = 0
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            state = load_state(state_file)
            done = len(state.done) if state is not None else 0
            if done >= 1:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    state = load_state(state_file)
    assert state is not None
    assert 1 <= len(state.done) < state.shards
    resumed = subprocess.run([*command, "--out", str(killed)], capture_output=True, check=True)
    assert b"Resumed:" in resumed.stdout
    fresh = tmp_path / "fresh.ndjson"
    subprocess.run([*command, "--out", str(fresh)], capture_output=True, check=True)
    assert killed.read_bytes() == fresh.read_bytes()
    ids = [line["patient"] for line in read_lines(killed)]
    assert len(ids) == len(set(ids)) == 1000
