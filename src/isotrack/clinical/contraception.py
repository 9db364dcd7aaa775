"""Contraception: which method a coded record is, and whether a patient's
methods meet the pregnancy prevention programme.

(Filled in by the pregnancy/contraception work; the signature below is what
the FHIR reader relies on.)
"""

from __future__ import annotations

from isotrack.clinical.codes import Concept
from isotrack.knowledge.base import KnowledgeBase


def method_for(concept: Concept, kb: KnowledgeBase) -> tuple[str, bool] | None:
    """The knowledge-base contraception method id a medication or procedure
    concept stands for, and whether only text matched; ``None`` if none."""
    raise NotImplementedError
