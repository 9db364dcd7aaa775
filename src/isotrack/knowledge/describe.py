"""Plain words for knowledge entries, shared by every surface (CLI, web, docs).

>>> basis_text("L/G")
'label / guideline'
>>> from isotrack.knowledge import default_knowledge
>>> programme_line(active_programme(default_knowledge())).startswith("iPLEDGE REMS")
True
"""

from __future__ import annotations

from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.model import Programme

BASIS_NAMES = {"L": "label", "G": "guideline", "P": "clinic policy", "D": "derived"}
DEFAULT_PROGRAMME_PARAMETER = "ppp.default_programme"
"""The clinic's rule set (basis P: a clinic policy file may change it)."""


def basis_text(basis: str) -> str:
    """'L/G' -> 'label / guideline'."""
    return " / ".join(BASIS_NAMES.get(part, part) for part in basis.split("/"))


def active_programme(kb: KnowledgeBase) -> Programme:
    """The rule set the clinic follows (parameter ``ppp.default_programme``)."""
    return kb.programme(kb.text(DEFAULT_PROGRAMME_PARAMETER))


def programme_line(programme: Programme) -> str:
    """'iPLEDGE REMS (us-ipledge-2024, version 2024 modification, approved 2024-02-09)'."""
    return f"{programme.name} ({programme.id}, version {programme.version})"
