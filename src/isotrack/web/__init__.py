"""The web app: server-rendered pages (Jinja2 + htmx) next to the API.

:func:`install_web` adds to the app of :func:`isotrack.api.create_app`: the
static files under ``/static``, the HTML error pages for page requests, the
sign-in pages and ``/`` (:mod:`isotrack.web.routes.account`; single sign-on:
:mod:`isotrack.web.routes.sso`, and the SMART launch of :mod:`isotrack.web.routes.smart`,
both configured here from the settings), the pages of
one-time links (:mod:`isotrack.web.routes.account_links`), the public
knowledge pages, and every router of :data:`isotrack.web.routes.WEB_ROUTERS`.
Pages share the API's users, roles and matrix (:mod:`isotrack.http.authz`);
the browser holds a session cookie instead of a bearer token (docs/web.md).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent / "static"
STATIC_MAX_AGE = 3600
"""Seconds a browser may reuse a static file (pages themselves are never cached)."""


class CachedStaticFiles(StaticFiles):
    """Static files a browser may keep for an hour (the API's middleware would
    otherwise mark every response ``no-store``)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = f"public, max-age={STATIC_MAX_AGE}"
        return response


def install_web(app: FastAPI) -> None:
    """Mount the web app's pages, error pages and static files on ``app``."""
    from isotrack.http.oidc import OidcClient
    from isotrack.http.smart import SmartClient, redirect_url, smart_registrations
    from isotrack.http.sso import sso_config
    from isotrack.web.errors import install_error_pages
    from isotrack.web.routes import WEB_ROUTERS
    from isotrack.web.routes.account import router as account_router
    from isotrack.web.routes.account_links import router as account_links_router
    from isotrack.web.routes.knowledge_pages import router as knowledge_router
    from isotrack.web.routes.smart_landing import launched_access

    sso = sso_config(app.state.settings)  # an unusable ISOTRACK_OIDC_* stops the start here
    app.state.sso = sso
    app.state.sso_client = OidcClient(sso.oidc) if sso is not None else None
    settings = app.state.settings
    registrations = smart_registrations(settings)  # an unusable ISOTRACK_SMART_* stops here
    app.state.smart_clients = {
        iss: SmartClient(registration, redirect_url(settings))
        for iss, registration in registrations.items()
    }
    app.state.ehr_access = launched_access  # the EHR pages' seam (web/ehr_access.py)
    install_error_pages(app)
    app.mount("/static", CachedStaticFiles(directory=STATIC), name="static")
    for router in (account_router, account_links_router, knowledge_router, *WEB_ROUTERS):
        app.include_router(router)
