"""The REST API: ``create_app(settings)`` builds it; ``isotrack serve`` runs it."""

from __future__ import annotations
