"""Population screening of FHIR Bulk Data exports (``isotrack screen-bulk``).

Public API::

    screen_patient(resources, *, on, kb, order_all=False) -> dict   one patient, pure
    run_screening(job, *, progress=None) -> RunResult               the whole export, resumable
"""

from __future__ import annotations

from isotrack.population.patient import screen_patient

__all__ = ["screen_patient"]
