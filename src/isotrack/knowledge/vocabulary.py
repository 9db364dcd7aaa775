"""Checks of the FHIR reader's vocabularies (``fhir-vocabulary.toml``).

Each entry says what one concept looks like in one kind of FHIR element (a
route, a ``Timing.code``, a dose unit, a sex element). The loader refuses a
vocabulary the reader could not use unambiguously: an entry without terms, a
number that is not positive, a code of a code system no ``code-system`` entry
names, and above all one term listed under two meanings of the same element
(``PO`` both oral and rectal), which would make the reading depend on file
order. An entry without ``number`` is deliberate: a timing code that is not a
whole number of doses a day (``QOD``), a time unit that is not a whole number
of seconds (a month).
"""

from __future__ import annotations

import msgspec

from isotrack.errors import KnowledgeError
from isotrack.knowledge.codelists import FhirVocabulary, word_form

EXACT_ELEMENTS = frozenset({"code-system", "patient-extension"})
"""Elements whose words are URIs: compared case-folded, not in word form."""


def term_key(element: str, system: str, code: str) -> tuple[str, str]:
    """How a term is looked up: a code by code-system short name and code as
    written; a word (no system) in :func:`word_form` (``"{Capsule}"`` and
    ``"capsule"`` are one word), or, for a URI, case-folded."""
    if system:
        return system, code
    if element in EXACT_ELEMENTS:
        return "", code.strip().casefold()
    return "", word_form(code)


def check_vocabularies(
    entries: dict[str, dict[str, msgspec.Struct]], where: dict[tuple[str, str], str]
) -> None:
    vocabularies = entries.get("fhir_vocabulary", {})
    systems = {
        v.meaning
        for v in vocabularies.values()
        if isinstance(v, FhirVocabulary) and v.element == "code-system"
    }
    seen: dict[tuple[str, str, str], str] = {}
    for entry_id, entry in vocabularies.items():
        assert isinstance(entry, FhirVocabulary)
        file = where[("fhir_vocabulary", entry_id)]
        _check_entry(file, entry, systems)
        for term in entry.terms:
            key = (entry.element, *term_key(entry.element, term.system, term.code))
            first = seen.setdefault(key, entry_id)
            if first != entry_id:
                raise KnowledgeError(
                    f"term {term.system or 'word'}|{term.code} of element {entry.element!r} "
                    f"already means something else in entry {first!r}",
                    file=file,
                    entry=entry_id,
                    field="terms",
                )


def _check_entry(file: str, entry: FhirVocabulary, systems: set[str]) -> None:
    def refuse(message: str, field: str) -> KnowledgeError:
        return KnowledgeError(message, file=file, entry=entry.id, field=field)

    if not entry.terms:
        raise refuse("needs at least one term", "terms")
    for term in entry.terms:
        if term.system and (entry.element == "code-system" or term.system not in systems):
            raise refuse(
                f"code system {term.system!r} is not named by a code-system entry", "terms"
            )
    if entry.code_system and entry.code_system not in systems:
        raise refuse(f"code system {entry.code_system!r} is not named", "code_system")
    if entry.number is not None and not entry.number > 0:
        raise refuse("must be above 0", "number")
    if entry.number_max is not None and (entry.number is None or entry.number_max < entry.number):
        raise refuse("needs number, and must not be below it", "number_max")
