"""The routers of the role pages; :func:`isotrack.web.install_web` includes each.

Each role's module adds its router here (an import and a list entry)."""

from __future__ import annotations

from fastapi import APIRouter

from isotrack.web.routes import (
    admin,
    admin_users,
    calendar_feed,
    clinician,
    contact_preferences,
    ehr_record,
    patient_portal,
    pharmacy,
    pharmacy_scan,
    smart,
    sso,
)

WEB_ROUTERS: list[APIRouter] = [
    clinician.router,
    pharmacy_scan.router,
    pharmacy.router,
    patient_portal.router,
    sso.router,
    smart.router,
    admin.router,
    admin_users.router,
    calendar_feed.router,
    contact_preferences.router,
    ehr_record.router,
]
