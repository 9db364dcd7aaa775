"""The CDS Hooks routes under ``/cds-services`` (part of the API app).

``GET /cds-services`` (discovery), ``POST /cds-services/{id}`` (a hook) and
``POST /cds-services/{id}/feedback``. Hooks and feedback authenticate the EHR
first (:func:`isotrack.cds.security.authenticate_cds_request`, 401 with
``WWW-Authenticate: Bearer``); the token's ``aud`` must be the service URL
(feedback: or the feedback URL) under ``ISOTRACK_CDS_PUBLIC_URL`` (in development
and test, without it, the request's scheme and host). Errors are problem+json:

    not JSON, or not a JSON object            400 malformed-json
    hook not the service's hook               400 wrong-hook
    unknown service                           404
    body over 10 MB (checked while streaming) 413 body-too-large (server/middleware.py)
    over 50,000 bundle entries                413 too-many-entries
    a wrong field (type, prefetch, date …)    422 naming the field
    data the hook cannot answer without,      412 precondition-failed naming the prefetch
      neither prefetched nor readable from      key(s) and why (CDS Hooks 2.0.1)
      fhirServer

In unsigned development mode every response under ``/cds-services`` carries
``X-Isotrack-Unsigned: true``. The hook path reads no record: the knowledge
base and the settings are built once, on ``app.state``; it only writes the
token's ``jti`` to the shared replay cache and draws on its issuer's bucket
(``ISOTRACK_CDS_ISSUER_RATE_PER_SECOND``, 429 with ``Retry-After`` when empty).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar, cast

import httpx
import msgspec
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isotrack.cds.cards import CardSettings
from isotrack.cds.discovery import SERVICES, Service, discovery, prefetch_templates
from isotrack.cds.feedback import IssuedCard, IssuedCards, feedback_answer, record_feedback
from isotrack.cds.fhir_server import FhirReader, readable_server
from isotrack.cds.models import (
    BODY,
    CardsResponse,
    FeedbackRequest,
    HookRequest,
    decode_feedback,
    decode_hook_request,
    encode,
)
from isotrack.cds.prefetch import MAX_ENTRIES, check_prefetch
from isotrack.cds.security import EhrCaller, EhrTokenVerifier, authenticate_cds_request
from isotrack.cds.service import EssentialDataMissingError, answer_hook
from isotrack.clinical.record import to_snapshot
from isotrack.clinical.snapshot import ReportToReview
from isotrack.ehr import find_linked_patient
from isotrack.errors import CdsAuthError, InvalidInputError, IsotrackError
from isotrack.http.deps import EngineDep, NowDep, current_time
from isotrack.http.limits import ISSUER_BUCKET, VERIFIED_CDS_ISSUER, Rate, too_many
from isotrack.http.problems import ProblemError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.settings import Settings
from isotrack.store import read_record
from isotrack.store.limits import Limits

PREFIX = "/cds-services"
PRECONDITION_FAILED = "precondition-failed"
UNSIGNED_HEADER = (b"x-isotrack-unsigned", b"true")
JSON = "application/json"
T = TypeVar("T")

CDS_ACTOR = "cds-hooks"
"""Who the audit trail says read a record for a hook."""

router = APIRouter(prefix=PREFIX, tags=["cds-hooks"], include_in_schema=False)


@dataclass
class CdsState:
    """What the CDS routes build once per app (``app.state.cds``)."""

    verifier: EhrTokenVerifier
    cards: CardSettings
    issued: IssuedCards
    discovery: bytes
    templates: dict[str, str]
    issuer_rate: Rate
    limits: Limits | None = None
    """The shared buckets (each verified issuer's) and replay cache; None: this process's."""
    transport: httpx.BaseTransport | None = None
    """Replaces the network for fhirServer reads (tests: ``httpx.MockTransport``)."""


def smart_app_url(settings: Settings) -> str | None:
    """The launch URL cards link to: ``ISOTRACK_CDS_SMART_APP_URL``, else isotrack's own
    ``/smart/launch`` when EHRs are registered for SMART launch and the public URL is known."""
    if settings.cds_smart_app_url:
        return settings.cds_smart_app_url
    if settings.smart_ehrs and settings.cds_public_url:
        return settings.cds_public_url + "/smart/launch"
    return None


def install_cds(
    app: FastAPI, settings: Settings, kb: KnowledgeBase, limits: Limits | None = None
) -> None:
    """Add the CDS Hooks routes (and, in unsigned mode, the response header) to ``app``;
    ``limits`` holds the issuers' buckets and the replay cache every worker shares."""
    app.state.cds = CdsState(
        verifier=EhrTokenVerifier.from_settings(settings, replays=limits),
        issuer_rate=Rate(settings.cds_issuer_rate_per_second, settings.cds_issuer_burst),
        limits=limits,
        cards=CardSettings(kb, smart_app_url(settings)),
        issued=IssuedCards(),
        discovery=encode(discovery(kb)),
        templates=prefetch_templates(kb),
    )
    before = len(app.router.routes)
    app.include_router(router)
    # Routes are matched in order; an EHR calls the hooks far more often than any
    # other route, so theirs (a prefix no other route serves) are tried first.
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added
    if settings.cds_allow_unsigned:
        app.add_middleware(UnsignedModeHeader)


@dataclass(frozen=True)
class CdsCall:
    """One request to a CDS route, read on the event loop; the work runs in one thread."""

    state: CdsState
    settings: Settings
    kb: KnowledgeBase
    body: bytes
    authorization: str | None
    base_url: str
    """``scheme://host`` of the request (the ``aud`` base unless ``cds_public_url`` is set)."""
    request_state: dict[str, Any]
    """The request's state (``scope["state"]``): the verified issuer is noted there."""
    engine: Engine | None = None
    """The store, where a patient's own reports to the clinic are (REPORT-NEEDS-REVIEW)."""


async def cds_call(request: Request) -> CdsCall:
    """Everything the route needs, gathered without a thread: the state is read, the
    body awaited (the middleware has already bounded its size)."""
    app_state = request.app.state
    return CdsCall(
        state=cast(CdsState, app_state.cds),
        settings=cast(Settings, app_state.settings),
        kb=cast(KnowledgeBase, app_state.kb),
        engine=cast(Engine | None, getattr(app_state, "engine", None)),
        body=await request.body(),
        authorization=request.headers.get("authorization"),
        base_url=f"{request.url.scheme}://{request.url.netloc}",
        request_state=request.scope.setdefault("state", {}),
    )


CallDep = Annotated[CdsCall, Depends(cds_call)]


@router.get("", summary="CDS Hooks discovery: the services and their prefetch templates")
async def discover(request: Request) -> Response:
    return Response(cast(CdsState, request.app.state.cds).discovery, media_type=JSON)


@router.post("/{service_id}", summary="Call a CDS Hooks service")
async def call_service(service_id: str, request: Request) -> Response:
    # The request is read here, without FastAPI dependencies: a plain-function
    # dependency (the clock) would cost a worker thread of its own.
    call = await cds_call(request)
    now = request_time(request)
    # One thread for the whole call: verifying the token may read a JWKS and a
    # missing prefetch key the FHIR server; screening is CPU work that must not
    # hold the event loop for a large record.
    return await run_in_threadpool(_answer, service_id, call, now)


def _stored_reports(
    call: CdsCall, hook_request: HookRequest, now: datetime
) -> tuple[ReportToReview, ...]:
    """The reports awaiting a clinician in the isotrack record of the EHR's patient
    (:func:`_record_id`; the read audited as ``cds-hooks``); none when there is no such
    record."""
    if call.engine is None:
        return ()
    try:
        patient_id = _record_id(call.engine, hook_request)
        record, _ = read_record(call.engine, patient_id, actor=CDS_ACTOR, now=now, kb=call.kb)
    except IsotrackError:  # no such record, or the store cannot answer: the EHR's data only
        return ()
    return to_snapshot(record, on=now.date(), kb=call.kb).reports_to_review


def _record_id(engine: Engine, hook_request: HookRequest) -> str:
    """The isotrack record linked to the EHR's patient at the request's ``fhirServer``
    (:mod:`isotrack.ehr`), else the record whose id is the EHR's patient id."""
    ehr_id = hook_request.context.patient_id
    if hook_request.fhir_server:
        try:
            linked = find_linked_patient(engine, hook_request.fhir_server, ehr_id)
        except InvalidInputError:  # a fhirServer that is no http(s) URL: no link to it
            linked = None
        if linked is not None:
            return linked
    return ehr_id


def request_time(request: Request) -> datetime:
    """:func:`~isotrack.http.deps.current_time`, or the clock a test put in its place
    (``app.dependency_overrides[current_time]``)."""
    clock = request.app.dependency_overrides.get(current_time, current_time)
    return cast(datetime, clock())


def _answer(service_id: str, call: CdsCall, now: datetime) -> Response:
    today = now.date()
    service = _service(service_id)
    _authenticate(call, service_id)
    hook_request = _decoded(decode_hook_request, call.body)
    if hook_request.hook != service.hook:
        raise ProblemError(
            400,
            "wrong-hook",
            f"{service.id} answers the {service.hook} hook, not {hook_request.hook[:60]!r}",
            field="hook",
        )
    prefetch = check_prefetch(hook_request)
    entries = prefetch.entries
    if entries > MAX_ENTRIES:
        raise ProblemError(
            413,
            "too-many-entries",
            f"the prefetch and draft orders hold {entries} bundle entries; "
            f"at most {MAX_ENTRIES} are read",
        )
    cds = call.state
    reader = _reader(hook_request, cds, call.settings)
    try:
        answer = answer_hook(
            hook_request,
            service,
            kb=call.kb,
            cards=cds.cards,
            today=today,
            reader=reader,
            prefetch=prefetch,
            reports_to_review=() if service.orders else _stored_reports(call, hook_request, now),
        )
    except EssentialDataMissingError as missing:
        field = f"prefetch.{next(iter(missing.missing))}" if len(missing.missing) == 1 else None
        raise ProblemError(
            412, PRECONDITION_FAILED, missing.message, field=field or "prefetch"
        ) from None
    except OverflowError:  # date arithmetic on a date near year 1 or 9999 in the record
        raise ProblemError(
            422,
            "invalid-input",
            "a date in the prefetch or draft orders is so far in the past or future that "
            "isotrack cannot count from it; correct the record",
            field="prefetch",
        ) from None
    finally:
        if reader is not None:
            reader.close()
    cds.issued.remember(
        (card.uuid, IssuedCard(service.id, card.source.topic.code, answer.patient_id))
        for card in answer.cards
        if card.source.topic is not None
    )
    return Response(encode(CardsResponse(answer.cards)), media_type=JSON)


@router.post("/{service_id}/feedback", summary="Feedback on the cards of a CDS Hooks service")
async def feedback(service_id: str, call: CallDep, engine: EngineDep, now: NowDep) -> Response:
    return await run_in_threadpool(_record, service_id, call, engine, now)


def _record(service_id: str, call: CdsCall, engine: Engine, now: datetime) -> Response:
    service = _service(service_id)
    caller = _authenticate(call, service_id, feedback=True)
    parsed: FeedbackRequest = _decoded(decode_feedback, call.body)
    rows = record_feedback(
        engine,
        parsed,
        service_id=service.id,
        actor=_actor(caller),
        issued=call.state.issued,
        now=now,
    )
    return Response(msgspec.json.encode(feedback_answer(len(rows))), media_type=JSON)


def _service(service_id: str) -> Service:
    service = SERVICES.get(service_id)
    if service is None:
        raise ProblemError(
            404,
            "not-found",
            f"no CDS service {service_id[:80]!r}; GET {PREFIX} lists them: " + ", ".join(SERVICES),
        )
    return service


def _authenticate(call: CdsCall, service_id: str, *, feedback: bool = False) -> EhrCaller:
    token_given = bool(call.authorization and call.authorization.strip())
    caller = authenticate_cds_request(
        call.authorization,
        audiences=audiences(call.settings, call.base_url, service_id, feedback=feedback)
        if token_given
        else (),
        verifier=call.state.verifier,
        settings=call.settings,
    )
    if caller.issuer is not None:
        call.request_state[VERIFIED_CDS_ISSUER] = caller.issuer
        limits, rate = call.state.limits, call.state.issuer_rate
        if limits is not None:
            wait = limits.take(ISSUER_BUCKET + caller.issuer, rate.per_second, rate.burst)
            if wait is not None:
                raise too_many(wait)
    return caller


def audiences(
    settings: Settings, request_base: str, service_id: str, *, feedback: bool = False
) -> list[str]:
    """The ``aud`` a token for ``service_id`` must carry: the service's URL (CDS Hooks
    2.0.1: "the URL of the CDS Service endpoint being invoked"); for feedback also the
    feedback endpoint's URL. The base is ``ISOTRACK_CDS_PUBLIC_URL``; only in development
    and test does the request's own scheme and host (``request_base``) stand in for it
    (the settings refuse a production server with issuers and no public URL)."""
    base = settings.cds_public_url
    if not base:
        if not settings.relaxed:
            raise CdsAuthError(
                "this server has no ISOTRACK_CDS_PUBLIC_URL to check the token's aud against"
            )
        base = request_base
    service = f"{base.rstrip('/')}{PREFIX}/{service_id}"
    return [service, f"{service}/feedback"] if feedback else [service]


def _decoded(decode: Callable[[bytes], T], body: bytes) -> T:
    try:
        return decode(body)
    except InvalidInputError as error:
        if error.field == BODY:
            raise ProblemError(400, "malformed-json", error.message, field=BODY) from None
        raise


def _reader(request: HookRequest, cds: CdsState, settings: Settings) -> FhirReader | None:
    if not readable_server(request.fhir_server, allow_http=settings.relaxed):
        return None
    assert request.fhir_server is not None  # readable_server checked it
    token = request.fhir_authorization.access_token if request.fhir_authorization else None
    return FhirReader(
        request.fhir_server,
        request.context.patient_id,
        cds.templates,
        access_token=token,
        timeout=settings.cds_fhir_timeout_seconds,
        transport=cds.transport,
    )


def _actor(caller: EhrCaller) -> str:
    if caller.unsigned or caller.issuer is None:
        return "ehr:unsigned"
    return f"ehr:{caller.issuer} {caller.subject or ''}".rstrip()


class UnsignedModeHeader:
    """Adds ``X-Isotrack-Unsigned: true`` to every response under ``/cds-services``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), UNSIGNED_HEADER]
            await send(message)

        await self.app(scope, receive, send_marked)
