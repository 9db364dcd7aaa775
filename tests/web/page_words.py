"""What a page shows a person, and the internal identifiers it must never show.

Used by the page walk (``tests/web/test_plain_words.py``) and the browser test
(``tests/e2e/test_plain_words.py``):

- :func:`visible_text`: the words of an HTML page a person reads: its text (no
  script, style or hidden template) and the ``title``, ``alt``, ``aria-label`` and
  ``placeholder`` attributes;
- :func:`internal_words`: each internal identifier found in such a text, with the
  words around it: a command type name (``RecordComprehensionAnswers``), a
  knowledge key (a parameter id such as ``tg.warning_mg_dl``, or the id of a
  symptom, contraception method, product, question or override reason that has a
  hyphen or an underscore, such as ``missed-period``), a record version, or a
  plural left to the reader ("2 time(s) a day").

Rule ids (``LIPIDS-HIGH``) and source ids are not internal: the pages cite them
on purpose and link them to the knowledge pages.
"""

from __future__ import annotations

import html
import re

from isotrack.clinical.state import COMMAND_TYPES
from isotrack.knowledge import KnowledgeBase

_HIDDEN = re.compile(r"(?is)<(script|style|template)\b[^>]*>.*?</\1\s*>|<!--.*?-->")
_ATTRIBUTE = re.compile(r'(?i)\s(?:title|alt|aria-label|placeholder)="([^"]*)"')
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_JOINED = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+")
ENTRY_KINDS = ("symptom", "contraception", "product", "question", "override_reason")
"""Knowledge entries whose ids a page might print instead of the entry's words."""
CONTEXT = 50


def visible_text(page: str) -> str:
    """The words of ``page`` a person reads, on one line."""
    page = _HIDDEN.sub(" ", page)
    said = " ".join(html.unescape(value) for value in _ATTRIBUTE.findall(page))
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", page)) + " " + said).strip()


def _patterns(kb: KnowledgeBase) -> tuple[tuple[str, re.Pattern[str]], ...]:
    keys = [p.id for p in kb.parameters]
    for kind in ENTRY_KINDS:
        keys += [i for i in kb.entries.get(kind, {}) if "-" in i or "_" in i]
    alternatives = "|".join(re.escape(k) for k in sorted(set(keys), key=len, reverse=True))
    # 'Prescribe' and 'Dispense' are words too: they count only as "(Prescribe)"
    joined = [n for n in COMMAND_TYPES if _JOINED.fullmatch(n)]
    words = [n for n in COMMAND_TYPES if n not in joined]
    commands = "|".join(sorted(joined, key=len, reverse=True))
    return (
        ("command type name", re.compile(rf"\b(?:{commands})\b|\((?:{'|'.join(words)})\)")),
        ("knowledge key", re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w-])")),
        ("record version", re.compile(r"(?i)\brecord version\b")),
        ("plural left to the reader", re.compile(r"\w\(s\)")),
    )


def internal_words(text: str, kb: KnowledgeBase) -> list[str]:
    """Each internal identifier in ``text``: 'knowledge key 'tg.warning_mg_dl' in "…"'."""
    found = []
    for what, pattern in _patterns(kb):  # compiled per call: cheap next to a page
        for match in pattern.finditer(text):
            around = text[max(0, match.start() - CONTEXT) : match.end() + CONTEXT]
            found.append(f'{what} {match.group(0)!r} in "…{around}…"')
    return found
