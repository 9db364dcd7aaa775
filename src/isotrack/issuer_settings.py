"""The CDS Hooks issuers setting (``ISOTRACK_CDS_ISSUERS``): each trusted EHR issuer
and where its JWKS is, checked when :class:`isotrack.settings.Settings` is read.

Apart from settings.py so that the one settings class stays readable; nothing here
reads the environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping


def parse_cds_issuers(value: object) -> dict[str, str]:
    """The issuer → JWKS location map of ``ISOTRACK_CDS_ISSUERS`` (JSON text or a mapping).

    Each location is an ``https://`` URL or a local file path; anything else is
    refused (ValueError, which the settings class reports under the variable's name).

    >>> parse_cds_issuers('{"https://ehr.example.org": "https://ehr.example.org/jwks.json"}')
    {'https://ehr.example.org': 'https://ehr.example.org/jwks.json'}
    >>> parse_cds_issuers('{"https://ehr.example.org": "http://ehr.example.org/jwks.json"}')
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the JWKS of 'https://ehr.example.org' must be an https:// URL or a local ...
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as error:
            raise ValueError(
                f"is not valid JSON ({error}); write a JSON object such as "
                '{"https://ehr.example.org": "/etc/isotrack/ehr-jwks.json"}'
            ) from None
    if not isinstance(value, Mapping):
        raise ValueError(
            "must be a JSON object mapping each trusted issuer to its JWKS (https URL or file path)"
        )
    issuers: dict[str, str] = {}
    for issuer, location in value.items():
        if not isinstance(issuer, str) or not issuer.strip():
            raise ValueError("has an empty issuer; each key is the iss of an EHR's tokens")
        if not isinstance(location, str) or not location.strip():
            raise ValueError(
                f"the JWKS of {issuer!r} must be a string: an https:// URL or a local file path"
            )
        location = location.strip()
        if not _is_jwks_location(location):
            raise ValueError(
                f"the JWKS of {issuer!r} must be an https:// URL or a local file path, "
                f"not {location!r}"
            )
        issuers[issuer] = location
    return issuers


def _is_jwks_location(location: str) -> bool:
    scheme, separator, rest = location.partition("://")
    if not separator:
        return True  # a file path
    host = rest.split("/", 1)[0]
    return scheme.lower() == "https" and bool(host)
