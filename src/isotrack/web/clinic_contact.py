"""Who a patient calls: the clinic's settings (:mod:`isotrack.store.clinic`) and the
crisis line of the clinic's country (knowledge base), for every page that tells a
patient to call (``templates/_call_clinic.html``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from isotrack.errors import IsotrackError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import CrisisLine
from isotrack.store import ClinicSettings, read_clinic_settings


@dataclass(frozen=True, slots=True)
class ClinicContact:
    settings: ClinicSettings
    crisis_line: CrisisLine | None
    """None when the clinic's country is not set (or has no line in the knowledge base)."""


def clinic_contact(engine: Engine, kb: KnowledgeBase) -> ClinicContact:
    settings = read_clinic_settings(engine)
    line = None
    if settings.country:
        try:
            line = kb.crisis_line(settings.country)
        except IsotrackError:
            line = None
    return ClinicContact(settings, line)
