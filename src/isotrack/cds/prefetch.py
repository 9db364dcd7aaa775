"""The patient's data of a hook request: its prefetch, else the EHR's FHIR server.

Each prefetch value is checked before anything is decoded: the ``patient`` key
holds a Patient, every other key a Bundle (any key may instead hold an
OperationOutcome), and all of them together (with ``context.draftOrders``) hold
at most :data:`MAX_ENTRIES` entries, so a hostile request is refused before
isotrack spends time on it.

What each key's value means (CDS Hooks 2.0.1, § Prefetch Template), and what
:func:`gather` makes of it:

- a Patient or a searchset Bundle: the data (an OperationOutcome entry of the
  searchset with an error is an EHR-side error for that key: its other entries
  are used, and :attr:`Gathered.ehr_errors` says what the EHR said);
- an OperationOutcome: the EHR could not fill the key. Not a malformed request,
  and not read again from ``fhirServer`` (the outcome is sent "to prevent the CDS
  Service from incurring an unneeded follow-up query"): an EHR-side error;
- ``null``: "the CDS Client has no data to populate" the key. It is read from
  ``fhirServer`` when the request names one isotrack may read; otherwise the EHR's
  word is taken: a search key has no results (a note says so), and the ``patient``
  key has no Patient, so the patient is missing;
- absent: the EHR did not or could not fill it. It is read from ``fhirServer``
  (:class:`~isotrack.cds.fhir_server.FhirReader`); when it cannot be,
  :attr:`Gathered.missing` says which key and why.

The service turns ``missing`` and ``ehr_errors`` into a DATA-MISSING card, or a
412 when the hook cannot answer without the key (:mod:`isotrack.cds.service`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from isotrack.cds.discovery import PATIENT_KEY, PREFETCH_KEYS
from isotrack.cds.models import HookRequest
from isotrack.cds.outcomes import OPERATION_OUTCOME, bundle_outcomes, joined, read_outcome
from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir import FhirBundle, decode_bundle
from isotrack.fhir.decode import bundle_from_envelope, join_bundles
from isotrack.fhir.resources import Patient, RawEntry

if TYPE_CHECKING:  # the reader imports this module's envelope helpers
    from isotrack.cds.fhir_server import FhirReader

MAX_ENTRIES = 50_000
"""Bundle entries a request may carry in all (prefetch and draft orders); the largest
Synthea sample bundle has 968 (all resource types)."""
_NULL = b"null"


class _Link(msgspec.Struct, frozen=True):
    relation: str | None = None
    url: str | None = None


class Envelope(msgspec.Struct, frozen=True, rename="camel"):
    """Just enough of a resource to check its type and count its entries."""

    resource_type: str | None = None
    entry: tuple[msgspec.Raw, ...] = ()
    link: tuple[_Link, ...] = ()


class _BundleEnvelope(msgspec.Struct, frozen=True, rename="camel"):
    """A Bundle's envelope with its entries read as :func:`~isotrack.fhir.decode.decode_bundle`
    reads them: checking and counting a prefetch value then also does the first step of
    decoding it (the value is scanned once for both)."""

    resource_type: str | None = None
    type: str | None = None
    entry: tuple[RawEntry, ...] = ()
    link: tuple[_Link, ...] = ()


_ENVELOPE = msgspec.json.Decoder(Envelope)
_BUNDLE_ENVELOPE = msgspec.json.Decoder(_BundleEnvelope)


def expected_type(key: str) -> str:
    return "Patient" if key == PATIENT_KEY else "Bundle"


def envelope(raw: bytes, field_name: str, wanted: str, *, outcome: bool = False) -> Envelope:
    """The envelope of ``raw``, refused (InvalidInputError naming ``field_name``) unless it
    is a ``wanted`` resource (or, with ``outcome``, an OperationOutcome)."""
    try:
        found = _ENVELOPE.decode(raw)
    except msgspec.ValidationError as error:
        raise InvalidInputError(field_name, f"expected a FHIR {wanted}: {error}") from None
    except msgspec.DecodeError as error:
        raise InvalidInputError(field_name, f"not valid JSON: {error}") from None
    except RecursionError:
        raise InvalidInputError(field_name, "JSON nested too deeply to read") from None
    if not (outcome and found.resource_type == OPERATION_OUTCOME):
        _refuse_other_type(found.resource_type, field_name, wanted)
    return found


def _refuse_other_type(resource_type: str | None, field_name: str, wanted: str) -> None:
    if resource_type != wanted:
        got = f"a {resource_type}" if resource_type else "no resourceType"
        raise InvalidInputError(
            field_name, f"expected a FHIR {wanted} (or an OperationOutcome), got {got}"
        )


@dataclass(frozen=True)
class Prefetch:
    """The prefetch values a request carries, each checked for its type, and the bundle
    entries of the prefetch and the draft orders together."""

    values: dict[str, bytes]
    """The data: each key's Patient or Bundle."""
    bundles: dict[str, _BundleEnvelope]
    """The envelope of each Bundle value that reads as decode_bundle reads one."""
    entries: int
    outcomes: dict[str, bytes] = field(default_factory=dict)
    """Keys the EHR answered with an OperationOutcome instead of the data."""
    nulls: tuple[str, ...] = ()
    """Keys the EHR sent as ``null``: it has no data for them."""


