"""RFC 9457 problem details: the API's one error translator.

Every error response is ``application/problem+json``::

    {"type": "urn:isotrack:problem:not-found", "title": "Not Found", "status": 404,
     "detail": "no patient 7d3c…", "code": "not-found", "request_id": "5f0e…"}

``code`` is the engine's error code (:mod:`isotrack.errors`) or an HTTP one
(``unauthenticated``, ``forbidden``, ``body-too-large``, ``rate-limited`` …);
``field`` names the offending field of an invalid input. The mapping:

    ConfigurationError (a missing or weak server key …)   503 (detail kept server-side)
    InvalidInputError, CommandRejected, ProgrammeRefusal  422
    CdsAuthError                                          401 with WWW-Authenticate: Bearer
    NotFoundError                                         404
    ConflictError                                         409
    StorageError                                          503 (detail kept server-side)
    request validation (FastAPI)                          422 with the first failing field
    HTTPException (auth: 401/403, 404, 405, …)            its status
    anything else                                         500: a generic body with the request id;
                                                          the traceback goes to the server log only

Routes and dependencies may raise :class:`ProblemError` for a status of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from isotrack.errors import (
    CdsAuthError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    IsotrackError,
    KnowledgeError,
    NotFoundError,
    StorageError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:isotrack:problem:"
REQUEST_VALIDATION_CODE = "invalid-request"
INTERNAL_ERROR_CODE = "internal-error"
STORAGE_DETAIL = "the database is unavailable or not at the expected schema; try again later"
INTERNAL_DETAIL = "an unexpected error occurred; quote the request id when reporting it"
CONFIGURATION_DETAIL = (
    "the server is not configured to do this; the administrator finds why in the server log"
)

HTTP_CODES: Mapping[int, str] = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: REQUEST_VALIDATION_CODE,
    429: "rate-limited",
    500: INTERNAL_ERROR_CODE,
    503: "unavailable",
}
"""The problem code of an HTTP error raised without one of the engine's codes."""

STATUS_OF_ERROR: Sequence[tuple[type[IsotrackError], int]] = (
    (ConfigurationError, 503),  # before InvalidInputError, its parent
    (InvalidInputError, 422),  # CommandRejected and ProgrammeRefusal are InvalidInputErrors
    (CdsAuthError, 401),
    (NotFoundError, 404),
    (ConflictError, 409),
    (StorageError, 503),
    (KnowledgeError, 500),
)
"""The status of each engine error (the first matching class wins); others are 400."""

log = logging.getLogger("isotrack.api.errors")


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object, with isotrack's ``code`` and ``request_id``."""

    type: str = Field(description="urn:isotrack:problem:<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="The stable error code (the engine's or an HTTP one).")
    request_id: str | None = Field(default=None, description="Quote it when reporting.")
    field: str | None = Field(default=None, description="The invalid field, when one is.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="Every failing field of an invalid request."
    )


class ProblemError(Exception):  # it is rendered, not a crash
    """Raise to answer with a problem of a chosen status and code."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    request_id: str | None,
    field: str | None = None,
    errors: list[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response (fields that are None are left out)."""
    problem = Problem(
        type=PROBLEM_TYPE_PREFIX + code,
        title=_title(status),
        status=status,
        detail=detail,
        code=code,
        request_id=request_id,
        field=field,
        errors=errors,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def status_of(error: IsotrackError) -> int:
    for error_class, status in STATUS_OF_ERROR:
        if isinstance(error, error_class):
            return status
    return 400


def server_detail(error: IsotrackError) -> str:
    """What a client is told of a server-side error (a 5xx): never its message, which
    may name a setting, the database or a file."""
    if isinstance(error, StorageError):
        return STORAGE_DETAIL
    if isinstance(error, ConfigurationError):
        return CONFIGURATION_DETAIL
    return INTERNAL_DETAIL


def request_id_of(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error the routes raise as problem+json."""
    app.add_exception_handler(IsotrackError, _isotrack_error)  # type: ignore[arg-type]  # Starlette types handlers loosely
    app.add_exception_handler(ProblemError, _problem_error)  # type: ignore[arg-type]  # idem
    app.add_exception_handler(RequestValidationError, _request_validation_error)  # type: ignore[arg-type]  # idem
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]  # idem


async def _isotrack_error(request: Request, error: IsotrackError) -> JSONResponse:
    status = status_of(error)
    request_id = request_id_of(request)
    if status >= 500:
        # The message may name the database or a file: the server log keeps it.
        log.error(
            "engine error %s: %s",
            error.code,
            error.message,
            extra={"fields": {"request_id": request_id, "code": error.code}},
        )
        return problem_response(status, error.code, server_detail(error), request_id=request_id)
    field = error.field if isinstance(error, InvalidInputError) else None
    headers = (
        {"WWW-Authenticate": error.www_authenticate} if isinstance(error, CdsAuthError) else None
    )
    return problem_response(
        status, error.code, error.message, request_id=request_id, field=field, headers=headers
    )


async def _problem_error(request: Request, error: ProblemError) -> JSONResponse:
    return problem_response(
        error.status,
        error.code,
        error.detail,
        request_id=request_id_of(request),
        field=error.field,
        headers=error.headers,
    )


async def _request_validation_error(
    request: Request, error: RequestValidationError
) -> JSONResponse:
    problems = [
        FieldProblem(field=field_name(item.get("loc", ())), message=str(item.get("msg", "")))
        for item in error.errors()
    ]  # the submitted values ("input") are never echoed: they may be passwords or patient data
    first = problems[0] if problems else FieldProblem(field="body", message="is invalid")
    return problem_response(
        422,
        REQUEST_VALIDATION_CODE,
        f"{first.field}: {first.message}",
        request_id=request_id_of(request),
        field=first.field,
        errors=problems,
    )


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    status = error.status_code
    detail = error.detail if isinstance(error.detail, str) else _title(status)
    return problem_response(
        status,
        HTTP_CODES.get(status, f"http-{status}"),
        detail,
        request_id=request_id_of(request),
        headers=error.headers,
    )


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def field_name(loc: Sequence[Any]) -> str:
    """``("body", "weight_kg")`` → ``weight_kg``; ``("query", "limit")`` → ``limit``.

    >>> field_name(("body", "doses", 0, "mg"))
    'doses.0.mg'
    >>> field_name(("body",))
    'body'
    """
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
