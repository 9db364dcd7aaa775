"""Typed entries of the knowledge base.

Every entry kind is a frozen msgspec Struct decoded from a TOML array of
tables whose name is the kind (``[[product]]``, ``[[rule]]`` ...). Every entry
has an ``id`` and (except sources themselves) a non-empty ``sources`` list of
source ids; the loader checks that they resolve.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal

import msgspec

Basis = Literal["L", "G", "P", "D"]
"""L label or regulatory programme, G guideline/consensus, P local policy
(configurable default), D derived here from a cited figure."""

SeverityName = Literal["critical", "warning", "info"]
RuleTable = Literal["order", "course", "triage"]
_NON_WORD = re.compile(r"[^0-9a-zà-ÿ]+")


def word_form(text: str) -> str:
    """Lower-case words separated by single spaces: how concepts and value-set
    text fragments are compared (``"Depo-Provera 150"`` → ``"depo provera 150"``).

    >>> word_form("  Depo-Provera® 150 MG/ML ")
    'depo provera 150 mg ml'
    """
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


class Entry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    sources: tuple[str, ...] = ()


class Source(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A bibliography item. ``grade`` P primary, S secondary, policy, definition."""

    id: str
    title: str
    grade: Literal["P", "S", "policy", "definition"]
    citation: str
    url: str = ""
    note: str = ""


class Parameter(Entry, frozen=True, kw_only=True):
    """A number or setting the rules use. Basis P entries may be overridden by
    a clinic policy file."""

    value: float | int | str | bool
    unit: str
    basis: Basis
    description: str
    derivation: str = ""

    @property
    def overridable(self) -> bool:
        return self.basis == "P"


class PkParameter(Entry, frozen=True, kw_only=True):
    """A number of the pharmacokinetic model (``clinical/pk``): a value printed in a
    source (``kind = "label"``) or computed from such values, with the computation
    written out in ``derivation`` (``kind = "derived"``; the loader refuses one
    without it). Apparent values are relative to the bioavailability of
    conventional capsules taken with food, which no source states absolutely."""

    value: float
    unit: str
    kind: Literal["label", "derived"]
    description: str
    derivation: str = ""


class Product(Entry, frozen=True, kw_only=True):
    """A marketed isotretinoin product, or a route claimed without any product
    (``available = false``)."""

    name: str
    route: str
    form: str
    available: bool = True
    substitution_group: str = ""
    strengths_mg: tuple[float, ...] = ()
    usual_min_mg_per_kg_day: float | None = None
    usual_max_mg_per_kg_day: float | None = None
    absolute_max_mg_per_kg_day: float | None = None
    divided_doses: int | None = None
    food: str = ""
    course_weeks: tuple[int, ...] = ()
    excipient_allergens: tuple[str, ...] = ()
    strength_allergens: dict[str, tuple[str, ...]] = {}
    valueset: str = ""
    notes: str = ""
    claim: str = ""


class Rule(Entry, frozen=True, kw_only=True):
    """A finding id of the rule catalogue (shared/clinical/rules.md)."""

    title: str
    table: RuleTable
    severities: tuple[SeverityName, ...]
    basis: str
    section: str
    fires_when: str
    action: str
    triage_action: str = ""


