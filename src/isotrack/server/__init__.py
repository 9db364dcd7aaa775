"""The one ASGI app: the API, the web pages and the CDS Hooks service."""

from __future__ import annotations

from isotrack.server.app import create_app

__all__ = ["create_app"]
