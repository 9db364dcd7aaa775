"""The layers of design.md and docs/architecture.md hold: the engine and the
knowledge base import no surface or I/O library and never read the clock or the
environment; the surfaces never import each other; the clinical packages import
each other only through their public faces, downwards (tests/layers.py)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.layers import CLINICAL_LAYERS, CLINICAL_SHARED, layer_violations

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "isotrack"
PURE_LAYERS = ("clinical", "knowledge")
FORBIDDEN_IMPORTS = (
    "isotrack.fhir",
    "isotrack.cds",
    "isotrack.store",
    "isotrack.api",
    "isotrack.web",
    "isotrack.cli",
    "sqlalchemy",
    "fastapi",
    "typer",
    "httpx",
    "rich",
    "requests",
    "urllib",
    "socket",
    "os",
    "random",
    "time",
    "subprocess",
)
FORBIDDEN_CALLS = {
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("time", "time"),
    ("os", "getenv"),
    ("os", "environ"),
}


def pure_modules() -> list[Path]:
    return sorted(p for layer in PURE_LAYERS for p in (PACKAGE / layer).rglob("*.py"))


def imported_names(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_layer_imports_no_surface_or_io_library(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for name in imported_names(tree):
        for forbidden in FORBIDDEN_IMPORTS:
            offends = name == forbidden or name.startswith(forbidden + ".")
            assert not offends, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_layer_reads_no_clock_or_environment(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in FORBIDDEN_CALLS, (
                f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}"
            )
        if isinstance(node, ast.Name):
            assert node.id not in ("environ", "getenv"), f"{path.name}:{node.lineno}"


def test_the_checker_catches_a_forbidden_import_and_a_clock_read() -> None:
    """The two checks above can fail: they flag a module that breaks the rules."""
    bad = ast.parse("import typer\nfrom datetime import date\nx = date.today()\n")
    assert "typer" in imported_names(bad)
    attributes = [
        (n.value.id, n.attr)
        for n in ast.walk(bad)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    ]
    assert ("date", "today") in attributes


def test_engine_modules_import_without_surface_libraries_loaded() -> None:
    """Importing the engine in a fresh interpreter loads none of the surface libraries."""
    code = (
        "import sys, isotrack.clinical.screening.context, isotrack.clinical.screening.rules, "
        "isotrack.knowledge\n"
        "bad = [m for m in ('typer', 'rich', 'httpx', 'fastapi', 'sqlalchemy', "
        "'isotrack.fhir', 'isotrack.cli') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


# --- the import layers ---------------------------------------------------------------
def test_every_import_keeps_to_the_layers() -> None:
    assert layer_violations(PACKAGE) == []


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python files of src/isotrack, copied once; each case adds to a copy of it."""
    root = tmp_path_factory.mktemp("layers") / "isotrack"
    shutil.copytree(
        PACKAGE,
        root,
        ignore=lambda folder, names: [
            n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()
        ],
    )
    assert layer_violations(root) == []
    return root


FORBIDDEN = [
    pytest.param(
        "clinical/dosing/planner.py",
        "from isotrack.clinical.record import apply",
        "dosing imports record: a package imports only packages of lower layers",
        id="a clinical package imports one above it",
    ),
    pytest.param(
        "clinical/programme/status.py",
        "from isotrack.clinical.pk import simulate",
        "programme imports pk: a package imports only packages of lower layers",
        id="a clinical package imports one of its own layer",
    ),
    pytest.param(
        "clinical/record/view.py",
        "from isotrack.clinical.dosing.capsules import choose_capsules",
        "use the public face, isotrack.clinical.dosing",
        id="a clinical package imports past another's face",
    ),
    pytest.param(
        "clinical/state/course.py",
        "def later():\n    from isotrack.clinical.dosing import plan_course",
        "state imports dosing",
        id="an import inside a function counts",
    ),
    pytest.param(
        "clinical/snapshot.py",
        "from isotrack.clinical.state import PatientRecord",
        "the shared modules of clinical/ import no package",
        id="a shared clinical module imports a package",
    ),
    pytest.param(
        "clinical/triage_board.py",
        "from isotrack.clinical.snapshot import PatientSnapshot",
        "clinical/triage_board is neither a shared module nor a package",
        id="a new clinical module must be placed",
    ),
    pytest.param(
        "clinical/units.py",
        "from isotrack.store import create_engine_for",
        "clinical imports isotrack.store",
        id="the engine imports the store",
    ),
    pytest.param(
        "knowledge/base.py",
        "from isotrack.clinical.codes import Concept",
        "knowledge imports isotrack.clinical.codes",
        id="the knowledge base imports the engine",
    ),
    pytest.param(
        "web/deps.py",
        "from isotrack.api.routes import ROUTERS",
        "web imports isotrack.api.routes",
        id="a surface imports another",
    ),
    pytest.param(
        "cds/service.py",
        "import isotrack.cli.app",
        "cds imports isotrack.cli.app",
        id="a surface imports the CLI",
    ),
    pytest.param(
        "store/service.py",
        "from isotrack.server import create_app",
        "store imports isotrack.server",
        id="a service imports the app above the surfaces",
    ),
]


@pytest.mark.parametrize(("module", "line", "expected"), FORBIDDEN)
def test_the_layer_check_fails_when_a_forbidden_import_is_added(
    tree_copy: Path, tmp_path: Path, module: str, line: str, expected: str
) -> None:
    root = tmp_path / "isotrack"
    shutil.copytree(tree_copy, root, copy_function=os.link)  # the copy is clean: see below
    path = root / module
    before = path.read_text() if path.exists() else ""
    path.unlink(missing_ok=True)  # a new file, not the linked one
    path.write_text(f"{before}\n{line}\n")
    violations = layer_violations(root)
    assert len(violations) == 1, violations
    assert violations[0].startswith(f"isotrack/{module}")
    assert expected in violations[0]


CLINICAL_PARTS = sorted(CLINICAL_SHARED | {p for layer in CLINICAL_LAYERS for p in layer})


def test_the_layers_name_every_part_of_clinical_once() -> None:
    packages = [p for layer in CLINICAL_LAYERS for p in layer]
    assert len(packages) == len(set(packages))
    on_disk = {
        p.stem if p.suffix == ".py" else p.name
        for p in (PACKAGE / "clinical").iterdir()
        if p.suffix == ".py" or (p / "__init__.py").exists()
    } - {"__init__"}
    assert on_disk == set(CLINICAL_PARTS)
    # issue 18: a handful of packages, a few shared modules (issue 13 added worklist,
    # issue 16 reminders, above the record)
    assert len(on_disk) <= 14


@pytest.mark.parametrize("part", CLINICAL_PARTS)
def test_each_clinical_part_imports_alone_in_a_fresh_interpreter(part: str) -> None:
    """No import cycle waits for an unlucky first import: each part loads on its own."""
    subprocess.run([sys.executable, "-c", f"import isotrack.clinical.{part}"], check=True)
