"""Observations to snapshot values: weights, labs, hCG tests, PHQ-9, pregnancy status.

Which observation is which comes from knowledge-base value sets (LOINC). An
observation that carries a LOINC code is recognised by its codes only: a
different LOINC code is a different test (urine glucose is not blood glucose),
so text is consulted only for observations with no LOINC code, and a note says
so. Values enter in canonical units (:func:`isotrack.clinical.units.to_canonical`);
a unit that cannot be converted drops that one observation with a note. An
impossible value (a negative result, a weight of 0) is refused with a
:class:`~isotrack.errors.FhirDecodeError` naming the observation.

One module per kind: :mod:`.measures` (weight, labs), :mod:`.pregnancy` (hCG tests with
their specimen date and setting, dated pregnancy statuses; :mod:`.hcg_result` says what
an hCG result is), :mod:`.mood` (PHQ-9); :mod:`.reader` sends each observation to its
reader, :mod:`.model` holds what they share.
"""

from isotrack.fhir.observations.model import (
    HCG,
    KINDS,
    LAB_VALUESETS,
    ObservationKinds,
    ObservationValues,
    PatientFacts,
)
from isotrack.fhir.observations.reader import read_observations

__all__ = [
    "HCG",
    "KINDS",
    "LAB_VALUESETS",
    "ObservationKinds",
    "ObservationValues",
    "PatientFacts",
    "read_observations",
]
