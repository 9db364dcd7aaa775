"""examples/dask_screen.py maps the same per-patient function over a Dask cluster
and writes the same lines as `isotrack screen-bulk` (skipped without dask)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from isotrack.cli.app import _register_commands, app

pytest.importorskip("dask.distributed")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dask_screen.py"
ON = "2024-08-06"


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dask_screen", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_dask_example_writes_what_screen_bulk_writes(bulk_dir: Path, tmp_path: Path) -> None:
    on_dask = tmp_path / "dask.ndjson"
    status = example().main([str(bulk_dir), "--date", ON, "--out", str(on_dask), "--order-all"])
    assert status == 0
    _register_commands()
    local = tmp_path / "local.ndjson"
    result = CliRunner().invoke(
        app,
        ["screen-bulk", str(bulk_dir), "--date", ON, "--out", str(local), "--order-all",
         "--jobs", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(on_dask.read_bytes().splitlines()) == 10
    assert on_dask.read_bytes() == local.read_bytes()
