"""SMART App Launch 2.x, the protocol: the EHR registrations checked, the
authorization server discovered, the scopes asked for, and what the token
response must hold (the pages: :mod:`isotrack.web.routes.smart`).

- :func:`smart_registrations` reads ``ISOTRACK_SMART_*`` (:mod:`isotrack.smart_settings`):
  iss → :class:`Registration`; InvalidInputError naming the variable when unusable.
- :class:`SmartClient` is an :class:`~isotrack.http.oidc.OidcClient` whose endpoints
  come from ``{iss}/.well-known/smart-configuration`` (which must offer PKCE S256
  and name the OpenID issuer whose ID tokens it checks).
- :func:`scopes_for`: only what isotrack needs: ``openid fhirUser``, the launch
  context (``launch`` inside the EHR, ``launch/patient`` standalone), read access to
  the resources the course record is read from, and ``patient/DocumentReference.c``
  only when write-back is configured.
- :func:`missing_scopes`, :func:`launch_context`, :func:`role_for_user` check the
  answer; each failure is a :class:`LaunchRefused` that says what to do.

>>> missing_scopes("openid patient/Observation.rs patient/Patient.rs", "openid patient/*.read")
[]
>>> missing_scopes("openid patient/Observation.rs", "openid patient/Patient.rs")
['patient/Observation.rs']
>>> role_candidates("https://ehr.test/fhir/Practitioner/7")
['https://ehr.test/fhir/Practitioner/7', 'Practitioner/7', 'Practitioner']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from isotrack.errors import InvalidInputError
from isotrack.http.authz import Role
from isotrack.http.oidc import (
    OidcClient,
    OidcConfig,
    ProviderMetadata,
    SsoRefused,
    provider_metadata,
)
from isotrack.http.sso import SSO_ROLES
from isotrack.settings import Settings
from isotrack.smart_settings import SmartEhr

READ_SCOPES = (
    "patient/Patient.rs",
    "patient/Observation.rs",
    "patient/Condition.rs",
    "patient/MedicationRequest.rs",
    "patient/MedicationStatement.rs",
    "patient/Procedure.rs",
)
"""Read access to what the course record is read from: the patient (identifier,
birth date, sex), weights, labs and pregnancy tests, conditions, medications and
contraception (medications and procedures)."""
WRITE_BACK_SCOPE = "patient/DocumentReference.c"
ACCESS_TOKEN_PURPOSE = "smart-access-token"  # noqa: S105  # a label, not a secret
"""What an EHR's access token is sealed for in the database (:mod:`isotrack.http.sealing`)."""
ROLES_CLAIM = "isotrack_smart_roles"
"""The claim :func:`role_candidates` is put under for :func:`isotrack.http.sso.sign_in_identity`."""
_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}


