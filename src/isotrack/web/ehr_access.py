"""The EHR a browser session may read: the seam between the SMART launch and the pages
that read the record from the EHR (:mod:`isotrack.web.routes.ehr_record`).

A SMART launch ends with an access token for one EHR (its FHIR base, ``iss``), one
EHR patient and the scopes granted; it keeps them server-side with the web session.
:func:`ehr_access` is the one dependency the EHR pages ask for them: it returns the
:class:`EhrAccess` of this session, or None when the session was not launched from
an EHR (or its token has expired). The SMART launch provides it by setting
``app.state.ehr_access`` to a callable ``(request, now) -> EhrAccess | None``; until
one is set, no session has EHR access and the pages say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from isotrack.http.deps import NowDep


@dataclass(frozen=True, slots=True)
class EhrAccess:
    """What the EHR granted this session."""

    fhir_base: str
    ehr_patient_id: str
    access_token: str
    scope: str
    """The granted scopes, space-separated."""

    def __repr__(self) -> str:  # the access token never reaches a log or a traceback
        return f"EhrAccess(fhir_base={self.fhir_base!r}, ehr_patient_id={self.ehr_patient_id!r})"

    def covers(self, fhir_base: str, ehr_patient_id: str) -> bool:
        """Whether the access is for this EHR and this patient."""
        return (
            self.fhir_base.rstrip("/") == fhir_base.rstrip("/")
            and self.ehr_patient_id == ehr_patient_id
        )


AccessLookup = Callable[[Request, datetime], EhrAccess | None]


def ehr_access(request: Request, now: NowDep) -> EhrAccess | None:
    """The EHR access of this browser session, or None."""
    lookup: AccessLookup | None = getattr(request.app.state, "ehr_access", None)
    return None if lookup is None else lookup(request, now)


EhrAccessDep = Annotated[EhrAccess | None, Depends(ehr_access)]
