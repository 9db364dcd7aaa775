"""The layers of design.md hold: the engine and the knowledge base import no
surface or I/O library and never read the clock or the environment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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
    import subprocess
    import sys

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
