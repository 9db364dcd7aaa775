"""What every request goes through before and after its route (one ASGI middleware).

In order: a request id (``X-Request-ID`` taken when well formed, else made;
echoed on the response and on ``request.state.request_id``); the rate limit
(a token bucket per user, else per client address → 429 with Retry-After;
the buckets live in the shared store of :mod:`isotrack.store.limits`, so that
every worker draws on the same ones; a signed CDS Hooks call draws on its
issuer's bucket instead, in its route, :mod:`isotrack.http.limits`);
the body size limit (10 MB for CDS Hooks — paths under ``/cds-services`` —;
5 MB for FHIR — paths ending ``/screen`` or ``/import``,
or ``Content-Type: application/fhir+json`` — 100 KB otherwise; checked on
Content-Length and while the body streams in, before it is all read → 413);
the route, where any unhandled exception becomes a generic 500 problem with
the request id (the traceback goes to the server log only); the security
headers on every response (no ``X-Frame-Options`` where the response's own
policy lets an EHR frame it: the pages of a SMART-launched session;
``Strict-Transport-Security`` too when the request came over https, seen
directly or through a trusted proxy's ``X-Forwarded-Proto``); and one JSON access-log line.

The user of a request is known only once its route has checked the token
(``request.state.principal``). The middleware remembers which user a bearer
token (by its SHA-256) proved to be, so the next request with the same token
draws on that user's bucket; a token never verified draws on its address's.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isotrack.http.limits import RATE_LIMITED, VERIFIED_CDS_ISSUER, Rate, retry_after
from isotrack.http.problems import INTERNAL_DETAIL, INTERNAL_ERROR_CODE, problem_response
from isotrack.server.logging_json import ACCESS_LOGGER
from isotrack.store.limits import Limits, MemoryLimits, Split

FHIR_BODY_LIMIT = 5 * 1024 * 1024
"""Bytes a FHIR request body may hold."""
CDS_BODY_LIMIT = 10 * 1024 * 1024
"""Bytes a CDS Hooks request (paths under ``/cds-services``) may hold: its prefetch
carries a patient's record (the largest Synthea sample bundle is 3.6 MB)."""
CDS_PATH_PREFIX = "/cds-services"
BODY_LIMIT = 100 * 1024
"""Bytes any other request body may hold."""
FHIR_PATH_ENDINGS = ("/screen", "/import")
FHIR_MEDIA_TYPE = "application/fhir+json"
UNLIMITED_PATHS = frozenset({"/health", "/ready"})
"""Probes are not rate limited."""

CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'"
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_REMEMBERED_TOKENS = 10_000

access_log = logging.getLogger(ACCESS_LOGGER)
error_log = logging.getLogger("isotrack.api.errors")