class Code(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    system: Literal[
        "rxnorm",
        "snomed",
        "loinc",
        "icd10cm",
        "atc",
        "ucum",
        "cpt",
        "hcpcs",
        "icd10pcs",
        "ndc",
        "v3-interpretation",
    ]
    code: str
    display: str = ""


class ValueSet(Entry, frozen=True, kw_only=True, dict=True):
    """Codes (and, as a last resort, text fragments) that mean one concept.

    ``products`` is filled by the loader, never written in a value-set file: the
    RxNorm product codes (SCD, SBD, packs) of ``rxnorm-products.toml`` whose
    ingredients include one of the value set's RxNorm codes. ``ndc_products`` is
    filled by the loader too: the NDC product codes (labeler-product, 5-4 digits) of
    ``ndc-products.toml`` whose RxNorm product is in the value set.
    """

    description: str
    codes: tuple[Code, ...] = ()
    text: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    ndc_products: tuple[str, ...] = ()

    @cached_property
    def code_keys(self) -> frozenset[tuple[str, str]]:
        """(system alias, code) pairs, with the product codes under the value set's
        RxNorm ingredients and their NDC products, built once: matching runs for
        every record."""
        listed = {(c.system, c.code) for c in self.codes}
        listed |= {("ndc", code) for code in self.ndc_products}
        return frozenset(listed | {("rxnorm", code) for code in self.products})

    @cached_property
    def word_fragments(self) -> tuple[str, ...]:
        """The text fragments in :func:`word_form`, each after one space (a fragment
        starts at a word start), built once."""
        return tuple(f" {word_form(fragment)}" for fragment in self.text)

    @cached_property
    def folded_text(self) -> tuple[str, ...]:
        """The text fragments case-folded, spaces kept (word edges), built once."""
        return tuple(fragment.casefold() for fragment in self.text)


VocabularyElement = Literal[
    "code-system",
    "route",
    "timing",
    "time-unit",
    "dose-unit",
    "patient-extension",
    "sex-observation",
    "sex",
    "gender-identity",
]
"""The FHIR element a vocabulary entry is read in (see :class:`FhirVocabulary`)."""


class FhirTerm(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One way EHRs write a concept: a code of a code system (``system`` is the
    system's short name, defined by a ``code-system`` entry that lists the URIs
    FHIR resources carry for it), or, with no system, a word or unit as written
    (compared in :func:`word_form`) or an extension URL (compared without case)."""

    system: str = ""
    code: str
    display: str = ""


class FhirVocabulary(Entry, frozen=True, kw_only=True):
    """A concept the FHIR reader recognises in one kind of element, with every term
    EHRs are known to write it with, and what the reader takes it to mean.

    ``meaning`` and ``number`` by ``element``:

    - ``code-system``: a short name (``snomed``, ``gts``) and, as terms, every
      URI resources carry for that code system;
    - ``route``: the route word the rules compare with the products' routes
      (``oral``, ``topical``, ``rectal``, ``intravenous`` ...);
    - ``timing``: a ``Timing.code``; ``number`` doses a day (``number_max`` the
      most when the code gives a range); no number: not a whole number a day;
    - ``time-unit``: the UCUM unit; ``number`` its length in seconds (none for
      months and years, which are not a whole number of days);
    - ``dose-unit``: one unit of presentation (a capsule, tablet, pill, "each");
    - ``patient-extension``: which sex or gender element a Patient extension URL
      carries; ``code_system`` is the system of a bare ``valueCode`` in it;
    - ``sex-observation``: which element an Observation code records;
    - ``sex``: ``female`` or ``male``: the reproductive organs a sex value points to;
    - ``gender-identity``: the sex assigned at birth a gender-identity code implies.
    """

    element: VocabularyElement
    meaning: str
    description: str
    terms: tuple[FhirTerm, ...]
    number: float | None = None
    number_max: float | None = None
    code_system: str = ""


class Ingredient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An RxNorm ingredient (TTY IN) of a product."""

    code: str
    name: str


class RxNormProduct(Entry, frozen=True, kw_only=True):
    """An RxNorm product (``id`` is its RXCUI: SCD, SBD, GPCK or BPCK) and its
    ingredients. ``seen`` says where the code was found: ``sample data`` (the
    display there names the ingredients), a public value set, or openFDA."""

    display: str
    tty: Literal["SCD", "SBD", "GPCK", "BPCK"]
    ingredients: tuple[Ingredient, ...]
    seen: str


class NdcProduct(Entry, frozen=True, kw_only=True):
    """An NDC product (``id``: labeler-product code as openFDA writes it, e.g.
    ``78206-145``) and the RxNorm product it is, so that a record coded only with
    an NDC matches the value sets of that RxNorm product."""

    display: str
    rxcui: str


class Claim(Entry, frozen=True, kw_only=True):
    """A claim of the seed articles with its verdict (shared/clinical/seed-claims.md)."""

    claim: str
    rating: str
    reason: str
    topic: str


class Indication(Entry, frozen=True, kw_only=True):
    name: str
    status: Literal["approved", "guideline", "off-label", "not-recommended"]
    authority: str
    evidence: Literal["label", "strong", "moderate", "low", "conflicting", "none"]
    summary: str


class MonographSection(Entry, frozen=True, kw_only=True):
    title: str
    order: int
    text: str


class ContraceptionMethod(Entry, frozen=True, kw_only=True):
    """A contraceptive method and how each programme counts it."""

    name: str
    us_class: Literal["primary", "secondary", "not-acceptable"]
    eu_class: Literal["highly-effective-user-independent", "user-dependent", "not-acceptable"]
    hormonal: bool
    valuesets: tuple[str, ...] = ()
    notes: str = ""
    protection: Protection | None = None
    """How long one administration or insertion protects when the product is not
    known (the shortest labelled duration of the method's products); ``None`` for
    methods that are not given once for a period (pills, barriers, sterilisation)."""


class Protection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A labelled duration of protection: ``value`` years (``a``) or weeks (``wk``)."""

    value: int
    unit: Literal["a", "wk"]


class ContraceptionProduct(Entry, frozen=True, kw_only=True):
    """A long-acting contraceptive product of a method (e.g. Mirena of
    ``iud-levonorgestrel``), the value set that identifies it, and how long one
    insertion or injection protects according to its label."""

    name: str
    method: str
    valueset: str
    protection: Protection


class Symptom(Entry, frozen=True, kw_only=True):
    """A patient-reported symptom and the triage rule it maps to."""

    text: str
    rule: str
    advice: str


class Interaction(Entry, frozen=True, kw_only=True):
    agent: str
    valueset: str
    effect: str
    management: str
    rule: str = ""


class Contraindication(Entry, frozen=True, kw_only=True):
    text: str
    regions: tuple[str, ...]
    kind: Literal["contraindication", "warning"]
    rule: str = ""


class MonitoringItem(Entry, frozen=True, kw_only=True):
    test: str
    when: str
    interval_parameter: str = ""


class UnitConversion(Entry, frozen=True, kw_only=True):
    """``value_in_to_unit = value_in_from_unit * factor`` for one analyte."""

    analyte: str
    from_unit: str
    to_unit: str
    factor: float


class Programme(Entry, frozen=True, kw_only=True):
    """A pregnancy prevention programme (rule set) and its parameters."""

    name: str
    region: str
    version: str
    summary: str
    contraception_rule: Literal["us-two-methods", "eu-one-effective-or-two"]


class ProgrammeRule(Entry, frozen=True, kw_only=True):
    """One requirement of a pregnancy prevention programme rule set, with its
    value and sources (e.g. the 7-day prescription window of iPLEDGE 2024).

    ``id`` is ``<programme>.<name>``; code reads it with
    :meth:`~isotrack.knowledge.base.KnowledgeBase.programme_rule`.
    """

    programme: str
    name: str
    value: float | int | str | bool
    unit: str = ""
    applies_to: Literal["can-get-pregnant", "cannot-get-pregnant", "all"] = "all"
    description: str


class Question(Entry, frozen=True, kw_only=True):
    """A comprehension question of a programme's bank (isotrack's own wording,
    from the facts), asked monthly to patients who can get pregnant."""

    programme: str
    text: str
    options: tuple[str, ...]
    correct: int
    """Index into ``options``."""
    explanation: str


class OverrideReason(Entry, frozen=True, kw_only=True):
    """A reason a clinician may give for overriding a CDS card (CDS Hooks
    ``overrideReasons``): ``id`` is the code in ``urn:isotrack:override-reason``."""

    display: str


class CdsRequiredData(Entry, frozen=True, kw_only=True):
    """The prefetch keys a CDS Hooks service cannot answer without: when one can be
    had neither from the prefetch nor from ``fhirServer``, the service answers 412
    Precondition Failed (CDS Hooks 2.0.1). ``id`` is the hook."""

    to_decide: tuple[str, ...] = ()
    """Keys needed to tell whether the service has anything to say at all."""
    to_screen: tuple[str, ...] = ()
    """Keys needed once it has (e.g. the draft orders hold isotretinoin)."""
    reason: str
    usage: str
    """The discovery ``usageRequirements`` of the hook's service."""
