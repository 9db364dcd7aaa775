"""FHIR R4 in: fast, partial, typed decoding into the clinical snapshot.

Public API::

    decode_bundle(data) -> FhirBundle              JSON bytes, text or dict: a Bundle or a resource
    decode_resources(documents) -> FhirBundle      several documents as one (e.g. CDS prefetch)
    load_bundle_file(path) -> FhirBundle           .json or .json.gz
    snapshot_from_bundle(bundle, *, kb, patient_id=None, order=None, on=None) -> PatientSnapshot
    find_isotretinoin_order(bundle, *, kb, patient_id=None) -> MedicationRequest | None
    order_from_medication_request(request, kb, *, bundle=None) -> IsotretinoinOrder
    read_order(request, kb, *, bundle=None) -> ReadOrder   (the order and the reader's notes)

Errors are :class:`isotrack.errors.FhirDecodeError` (bad JSON, wrong types,
impossible values; names the element and the resource) and
:class:`isotrack.errors.InvalidInputError` (which patient is ambiguous).
"""

from __future__ import annotations

from isotrack.fhir.decode import (
    BundleEntry,
    FhirBundle,
    decode_bundle,
    decode_resources,
    load_bundle_file,
)
from isotrack.fhir.order import (
    ReadOrder,
    find_isotretinoin_order,
    order_from_medication_request,
    read_order,
)
from isotrack.fhir.snapshot import snapshot_from_bundle

__all__ = [
    "BundleEntry",
    "FhirBundle",
    "ReadOrder",
    "decode_bundle",
    "decode_resources",
    "find_isotretinoin_order",
    "load_bundle_file",
    "order_from_medication_request",
    "read_order",
    "snapshot_from_bundle",
]
