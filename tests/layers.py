"""The import layers of isotrack (docs/architecture.md), as data and one checker.

:func:`layer_violations` reads every ``import`` of a source tree (module level,
inside functions and under ``TYPE_CHECKING`` alike: an import anywhere is a
dependency) and returns one line per import that breaks a rule:

1. each top-level part of ``isotrack`` imports only the parts :data:`MAY_IMPORT`
   lists for it: the surfaces (cli, web, api, cds) never import each other,
   nothing below them imports one, and ``clinical/`` and ``knowledge/`` import
   nothing above them;
2. inside ``clinical/``, a package imports another only through its public face
   (``isotrack.clinical.dosing``, never ``isotrack.clinical.dosing.planner``),
   and only a package of a lower layer of :data:`CLINICAL_LAYERS`; the shared
   modules (:data:`CLINICAL_SHARED`) import no package.

A part or a clinical package the tables do not name is a violation too, so a new
one has to be placed before it can be used.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

BASE = frozenset(
    {
        "isotrack",
        "errors",
        "settings",
        "sso_settings",
        "smart_settings",
        "issuer_settings",
        "limit_settings",
        "delivery_settings",
    }
)
"""The package root (version, the safety line), the exception family, the settings."""
SERVICES = frozenset({"store", "fhir", "population", "demo", "ical", "delivery", "ehr"})
SURFACES = frozenset({"cli", "web", "api", "cds"})
_BELOW_SURFACES = SERVICES | {"clinical", "knowledge"} | BASE

MAY_IMPORT: dict[str, frozenset[str]] = {
    "__main__": frozenset({"cli"}),
    "cli": _BELOW_SURFACES | {"server", "http"},
    "server": _BELOW_SURFACES | {"api", "web", "cds", "http"},
    "api": _BELOW_SURFACES | {"http"},
    "web": _BELOW_SURFACES | {"http"},
    "cds": _BELOW_SURFACES | {"http"},
    "http": _BELOW_SURFACES,
    **dict.fromkeys(SERVICES, _BELOW_SURFACES),
    "clinical": frozenset({"knowledge", "errors"}),
    "knowledge": frozenset({"errors"}),
    "isotrack": frozenset(),
    "errors": frozenset(),
    "settings": frozenset(
        {
            "errors",
            "sso_settings",
            "smart_settings",
            "issuer_settings",
            "limit_settings",
            "delivery_settings",
        }
    ),
    "sso_settings": frozenset(),
    "smart_settings": frozenset(),
    "issuer_settings": frozenset(),
    "limit_settings": frozenset(),
    "delivery_settings": frozenset(),
}
"""What each top-level part of isotrack may import, besides itself."""

CLINICAL_SHARED = frozenset({"codes", "snapshot", "order", "units", "findings"})
"""The modules at the top of clinical/: every package may import them directly."""
CLINICAL_LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"state", "screening"}),
    frozenset({"dosing", "monitoring"}),
    frozenset({"programme", "pk", "worklist"}),
    frozenset({"record"}),
    frozenset({"reminders"}),
)
"""The clinical packages, bottom layer first: a package imports only the faces of
packages in lower layers, never one of its own layer."""


def _layer(package: str) -> int | None:
    for index, layer in enumerate(CLINICAL_LAYERS):
        if package in layer:
            return index
    return None


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root`` (a folder named isotrack) by dotted name."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(the isotrack module imported, line) for each import in one module; ``from X
    import y`` counts as importing ``X.y`` when that is a module, else ``X``."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "isotrack":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, *([base] if base else [])])
            if base.split(".")[0] != "isotrack":
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield (submodule if submodule in known else base), node.lineno


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "isotrack"


def _clinical_rule(importer: str, target: str) -> str | None:
    """Why importing ``target`` from ``importer`` (both in clinical/) is not allowed."""
    own = importer.split(".")[2] if importer.count(".") >= 2 else ""
    other = target.split(".")[2] if target.count(".") >= 2 else ""
    if own == other or other in CLINICAL_SHARED:
        return None
    if other == "":
        return "imports isotrack.clinical itself: import the module or package it means"
    other_layer = _layer(other)
    if other_layer is None:
        return f"imports {target}: clinical/{other} is in no layer of CLINICAL_LAYERS"
    if own in CLINICAL_SHARED or own == "":
        return f"imports {target}: the shared modules of clinical/ import no package"
    own_layer = _layer(own)
    if own_layer is None:
        return None  # the module itself is reported: its package is in no layer
    if target != f"isotrack.clinical.{other}":
        return f"imports {target}: use the public face, isotrack.clinical.{other}"
    if other_layer >= own_layer:
        return f"{own} imports {other}: a package imports only packages of lower layers"
    return None


def layer_violations(root: Path) -> list[str]:
    """Every import under ``root`` (the isotrack folder) that breaks a layer rule."""
    known = modules(root)
    found = []
    for importer, path in known.items():
        where = f"{path.relative_to(root.parent).as_posix()}"
        part = _part(importer)
        if part not in MAY_IMPORT:
            found.append(f"{where}: isotrack.{part} is not placed in MAY_IMPORT")
            continue
        for target, line in imports(importer, path, known):
            other = _part(target)
            if other != part and other not in MAY_IMPORT[part]:
                found.append(f"{where}:{line}: {part} imports {target}")
            elif part == other == "clinical":
                reason = _clinical_rule(importer, target)
                if reason is not None:
                    found.append(f"{where}:{line}: {reason}")
        if part == "clinical" and importer.count(".") >= 2:
            own = importer.split(".")[2]
            if own not in CLINICAL_SHARED and _layer(own) is None:
                found.append(
                    f"{where}: clinical/{own} is neither a shared module nor a package "
                    "of CLINICAL_LAYERS"
                )
    return sorted(set(found))
