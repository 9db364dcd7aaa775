"""Bytes (or parsed JSON) to typed FHIR resources, grouped and resolvable.

A Bundle (transaction, collection, searchset ...) or a single resource is read
in two steps: the envelope is decoded with each resource left as raw JSON;
then each resource of a type isotrack reads (see
:data:`~isotrack.fhir.resources.RESOURCE_TYPES`) is decoded into its Struct.
Other resources (Claim, Immunization ...) stay raw: available, never parsed
twice. References resolve within the bundle by ``fullUrl`` (``urn:uuid:...``
or an absolute URL) and by relative ``Type/id``.

Errors are :class:`~isotrack.errors.FhirDecodeError` naming the element and
the resource, e.g. ``Patient.birthDate: expected `str | null`, got `int`
(Patient/p1, Bundle.entry[0])``.

>>> from isotrack.fhir.resources import Patient
>>> bundle = decode_bundle(b'''{"resourceType": "Bundle", "type": "collection", "entry": [
...   {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "id": "p1"}},
...   {"resource": {"resourceType": "Claim", "id": "c1"}}]}''')
>>> [p.id for p in bundle.of_type(Patient)]
['p1']
>>> bundle.resolve("Patient/p1") is bundle.resolve("urn:uuid:1")
True
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir.datatypes import Reference
from isotrack.fhir.resources import RESOURCE_TYPES, RawBundle, RawEntry, Resource, ResourceHeader

R = TypeVar("R", bound=Resource)
_Indexes = tuple[dict[str, tuple[Resource, ...]], dict[str, "BundleEntry"]]

_DECODERS = {name: msgspec.json.Decoder(cls) for name, cls in RESOURCE_TYPES.items()}
_BUNDLE = msgspec.json.Decoder(RawBundle)
_HEADER = msgspec.json.Decoder(ResourceHeader)
_FIRST_KEY_TYPE = re.compile(rb'\A\s*\{\s*"resourceType"\s*:\s*"([A-Za-z]+)"')
_VALIDATION_PATH = re.compile(r"(.*) - at `\$(.*)`\Z", re.DOTALL)
_RELATIVE = re.compile(r"([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?\Z")


class BundleEntry(msgspec.Struct, frozen=True, gc=False):
    """One resource of the bundle: its raw JSON always, its Struct when isotrack reads the type.

    A Struct, not a dataclass: a record makes one per resource, and a Struct is made
    several times faster (it holds only decoded values, so it needs no cycle collection).
    """

    index: int
    """Position in ``Bundle.entry`` of the document it came from."""
    full_url: str | None
    resource_type: str
    raw: msgspec.Raw
    resource: Resource | None = None


@dataclass(frozen=True)
class FhirBundle:
    """The decoded resources of one Bundle (or of a single resource)."""

    entries: tuple[BundleEntry, ...]
    bundle_type: str | None = None
    """Bundle.type, or None when the input was a single resource."""
    notes: tuple[str, ...] = ()
    """What the decoder skipped (entries without a resource)."""

    @cached_property
    def _indexes(self) -> _Indexes:
        """(resources by type, entries by reference), built on first use: the prefetch
        values of a CDS Hooks request are only ever read joined (:func:`join_bundles`)."""
        by_type: dict[str, list[Resource]] = {}
        by_reference: dict[str, BundleEntry] = {}
        for entry in self.entries:
            if entry.full_url:
                by_reference.setdefault(entry.full_url, entry)
            if entry.resource is None:
                continue
            by_type.setdefault(entry.resource_type, []).append(entry.resource)
            if entry.resource.id:
                by_reference.setdefault(f"{entry.resource_type}/{entry.resource.id}", entry)
        return {k: tuple(v) for k, v in by_type.items()}, by_reference

    def of_type(self, cls: type[R]) -> tuple[R, ...]:
        """The decoded resources of one type, in bundle order."""
        found = self._indexes[0].get(cls.__name__, ())
        return found  # type: ignore[return-value]  # grouped by the class name at decode time

    def resolve(self, reference: Reference | str | None) -> Resource | None:
        """The resource a reference points to within this bundle, if it is here.

        Tries the reference as a ``fullUrl`` first (``urn:uuid:...`` or an
        absolute URL), then as ``Type/id`` (also the tail of an absolute URL).
        Contained (``#id``) references are resolved by their container.
        """
        entry = self._entry(reference)
        return None if entry is None else entry.resource

    def type_of(self, reference: Reference | str | None) -> str | None:
        """The resource type a reference points to within this bundle, whether or not
        isotrack decodes that type (a Practitioner, a RelatedPerson); None if not here."""
        entry = self._entry(reference)
        return None if entry is None else entry.resource_type

    def _entry(self, reference: Reference | str | None) -> BundleEntry | None:
        text = reference.reference if isinstance(reference, Reference) else reference
        if not text or text.startswith("#"):
            return None
        by_reference = self._indexes[1]
        entry = by_reference.get(text)
        if entry is None:
            tail = "/".join(text.rstrip("/").split("/")[-4:])
            relative = _RELATIVE.search(tail)
            if relative is not None:
                entry = by_reference.get(f"{relative.group(1)}/{relative.group(2)}")
        return entry

    def refers_to(self, reference: Reference | None, resource_type: str, resource_id: str) -> bool:
        """Does ``reference`` point to ``resource_type/resource_id``? A missing reference
        does (a single-patient bundle need not repeat the subject); an unresolved
        one does when it ends in ``Type/id`` or is ``urn:uuid:<id>``."""
        if reference is None or not reference.reference:
            return True
        target = self.resolve(reference)
        if target is not None:
            return type(target).__name__ == resource_type and target.id == resource_id
        text = reference.reference.rstrip("/")
        relative = f"{resource_type}/{resource_id}"
        return text in (f"urn:uuid:{resource_id}", relative) or text.endswith(f"/{relative}")

    def including(self, other: FhirBundle) -> FhirBundle:
        """This bundle's entries followed by another's (e.g. an order file)."""
        return join_bundles((self, other), self.bundle_type)


def decode_bundle(data: bytes | str | Mapping[str, Any]) -> FhirBundle:
    """Decode a FHIR R4 Bundle, or a single resource, from JSON (bytes, text or parsed)."""
    raw = _as_bytes(data)
    resource_type = _resource_type(raw, "JSON document")
    if resource_type != "Bundle":
        return FhirBundle((_entry(0, None, resource_type, msgspec.Raw(raw), None),))
    try:
        envelope = _BUNDLE.decode(raw)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: first
        raise _validation_error(exc, "Bundle", None, None) from None
    except msgspec.DecodeError as exc:
        raise FhirDecodeError("Bundle", f"not valid JSON: {exc}") from None
    return _bundle(envelope.type, envelope.entry)


def bundle_from_envelope(
    raw: bytes, bundle_type: str | None, entry: tuple[RawEntry, ...]
) -> FhirBundle:
    """:func:`decode_bundle` of ``raw`` whose envelope (``Bundle.type`` and the entries,
    each resource left raw) is already decoded, as a CDS Hooks service does when it
    checks and counts a prefetch value."""
    if _resource_type(raw, "JSON document") != "Bundle":
        return decode_bundle(raw)
    return _bundle(bundle_type, entry)


def _bundle(bundle_type: str | None, entry: tuple[RawEntry, ...]) -> FhirBundle:
    entries: list[BundleEntry] = []
    notes: list[str] = []
    first_key_type, decoders = _FIRST_KEY_TYPE.match, _DECODERS
    for index, item in enumerate(entry):
        resource = item.resource
        if not len(resource):
            notes.append(f"Bundle.entry[{index}] has no resource; skipped")
            continue
        # The common case inline (a large record has thousands of entries); the
        # helpers below read the rest and word the errors.
        found = first_key_type(resource)
        if found is None:
            kind = _resource_type(resource, f"Bundle.entry[{index}].resource")
        else:
            kind = found.group(1).decode("ascii")
        decoder = decoders.get(kind)
        if decoder is None:
            entries.append(BundleEntry(index, item.full_url, kind, resource))
            continue
        try:
            decoded = decoder.decode(resource)
        except msgspec.DecodeError:
            _entry(index, item.full_url, kind, resource, f"Bundle.entry[{index}]")  # raises
            raise
        entries.append(BundleEntry(index, item.full_url, kind, resource, decoded))
    return FhirBundle(tuple(entries), bundle_type, tuple(notes))


def decode_resources(documents: Iterable[bytes | str | Mapping[str, Any]]) -> FhirBundle:
    """Several documents (Bundles or resources) as one bundle, e.g. CDS Hooks prefetch values."""
    return join_bundles([decode_bundle(d) for d in documents])


def join_bundles(bundles: Iterable[FhirBundle], bundle_type: str | None = None) -> FhirBundle:
    """One bundle of several: their entries in order, their notes. When every part is
    already indexed, the indexes are merged rather than rebuilt: the same result as
    indexing the joined entries (the first entry of a reference wins, resources of a
    type stay in order), without walking a large record again; else the joined bundle
    indexes itself when first read."""
    parts = list(bundles)
    joined = FhirBundle(
        tuple(e for part in parts for e in part.entries),
        bundle_type,
        tuple(n for part in parts for n in part.notes),
    )
    if all(_INDEXES in vars(part) for part in parts):
        by_type: dict[str, tuple[Resource, ...]] = {}
        by_reference: dict[str, BundleEntry] = {}
        for part in parts:
            types, references = part._indexes
            for kind, resources in types.items():
                by_type[kind] = by_type.get(kind, ()) + resources
            for key, entry in references.items():
                by_reference.setdefault(key, entry)
        vars(joined)[_INDEXES] = (by_type, by_reference)
    return joined


_INDEXES = "_indexes"
"""The attribute :func:`functools.cached_property` keeps :attr:`FhirBundle._indexes` in."""


def load_bundle_file(path: Path) -> FhirBundle:
    """Read a Bundle or resource from a ``.json`` or gzipped ``.json.gz`` file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(str(path), f"cannot read: {exc.strerror}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise FhirDecodeError(str(path), f"not a readable gzip file: {exc}") from None
    try:
        return decode_bundle(raw)
    except FhirDecodeError as exc:
        reason = exc.message[len(exc.field) + 2 :]
        raise FhirDecodeError(f"{path.name}: {exc.field}", reason) from None


def _as_bytes(data: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    return msgspec.json.encode(data)


def _resource_type(raw: bytes | msgspec.Raw, where: str) -> str:
    found = _FIRST_KEY_TYPE.match(raw)
    if found is not None:
        return found.group(1).decode("ascii")
    try:
        header = _HEADER.decode(raw)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: first
        raise FhirDecodeError(where, f"not a FHIR resource: {exc}") from None
    except msgspec.DecodeError as exc:
        raise FhirDecodeError(where, f"not valid JSON: {exc}") from None
    if not header.resource_type:
        raise FhirDecodeError(
            f"{where}.resourceType", "missing: every FHIR resource names its type"
        )
    return header.resource_type


def _entry(
    index: int, full_url: str | None, resource_type: str, raw: msgspec.Raw, where: str | None
) -> BundleEntry:
    decoder = _DECODERS.get(resource_type)
    if decoder is None:
        return BundleEntry(index, full_url, resource_type, raw)
    try:
        resource = decoder.decode(raw)
    except msgspec.ValidationError as exc:
        header = _header_or_none(raw)
        raise _validation_error(exc, resource_type, header, where) from None
    except msgspec.DecodeError as exc:
        raise FhirDecodeError(where or resource_type, f"not valid JSON: {exc}") from None
    return BundleEntry(index, full_url, resource_type, raw, resource)


def _header_or_none(raw: msgspec.Raw) -> str | None:
    try:
        return _HEADER.decode(raw).id
    except msgspec.MsgspecError:
        return None


def _validation_error(
    exc: msgspec.ValidationError, resource_type: str, resource_id: str | None, where: str | None
) -> FhirDecodeError:
    message = str(exc)
    path = ""
    found = _VALIDATION_PATH.match(message)
    if found is not None:
        message, path = found.groups()
    context = [f"{resource_type}/{resource_id}" if resource_id else resource_type]
    if where is not None:
        context.append(where)
    message = message[:1].lower() + message[1:]
    return FhirDecodeError(f"{resource_type}{path}", f"{message} ({', '.join(context)})")
