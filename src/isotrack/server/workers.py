"""The app of one worker of ``isotrack serve --workers N`` (uvicorn's factory).

uvicorn starts N processes, each importing this module and calling
:func:`worker_app`, which builds the app from the environment's settings
(``isotrack serve`` puts ``--database`` there first). The workers share what
must be one truth through the database (records, audit trail, sign-in
throttles) and the shared limits of :mod:`isotrack.store.limits` (rate limits,
the CDS replay cache): PostgreSQL, or Redis with ``ISOTRACK_REDIS_URL``. SQLite
serves one worker only (``isotrack serve`` refuses more).
"""

from __future__ import annotations

from fastapi import FastAPI

from isotrack.server.app import create_app
from isotrack.settings import get_settings

FACTORY = "isotrack.server.workers:worker_app"
"""The import string uvicorn is given."""


def worker_app() -> FastAPI:
    """A worker's app on the settings of the environment."""
    return create_app(get_settings())
