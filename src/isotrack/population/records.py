"""One patient's raw resources as of the evaluation date.

The engine refuses data dated after the evaluation date, and a population
screen asks "what did we know on that day": each resource is dated by the
element that says when it happened (a condition's onset, an order's
``authoredOn``, a result's effective time, ...) and a resource dated after the
day is left out, counted per type.

>>> from datetime import date
>>> kept = as_of([b'{"resourceType": "Condition", "onsetDateTime": "2030-01-02"}',
...               b'{"resourceType": "Condition", "onsetDateTime": "2001-01-02"}'],
...              date(2024, 1, 1))
>>> len(kept.resources), kept.left_out
(1, {'Condition': 1})
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import msgspec

from isotrack.errors import FhirDecodeError
from isotrack.fhir.datatypes import Period
from isotrack.fhir.values import fhir_date


class _Dated(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    resource_type: str | None = None
    id: str | None = None
    onset_date_time: str | None = None
    onset_period: Period | None = None
    recorded_date: str | None = None
    authored_on: str | None = None
    effective_date_time: str | None = None
    effective_period: Period | None = None
    effective_instant: str | None = None
    issued: str | None = None
    performed_date_time: str | None = None
    performed_period: Period | None = None
    period: Period | None = None
    date_asserted: str | None = None
    birth_date: str | None = None
    deceased_boolean: bool | None = None
    deceased_date_time: str | None = None


_DATED = msgspec.json.Decoder(_Dated)


_DATE_FIELDS: dict[str, tuple[str, ...]] = {
    "Condition": ("onset_date_time", "onset_period", "recorded_date"),
    "AllergyIntolerance": ("recorded_date", "onset_date_time"),
    "MedicationRequest": ("authored_on",),
    "MedicationStatement": ("effective_date_time", "effective_period", "date_asserted"),
    "Observation": ("effective_date_time", "effective_period", "effective_instant", "issued"),
    "Procedure": ("performed_date_time", "performed_period"),
    "Encounter": ("period",),
}
"""Per type, the elements that date a resource, in order of preference (a period by its start)."""


def _when(resource: _Dated) -> str | None:
    """The date a resource happened or was recorded, as written (None: undated)."""
    for name in _DATE_FIELDS.get(resource.resource_type or "", ()):
        value = getattr(resource, name)
        if isinstance(value, Period):
            value = value.start
        if value:
            return str(value)
    return None


@dataclass(frozen=True, slots=True)
class PatientStatus:
    """What the Patient resource says about being alive on the day."""

    patient_id: str | None
    birth_date: date | None
    deceased: str | None
    """Why the patient is no longer alive on the day (None: alive or not recorded)."""


@dataclass
class AsOf:
    """The resources kept, the patient's status, and what was left out."""

    resources: list[bytes] = field(default_factory=list)
    patient: PatientStatus | None = None
    left_out: dict[str, int] = field(default_factory=dict)

    def note(self, on: date) -> str | None:
        if not self.left_out:
            return None
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(self.left_out.items()))
        return (
            f"Screened as of {on.isoformat()}: {sum(self.left_out.values())} resource(s) dated "
            f"after it were left out ({counts})"
        )


def as_of(lines: Iterable[bytes], on: date) -> AsOf:
    """Keep the resources dated on or before ``on`` (and the undated ones).

    Raises :class:`~isotrack.errors.FhirDecodeError` for a line that is no
    JSON object or a date that is no FHIR date.
    """
    result = AsOf()
    for line in lines:
        try:
            resource = _DATED.decode(line)
        except msgspec.ValidationError as exc:
            raise FhirDecodeError("resource", f"wrong type: {exc}") from None
        except msgspec.DecodeError as exc:
            raise FhirDecodeError("resource", f"not valid JSON: {exc}") from None
        kind = resource.resource_type or "resource"
        label = f"{kind}/{resource.id}" if resource.id else kind
        if kind == "Patient":
            result.patient = _status(resource, label, on)
            result.resources.append(line)
            continue
        day = fhir_date(_when(resource), f"{label} date")
        if day is not None and day > on:
            result.left_out[kind] = result.left_out.get(kind, 0) + 1
            continue
        result.resources.append(line)
    return result


def _status(resource: _Dated, label: str, on: date) -> PatientStatus:
    born = fhir_date(resource.birth_date, f"{label} birthDate")
    died = fhir_date(resource.deceased_date_time, f"{label} deceasedDateTime")
    deceased = None
    if died is not None and died <= on:
        deceased = f"deceased on {died.isoformat()}"
    elif died is None and resource.deceased_boolean:
        deceased = "recorded as deceased"
    return PatientStatus(resource.id, born, deceased)
