"""What isotrack's own export says in isotrack's own terms, read back by every FHIR
reader (CDS, import, population screening): the pregnancy capability a clinician
recorded (the Patient's ``urn:isotrack:pregnancy-capability`` extension; FHIR has no
standard element for it) and acne lesion counts (``urn:isotrack:observation``
``lesion-count``, one component per part; there is no LOINC code for them), and a
course that has no prescription yet (a MedicationRequest with intent ``plan`` and
the course as its ``groupIdentifier``: the course itself, never an order to review).

>>> from isotrack.fhir.datatypes import Extension
>>> from isotrack.fhir.resources import Patient
>>> url = "urn:isotrack:pregnancy-capability"
>>> pregnancy_capability_of(Patient(extension=(Extension(url=url,
...     value_code="cannot-get-pregnant"),))).value
'cannot-get-pregnant'
"""

from __future__ import annotations

from collections.abc import Iterable

from isotrack.clinical.snapshot import LesionCount, PregnancyCapability
from isotrack.errors import FhirDecodeError
from isotrack.fhir.datatypes import CodeableConcept
from isotrack.fhir.export_values import (
    CAPABILITY_EXTENSION,
    ISOTRACK_COURSE,
    ISOTRACK_OBSERVATION,
    LESION_COUNT,
    LESION_PARTS,
)
from isotrack.fhir.resources import MedicationRequest, Observation, Patient
from isotrack.fhir.values import fhir_date

_CAPABILITIES = {c.value: c for c in PregnancyCapability}


def pregnancy_capability_of(patient: Patient | None) -> PregnancyCapability | None:
    """The capability recorded in isotrack (None when the Patient carries none); an
    unknown code is refused, never guessed."""
    for extension in patient.extension if patient is not None else ():
        if extension.url != CAPABILITY_EXTENSION:
            continue
        code = extension.value_code or ""
        if code not in _CAPABILITIES:
            raise FhirDecodeError(
                f"Patient/{patient.id if patient else ''}",
                f"pregnancy capability {code!r} is not one of {', '.join(_CAPABILITIES)}",
            )
        return _CAPABILITIES[code]
    return None


def is_lesion_count(code: CodeableConcept | None, part: str = LESION_COUNT) -> bool:
    return code is not None and any(
        c.system == ISOTRACK_OBSERVATION and c.code == part for c in code.coding
    )


def lesion_counts_from(observations: Iterable[Observation]) -> list[LesionCount]:
    """The lesion counts among the observations (one without a date or a nodule count
    is no count: the rules compare nodules)."""
    counts = []
    for observation in observations:
        if not is_lesion_count(observation.code) or observation.status == "entered-in-error":
            continue
        label = f"Observation/{observation.id}"
        on = fhir_date(observation.effective_date_time, f"{label} effectiveDateTime")
        parts: dict[str, int | None] = dict.fromkeys(LESION_PARTS)
        for component in observation.component:
            for part in LESION_PARTS:
                if is_lesion_count(component.code, part):
                    parts[part] = component.value_integer
        nodules = parts["nodules"]
        if on is not None and nodules is not None:
            counts.append(
                LesionCount(on, nodules, parts["inflammatory"], parts["comedones"], label)
            )
    return counts


def is_course_plan(request: MedicationRequest) -> bool:
    """isotrack's plan of a course with no prescription yet."""
    group = request.group_identifier
    return request.intent == "plan" and group is not None and group.system == ISOTRACK_COURSE
