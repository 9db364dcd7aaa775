"""The application: ``create_app(settings)`` builds the FastAPI app.

It opens the database of the settings (or takes ``engine``), refuses to start
unless the schema is the newest (StorageError: run ``isotrack db upgrade``) and,
in production, unless the settings are usable (ConfigurationError, :mod:`.preflight`),
loads the knowledge base, opens the shared limits (:mod:`isotrack.store.limits`:
Redis, PostgreSQL or SQLite), and assembles: the middleware (request id, rate
limit, body limits, security headers, access log; CORS only for the origins
the settings list), the problem+json error handlers, ``GET /health`` and
``GET /ready``, the authentication router, every resource router of
:data:`isotrack.api.routes.ROUTERS` and the CDS Hooks service under
``/cds-services`` (:mod:`isotrack.cds.routes`), and the web app's pages
(:func:`isotrack.web.install_web`). The OpenAPI document is at
``/api/v1/openapi.json``; Swagger UI at ``/docs``, its files served from the
installed ``fastapi-offline`` package (Swagger UI 5, Apache-2.0), so the page
works without a network.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from isotrack import SAFETY_LINE, __version__
from isotrack.api.routes import ROUTERS
from isotrack.cds.routes import install_cds
from isotrack.errors import ConfigurationError, StorageError
from isotrack.http.deps import EngineDep, RequestIdDep, SettingsDep
from isotrack.http.door import check_request_values
from isotrack.http.problems import (
    CONFIGURATION_DETAIL,
    PROBLEM_MEDIA_TYPE,
    STORAGE_DETAIL,
    Problem,
    install_problem_handlers,
    problem_response,
)
from isotrack.http.signin import router as auth_router
from isotrack.knowledge import KnowledgeBase, default_knowledge
from isotrack.server.middleware import RequestGuard, TokenBucketLimiter
from isotrack.server.preflight import require_usable_configuration
from isotrack.settings import Settings
from isotrack.store import create_engine_for, head_revision, require_current_schema
from isotrack.store.limits import shared_limits
from isotrack.web import install_web

OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/docs"
SWAGGER_JS = "swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui.css"
SWAGGER_ASSETS = {SWAGGER_JS: "text/javascript", SWAGGER_CSS: "text/css"}
"""Swagger UI's files, served under /docs/ from the installed package: /docs needs no CDN."""
DOCS_ASSET_MAX_AGE = 86_400
_ASSET_CACHE: dict[str, bytes] = {}
PROBLEM_RESPONSE: dict[str, Any] = {
    "description": "An error, as an RFC 9457 problem",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    schema_revision: str


def create_app(
    settings: Settings, *, engine: Engine | None = None, kb: KnowledgeBase | None = None
) -> FastAPI:
    """The isotrack API on ``engine`` (default: an engine on ``settings.database_url``).

    Raises StorageError when the database is unreachable or not at the newest schema,
    ConfigurationError when production settings are unusable (:mod:`.preflight`)."""
    engine = engine if engine is not None else create_engine_for(settings.database_url)
    require_current_schema(engine)
    require_usable_configuration(settings)
    app = FastAPI(
        title="isotrack",
        version=__version__,
        description=f"Decision support for isotretinoin therapy. {SAFETY_LINE}",
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(check_request_values)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.kb = kb if kb is not None else default_knowledge()
    install_problem_handlers(app)
    app.state.limits = limits = shared_limits(engine, settings.redis_url)
    app.add_middleware(
        RequestGuard,
        limiter=TokenBucketLimiter(
            settings.rate_limit_per_minute, settings.rate_limit_burst, store=limits
        ),
        hsts_seconds=settings.hsts_seconds,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.include_router(probes)
    for router in api_routers():
        app.include_router(router)
    install_cds(app, settings, app.state.kb, limits)
    install_web(app)
    _add_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
    if settings.trusted_proxies:
        # Outermost: the client address and scheme every other layer sees are the proxy's
        # word only when the proxy is one the settings name (uvicorn's own is off).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    return app


probes = APIRouter(tags=["probes"])


@probes.get("/health", response_model=Health, summary="Liveness: the process answers")
def health() -> Health:
    return Health(status="ok")


@probes.get(
    "/ready",
    response_model=Readiness,
    summary="Readiness: the database answers and is at the newest schema",
    responses={503: PROBLEM_RESPONSE},
)
def ready(
    engine: EngineDep, settings: SettingsDep, request_id: RequestIdDep
) -> Readiness | JSONResponse:
    try:
        require_current_schema(engine)
        require_usable_configuration(settings)
    except ConfigurationError as error:
        logging.getLogger("isotrack.api.errors").error(
            "not ready: %s", error.message, extra={"fields": {"request_id": request_id}}
        )
        return problem_response(503, error.code, CONFIGURATION_DETAIL, request_id=request_id)
    except StorageError as error:
        logging.getLogger("isotrack.api.errors").error(
            "not ready: %s", error.message, extra={"fields": {"request_id": request_id}}
        )
        return problem_response(503, error.code, STORAGE_DETAIL, request_id=request_id)
    return Readiness(status="ready", schema_revision=head_revision())


def api_routers() -> list[APIRouter]:
    """The authentication router and every resource router."""
    return [auth_router, *ROUTERS]


def _add_docs(app: FastAPI) -> None:
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title="isotrack API",
        swagger_js_url=f"{DOCS_URL}/{SWAGGER_JS}",
        swagger_css_url=f"{DOCS_URL}/{SWAGGER_CSS}",
        swagger_favicon_url="data:,",
    )
    html = bytes(page.body).decode("utf-8")
    policy = docs_content_security_policy(html)

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"content-security-policy": policy})

    @app.get(DOCS_URL + "/{asset}", include_in_schema=False)
    def docs_asset(asset: str) -> Response:
        media_type = SWAGGER_ASSETS.get(asset)
        if media_type is None:
            raise StarletteHTTPException(404, "no such file of the API documentation")
        return Response(
            swagger_asset(asset),
            media_type=media_type,
            headers={"cache-control": f"public, max-age={DOCS_ASSET_MAX_AGE}"},
        )


def swagger_asset(name: str) -> bytes:
    """A file of Swagger UI as the ``fastapi-offline`` package ships it (read once)."""
    if name not in _ASSET_CACHE:
        _ASSET_CACHE[name] = (
            resources.files("fastapi_offline").joinpath("static", name).read_bytes()
        )
    return _ASSET_CACHE[name]


def docs_content_security_policy(html: str) -> str:
    """The CSP of the Swagger UI page: its assets from this server, its inline script by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'"
    )


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, every error described as a problem (422 included)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = PROBLEM_RESPONSE
            responses.setdefault("default", PROBLEM_RESPONSE)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = document
    return document
