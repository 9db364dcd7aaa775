"""The use cases of the hooks: one request in, cards out (no database, no clock).

:func:`answer_hook` screens the isotretinoin draft order (order-select,
order-sign) or assesses the course (patient-view) on the evaluation date:
``today`` unless the request carries the top-level extension
``isotrack-evaluation-date``. It returns no cards when the draft orders hold
no isotretinoin (order-select: among ``context.selections`` when given) or,
for patient-view, when the patient had no isotretinoin in the contract's
window (``cds.patient_view_months``). A prefetch key that could not be had
becomes a DATA-MISSING card naming the key and why.

Errors: InvalidInputError naming the field (``hook``, ``context.draftOrders``,
``prefetch.<key>``, ``extension.isotrack-evaluation-date`` ...).
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec

from isotrack.cds.cards import CardSettings, render_cards
from isotrack.cds.discovery import PATIENT_KEY, Service
from isotrack.cds.models import Card, HookRequest
from isotrack.cds.prefetch import FhirReader, Gathered, Prefetch, combine, envelope, gather
from isotrack.cds.suggestions import SuggestionContext
from isotrack.clinical.findings import Assessment, Finding, make_finding
from isotrack.clinical.screening import assess_course, screen_order
from isotrack.clinical.snapshot import PatientSnapshot
from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir import (
    FhirBundle,
    decode_bundle,
    find_isotretinoin_order,
    read_order,
    snapshot_from_bundle,
)
from isotrack.fhir.order import is_isotretinoin, medication_of
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge.base import KnowledgeBase

EVALUATION_DATE_EXTENSION = "isotrack-evaluation-date"
EVALUATION_YEARS_AROUND_TODAY = 150
"""An evaluation date further from today is refused: a sanity bound on input (date
arithmetic near year 1 or 9999 overflows), not a clinical limit."""
DATA_MISSING = "DATA-MISSING"
_NULL = b"null"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class HookAnswer:
    """The cards of one request, and whose they are (for feedback)."""

    cards: tuple[Card, ...]
    patient_id: str


def evaluation_date(request: HookRequest, today: date) -> date:
    value = request.extension.get(EVALUATION_DATE_EXTENSION)
    if value is None:
        return today
    field = f"extension.{EVALUATION_DATE_EXTENSION}"
    if not isinstance(value, str):
        raise InvalidInputError(field, "must be a date written YYYY-MM-DD")
    try:
        day = date.fromisoformat(value) if _DAY.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidInputError(field, f"{value[:40]!r} is not a date written YYYY-MM-DD")
    if abs(day.year - today.year) > EVALUATION_YEARS_AROUND_TODAY:
        raise InvalidInputError(
            field,
            f"{value} is more than {EVALUATION_YEARS_AROUND_TODAY} years from today "
            f"({today.isoformat()}): give the date the record is to be replayed on",
        )
    return day


def answer_hook(
    request: HookRequest,
    service: Service,
    *,
    kb: KnowledgeBase,
    cards: CardSettings,
    today: date,
    reader: FhirReader | None,
    prefetch: Prefetch | None = None,
) -> HookAnswer:
    """The cards for one hook request (the hook is already checked against the service;
    ``prefetch``: its prefetch as :func:`~isotrack.cds.prefetch.check_prefetch` read it)."""
    on = evaluation_date(request, today)
    patient_id = request.context.patient_id
    if service.orders:
        return _order_hook(
            request, service, kb=kb, cards=cards, on=on, reader=reader, prefetch=prefetch
        )
    gathered = gather(request, reader, prefetch)
    bundle = combine(gathered.bundles)
    snapshot = snapshot_from_bundle(bundle, kb=kb, patient_id=patient_id, on=on, review_order=False)
    extra: list[Finding] = []
    if gathered.missing:
        extra.append(_data_missing(kb, gathered))
    if "medications" not in gathered.missing and not _recent_isotretinoin(snapshot, on, kb):
        return HookAnswer((), patient_id)
    assessment = assess_course(snapshot, on=on, kb=kb)
    findings = [*assessment.findings, *extra]
    context = SuggestionContext(kb=kb, on=on, snapshot=snapshot)
    rendered = render_cards(
        findings, assessment.assumptions, settings=cards, suggestion_context=context
    )
    return HookAnswer(rendered, patient_id)


def _order_hook(
    request: HookRequest,
    service: Service,
    *,
    kb: KnowledgeBase,
    cards: CardSettings,
    on: date,
    reader: FhirReader | None,
    prefetch: Prefetch | None,
) -> HookAnswer:
    patient_id = request.context.patient_id
    drafts = _draft_orders(request, service)
    chosen = _order_under_review(drafts, request, kb)
    if chosen is None:
        return HookAnswer((), patient_id)
    gathered = gather(request, reader, prefetch)
    bundle = combine([*gathered.bundles, drafts])
    snapshot = snapshot_from_bundle(bundle, kb=kb, patient_id=patient_id, order=chosen, on=on)
    snapshot = _with_missing(snapshot, gathered)
    read = read_order(chosen, kb, bundle=bundle)
    assessment: Assessment = screen_order(snapshot, read.order, on=on, kb=kb)
    context = SuggestionContext(
        kb=kb, on=on, snapshot=snapshot, order=read.order, draft=_raw_of(drafts, chosen)
    )
    rendered = render_cards(
        assessment.findings, assessment.assumptions, settings=cards, suggestion_context=context
    )
    return HookAnswer(rendered, patient_id)


def _draft_orders(request: HookRequest, service: Service) -> FhirBundle:
    raw = bytes(request.context.draft_orders)
    field = "context.draftOrders"
    if raw == _NULL:
        raise InvalidInputError(field, f"{service.hook} needs a Bundle of MedicationRequest")
    envelope(raw, field, "Bundle")
    try:
        return decode_bundle(raw)
    except FhirDecodeError as error:
        raise InvalidInputError(field, error.message) from None


def _order_under_review(
    drafts: FhirBundle, request: HookRequest, kb: KnowledgeBase
) -> MedicationRequest | None:
    """The isotretinoin order among the draft orders (among the selections when given)."""
    selections = set(request.context.selections)
    candidates = drafts
    if selections:
        kept = tuple(
            e for e in drafts.entries
            if e.full_url in selections or f"{e.resource_type}/{_id(e.resource)}" in selections
        )  # fmt: skip
        candidates = FhirBundle(kept, drafts.bundle_type)
    found = find_isotretinoin_order(candidates, kb=kb)
    if found is not None:
        return found
    return next(
        (r for r in candidates.of_type(MedicationRequest)
         if is_isotretinoin(medication_of(r, drafts)[0], kb)),
        None,
    )  # fmt: skip


def _id(resource: object) -> str | None:
    value = getattr(resource, "id", None)
    return value if isinstance(value, str) else None


def _raw_of(drafts: FhirBundle, chosen: MedicationRequest) -> dict[str, Any] | None:
    for entry in drafts.entries:
        if entry.resource is chosen:
            decoded = msgspec.json.decode(entry.raw)
            return decoded if isinstance(decoded, dict) else None
    return None


def _with_missing(snapshot: PatientSnapshot, gathered: Gathered) -> PatientSnapshot:
    if not gathered.missing:
        return snapshot
    described = [f"{key} ({why})" for key, why in gathered.missing.items()]
    patient_described = PATIENT_KEY in gathered.missing
    kept = [m for m in snapshot.missing if not (m == PATIENT_KEY and patient_described)]
    return dataclasses.replace(snapshot, missing=(*described, *kept))


def _data_missing(kb: KnowledgeBase, gathered: Gathered) -> Finding:
    """DATA-MISSING for patient-view (the order hooks get it from the engine)."""
    listed = "; ".join(f"{key} ({why})" for key, why in gathered.missing.items())
    summary = f"Data missing: {listed}"
    if len(summary) > 140:
        summary = summary[:139] + "…"
    return make_finding(
        kb,
        DATA_MISSING,
        summary,
        f"The record did not provide: {listed}. Rules that need these data could not be "
        "checked fully; their absence is not evidence that all is well.",
        data=[("missing", f"{key}: {why}") for key, why in gathered.missing.items()],
    )


def _recent_isotretinoin(snapshot: PatientSnapshot, on: date, kb: KnowledgeBase) -> bool:
    since = months_before(on, int(kb.number("cds.patient_view_months")))
    return any(
        course.start <= on and (course.end is None or course.end >= since)
        for course in snapshot.courses
    )


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day if shorter;
    ``date.min`` before year 1).

    >>> months_before(date(2026, 3, 31), 1), months_before(date(2026, 3, 2), 12)
    (datetime.date(2026, 2, 28), datetime.date(2025, 3, 2))
    """
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    if year < date.min.year:
        return date.min
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
