"""Codes and concepts, and matching them against knowledge-base value sets.

>>> from isotrack.knowledge import default_knowledge
>>> kb = default_knowledge()
>>> doxy = Concept((Coding(RXNORM, "1652673", "Doxycycline Monohydrate 50 MG Oral Tablet"),))
>>> match(doxy, kb.valueset("tetracyclines")).matched
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from isotrack.knowledge.model import ValueSet

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
_NON_WORD = re.compile(r"[^0-9a-zà-ÿ]+")


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
        parts = [self.text or ""] + [c.display or "" for c in self.codings]
        return " ".join(parts).casefold()

    def word_text(self) -> str:
        """Lower-case words separated and surrounded by single spaces, for
        matching name fragments at word starts (" sotret" is not in " isotretinoin")."""
        return f" {_normalise(self.words())} "


@dataclass(frozen=True, slots=True)
class Match:
    matched: bool
    by_text: bool = False
    """True when only a text fragment matched (no code): findings say so."""
    coding: Coding | None = None


NO_MATCH = Match(False)


def match(concept: Concept, valueset: ValueSet) -> Match:
    """Does ``concept`` belong to ``valueset``? Codes first, text as a last resort."""
    wanted = valueset.code_keys
    for coding in concept.codings:
        if (system_alias(coding.system), coding.code) in wanted:
            return Match(True, False, coding)
    if valueset.text:
        words = concept.word_text()
        if any(f" {_normalise(fragment)}" in words for fragment in valueset.text):
            return Match(True, True, None)
    return NO_MATCH


def _normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


def system_alias(uri: str) -> str:
    """Short name of a code system URI (``rxnorm``), or the URI itself."""
    return _ALIASES.get(uri, uri)
