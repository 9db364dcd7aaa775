"""The patient's data of a hook request: its prefetch, else the EHR's FHIR server.

Each prefetch value is checked before anything is decoded: the ``patient`` key
holds a Patient, every other key a Bundle, and all of them together (with
``context.draftOrders``) hold at most :data:`MAX_ENTRIES` entries, so a hostile
request is refused before isotrack spends time on it.

A key the request lacks (absent or ``null``) is read from ``fhirServer`` with
``fhirAuthorization.access_token``: the contract's query, then the searchset's
``next`` links on the same server, at most :data:`MAX_PAGES` pages a key and
:data:`MAX_FETCH_BYTES` bytes in all, each read waiting at most the settings'
``cds_fhir_timeout_seconds``. When the key cannot be read (no server, timeout,
an HTTP error, a body that is not the expected FHIR JSON), :class:`Gathered`
says which key and why; the service turns that into a DATA-MISSING card.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import httpx
import msgspec

from isotrack.cds.discovery import PATIENT_ID, PATIENT_KEY, PREFETCH_KEYS
from isotrack.cds.models import HookRequest
from isotrack.errors import FhirDecodeError, InvalidInputError
from isotrack.fhir import FhirBundle, decode_bundle
from isotrack.fhir.decode import bundle_from_envelope, join_bundles
from isotrack.fhir.resources import RawEntry

MAX_ENTRIES = 50_000
"""Bundle entries a request may carry in all (prefetch and draft orders); the largest
Synthea sample bundle has 968 (all resource types)."""
MAX_PAGES = 20
"""Searchset pages read from the FHIR server for one prefetch key."""
MAX_FETCH_BYTES = 10 * 1024 * 1024
"""Bytes read from the FHIR server for one request, all keys together."""
FHIR_JSON = "application/fhir+json"
_NULL = b"null"


class _Link(msgspec.Struct, frozen=True):
    relation: str | None = None
    url: str | None = None


class _Envelope(msgspec.Struct, frozen=True, rename="camel"):
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


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_BUNDLE_ENVELOPE = msgspec.json.Decoder(_BundleEnvelope)


def expected_type(key: str) -> str:
    return "Patient" if key == PATIENT_KEY else "Bundle"


def envelope(raw: bytes, field_name: str, wanted: str) -> _Envelope:
    """The envelope of ``raw``, refused (InvalidInputError naming ``field_name``) unless it
    is a ``wanted`` resource."""
    try:
        found = _ENVELOPE.decode(raw)
    except msgspec.ValidationError as error:
        raise InvalidInputError(field_name, f"expected a FHIR {wanted}: {error}") from None
    except msgspec.DecodeError as error:
        raise InvalidInputError(field_name, f"not valid JSON: {error}") from None
    except RecursionError:
        raise InvalidInputError(field_name, "JSON nested too deeply to read") from None
    _refuse_other_type(found.resource_type, field_name, wanted)
    return found


def _refuse_other_type(resource_type: str | None, field_name: str, wanted: str) -> None:
    if resource_type != wanted:
        got = f"a {resource_type}" if resource_type else "no resourceType"
        raise InvalidInputError(field_name, f"expected a FHIR {wanted}, got {got}")


def given_prefetch(request: HookRequest) -> dict[str, bytes]:
    """The prefetch values the request carries (``null`` counts as absent)."""
    return {
        key: bytes(raw)
        for key, raw in request.prefetch.items()
        if key in PREFETCH_KEYS and bytes(raw) != _NULL
    }


@dataclass(frozen=True)
class Prefetch:
    """The prefetch values a request carries, each checked for its type, and the bundle
    entries of the prefetch and the draft orders together."""

    values: dict[str, bytes]
    bundles: dict[str, _BundleEnvelope]
    """The envelope of each Bundle value that reads as decode_bundle reads one."""
    entries: int


def check_prefetch(request: HookRequest) -> Prefetch:
    """The request's prefetch, each value's type checked (InvalidInputError naming
    ``prefetch.<key>`` or ``context.draftOrders``), its entries counted."""
    values = given_prefetch(request)
    bundles: dict[str, _BundleEnvelope] = {}
    total = 0
    for key, raw in values.items():
        field_name, wanted = f"prefetch.{key}", expected_type(key)
        found = _bundle_envelope(raw, field_name) if wanted == "Bundle" else None
        if found is None:
            total += len(envelope(raw, field_name, wanted).entry) or 1
            continue
        _refuse_other_type(found.resource_type, field_name, wanted)
        bundles[key] = found
        total += len(found.entry) or 1
    drafts = bytes(request.context.draft_orders)
    if drafts != _NULL:
        total += len(envelope(drafts, "context.draftOrders", "Bundle").entry)
    return Prefetch(values, bundles, total)


def _bundle_envelope(raw: bytes, field_name: str) -> _BundleEnvelope | None:
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
    """The decoded prefetch of one request, and what could not be had (key: why)."""

    bundles: list[FhirBundle] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)


def gather(
    request: HookRequest, reader: FhirReader | None, prefetch: Prefetch | None = None
) -> Gathered:
    """Decode the given prefetch (each value once; ``prefetch``: as already checked);
    read the other keys with ``reader`` (None: there is no server to read). A value that
    does not decode is refused with InvalidInputError naming ``prefetch.<key>``."""
    gathered = Gathered()
    checked = prefetch if prefetch is not None else Prefetch(given_prefetch(request), {}, 0)
    given = checked.values
    for key, raw in given.items():
        found = checked.bundles.get(key)
        try:
            if found is None:
                gathered.bundles.append(decode_bundle(raw))
            else:
                gathered.bundles.append(bundle_from_envelope(raw, found.type, found.entry))
        except FhirDecodeError as error:
            raise InvalidInputError(f"prefetch.{key}", error.message) from None
    for key in PREFETCH_KEYS:
        if key in given:
            continue
        if reader is None:
            gathered.missing[key] = _why_no_reader(request)
            continue
        pages, problem = reader.read(key)
        if problem is not None:
            gathered.missing[key] = problem
        else:
            gathered.bundles.extend(pages)
    return gathered


def combine(bundles: list[FhirBundle]) -> FhirBundle:
    """Several decoded documents as one bundle (indexed once, when first read)."""
    return join_bundles(bundles)


def _why_no_reader(request: HookRequest) -> str:
    if request.fhir_server is None:
        return "not in the prefetch, and the request names no fhirServer to read it from"
    return "not in the prefetch, and fhirServer is not an https URL isotrack may read"


class FhirReader:
    """Reads the contract's prefetch queries from the EHR's FHIR server (one request's worth).

    ``transport`` replaces the network (tests pass an ``httpx.MockTransport``)."""

    def __init__(
        self,
        base_url: str,
        patient_id: str,
        templates: dict[str, str],
        *,
        access_token: str | None,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.patient_id = patient_id
        self.templates = templates
        self.origin = _origin(self.base_url)
        self.bytes_left = MAX_FETCH_BYTES
        self.entries_left = MAX_ENTRIES
        self.headers = {"accept": FHIR_JSON}
        if access_token:
            self.headers["authorization"] = f"Bearer {access_token}"
        self.timeout = timeout
        self.transport = transport
        self._client: httpx.Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    @property
    def client(self) -> httpx.Client:
        """Made on the first read: most requests carry their prefetch and read nothing."""
        if self._client is None:
            self._client = httpx.Client(
                headers=self.headers,
                timeout=self.timeout,
                transport=self.transport,
                follow_redirects=False,
            )
        return self._client

    def read(self, key: str) -> tuple[list[FhirBundle], str | None]:
        """The decoded pages of ``key`` (a Patient, or searchset Bundles), or why they
        could not be read."""
        path = self.templates[key].replace(PATIENT_ID, quote(self.patient_id, safe=""))
        url: str | None = f"{self.base_url}/{path}"
        pages: list[FhirBundle] = []
        wanted = expected_type(key)
        while url is not None:
            if len(pages) == MAX_PAGES:
                return [], f"the FHIR server's search has more than {MAX_PAGES} pages"
            page, problem = self._get(url)
            if problem is not None:
                return [], problem
            try:
                found = envelope(page, key, wanted)
                self.entries_left -= len(found.entry)
                if self.entries_left < 0:
                    return [], f"the FHIR server returned more than {MAX_ENTRIES} entries"
                pages.append(decode_bundle(page))
            except InvalidInputError as error:  # FhirDecodeError included
                reason = error.message.partition(": ")[2] or error.message
                return [], f"the FHIR server's answer is not readable FHIR ({reason})"
            url = next(self._next_links(found), None) if wanted == "Bundle" else None
        return pages, None

    def _next_links(self, found: _Envelope) -> Iterator[str]:
        for link in found.link:
            if link.relation == "next" and link.url and _origin(link.url) == self.origin:
                yield link.url

    def _get(self, url: str) -> tuple[bytes, str | None]:
        try:
            with self.client.stream("GET", url) as response:
                if not response.is_success:
                    return b"", f"the FHIR server answered HTTP {response.status_code}"
                chunks: list[bytes] = []
                for chunk in response.iter_bytes():
                    self.bytes_left -= len(chunk)
                    if self.bytes_left < 0:
                        return b"", f"the FHIR server sent more than {MAX_FETCH_BYTES} bytes"
                    chunks.append(chunk)
                return b"".join(chunks), None
        except httpx.TimeoutException:
            return b"", f"the FHIR server did not answer within {self.timeout:g} s"
        except httpx.HTTPError as error:
            return b"", f"the FHIR server could not be reached ({type(error).__name__})"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def readable_server(url: str | None, *, allow_http: bool) -> bool:
    """May isotrack read from ``url``? https always; http only in development and test."""
    if not url:
        return False
    scheme, netloc = _origin(url)
    return bool(netloc) and (scheme == "https" or (allow_http and scheme == "http"))
