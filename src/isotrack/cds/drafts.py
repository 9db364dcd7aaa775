"""The draft orders of order-select and order-sign: the isotretinoin order to screen,
and the draft orders isotrack could not read.

An EHR's draft orders may not all be R4 MedicationRequests isotrack can read: a
FHIR R5 MedicationRequest (``medication.concept``), a DSTU2 MedicationOrder, an
STU3-shaped dosage, a medication referenced but not sent. An empty answer would
then say "nothing to check" about an order nobody checked. So:

- the Bundle is decoded entry by entry when it does not decode whole: an entry
  that does not read as R4 is kept aside (:attr:`DraftOrders.undecoded`), never a
  422 for the whole request;
- an order is *unreadable* (:func:`unreadable_orders`) when it is a
  MedicationRequest whose medication cannot be read at all (no coding, no text:
  isotrack cannot tell whether it is isotretinoin), or an entry isotrack does not
  read as a MedicationRequest that names isotretinoin (a code or a name in its
  medication, code, product or item elements, or a contained Medication);
- an order that is read, and is not isotretinoin, is no concern of this service;
  nor is another kind of order (a NutritionOrder, a ServiceRequest) that does not
  name isotretinoin.

The service answers an unreadable order with a DATA-MISSING card that names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from isotrack.cds.models import HookRequest
from isotrack.cds.prefetch import envelope
from isotrack.clinical.codes import Coding, Concept
from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir import FhirBundle, decode_bundle, find_isotretinoin_order
from isotrack.fhir.order import is_isotretinoin, medication_of
from isotrack.fhir.raw_json import objects
from isotrack.fhir.resources import MedicationRequest, RawBundle
from isotrack.knowledge.base import KnowledgeBase

FIELD = "context.draftOrders"
MEDICATION_REQUEST = "MedicationRequest"
NAMING_ELEMENTS = ("medication", "code", "product", "item")
"""Top-level elements (by prefix: ``medicationCodeableConcept``, ``codeCodeableConcept``
…) that say what an order is for; other elements (notes, dosage text, narrative) may
mention a drug without ordering it."""
MAX_WALK_DEPTH = 12
_NULL = b"null"
_RAW_BUNDLE = msgspec.json.Decoder(RawBundle)


class _Header(msgspec.Struct, frozen=True, rename="camel"):
    resource_type: Any = None
    id: Any = None


@dataclass(frozen=True, slots=True)
class Undecoded:
    """A draft order entry that does not read as R4."""

    index: int
    label: str
    """``Type/id`` (or ``Type``, or ``Bundle.entry[i]``)."""
    full_url: str | None
    raw: bytes
    error: str


@dataclass(frozen=True)
class DraftOrders:
    bundle: FhirBundle
    """The entries that read as R4."""
    undecoded: tuple[Undecoded, ...] = ()


@dataclass(frozen=True, slots=True)
class UnreadableOrder:
    label: str
    why: str
    names_isotretinoin: bool


def read_draft_orders(request: HookRequest, hook: str) -> DraftOrders:
    """``context.draftOrders``: a Bundle (InvalidInputError naming the field otherwise);
    entries that do not read as R4 are set aside, not refused."""
    raw = bytes(request.context.draft_orders)
    if raw == _NULL:
        raise InvalidInputError(FIELD, f"{hook} needs a Bundle of MedicationRequest")
    envelope(raw, FIELD, "Bundle")
    try:
        return DraftOrders(decode_bundle(raw))
    except FhirDecodeError:
        return _entry_by_entry(raw)


def _entry_by_entry(raw: bytes) -> DraftOrders:
    try:
        document = _RAW_BUNDLE.decode(raw)
    except msgspec.DecodeError as error:
        raise InvalidInputError(FIELD, f"not a FHIR Bundle: {error}") from None
    kept: list[dict[str, Any]] = []
    undecoded: list[Undecoded] = []
    for index, entry in enumerate(document.entry):
        resource = bytes(entry.resource)
        if not resource:
            continue
        try:
            decode_bundle(resource)
        except FhirDecodeError as error:
            label = _label(resource, index)
            undecoded.append(Undecoded(index, label, entry.full_url, resource, error.message))
            continue
        item: dict[str, Any] = {"resource": entry.resource}
        if entry.full_url is not None:
            item["fullUrl"] = entry.full_url
        kept.append(item)
    rebuilt = msgspec.json.encode({"resourceType": "Bundle", "type": document.type,
                                   "entry": kept})  # fmt: skip
    return DraftOrders(decode_bundle(rebuilt), tuple(undecoded))


def _label(resource: bytes, index: int) -> str:
    try:
        header = msgspec.json.decode(resource, type=_Header)
    except msgspec.DecodeError:
        return f"Bundle.entry[{index}]"
    kind = header.resource_type if isinstance(header.resource_type, str) else None
    if kind is None:
        return f"Bundle.entry[{index}]"
    return f"{kind}/{header.id}" if isinstance(header.id, str) and header.id else kind


def candidates(drafts: DraftOrders, request: HookRequest) -> FhirBundle:
    """The draft orders under review: among ``context.selections`` when given
    (order-select), else all of them."""
    selections = set(request.context.selections)
    if not selections:
        return drafts.bundle
    kept = tuple(
        e for e in drafts.bundle.entries
        if e.full_url in selections or f"{e.resource_type}/{_id(e.resource)}" in selections
    )  # fmt: skip
    return FhirBundle(kept, drafts.bundle.bundle_type)


def order_under_review(
    drafts: DraftOrders, request: HookRequest, kb: KnowledgeBase
) -> MedicationRequest | None:
    """The isotretinoin order among the draft orders (among the selections when given):
    a draft or active order first (:func:`~isotrack.fhir.find_isotretinoin_order`),
    else any isotretinoin MedicationRequest."""
    chosen = candidates(drafts, request)
    found = find_isotretinoin_order(chosen, kb=kb)
    if found is not None:
        return found
    return next(
        (r for r in chosen.of_type(MedicationRequest)
         if is_isotretinoin(medication_of(r, drafts.bundle)[0], kb)),
        None,
    )  # fmt: skip


def unreadable_orders(
    drafts: DraftOrders, request: HookRequest, kb: KnowledgeBase
) -> list[UnreadableOrder]:
    """The draft orders under review that isotrack could not read (see the module)."""
    found: list[UnreadableOrder] = []
    for entry in candidates(drafts, request).entries:
        resource = entry.resource
        if isinstance(resource, MedicationRequest):
            if _readable(medication_of(resource, drafts.bundle)[0]):
                continue
            label = f"{MEDICATION_REQUEST}/{resource.id}" if resource.id else MEDICATION_REQUEST
            names = names_isotretinoin(bytes(entry.raw), kb)
            found.append(UnreadableOrder(label, _why_medication(resource, names), names))
        elif names_isotretinoin(bytes(entry.raw), kb):
            label = f"{entry.resource_type}/{_id(resource) or _raw_id(bytes(entry.raw))}"
            why = f"it names isotretinoin, but isotrack reads only R4 {MEDICATION_REQUEST}s"
            found.append(UnreadableOrder(label.rstrip("/"), why, True))
    selections = set(request.context.selections)
    for item in drafts.undecoded:
        if selections and item.label not in selections and item.full_url not in selections:
            continue
        names = names_isotretinoin(item.raw, kb)
        request_of_unknown_drug = item.label.partition("/")[
            0
        ] == MEDICATION_REQUEST and not _names_a_medication(item.raw)
        if names or request_of_unknown_drug:
            found.append(UnreadableOrder(item.label, f"it is not valid R4 ({item.error})", names))
    return found


def _readable(medication: Concept) -> bool:
    return bool(medication.codings) or bool(medication.text and medication.text.strip())


def _why_medication(request: MedicationRequest, names: bool) -> str:
    reference = request.medication_reference
    if reference is not None and reference.reference:
        said = f"its medicationReference {reference.reference} is neither in the request nor named"
    else:
        said = "it has no medicationCodeableConcept or medicationReference isotrack can read"
    if names:
        return f"it names isotretinoin in a form that is not R4 ({said})"
    return f"its medication could not be read ({said})"


def names_isotretinoin(raw: bytes, kb: KnowledgeBase) -> bool:
    """Does a resource isotrack does not read name isotretinoin in the elements that say
    what it orders (:data:`NAMING_ELEMENTS`) or in a contained Medication?"""
    return any(is_isotretinoin(c, kb) for c in _naming_concepts(raw))


def _names_a_medication(raw: bytes) -> bool:
    return any(_readable(c) for c in _naming_concepts(raw))


def _naming_concepts(raw: bytes) -> Iterator[Concept]:
    try:
        document = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return
    if not isinstance(document, dict):
        return
    for key, value in document.items():
        if key.startswith(NAMING_ELEMENTS):
            yield from _concepts(value, 0)
        elif key == "contained" and isinstance(value, list):
            for contained in value:
                if isinstance(contained, dict) and contained.get("resourceType") == "Medication":
                    yield from _concepts(contained.get("code"), 0)


def _concepts(value: object, depth: int) -> Iterator[Concept]:
    """Every CodeableConcept, Coding and name (``text``, ``display``) within ``value``."""
    if depth > MAX_WALK_DEPTH:
        return
    if isinstance(value, list):
        for item in value:
            yield from _concepts(item, depth + 1)
        return
    if not isinstance(value, dict):
        return
    codings = tuple(
        Coding(str(c["system"]), str(c["code"]), _text(c.get("display")))
        for c in (value, *objects(value, "coding"))
        if isinstance(c, dict) and c.get("system") and c.get("code")
    )
    text = _text(value.get("text")) or _text(value.get("display"))
    if codings or text:
        yield Concept(codings, text)
    for key, inner in value.items():
        if key not in ("coding", "text", "display"):
            yield from _concepts(inner, depth + 1)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _id(resource: object) -> str | None:
    value = getattr(resource, "id", None)
    return value if isinstance(value, str) else None


def _raw_id(raw: bytes) -> str:
    try:
        header = msgspec.json.decode(raw, type=_Header)
    except msgspec.DecodeError:
        return ""
    return header.id if isinstance(header.id, str) else ""
