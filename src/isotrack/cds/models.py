"""The JSON of CDS Hooks 2.0 as msgspec Structs: requests in, cards and feedback.

Requests are decoded once, from bytes, with the prefetch values and
``context.draftOrders`` kept as raw JSON (decoded later by :mod:`isotrack.fhir`).
Field names follow the specification (``hookInstance``, ``fhirServer`` ...).

>>> request = decode_hook_request(b'{"hook": "patient-view", "hookInstance": "1",'
...     b' "context": {"userId": "Practitioner/1", "patientId": "p1"}}')
>>> request.context.patient_id, request.prefetch
('p1', {})
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import msgspec

from isotrack.errors import InvalidInputError

Indicator = Literal["info", "warning", "critical"]
BODY = "body"
"""The field named by an error about the whole body (not JSON, or not an object)."""
T = TypeVar("T")


class _In(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base of the request Structs: unknown fields are ignored, as the spec allows."""


class FhirAuthorization(_In, frozen=True, kw_only=True):
    """``fhirAuthorization``: an OAuth 2.0 bearer token for the EHR's FHIR server."""

    access_token: str = msgspec.field(name="access_token")
    token_type: str = msgspec.field(default="Bearer", name="token_type")
    expires_in: int | None = msgspec.field(default=None, name="expires_in")
    scope: str = ""
    subject: str = ""


class HookContext(_In, frozen=True, kw_only=True):
    """``context`` of patient-view, order-select and order-sign."""

    patient_id: str
    user_id: str | None = None
    encounter_id: str | None = None
    selections: tuple[str, ...] = ()
    draft_orders: msgspec.Raw = msgspec.Raw(b"null")


class HookRequest(_In, frozen=True, kw_only=True):
    """The body of ``POST /cds-services/{id}``."""

    hook: str
    hook_instance: str
    context: HookContext
    fhir_server: str | None = None
    fhir_authorization: FhirAuthorization | None = None
    prefetch: dict[str, msgspec.Raw] = {}
    extension: dict[str, Any] = {}


class Coding(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    system: str
    code: str
    display: str | None = None


class OverrideReasonGiven(_In, frozen=True, kw_only=True):
    reason: Coding | None = None
    user_comment: str | None = None


class AcceptedSuggestion(_In, frozen=True, kw_only=True):
    id: str


class FeedbackItem(_In, frozen=True, kw_only=True):
    """One outcome of ``POST /cds-services/{id}/feedback``."""

    card: str
    outcome: Literal["accepted", "overridden"]
    outcome_timestamp: str
    accepted_suggestions: tuple[AcceptedSuggestion, ...] = ()
    override_reason: OverrideReasonGiven | None = None


class FeedbackRequest(_In, frozen=True, kw_only=True):
    feedback: tuple[FeedbackItem, ...]


# --- responses ------------------------------------------------------------------------


class _Out(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel"):
    """Base of the response Structs: fields left at their default are not written."""


class CardSource(_Out, frozen=True, kw_only=True):
    label: str
    topic: Coding | None = None
    url: str | None = None


class Action(_Out, frozen=True, kw_only=True):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None


class Suggestion(_Out, frozen=True, kw_only=True):
    label: str
    uuid: str
    is_recommended: bool = False
    actions: tuple[Action, ...] = ()


class Link(_Out, frozen=True, kw_only=True):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    app_context: str | None = None


class Card(_Out, frozen=True, kw_only=True):
    uuid: str
    summary: str
    indicator: Indicator
    source: CardSource
    detail: str | None = None
    suggestions: tuple[Suggestion, ...] = ()
    selection_behavior: Literal["at-most-one", "any"] | None = None
    override_reasons: tuple[Coding, ...] = ()
    links: tuple[Link, ...] = ()


class CardsResponse(msgspec.Struct, frozen=True):
    cards: tuple[Card, ...] = ()


class ServiceEntry(msgspec.Struct, frozen=True, omit_defaults=True):
    """One service of discovery."""

    hook: str
    title: str
    description: str
    id: str
    prefetch: dict[str, str]
    usage_requirements: str | None = msgspec.field(default=None, name="usageRequirements")


class Discovery(msgspec.Struct, frozen=True):
    services: tuple[ServiceEntry, ...]


_HOOK_REQUEST = msgspec.json.Decoder(HookRequest)
_FEEDBACK = msgspec.json.Decoder(FeedbackRequest)
_ENCODER = msgspec.json.Encoder()


def decode_hook_request(body: bytes) -> HookRequest:
    """The request, or InvalidInputError naming the first wrong field (``$.context.patientId``
    becomes ``context.patientId``; :data:`BODY` when the body is not a JSON object)."""
    return _decode(_HOOK_REQUEST, body)


def decode_feedback(body: bytes) -> FeedbackRequest:
    return _decode(_FEEDBACK, body)


def encode(value: msgspec.Struct) -> bytes:
    return _ENCODER.encode(value)


def _decode(decoder: msgspec.json.Decoder[T], body: bytes) -> T:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as error:
        message, _, path = str(error).partition(" - at `$")
        field = path.rstrip("`").lstrip(".") or BODY
        raise InvalidInputError(field, message[:1].lower() + message[1:]) from None
    except msgspec.DecodeError as error:
        raise InvalidInputError(BODY, f"not valid JSON: {error}") from None
    except RecursionError:
        raise InvalidInputError(BODY, "JSON nested too deeply to read") from None