class TokenBucketLimiter:
    """The per-user and per-address buckets: ``burst`` requests at once, refilled at
    ``per_minute`` a minute, kept in ``store`` (shared by every worker; default: this
    process's memory, on ``clock``, seconds, a parameter for tests)."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        store: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = Rate(per_minute / 60.0, float(burst))
        self.store: Limits = store if store is not None else MemoryLimits(clock=clock)
        self.blocking = not _in_memory(self.store)
        """Whether a call waits for another server (then it runs off the event loop)."""

    def take(self, key: str) -> float | None:
        """Spend one request of ``key``: None when allowed, else the seconds to wait."""
        return self.store.take(key, self.rate.per_second, self.rate.burst)

    def charge(self, key: str) -> None:
        """Spend one request of ``key`` already served (never below empty)."""
        self.store.charge(key, self.rate.per_second, self.rate.burst)

    def peek(self, key: str) -> float | None:
        """None when ``key`` holds a request, else the seconds to wait; spends nothing."""
        return self.store.peek(key, self.rate.per_second, self.rate.burst)


def _in_memory(store: Limits) -> bool:
    buckets = store.buckets if isinstance(store, Split) else store
    return isinstance(buckets, MemoryLimits)


class RequestGuard:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp, *, limiter: TokenBucketLimiter, hsts_seconds: int = 0) -> None:
        self.app = app
        self.limiter = limiter
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains".encode() if hsts_seconds else b""
        self._users_of_tokens: OrderedDict[str, str] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = _headers(scope)
        request_id = _request_id(headers.get("x-request-id"))
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        outcome = _Outcome()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome.status = message["status"]
                outcome.started = True
                message["headers"] = _with_security_headers(message.get("headers", []), request_id)
                if self.hsts and scope.get("scheme") == "https":
                    message["headers"].append((b"strict-transport-security", self.hsts))
            await send(message)

        try:
            await self._guarded(scope, receive, send_with_headers, headers, request_id)
        except Exception:
            error_log.exception("unhandled error", extra={"fields": {"request_id": request_id}})
            if not outcome.started:
                response = problem_response(
                    500, INTERNAL_ERROR_CODE, INTERNAL_DETAIL, request_id=request_id
                )
                await response(scope, receive, send_with_headers)
        finally:
            await self._after(scope, headers, outcome, request_id, started)

    async def _guarded(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[str, str],
        request_id: str,
    ) -> None:
        if scope["path"] not in UNLIMITED_PATHS:
            # A signed CDS call draws on its issuer's bucket once its route has verified
            # the token; before, its address's bucket of refused tokens is looked at.
            if _signed_cds_call(scope, headers):
                wait = await self._limit(self.limiter.peek, _refused_tokens_key(scope))
            else:
                wait = await self._limit(self.limiter.take, self._rate_key(scope, headers))
            if wait is not None:
                seconds = retry_after(wait)
                response = problem_response(
                    429,
                    RATE_LIMITED,
                    f"too many requests: try again in {seconds} s",
                    request_id=request_id,
                    headers={"retry-after": str(seconds)},
                )
                await response(scope, receive, send)
                return
        limit = body_limit(scope["path"], headers.get("content-type", ""))
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send, limit, request_id)
            return
        body = await _read_body(receive, limit)
        if body is None:
            await _too_large(scope, receive, send, limit, request_id)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _limit(self, spend: Callable[[str], float | None], key: str) -> float | None:
        if self.limiter.blocking:
            return await anyio.to_thread.run_sync(spend, key)
        return spend(key)

    def _rate_key(self, scope: Scope, headers: dict[str, str]) -> str:
        token = _token_digest(headers)
        if token is not None and token in self._users_of_tokens:
            self._users_of_tokens.move_to_end(token)
            return "user:" + self._users_of_tokens[token]
        return "address:" + _client_address(scope)

    async def _after(
        self,
        scope: Scope,
        headers: dict[str, str],
        outcome: _Outcome,
        request_id: str,
        started: float,
    ) -> None:
        state = scope.get("state", {})
        user_id = _user_id(state)
        token = _token_digest(headers)
        if user_id is not None and token is not None and token not in self._users_of_tokens:
            self._users_of_tokens[token] = user_id
            await self._limit(self.limiter.charge, "user:" + user_id)
            while len(self._users_of_tokens) > _REMEMBERED_TOKENS:
                self._users_of_tokens.popitem(last=False)
        if (
            scope["path"] not in UNLIMITED_PATHS
            and _signed_cds_call(scope, headers)
            and VERIFIED_CDS_ISSUER not in state
        ):  # a token that did not verify: its address pays for it
            await self._limit(self.limiter.charge, _refused_tokens_key(scope))
        route = scope.get("route")
        access_log.info(
            "request",
            extra={
                "fields": {
                    "method": scope["method"],
                    "path": getattr(route, "path", None) or "<unmatched>",
                    "status": outcome.status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "request_id": request_id,
                    "user_id": user_id,
                }
            },
        )


class _Outcome:
    def __init__(self) -> None:
        self.status = 500
        self.started = False


def body_limit(path: str, content_type: str) -> int:
    """The most bytes a request body to ``path`` may hold.

    >>> body_limit("/api/v1/screen", "application/json") == FHIR_BODY_LIMIT
    True
    >>> body_limit("/api/v1/patients", "application/json") == BODY_LIMIT
    True
    >>> body_limit("/cds-services/isotretinoin-order-sign", "application/json") == CDS_BODY_LIMIT
    True
    """
    if path == CDS_PATH_PREFIX or path.startswith(CDS_PATH_PREFIX + "/"):
        return CDS_BODY_LIMIT
    media_type = content_type.split(";", 1)[0].strip().lower()
    if path.rstrip("/").endswith(FHIR_PATH_ENDINGS) or media_type == FHIR_MEDIA_TYPE:
        return FHIR_BODY_LIMIT
    return BODY_LIMIT


async def _read_body(receive: Receive, limit: int) -> list[Message] | None:
    """The request's body messages, or None as soon as they exceed ``limit`` bytes."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # the client went away: let the route see it
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _too_large(
    scope: Scope, receive: Receive, send: Send, limit: int, request_id: str
) -> None:
    response = problem_response(
        413,
        "body-too-large",
        f"the request body is larger than {limit // 1024} KB",
        request_id=request_id,
    )
    await response(scope, receive, send)