def check_prefetch(request: HookRequest) -> Prefetch:
    """The request's prefetch, each value's type checked (InvalidInputError naming
    ``prefetch.<key>`` or ``context.draftOrders``), its entries counted. Keys that are
    not the contract's are ignored."""
    values: dict[str, bytes] = {}
    outcomes: dict[str, bytes] = {}
    nulls: list[str] = []
    bundles: dict[str, _BundleEnvelope] = {}
    total = 0
    for key, value in request.prefetch.items():
        if key not in PREFETCH_KEYS:
            continue
        raw = bytes(value)
        if raw == _NULL:
            nulls.append(key)
            continue
        field_name, wanted = f"prefetch.{key}", expected_type(key)
        found = _bundle_envelope(raw) if wanted == "Bundle" else None
        if found is None or found.resource_type == OPERATION_OUTCOME:
            checked = envelope(raw, field_name, wanted, outcome=True)
            total += len(checked.entry) or 1
            if checked.resource_type == OPERATION_OUTCOME:
                outcomes[key] = raw
            else:
                values[key] = raw
            continue
        _refuse_other_type(found.resource_type, field_name, wanted)
        values[key] = raw
        bundles[key] = found
        total += len(found.entry) or 1
    drafts = bytes(request.context.draft_orders)
    if drafts != _NULL:
        total += len(envelope(drafts, "context.draftOrders", "Bundle").entry)
    return Prefetch(values, bundles, total, outcomes, tuple(nulls))


def _bundle_envelope(raw: bytes) -> _BundleEnvelope | None:
    """The envelope with its entries, or None when it does not read so (then
    :func:`envelope` and :func:`~isotrack.fhir.decode.decode_bundle` say why, as ever)."""
    try:
        return _BUNDLE_ENVELOPE.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None


def count_entries(request: HookRequest) -> int:
    """Bundle entries of the prefetch and draft orders, each value's type checked
    (InvalidInputError naming ``prefetch.<key>`` or ``context.draftOrders``)."""
    return check_prefetch(request).entries


@dataclass
class Gathered:
    """The decoded data of one request, and what could not be had."""

    bundles: list[FhirBundle] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    """Keys that could not be had: key → why."""
    ehr_errors: dict[str, str] = field(default_factory=dict)
    """Keys the EHR answered (in whole or in part) with an error: key → what it said."""
    notes: list[str] = field(default_factory=list)
    """What was read as what (a ``null`` key as no data, an informational outcome)."""

    def absent(self, keys: tuple[str, ...]) -> dict[str, str]:
        """Those of ``keys`` that could not be had at all (an EHR-side error is not
        absence: the EHR answered, and the answer is reported, never refused)."""
        return {key: why for key, why in self.missing.items() if key in keys}


