"""The EHR's FHIR R4 server over HTTP (httpx), with the access token the EHR granted.

- :meth:`EhrClient.read` one resource (``GET Type/id``);
- :meth:`EhrClient.search` every match of a search, following the Bundle's ``next``
  links (only within the same FHIR base: the token is never sent elsewhere);
- :meth:`EhrClient.create` a resource (``POST Type``), the stored resource back.

Errors::

    IsotrackError
    └── EhrReadError   the server answered an error (its OperationOutcome's words),
                       could not be reached, or answered what is not FHIR JSON

``EhrReadError.status`` is the HTTP status (0: no answer); the message names the
request (``GET Observation?patient=…``) and never the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

import httpx

from isotrack.errors import IsotrackError

FHIR_JSON = "application/fhir+json"
PAGE_SIZE = 100
"""Matches asked for per page of a search (the server may send fewer)."""
MAX_PAGES = 200
"""A search that pages on beyond this is refused (a server that loops its links)."""
TIMEOUT_S = 20.0

Json = dict[str, Any]


class EhrReadError(IsotrackError):
    """The EHR's FHIR server refused a request or gave no usable answer."""

    code = "ehr-unreadable"

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The resources a search matched, and what the server said beside them
    (``search.mode`` outcome entries: warnings or errors about the search)."""

    resources: tuple[Json, ...]
    outcomes: tuple[str, ...]


def outcome_text(document: object) -> str:
    """What an OperationOutcome says, issue by issue ('' when it is none)."""
    if not isinstance(document, dict) or document.get("resourceType") != "OperationOutcome":
        return ""
    said = []
    for issue in document.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
        words = issue.get("diagnostics") or (details or {}).get("text") or ""
        said.append(f"{issue.get('severity', 'error')} {issue.get('code', '')}: {words}".strip())
    return "; ".join(said)


class EhrClient:
    """One FHIR base and one bearer token; ``http`` is the caller's client (tests,
    connection reuse), else one is made and closed with this."""

    def __init__(self, fhir_base: str, access_token: str, http: httpx.Client | None = None) -> None:
        self.base = fhir_base.rstrip("/")
        self._headers = {"Authorization": f"Bearer {access_token}", "Accept": FHIR_JSON}
        self._own = http is None
        self._http = http if http is not None else httpx.Client(timeout=TIMEOUT_S)

    def close(self) -> None:
        if self._own:
            self._http.close()

    def __enter__(self) -> EhrClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def read(self, resource_type: str, resource_id: str) -> Json:
        """``GET Type/id``; EhrReadError when the server refuses or sends another type."""
        found = self._json("GET", f"{self.base}/{resource_type}/{resource_id}")
        if found.get("resourceType") != resource_type:
            raise EhrReadError(
                f"GET {resource_type}/{resource_id}: the EHR sent a "
                f"{found.get('resourceType')!r}, not a {resource_type}"
            )
        return found

    def search(self, resource_type: str, params: Mapping[str, str]) -> SearchResult:
        """Every match of the search, page after page."""
        url: str | None = (
            f"{self.base}/{resource_type}?{urlencode({**params, '_count': str(PAGE_SIZE)})}"
        )
        resources: list[Json] = []
        outcomes: list[str] = []
        for _ in range(MAX_PAGES):
            if url is None:
                return SearchResult(tuple(resources), tuple(outcomes))
            page = self._json("GET", url)
            if page.get("resourceType") != "Bundle":
                raise EhrReadError(f"GET {self._short(url)}: the EHR sent no Bundle")
            for entry in page.get("entry") or []:
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if not isinstance(resource, dict):
                    continue
                said = outcome_text(resource)
                if said:
                    outcomes.append(f"{resource_type} search: {said}")
                elif resource.get("resourceType") == resource_type:
                    resources.append(resource)
            url = self._next(page)
        raise EhrReadError(f"{resource_type} search: more than {MAX_PAGES} pages; refused")

    def create(self, resource: Json) -> Json:
        """``POST Type`` of ``resource``; the resource as the server stored it."""
        kind = str(resource.get("resourceType"))
        return self._json("POST", f"{self.base}/{kind}", body=resource)

    def _next(self, page: Json) -> str | None:
        for link in page.get("link") or []:
            if isinstance(link, dict) and link.get("relation") == "next":
                url = link.get("url")
                if not isinstance(url, str) or not url.startswith(self.base + "/"):
                    raise EhrReadError(
                        f"the EHR's next page {url!r} is outside its FHIR base {self.base}: "
                        "not followed (the access token is sent to the FHIR base only)"
                    )
                return url
        return None

    def _short(self, url: str) -> str:
        return url.removeprefix(self.base + "/")

    def _json(self, method: str, url: str, body: Json | None = None) -> Json:
        what = f"{method} {self._short(url)}"
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = FHIR_JSON
        try:
            response = self._http.request(method, url, headers=headers, json=body)
        except httpx.HTTPError as error:
            raise EhrReadError(f"{what}: the EHR did not answer ({error})") from None
        try:
            document = response.json()
        except ValueError:
            document = None
        if response.is_error:
            said = outcome_text(document) or response.reason_phrase
            raise EhrReadError(
                f"{what}: the EHR answered {response.status_code}: {said}",
                status=response.status_code,
            )
        if not isinstance(document, dict):
            raise EhrReadError(f"{what}: the EHR's answer is not FHIR JSON")
        return cast(Json, document)