class LaunchRefused(Exception):  # noqa: N818  # a refusal, the word the pages and docs use
    """A launch that cannot go on: ``reason`` for the audit trail and the logs,
    ``title``, ``message`` and ``hint`` (what to do) for the page, ``status`` for it."""

    def __init__(self, reason: str, title: str, message: str, hint: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.title = title
        self.message = message
        self.hint = hint
        self.status = status


ASK_ADMIN = "If this keeps happening, tell the clinic's isotrack administrator."
OPEN_AGAIN = "Close isotrack and open it again from the patient's chart in the EHR."


def refused(kind: str, reason: str) -> LaunchRefused:
    """The refusal of one kind of failure (the pages docs/smart.md describes)."""
    title, message, hint, status = _KINDS[kind]
    return LaunchRefused(reason, title, message, hint, status)


_KINDS: dict[str, tuple[str, str, str, int]] = {
    "off": (
        "isotrack is not connected to an EHR",
        "This isotrack server has no EHR set up for app launch.",
        "Sign in to isotrack directly. " + ASK_ADMIN,
        404,
    ),
    "unknown-iss": (
        "This EHR is not registered with isotrack",
        "isotrack was opened by an EHR it does not know, so it did not go on.",
        "Open isotrack from your clinic's own EHR. If this is your clinic's EHR, the "
        "isotrack administrator must register it first (docs/smart.md).",
        400,
    ),
    "no-launch": (
        "Open isotrack from the EHR",
        "This EHR lets isotrack open only from inside a patient's chart, and this "
        "address did not come from there.",
        "Open the patient's chart in the EHR and start isotrack from it.",
        400,
    ),
    "denied": (
        "The EHR did not give isotrack the access it needs",
        "isotrack needs to read the patient's record to show the course, and the EHR "
        "did not allow it. You are not signed in and nothing was saved.",
        "Open isotrack again from the patient's chart and allow the access it asks for. "
        + ASK_ADMIN,
        403,
    ),
    "not-verified": (
        "The EHR's answer could not be checked",
        "isotrack could not confirm that the answer came from your EHR and is still "
        "valid, so you are not signed in and nothing was saved.",
        OPEN_AGAIN + " " + ASK_ADMIN,
        400,
    ),
    "patient": (
        "The EHR did not confirm this patient",
        "The EHR gave isotrack no patient, or another patient than the one isotrack was "
        "opened for. To keep records apart, nothing was opened or saved.",
        OPEN_AGAIN,
        403,
    ),
    "role": (
        "Your EHR account has no isotrack role",
        "You signed in at the EHR, but isotrack is not set up for your kind of EHR user.",
        "Ask the clinic's isotrack administrator to map your EHR user to a role.",
        403,
    ),
    "unavailable": (
        "The EHR cannot be reached",
        "isotrack could not reach the EHR's sign-in service.",
        "Try again in a few minutes. " + ASK_ADMIN,
        502,
    ),
}


@dataclass(frozen=True, slots=True)
class Registration:
    """One EHR, as checked at start-up (:func:`smart_registrations`)."""

    iss: str
    name: str
    client_id: str
    client_secret: str
    frame_origins: tuple[str, ...]
    identifier_system: str | None
    role_claim: str
    roles: Mapping[str, Role]
    standalone: bool
    write_back: bool


def smart_registrations(settings: Settings) -> dict[str, Registration]:
    """The EHRs that may launch isotrack, by ``iss``; empty when SMART is off."""
    if not settings.smart_ehrs:
        return {}
    _require_url("ISOTRACK_SMART_REDIRECT_URL", redirect_url(settings), settings)
    found: dict[str, Registration] = {}
    for ehr in settings.smart_ehrs:
        if ehr.iss in found:
            raise InvalidInputError("ISOTRACK_SMART_EHRS", f"registers {ehr.iss!r} twice")
        found[ehr.iss] = _registration(ehr, settings)
    return found


def redirect_url(settings: Settings) -> str:
    """The callback URL every EHR registers: ``ISOTRACK_SMART_REDIRECT_URL``, else
    ``<ISOTRACK_CDS_PUBLIC_URL>/smart/callback``; InvalidInputError without either."""
    if settings.smart_redirect_url:
        return settings.smart_redirect_url
    if settings.cds_public_url:
        return settings.cds_public_url + "/smart/callback"
    raise InvalidInputError(
        "ISOTRACK_SMART_REDIRECT_URL",
        "is required with ISOTRACK_SMART_EHRS (or ISOTRACK_CDS_PUBLIC_URL): the callback "
        "URL every EHR registers, e.g. https://isotrack.example.org/smart/callback",
    )


def _registration(ehr: SmartEhr, settings: Settings) -> Registration:
    name = "ISOTRACK_SMART_EHRS"
    _require_url(name, ehr.iss, settings)
    for origin in ehr.frame_origins:
        parts = urlsplit(origin)
        allowed = ("https", "http") if settings.relaxed else ("https",)
        if (
            parts.scheme not in allowed
            or not parts.netloc
            or origin != f"{parts.scheme}://{parts.netloc}"
        ):
            raise InvalidInputError(
                name,
                f"frame origin {origin[:80]!r} of {ehr.iss}: write an origin such as "
                "https://ehr.example.org (scheme and host, no path)",
            )
    if not ehr.roles:
        raise InvalidInputError(
            name, f'{ehr.iss}: roles is required, e.g. {{"Practitioner": "prescriber"}}'
        )
    roles = {}
    for value, role_name in ehr.roles.items():
        role = next((r for r in SSO_ROLES if r.value == role_name), None)
        if role is None:
            raise InvalidInputError(
                name,
                f"{ehr.iss}: {value!r} maps to {role_name!r}; a role is one of "
                + ", ".join(sorted(r.value for r in SSO_ROLES)),
            )
        roles[value] = role
    return Registration(
        iss=ehr.iss,
        name=ehr.name or ehr.iss,
        client_id=ehr.client_id,
        client_secret=ehr.client_secret.get_secret_value(),
        frame_origins=ehr.frame_origins,
        identifier_system=ehr.patient_identifier_system,
        role_claim=ehr.role_claim,
        roles=roles,
        standalone=ehr.standalone,
        write_back=ehr.write_back,
    )


def _require_url(name: str, value: str, settings: Settings) -> None:
    allowed = ("https://", "http://") if settings.relaxed else ("https://",)
    if not value.startswith(allowed) or len(value) <= len("https://"):
        raise InvalidInputError(
            name, f"must be an {' or '.join(a[:-3] for a in allowed)} URL, not {value[:80]!r}"
        )


class SmartClient(OidcClient):
    """isotrack as a confidential client of one EHR: the endpoints and the OpenID
    issuer come from the EHR's ``.well-known/smart-configuration``."""

    def __init__(self, registration: Registration, redirect_url: str) -> None:
        super().__init__(
            OidcConfig(
                issuer=registration.iss,
                client_id=registration.client_id,
                client_secret=registration.client_secret,
                redirect_url=redirect_url,
                scopes="openid",
            )
        )
        self.registration = registration

    def _discover(self) -> ProviderMetadata:
        url = self.config.issuer.rstrip("/") + "/.well-known/smart-configuration"
        document = self._get_json(url)
        methods = document.get("code_challenge_methods_supported")
        if not isinstance(methods, list) or "S256" not in methods:
            raise SsoRefused(f"{url}: PKCE S256 is not offered", status=502)
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise SsoRefused(f"{url}: no issuer (the EHR offers no OpenID Connect)", status=502)
        return provider_metadata(document, issuer)


def scopes_for(registration: Registration, *, ehr_launch: bool) -> str:
    """The scopes one launch asks for (docs/smart.md says why each)."""
    scopes = ["openid", "fhirUser", "launch" if ehr_launch else "launch/patient", *READ_SCOPES]
    if registration.write_back:
        scopes.append(WRITE_BACK_SCOPE)
    return " ".join(scopes)


def _permissions(scope: str) -> tuple[str, str, frozenset[str]] | None:
    """(context, resource type, permissions) of a SMART resource scope, v1 or v2;
    None for another scope or a v2 scope narrowed by a query (it may not cover all)."""
    head, dot, permissions = scope.partition(".")
    context, slash, resource = head.partition("/")
    if not dot or not slash or "?" in permissions or context not in {"patient", "user"}:
        return None
    letters = _PERMISSIONS.get(permissions, permissions)
    if not letters or set(letters) - set("cruds"):
        return None
    return context, resource, frozenset(letters)


def missing_scopes(requested: str, granted: str | None) -> list[str]:
    """The resource scopes asked for that the granted scopes do not cover (``granted``
    None: as asked, RFC 6749 §5.1). Launch, openid and write-back are checked elsewhere."""
    if granted is None:
        return []
    given = [p for p in (_permissions(s) for s in granted.split()) if p is not None]
    missing = []
    for scope in requested.split():
        wanted = _permissions(scope)
        if wanted is None or scope == WRITE_BACK_SCOPE:
            continue
        _, resource, letters = wanted
        if not any(kind in {resource, "*"} and letters <= have for _, kind, have in given):
            missing.append(scope)
    return missing


@dataclass(frozen=True, slots=True)
class LaunchContext:
    """What the token response says the launch is about."""

    patient: str
    order: str | None
    """``MedicationRequest/<id>``: the draft order a CDS card opened isotrack for."""
    app_context: Mapping[str, str]

    def as_json(self) -> str:
        return json.dumps({**self.app_context, "patient": self.patient, "order": self.order})


def launch_context(token: Mapping[str, Any]) -> LaunchContext:
    """The patient (required) and the order of a token response; LaunchRefused when the
    patient is missing or the appContext / fhirContext name another patient."""
    patient = token.get("patient")
    if not isinstance(patient, str) or not patient.strip() or len(patient) > 128:
        raise refused("patient", "the token response names no patient")
    app = _app_context(token.get("appContext"))
    named = {value for key, value in app.items() if key in {"patient", "patientId"}}
    order = app.get("order") or app.get("draftOrder")
    for item in token.get("fhirContext") or []:
        reference = item.get("reference") if isinstance(item, Mapping) else None
        if isinstance(reference, str) and reference.startswith("Patient/"):
            named.add(reference.removeprefix("Patient/"))
        elif isinstance(reference, str) and reference.startswith("MedicationRequest/"):
            order = order or reference
    if named - {patient}:
        raise refused(
            "patient", f"the EHR granted patient {patient!r}, the launch was for {sorted(named)}"
        )
    if order is not None and not order.startswith("MedicationRequest/"):
        order = f"MedicationRequest/{order}"
    return LaunchContext(patient=patient, order=order, app_context=app)


def _app_context(value: object) -> dict[str, str]:
    """A CDS card's appContext: a JSON object, or ``key=value&…`` (strings only kept)."""
    if isinstance(value, Mapping):
        items: Mapping[str, Any] = value
    elif isinstance(value, str) and value.strip().startswith("{"):
        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        items = loaded if isinstance(loaded, dict) else {}
    elif isinstance(value, str):
        items = dict(parse_qsl(value))
    else:
        return {}
    return {str(k): v for k, v in items.items() if isinstance(v, str) and len(v) <= 500}


def role_candidates(value: object) -> list[str]:
    """The values a user claim is looked up by: each value itself and, for a FHIR
    reference (``fhirUser``), ``Type/id`` and ``Type``."""
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    found: list[str] = []
    for item in values:
        if not isinstance(item, str) or not item:
            continue
        found.append(item)
        parts = item.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2][:1].isupper():
            found += [f"{parts[-2]}/{parts[-1]}", parts[-2]]
    return list(dict.fromkeys(found))


def role_for_user(claims: Mapping[str, Any], registration: Registration) -> Role:
    """The one role the EHR user maps to; LaunchRefused for none or several."""
    candidates = role_candidates(claims.get(registration.role_claim))
    roles = sorted({registration.roles[c] for c in candidates if c in registration.roles})
    if len(roles) != 1:
        shown = ", ".join(candidates[:5]) or "none"
        raise refused("role", f"{registration.role_claim} {shown} maps to {len(roles)} roles")
    return roles[0]
