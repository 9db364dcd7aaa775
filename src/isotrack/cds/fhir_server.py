"""The EHR's FHIR server (``fhirServer``): reading the prefetch keys a request lacks.

:class:`FhirReader` reads a key with ``fhirAuthorization.access_token`` (as
``Authorization: Bearer``): the contract's query, then the searchset's ``next``
links on the same server (links to another host are not followed), at most
:data:`MAX_PAGES` pages a key and :data:`MAX_FETCH_BYTES` bytes in all, each read
waiting at most the settings' ``cds_fhir_timeout_seconds``. When a key cannot be
read (a timeout, an HTTP error, a body that is not the expected FHIR JSON),
:meth:`FhirReader.read` says why; an error answer that carries an
OperationOutcome says what the server said.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import httpx

from isotrack.cds.discovery import PATIENT_ID
from isotrack.cds.outcomes import outcome_in
from isotrack.cds.prefetch import MAX_ENTRIES, Envelope, envelope, expected_type
from isotrack.errors import InvalidInputError
from isotrack.fhir import FhirBundle, decode_bundle

MAX_PAGES = 20
"""Searchset pages read from the FHIR server for one prefetch key."""
MAX_FETCH_BYTES = 10 * 1024 * 1024
"""Bytes read from the FHIR server for one request, all keys together."""
FHIR_JSON = "application/fhir+json"
MAX_ERROR_BODY_BYTES = 64 * 1024
"""Bytes of an error answer read to find its OperationOutcome."""


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

    def _next_links(self, found: Envelope) -> Iterator[str]:
        for link in found.link:
            if link.relation == "next" and link.url and _origin(link.url) == self.origin:
                yield link.url

    def _get(self, url: str) -> tuple[bytes, str | None]:
        try:
            with self.client.stream("GET", url) as response:
                if not response.is_success:
                    return b"", _http_problem(response)
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


def _http_problem(response: httpx.Response) -> str:
    """Why a read failed: the status, and what the server's OperationOutcome said."""
    problem = f"the FHIR server answered HTTP {response.status_code}"
    body = b""
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_ERROR_BODY_BYTES:
            return problem
    outcome = outcome_in(body)
    return problem if outcome is None else f"{problem}: {outcome.text}"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def readable_server(url: str | None, *, allow_http: bool) -> bool:
    """May isotrack read from ``url``? https always; http only in development and test."""
    if not url:
        return False
    scheme, netloc = _origin(url)
    return bool(netloc) and (scheme == "https" or (allow_http and scheme == "http"))
