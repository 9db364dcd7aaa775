"""The REST API: ``create_app(settings)`` builds it; ``isotrack serve`` runs it."""

from __future__ import annotations

from isotrack.api.app import create_app

__all__ = ["create_app"]
