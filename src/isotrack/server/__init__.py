"""The one ASGI app that ``isotrack serve`` runs: :func:`create_app` mounts the
REST API (:mod:`isotrack.api`), the web pages (:mod:`isotrack.web`) and the
CDS Hooks service (:mod:`isotrack.cds`) behind one set of middleware
(:mod:`.middleware`, JSON access logs by :mod:`.logging_json`).

The only module above the surfaces: it imports all three so that they never
import each other.
"""

from __future__ import annotations

from isotrack.server.app import create_app

__all__ = ["create_app"]
