"""Codes and concepts, and matching them against knowledge-base value sets.

A value set matches a concept by code first: its own codes, then the RxNorm
product codes (SCD, SBD, packs) whose ingredients it lists, from the knowledge
base's product table (``rxnorm-products.toml``). Text fragments are the last
resort, and a match by text says so (``Match.by_text``).

>>> from isotrack.knowledge import default_knowledge
>>> kb = default_knowledge()
>>> doxy = Concept((Coding(RXNORM, "1652673", "Doxycycline Monohydrate 50 MG Oral Tablet"),))
>>> match(doxy, kb.valueset("tetracyclines")).matched
True
>>> doxy100 = Concept((Coding(RXNORM, "1649988"),))  # an SCD of ingredient 3640 doxycycline
>>> found = match(doxy100, kb.valueset("tetracyclines"))
>>> found.matched, found.by_text
(True, False)

Matching runs for every record of every patient, so the work that does not
depend on the record is done once: a value set's code index and normalised
fragments are cached on it, and a concept's words are cached (bounded) by concept.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from isotrack.knowledge.model import ValueSet, word_form

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"

SYSTEMS = {
    "rxnorm": RXNORM,
    "snomed": SNOMED,
    "loinc": LOINC,
    "icd10cm": ICD10CM,
    "atc": ATC,
    "ucum": UCUM,
}
_ALIASES = {uri: alias for alias, uri in SYSTEMS.items()}
_CACHED_CONCEPTS = 1 << 16
"""Concepts whose words are kept: a population screen meets the same few thousand
drug, condition and procedure concepts again and again."""


@dataclass(frozen=True, slots=True)
class Coding:
    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Concept:
    """A coded concept: codings plus free text (FHIR CodeableConcept)."""

    codings: tuple[Coding, ...] = ()
    text: str | None = None

    @property
    def label(self) -> str:
        """The best human-readable name of the concept."""
        if self.text:
            return self.text
        for coding in self.codings:
            if coding.display:
                return coding.display
        if self.codings:
            return f"{self.codings[0].system}|{self.codings[0].code}"
        return "(uncoded)"

    def words(self) -> str:
        """The text and the codings' displays, case-folded, joined by spaces."""
        return _words(self)

    def word_text(self) -> str:
        """Lower-case words separated and surrounded by single spaces, for
        matching name fragments at word starts (" sotret" is not in " isotretinoin")."""
        return _word_text(self)


@dataclass(frozen=True, slots=True)
class Match:
    matched: bool
    by_text: bool = False
    """True when only a text fragment matched (no code): findings say so."""
    coding: Coding | None = None


NO_MATCH = Match(False)


def match(concept: Concept, valueset: ValueSet) -> Match:
    """Does ``concept`` belong to ``valueset``? Codes first (the value set's own, then
    the product codes under its RxNorm ingredients), text as a last resort."""
    wanted = valueset.code_keys
    for coding in concept.codings:
        if (_ALIASES.get(coding.system, coding.system), coding.code) in wanted:
            return Match(True, False, coding)
    fragments = valueset.word_fragments
    if fragments:
        words = _word_text(concept)
        for fragment in fragments:
            if fragment in words:
                return TEXT_MATCH
    return NO_MATCH


TEXT_MATCH = Match(True, True, None)


@lru_cache(maxsize=_CACHED_CONCEPTS)
def _words(concept: Concept) -> str:
    parts = [concept.text or ""] + [c.display or "" for c in concept.codings]
    return " ".join(parts).casefold()


@lru_cache(maxsize=_CACHED_CONCEPTS)
def _word_text(concept: Concept) -> str:
    return f" {word_form(_words(concept))} "


def system_alias(uri: str) -> str:
    """Short name of a code system URI (``rxnorm``), or the URI itself."""
    return _ALIASES.get(uri, uri)
