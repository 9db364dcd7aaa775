"""Made-up demo patients (FHIR R4 collection bundles) for ``isotrack demo``.

No real person is in them.
"""

from __future__ import annotations

from datetime import date
from importlib import resources

DEMO_DATE = date(2026, 3, 2)
"""The evaluation date the demo bundles are written for."""

DEMO_PATIENTS = ("dana", "sam")


def demo_bundle(name: str) -> bytes:
    """The raw JSON of one demo bundle."""
    return (resources.files("isotrack.demo") / f"{name}.json").read_bytes()