def gather(
    request: HookRequest, reader: FhirReader | None, prefetch: Prefetch | None = None
) -> Gathered:
    """Decode the given prefetch (each value once; ``prefetch``: as already checked);
    read absent and ``null`` keys with ``reader`` (None: there is no server to read).
    A value that does not decode is refused with InvalidInputError naming
    ``prefetch.<key>``."""
    checked = prefetch if prefetch is not None else check_prefetch(request)
    gathered = Gathered()
    for key, raw in checked.values.items():
        found = checked.bundles.get(key)
        try:
            if found is None:
                bundle = decode_bundle(raw)
            else:
                bundle = bundle_from_envelope(raw, found.type, found.entry)
        except FhirDecodeError as error:
            raise InvalidInputError(f"prefetch.{key}", error.message) from None
        if key == PATIENT_KEY:
            bundle = _identified(bundle, request.context.patient_id)
        _take(gathered, key, [bundle])
    for key, raw in checked.outcomes.items():
        gathered.ehr_errors[key] = read_outcome(raw).text
    for key in PREFETCH_KEYS:
        if key in checked.values or key in checked.outcomes:
            continue
        problem: str | None = None
        if reader is not None:
            pages, problem = reader.read(key)
            if problem is None:
                _take(gathered, key, pages)
                continue
        if key in checked.nulls:
            _no_data(gathered, key, problem)
        else:
            gathered.missing[key] = problem or _why_no_reader(request)
    return gathered


def _identified(bundle: FhirBundle, patient_id: str) -> FhirBundle:
    """The ``patient`` value is the read of ``Patient/{{context.patientId}}``: a Patient
    sent without an ``id`` (as in the specification's prefetch example) is that patient."""
    entries = bundle.entries
    if len(entries) != 1 or not isinstance(entries[0].resource, Patient) or entries[0].resource.id:
        return bundle
    patient = msgspec.structs.replace(entries[0].resource, id=patient_id)
    return FhirBundle((msgspec.structs.replace(entries[0], resource=patient),), bundle.bundle_type)


def _take(gathered: Gathered, key: str, pages: list[FhirBundle]) -> None:
    """Keep a key's pages, and what their OperationOutcome entries say."""
    gathered.bundles.extend(pages)
    outcomes = [outcome for page in pages for outcome in bundle_outcomes(page)]
    errors = [outcome.text for outcome in outcomes if outcome.error]
    if errors:
        gathered.ehr_errors[key] = joined(errors)
    remarks = [outcome.text for outcome in outcomes if not outcome.error]
    if remarks:
        gathered.notes.append(f"The EHR's search for prefetch {key} remarked: {joined(remarks)}")


def _no_data(gathered: Gathered, key: str, read_problem: str | None) -> None:
    """A ``null`` key the server did not answer for: the EHR has no data for it."""
    tried = f" (reading it from fhirServer failed: {read_problem})" if read_problem else ""
    if key == PATIENT_KEY:
        gathered.missing[key] = f"the EHR sent null: it has no Patient for this patient id{tried}"
        return
    gathered.notes.append(
        f"The EHR sent prefetch {key} as null (it has no data for it){tried}; read as none."
    )


def combine(bundles: list[FhirBundle]) -> FhirBundle:
    """Several decoded documents as one bundle (indexed once, when first read)."""
    return join_bundles(bundles)


def _why_no_reader(request: HookRequest) -> str:
    if request.fhir_server is None:
        return "not in the prefetch, and the request names no fhirServer to read it from"
    return "not in the prefetch, and fhirServer is not an https URL isotrack may read"