def _with_security_headers(
    raw: list[tuple[bytes, bytes]], request_id: str
) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in raw}
    added = [(b"x-request-id", request_id.encode("latin-1"))]
    if b"content-security-policy" not in present:
        added.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode("latin-1")))
    elif _framing_allowed(raw):
        present.add(b"x-frame-options")  # its DENY would forbid what the policy allows
    if b"cache-control" not in present:
        added.append((b"cache-control", b"no-store"))
    for name, value in SECURITY_HEADERS:
        if name.encode("latin-1") not in present:
            added.append((name.encode("latin-1"), value.encode("latin-1")))
    kept = [(name, value) for name, value in raw if name.lower() != b"x-request-id"]
    return kept + added


def _framing_allowed(raw: list[tuple[bytes, bytes]]) -> bool:
    """Whether the response's own policy lets some origin frame it (a page of a session
    launched from an EHR): then no ``X-Frame-Options``, whose only useful value would
    forbid every origin (browsers that know ``frame-ancestors`` ignore it anyway).

    >>> _framing_allowed([(b"content-security-policy", b"frame-ancestors https://ehr.test")])
    True
    >>> _framing_allowed([(b"content-security-policy", b"frame-ancestors 'none'")])
    False
    """
    for name, value in raw:
        if name.lower() == b"content-security-policy":
            for directive in value.decode("latin-1").split(";"):
                words = directive.split()
                if words[:1] == ["frame-ancestors"] and words[1:] != ["'none'"]:
                    return True
    return False


def _headers(scope: Scope) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", [])
    }


def _request_id(given: str | None) -> str:
    if given is not None and _REQUEST_ID.match(given):
        return given
    return uuid.uuid4().hex


def _token_digest(headers: dict[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        return None
    return hashlib.sha256(authorization.encode("utf-8")).hexdigest()


def _signed_cds_call(scope: Scope, headers: dict[str, str]) -> bool:
    """A call to a CDS hook or feedback that carries a bearer token."""
    path: str = scope["path"]
    return (
        path.startswith(CDS_PATH_PREFIX + "/")
        and scope.get("method") == "POST"
        and headers.get("authorization", "").lower().startswith("bearer ")
    )


def _refused_tokens_key(scope: Scope) -> str:
    """The bucket of CDS tokens from an address that did not verify: an anonymous caller
    sharing the address of an EHR gateway (a NAT) does not throttle the gateway."""
    return "cds-refused:" + _client_address(scope)


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _user_id(state: dict[str, Any]) -> str | None:
    principal = state.get("principal")
    user_id = getattr(principal, "user_id", None)
    return str(user_id) if user_id is not None else None
