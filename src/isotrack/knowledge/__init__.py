"""Clinical knowledge as data: products, dosing, rules, code lists, sources.

Public API: :func:`load_knowledge`, :func:`default_knowledge`, :class:`KnowledgeBase`.
"""

from __future__ import annotations

from functools import lru_cache

from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.loader import load_knowledge


@lru_cache(maxsize=1)
def default_knowledge() -> KnowledgeBase:
    """The packaged knowledge base without clinic policy overrides (loaded once)."""
    return load_knowledge()


__all__ = ["KnowledgeBase", "default_knowledge", "load_knowledge"]
