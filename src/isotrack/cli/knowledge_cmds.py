"""Knowledge commands: rules, claims, monograph."""

from __future__ import annotations

from isotrack.cli.app import app  # noqa: F401  # commands are added below
