"""The rules of the catalogue, one module per clinical topic.

Importing this package registers every rule with
:mod:`isotrack.clinical.screening.context`.
"""

from isotrack.clinical.screening.rules import (  # noqa: F401  # imported to register the rules
    allergies,
    conditions,
    contraception,
    course,
    dosing,
    drugs,
    labs,
    monitoring,
    patient,
    pregnancy,
    regimen,
    reports,
    supply,
)
