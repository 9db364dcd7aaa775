"""The resource routers of the API, included by :func:`isotrack.server.app.create_app`.

Each module is one resource; the handlers are thin: they check the caller's
right (:mod:`isotrack.http.authz`), call the library (:mod:`isotrack.store`,
:mod:`isotrack.clinical`, :mod:`isotrack.fhir`, :mod:`isotrack.ical`) and turn
its values into the response models. Errors are isotrack errors, rendered as
problem+json by :mod:`isotrack.http.problems`.
"""

from __future__ import annotations

from fastapi import APIRouter

from isotrack.api.routes import (
    audit,
    commands,
    contact_preferences,
    fhir_export,
    findings,
    knowledge,
    patients,
    pk,
    programme,
    refusals,
    schedule,
    tools,
    users,
)

ROUTERS: list[APIRouter] = [
    patients.router,
    contact_preferences.router,
    refusals.router,
    fhir_export.router,
    commands.router,
    schedule.router,
    findings.router,
    programme.router,
    programme.well_known,
    tools.router,
    pk.router,
    knowledge.router,
    audit.router,
    users.router,
]

__all__ = ["ROUTERS"]
