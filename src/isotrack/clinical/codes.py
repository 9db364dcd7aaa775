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
:func:`matches_in` goes further: the answers of one knowledge base's value sets
for one concept, worked out once each and kept (bounded), since a record meets
several rules and a population meets the same concepts again and again.

>>> memo = matches_in(kb).of(doxy)
>>> memo.match("tetracyclines") == match(doxy, kb.valueset("tetracyclines"))
True
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from isotrack.knowledge.codelists import ValueSet, word_form
from isotrack.knowledge.rxnorm import ndc_product_key

if TYPE_CHECKING:
    from isotrack.knowledge.base import KnowledgeBase

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
NDC = "http://hl7.org/fhir/sid/ndc"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

SYSTEMS = {
    "rxnorm": RXNORM,
    "snomed": SNOMED,
    "loinc": LOINC,
    "icd10cm": ICD10CM,
    "atc": ATC,
    "ucum": UCUM,
    "cpt": CPT,
    "hcpcs": HCPCS,
    "icd10pcs": ICD10PCS,
    "ndc": NDC,
    "v3-interpretation": V3_INTERPRETATION,
}
_OTHER_URIS = {
    "urn:oid:2.16.840.1.113883.6.12": "cpt",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "hcpcs",
    "urn:oid:2.16.840.1.113883.6.285": "hcpcs",
    "urn:oid:2.16.840.1.113883.6.4": "icd10pcs",
    "urn:oid:2.16.840.1.113883.6.69": "ndc",
}
"""Other names EHRs give the same code systems (OIDs, the HCPCS URI before HL7
settled on https)."""
_ALIASES = {uri: alias for alias, uri in SYSTEMS.items()} | _OTHER_URIS
_CACHED_CONCEPTS = 1 << 16
"""Concepts whose words are kept: a population screen meets the same few thousand
drug, condition and procedure concepts again and again."""
_REMEMBERED_CONCEPTS = 1 << 14
"""Concepts whose value-set answers :func:`matches_in` keeps (then it starts afresh)."""
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Coding:
    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Concept:
    """A coded concept: codings plus free text (FHIR CodeableConcept).

    Its hash is worked out once (concepts key the caches of every matcher); it is
    not pickled, since string hashes differ from one process to the next.
    """

    codings: tuple[Coding, ...] = ()
    text: str | None = None
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        known = self._hash
        if known is None:
            known = hash((self.codings, self.text))
            object.__setattr__(self, "_hash", known)
        return known

    def __getstate__(self) -> tuple[tuple[Coding, ...], str | None]:
        return self.codings, self.text

    def __setstate__(self, state: tuple[tuple[Coding, ...], str | None]) -> None:
        object.__setattr__(self, "codings", state[0])
        object.__setattr__(self, "text", state[1])
        object.__setattr__(self, "_hash", None)

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
        alias = _ALIASES.get(coding.system, coding.system)
        code = coding.code
        if alias == "ndc":  # any NDC form matches its labeler-product key
            code = ndc_product_key(code) or code
        if (alias, code) in wanted:
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


class ConceptMatches:
    """What one concept matches among one knowledge base's value sets: each answer
    worked out on first use (:func:`match`) and kept. :meth:`remember` keeps other
    answers that depend only on the concept and the knowledge base."""

    __slots__ = ("_answers", "_valueset", "concept")

    def __init__(self, concept: Concept, valueset: Callable[[str], ValueSet]) -> None:
        self.concept = concept
        self._valueset = valueset
        self._answers: dict[Hashable, object] = {}

    def match(self, valueset_id: str) -> Match:
        """``match(concept, kb.valueset(valueset_id))``, worked out once."""
        found = self._answers.get(valueset_id)
        if found is None:
            found = self._answers[valueset_id] = match(self.concept, self._valueset(valueset_id))
        return found  # type: ignore[return-value]  # a value-set id always keys a Match

    def remember(self, key: tuple[Hashable, ...], build: Callable[[Concept], T]) -> T:
        """``build(concept)``, worked out once and kept under ``key`` (a tuple, so it
        never collides with a value-set id): ``build`` must depend only on the concept
        and the knowledge base."""
        found = self._answers.get(key, _ABSENT)
        if found is _ABSENT:
            found = self._answers[key] = build(self.concept)
        return found  # type: ignore[return-value]  # ``key`` always keys what ``build`` makes


_ABSENT = object()


class ConceptMemory:
    """:class:`ConceptMatches` by concept for one knowledge base (bounded)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._valueset = kb.valueset
        self._concepts: dict[Concept, ConceptMatches] = {}

    def of(self, concept: Concept) -> ConceptMatches:
        found = self._concepts.get(concept)
        if found is None:
            if len(self._concepts) >= _REMEMBERED_CONCEPTS:
                self._concepts.clear()
            found = self._concepts[concept] = ConceptMatches(concept, self._valueset)
        return found

    def match(self, concept: Concept, valueset_id: str) -> Match:
        return self.of(concept).match(valueset_id)


def matches_in(kb: KnowledgeBase) -> ConceptMemory:
    """The concept memory of ``kb`` (one per knowledge base, made on first use)."""
    return kb.derived("codes.concept-memory", ConceptMemory)
