"""Typed entries of the knowledge base.

Every entry kind is a frozen msgspec Struct decoded from a TOML array of
tables whose name is the kind (``[[product]]``, ``[[rule]]`` ...). Every entry
has an ``id`` and (except sources themselves) a non-empty ``sources`` list of
source ids; the loader checks that they resolve.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Basis = Literal["L", "G", "P", "D"]
"""L label or regulatory programme, G guideline/consensus, P local policy
(configurable default), D derived here from a cited figure."""

SeverityName = Literal["critical", "warning", "info"]
RuleTable = Literal["order", "course", "triage"]


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
    during_course: bool = False
    """An order rule that reads only the patient's record (never the order): it also
    runs in the "during the course" assessment, so a result a prescription would be
    refused for shows on every page of the course, not only when prescribing."""


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


class CrisisLine(Entry, frozen=True, kw_only=True):
    """A country's national suicide and crisis line: what a patient told to call a
    crisis line is given (``id`` is the ISO 3166-1 alpha-2 country code)."""

    country: str
    """The country's name in English."""
    name: str
    phone: str
    """The number as dialled in that country."""
    text: str = ""
    """Also reachable by text message, and how."""
    hours: str
    url: str = ""


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
    applies_to: Literal["everyone", "can-get-pregnant"] = "everyone"
    """Who may report it: a late period is offered only to a patient who can get pregnant."""


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
