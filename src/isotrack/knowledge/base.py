"""The knowledge base: every clinical fact isotrack uses, loaded from data files.

>>> from isotrack.knowledge import load_knowledge
>>> kb = load_knowledge()
>>> kb.product("absorica").strengths_mg
(10.0, 20.0, 25.0, 30.0, 35.0, 40.0)
>>> kb.number("tg.warning_mg_dl")
500
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from isotrack.errors import NotFoundError
from isotrack.knowledge.codelists import FhirVocabulary, RxNormProduct, ValueSet
from isotrack.knowledge.model import (
    CdsRequiredData,
    Claim,
    ContraceptionMethod,
    ContraceptionProduct,
    Contraindication,
    CrisisLine,
    Indication,
    Interaction,
    MonitoringItem,
    MonographSection,
    OverrideReason,
    Parameter,
    PkParameter,
    Product,
    Programme,
    ProgrammeRule,
    Question,
    Rule,
    Source,
    Symptom,
    UnitConversion,
)

E = TypeVar("E", bound=msgspec.Struct)
T = TypeVar("T")


@dataclass(frozen=True)
class KnowledgeBase:
    """All entries by kind and id. Immutable; build with :func:`load_knowledge`."""

    entries: Mapping[str, Mapping[str, msgspec.Struct]]
    policy_file: str | None = None
    overridden: frozenset[str] = field(default_factory=frozenset)
    _derived: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def derived(self, key: str, build: Callable[[KnowledgeBase], T]) -> T:
        """``build(self)``, computed once per knowledge base and kept under ``key``:
        indexes that every screening reads (e.g. the contraceptive value sets by
        method). The entries never change after loading, so neither does the result."""
        try:
            return self._derived[key]  # type: ignore[no-any-return]  # stored by build
        except KeyError:
            value = self._derived[key] = build(self)
            return value

    def _get(self, kind: str, entry_id: str, cls: type[E]) -> E:
        try:
            entry = self.entries[kind][entry_id]
        except KeyError:
            known = sorted(self.entries.get(kind, {}))
            hint = f"; known: {', '.join(known)}" if len(known) <= 20 else ""
            raise NotFoundError(
                f"no {kind} with id {entry_id!r} in the knowledge base{hint}"
            ) from None
        assert isinstance(entry, cls)
        return entry

    def _all(self, kind: str, cls: type[E]) -> tuple[E, ...]:
        try:
            return self._derived[f"all:{kind}"]  # type: ignore[no-any-return]  # stored below
        except KeyError:
            items = tuple(self.entries.get(kind, {}).values())
            assert all(isinstance(i, cls) for i in items)
            self._derived[f"all:{kind}"] = items
            return items  # type: ignore[return-value]  # checked just above

    # Typed accessors, one per kind.
    def source(self, source_id: str) -> Source:
        return self._get("source", source_id, Source)

    def parameter(self, parameter_id: str) -> Parameter:
        return self._get("parameter", parameter_id, Parameter)

    def number(self, parameter_id: str) -> float:
        """The numeric value of a parameter (policy overrides applied)."""
        value = self.parameter(parameter_id).value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise NotFoundError(f"parameter {parameter_id!r} is not a number")
        return value

    def text(self, parameter_id: str) -> str:
        value = self.parameter(parameter_id).value
        if not isinstance(value, str):
            raise NotFoundError(f"parameter {parameter_id!r} is not text")
        return value

    def pk_parameter(self, parameter_id: str) -> PkParameter:
        return self._get("pk_parameter", parameter_id, PkParameter)

    @property
    def pk_parameters(self) -> tuple[PkParameter, ...]:
        """The numbers of the PK model (``pk.toml``), in file order."""
        return self._all("pk_parameter", PkParameter)

    def product(self, product_id: str) -> Product:
        return self._get("product", product_id, Product)

    def rule(self, rule_id: str) -> Rule:
        return self._get("rule", rule_id, Rule)

    def valueset(self, valueset_id: str) -> ValueSet:
        return self._get("valueset", valueset_id, ValueSet)

    def contraception_method(self, method_id: str) -> ContraceptionMethod:
        return self._get("contraception", method_id, ContraceptionMethod)

    def contraception_product(self, product_id: str) -> ContraceptionProduct:
        return self._get("contraception_product", product_id, ContraceptionProduct)

    def programme(self, programme_id: str) -> Programme:
        return self._get("programme", programme_id, Programme)

    def programme_rule(self, programme_id: str, name: str) -> ProgrammeRule:
        """The requirement ``name`` of a programme rule set."""
        return self._get("programme_rule", f"{programme_id}.{name}", ProgrammeRule)

    def programme_rules(self, programme_id: str) -> tuple[ProgrammeRule, ...]:
        return tuple(
            r for r in self._all("programme_rule", ProgrammeRule) if r.programme == programme_id
        )

    def questions(self, programme_id: str) -> tuple[Question, ...]:
        return tuple(q for q in self._all("question", Question) if q.programme == programme_id)

    def rxnorm_product(self, code: str) -> RxNormProduct | None:
        """The RxNorm product (SCD, SBD, pack) with RXCUI ``code`` and its
        ingredients, or None when the local table does not list it."""
        product = self.entries.get("rxnorm_product", {}).get(code)
        assert product is None or isinstance(product, RxNormProduct)
        return product

    @property
    def rxnorm_products(self) -> tuple[RxNormProduct, ...]:
        return self._all("rxnorm_product", RxNormProduct)

    def crisis_line(self, country_code: str) -> CrisisLine:
        """The national crisis line of a country (ISO 3166-1 alpha-2 code, 'US')."""
        return self._get("crisis_line", country_code.upper(), CrisisLine)

    @property
    def crisis_lines(self) -> tuple[CrisisLine, ...]:
        return self._all("crisis_line", CrisisLine)

    def symptom(self, symptom_id: str) -> Symptom:
        return self._get("symptom", symptom_id, Symptom)

    @property
    def sources(self) -> tuple[Source, ...]:
        return self._all("source", Source)

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        return self._all("parameter", Parameter)

    @property
    def products(self) -> tuple[Product, ...]:
        return self._all("product", Product)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._all("rule", Rule)

    @property
    def valuesets(self) -> tuple[ValueSet, ...]:
        return self._all("valueset", ValueSet)

    @property
    def claims(self) -> tuple[Claim, ...]:
        return self._all("claim", Claim)

    @property
    def indications(self) -> tuple[Indication, ...]:
        return self._all("indication", Indication)

    @property
    def monograph(self) -> tuple[MonographSection, ...]:
        return tuple(sorted(self._all("monograph", MonographSection), key=lambda s: s.order))

    @property
    def contraception_methods(self) -> tuple[ContraceptionMethod, ...]:
        return self._all("contraception", ContraceptionMethod)

    @property
    def contraception_products(self) -> tuple[ContraceptionProduct, ...]:
        return self._all("contraception_product", ContraceptionProduct)

    @property
    def symptoms(self) -> tuple[Symptom, ...]:
        return self._all("symptom", Symptom)

    @property
    def interactions(self) -> tuple[Interaction, ...]:
        return self._all("interaction", Interaction)

    @property
    def contraindications(self) -> tuple[Contraindication, ...]:
        return self._all("contraindication", Contraindication)

    @property
    def monitoring(self) -> tuple[MonitoringItem, ...]:
        return self._all("monitoring", MonitoringItem)

    @property
    def unit_conversions(self) -> tuple[UnitConversion, ...]:
        return self._all("unit", UnitConversion)

    @property
    def programmes(self) -> tuple[Programme, ...]:
        return self._all("programme", Programme)

    @property
    def fhir_vocabularies(self) -> tuple[FhirVocabulary, ...]:
        """How the FHIR reader reads routes, timings, units and sex elements."""
        return self._all("fhir_vocabulary", FhirVocabulary)

    @property
    def override_reasons(self) -> tuple[OverrideReason, ...]:
        """Reasons offered on CDS cards for overriding a finding, in file order."""
        return self._all("override_reason", OverrideReason)

    def cds_required_data(self, hook: str) -> CdsRequiredData:
        """The prefetch keys the service of ``hook`` cannot answer without."""
        return self._get("cds_required_data", hook, CdsRequiredData)
