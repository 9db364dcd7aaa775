"""The use cases of the hooks: one request in, cards out (no database, no clock).

:func:`answer_hook` screens the isotretinoin draft order (order-select,
order-sign) or assesses the course (patient-view) on the evaluation date:
``today`` unless the request carries the top-level extension
``isotrack-evaluation-date``. It returns no cards when the draft orders hold
no isotretinoin (order-select: among ``context.selections`` when given) or,
for patient-view, when the patient had no isotretinoin in the contract's
window (``cds.patient_view_months``).

What the request lacks (CDS Hooks 2.0.1 conformance):

- a key the hook cannot answer without (the knowledge base's
  ``cds_required_data`` of the hook: the Patient for every hook once there is
  something to screen, the MedicationRequests for patient-view) that can be had
  neither from the prefetch nor from ``fhirServer``: :class:`EssentialDataMissingError`,
  which the route answers with 412 Precondition Failed naming the key;
- any other key that could not be had, or that the EHR answered with an
  OperationOutcome: a DATA-MISSING card naming the key and why, beside the other
  findings (the EHR's own message in the card's notes, escaped);
- a draft order isotrack could not read (:mod:`isotrack.cds.drafts`): a
  DATA-MISSING card naming it, never an empty answer.

Errors: InvalidInputError naming the field (``hook``, ``context.draftOrders``,
``prefetch.<key>``, ``extension.isotrack-evaluation-date`` ...).
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec

from isotrack.cds.cards import CardSettings, render_cards
from isotrack.cds.discovery import PATIENT_KEY, Service
from isotrack.cds.drafts import (
    UnreadableOrder,
    order_under_review,
    read_draft_orders,
    unreadable_orders,
)
from isotrack.cds.fhir_server import FhirReader
from isotrack.cds.models import Card, HookRequest
from isotrack.cds.prefetch import Gathered, Prefetch, combine, gather
from isotrack.cds.suggestions import SuggestionContext
from isotrack.clinical.findings import Assessment, Finding, clip_summary, make_finding
from isotrack.clinical.screening import assess_course, screen_order
from isotrack.clinical.snapshot import PatientSnapshot, ReportToReview
from isotrack.errors import InvalidInputError
from isotrack.fhir import FhirBundle, read_order, snapshot_from_bundle
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge.base import KnowledgeBase

EVALUATION_DATE_EXTENSION = "isotrack-evaluation-date"
EVALUATION_YEARS_AROUND_TODAY = 150
"""An evaluation date further from today is refused: a sanity bound on input (date
arithmetic near year 1 or 9999 overflows), not a clinical limit."""
DATA_MISSING = "DATA-MISSING"
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


class EssentialDataMissingError(Exception):  # a 412 for the route, not a crash
    """The hook cannot answer without data it could not have (the route answers 412
    Precondition Failed, as CDS Hooks 2.0.1 requires): ``missing`` is key → why."""

    def __init__(self, hook: str, missing: dict[str, str], reason: str) -> None:
        self.hook = hook
        self.missing = missing
        self.reason = reason
        super().__init__(self.message)

    @property
    def message(self) -> str:
        listed = "; ".join(f"{key} ({why})" for key, why in self.missing.items())
        return (
            f"isotrack cannot answer {self.hook} without {', '.join(self.missing)}: {listed}. "
            f"{self.reason} Send the prefetch key, or a fhirServer (https, with "
            "fhirAuthorization) isotrack can read it from."
        )


def answer_hook(
    request: HookRequest,
    service: Service,
    *,
    kb: KnowledgeBase,
    cards: CardSettings,
    today: date,
    reader: FhirReader | None,
    prefetch: Prefetch | None = None,
    reports_to_review: tuple[ReportToReview, ...] = (),
) -> HookAnswer:
    """The cards for one hook request (the hook is already checked against the service;
    ``prefetch``: its prefetch as :func:`~isotrack.cds.prefetch.check_prefetch` read it;
    ``reports_to_review``: the patient's reports in isotrack awaiting a clinician).
    EssentialDataMissingError when the hook cannot answer without a key it could not have."""
    on = evaluation_date(request, today)
    if service.orders:
        return _order_hook(
            request, service, kb=kb, cards=cards, on=on, reader=reader, prefetch=prefetch
        )
    patient_id = request.context.patient_id
    required = kb.cds_required_data(service.hook)
    gathered = gather(request, reader, prefetch)
    _require(gathered, service, required.to_decide, required.reason)
    bundle = combine(gathered.bundles)
    snapshot = snapshot_from_bundle(bundle, kb=kb, patient_id=patient_id, on=on, review_order=False)
    snapshot = _with_gathered(snapshot, gathered)
    if reports_to_review:
        snapshot = dataclasses.replace(snapshot, reports_to_review=reports_to_review)
    context = SuggestionContext(kb=kb, on=on, snapshot=snapshot)
    if not _recent_isotretinoin(snapshot, on, kb):
        if not set(required.to_decide) & set(gathered.ehr_errors):
            return HookAnswer((), patient_id)
        # The EHR failed to say whether the patient had isotretinoin: say so, alone.
        only = [_data_missing(kb, missing_items(gathered))]
        return HookAnswer(render_cards(only, snapshot.notes, settings=cards,
                                       suggestion_context=context), patient_id)  # fmt: skip
    _require(gathered, service, required.to_screen, required.reason)
    assessment = assess_course(snapshot, on=on, kb=kb)
    findings = list(assessment.findings)
    items = missing_items(gathered)
    if items:
        findings.append(_data_missing(kb, items))
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
    drafts = read_draft_orders(request, service.hook)
    chosen = order_under_review(drafts, request, kb)
    unreadable = unreadable_orders(drafts, request, kb)
    if chosen is None:
        if not unreadable:
            return HookAnswer((), patient_id)
        snapshot = PatientSnapshot(patient_id)
        context = SuggestionContext(kb=kb, on=on, snapshot=snapshot)
        finding = _unreadable_orders(kb, unreadable)
        return HookAnswer(render_cards([finding], (), settings=cards,
                                       suggestion_context=context), patient_id)  # fmt: skip
    required = kb.cds_required_data(service.hook)
    gathered = gather(request, reader, prefetch)
    _require(gathered, service, (*required.to_decide, *required.to_screen), required.reason)
    bundle = combine([*gathered.bundles, drafts.bundle])
    snapshot = snapshot_from_bundle(bundle, kb=kb, patient_id=patient_id, order=chosen, on=on)
    orders = [f"draft order {o.label} ({o.why})" for o in unreadable]
    snapshot = _with_gathered(snapshot, gathered, orders)
    read = read_order(chosen, kb, bundle=bundle)
    assessment: Assessment = screen_order(snapshot, read.order, on=on, kb=kb)
    context = SuggestionContext(
        kb=kb, on=on, snapshot=snapshot, order=read.order, draft=_raw_of(drafts.bundle, chosen)
    )
    rendered = render_cards(
        assessment.findings, assessment.assumptions, settings=cards, suggestion_context=context
    )
    return HookAnswer(rendered, patient_id)


def _require(gathered: Gathered, service: Service, keys: tuple[str, ...], reason: str) -> None:
    absent = gathered.absent(keys)
    if absent:
        raise EssentialDataMissingError(service.hook, absent, reason)


def _raw_of(drafts: FhirBundle, chosen: MedicationRequest) -> dict[str, Any] | None:
    for entry in drafts.entries:
        if entry.resource is chosen:
            decoded = msgspec.json.decode(entry.raw)
            return decoded if isinstance(decoded, dict) else None
    return None


def missing_items(gathered: Gathered, orders: Sequence[str] = ()) -> list[str]:
    """What the request lacked, one item each ("key (why)"); the EHR's own messages go
    to the notes (:func:`_with_gathered`), so that a summary stays one short sentence."""
    return [
        *(f"{key} ({why})" for key, why in gathered.missing.items()),
        *(f"{key} (the EHR answered with an error)" for key in gathered.ehr_errors),
        *orders,
    ]


def _with_gathered(
    snapshot: PatientSnapshot, gathered: Gathered, orders: Sequence[str] = ()
) -> PatientSnapshot:
    """The snapshot with what the request lacked in ``missing`` (the engine's DATA-MISSING
    rule reports it) and the EHR's messages and read-as notes in ``notes``."""
    items = missing_items(gathered, orders)
    said = [f"The EHR answered prefetch {key} with an error: {message}"
            for key, message in gathered.ehr_errors.items()]  # fmt: skip
    if not items and not said and not gathered.notes:
        return snapshot
    patient_described = PATIENT_KEY in gathered.missing or PATIENT_KEY in gathered.ehr_errors
    kept = [m for m in snapshot.missing if not (m == PATIENT_KEY and patient_described)]
    return dataclasses.replace(
        snapshot,
        missing=(*items, *kept),
        notes=(*said, *gathered.notes, *snapshot.notes),
    )


def _data_missing(kb: KnowledgeBase, items: Sequence[str]) -> Finding:
    """DATA-MISSING for patient-view (the order hooks get it from the engine)."""
    listed = "; ".join(items)
    return make_finding(
        kb,
        DATA_MISSING,
        clip_summary(f"Data missing: {listed}"),
        f"The record did not provide: {listed}. Rules that need these data could not be "
        "checked fully; their absence is not evidence that all is well.",
        data=[("missing", item) for item in items],
    )


def _unreadable_orders(kb: KnowledgeBase, orders: Sequence[UnreadableOrder]) -> Finding:
    """DATA-MISSING for draft orders isotrack could not read (and no isotretinoin order it
    could): never an empty answer about an order nobody checked."""
    isotretinoin = any(o.names_isotretinoin for o in orders)
    what = "draft isotretinoin order" if isotretinoin else "draft order"
    if len(orders) == 1:
        summary = f"A {what} could not be read, so isotrack did not check it"
    else:
        summary = f"{len(orders)} {what}s could not be read, so isotrack did not check them"
    listed = "; ".join(f"{o.label}: {o.why}" for o in orders)
    return make_finding(
        kb,
        DATA_MISSING,
        summary,
        f"isotrack could not read: {listed}. It cannot tell whether "
        f"{'it is' if len(orders) == 1 else 'they are'} an isotretinoin order as written, so "
        "none of the isotretinoin checks (pregnancy prevention, interactions, dose, supply) "
        "ran on it. isotrack reads FHIR R4 MedicationRequests whose medication is a "
        "medicationCodeableConcept or a medicationReference sent with the request.",
        data=[("draft order", f"{o.label}: {o.why}") for o in orders],
        action="Check the order against the isotretinoin requirements by hand, or send it as "
        "an R4 MedicationRequest with its medication coded (RxNorm) and ask again.",
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
