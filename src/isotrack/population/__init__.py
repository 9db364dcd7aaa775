"""Population screening of FHIR Bulk Data exports (``isotrack screen-bulk``).

Public API::

    screen_patient(resources, *, on, kb, order_all=False) -> dict   one patient, pure
    run_screening(job, *, progress=None) -> RunResult               a whole export, resumable
    Job(export, out, on, order_all, jobs, restart, policy)          what run_screening runs
"""

from __future__ import annotations

from isotrack.population.patient import screen_patient
from isotrack.population.runner import Job, RunResult, run_screening

__all__ = ["Job", "RunResult", "run_screening", "screen_patient"]
