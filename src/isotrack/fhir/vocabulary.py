"""The FHIR reader's vocabularies, indexed once per knowledge base.

``knowledge/data/fhir-vocabulary.toml`` lists how EHRs write a route, a
``Timing.code``, a dose unit and the sex and gender elements (codes by code
system, and words). :func:`vocabulary` turns it into dictionaries once per
knowledge base (``kb.derived``), so that reading a record costs a dictionary
look-up per element. Codes win over words: a word (a ``text`` or a coding's
display) is read only when no coding of the element is known.

>>> from isotrack.knowledge import default_knowledge
>>> words = vocabulary(default_knowledge())
>>> words.coded("route", "http://snomed.info/sct", "26643006").meaning
'oral'
>>> words.word("dose-unit", "{Capsule}").meaning
'capsule'
"""

from __future__ import annotations

from dataclasses import dataclass

from isotrack.fhir.datatypes import CodeableConcept, Coding, Quantity
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.codelists import FhirVocabulary
from isotrack.knowledge.vocabulary import term_key


@dataclass(frozen=True, slots=True)
class Read:
    """What an element was read as: the vocabulary entry (None: not recognised), the
    element as written (for notes), and whether only a word, not a code, matched."""

    entry: FhirVocabulary | None
    written: str
    by_word: bool = False


class Vocabulary:
    """Look-ups into the reader's vocabularies (build with :func:`vocabulary`)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._systems: dict[str, str] = {}
        self._terms: dict[tuple[str, str, str], FhirVocabulary] = {}
        codes: dict[str, set[str]] = {}
        for entry in kb.fhir_vocabularies:
            for term in entry.terms:
                if entry.element == "code-system":
                    self._systems[term.code.strip().casefold()] = entry.meaning
                else:
                    key = term_key(entry.element, term.system, term.code)
                    self._terms[(entry.element, *key)] = entry
                    if term.system:
                        codes.setdefault(entry.element, set()).add(term.code)
        self._codes = {element: frozenset(found) for element, found in codes.items()}

    def codes_of(self, element: str) -> frozenset[str]:
        """Every code (of any system) of an element: a quick test before a look-up."""
        return self._codes.get(element, frozenset())

    def system_of(self, uri: str | None) -> str | None:
        """The short name of a code system URI (``snomed``), or None."""
        return self._systems.get(uri.strip().casefold()) if uri else None

    def coded(
        self, element: str, system_uri: str | None, code: str | None
    ) -> FhirVocabulary | None:
        """The entry of a code, given its system's URI."""
        system = self.system_of(system_uri)
        if system is None or not code:
            return None
        return self._terms.get((element, system, code.strip()))

    def in_system(self, element: str, system: str, code: str | None) -> FhirVocabulary | None:
        """The entry of a code of a system given by short name (a bare ``valueCode``)."""
        return self._terms.get((element, system, code.strip())) if code else None

    def word(self, element: str, text: str | None) -> FhirVocabulary | None:
        """The entry of a word or unit as written, or None."""
        if not text:
            return None
        return self._terms.get((element, *term_key(element, "", text)))

    def coding(self, element: str, coding: Coding | None) -> FhirVocabulary | None:
        return None if coding is None else self.coded(element, coding.system, coding.code)

    def concept(self, element: str, concept: CodeableConcept | None) -> Read:
        """A CodeableConcept: its first known coding, else its text, a coding's
        display or a code without a system, as a word."""
        if concept is None:
            return Read(None, "")
        for coding in concept.coding:
            found = self.coded(element, coding.system, coding.code)
            if found is not None:
                return Read(found, coding.display or coding.code or "")
        words = [
            concept.text,
            *(c.display for c in concept.coding),
            *(c.code for c in concept.coding if not c.system),
        ]
        for text in words:
            found = self.word(element, text)
            if found is not None:
                return Read(found, text or "", by_word=True)
        written = next((w for w in words if w), None) or next(
            (
                f"{self.system_of(c.system) or c.system or ''}|{c.code}"
                for c in concept.coding
                if c.code
            ),
            "",
        )
        return Read(None, written)

    def unit(self, quantity: Quantity) -> Read:
        """A Quantity's unit in ``dose-unit`` terms: its coded unit, else its code or
        unit text as a word."""
        found = self.coded("dose-unit", quantity.system, quantity.code)
        if found is not None:
            return Read(found, quantity.unit or quantity.code or "")
        for text in (quantity.code, quantity.unit):
            found = self.word("dose-unit", text)
            if found is not None:
                return Read(found, text or "", by_word=True)
        return Read(None, quantity.unit or quantity.code or "")


def vocabulary(kb: KnowledgeBase) -> Vocabulary:
    """The vocabularies of ``kb``, indexed on first use and kept with it."""
    return kb.derived("fhir.vocabulary", Vocabulary)
