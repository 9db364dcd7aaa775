"""The knowledge base: every clinical fact isotrack uses, loaded from data files.

>>> from isotrack.knowledge import load_knowledge
>>> kb = load_knowledge()
>>> kb.product("absorica").strengths_mg
(10.0, 20.0, 25.0, 30.0, 35.0, 40.0)
>>> kb.number("tg.warning_mg_dl")
500
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from isotrack.errors import KnowledgeError, NotFoundError
from isotrack.knowledge.model import (
    CdsRequiredData,
    Claim,
    ContraceptionMethod,
    ContraceptionProduct,
    Contraindication,
    Entry,
    FhirVocabulary,
    Indication,
    Interaction,
    MonitoringItem,
    MonographSection,
    NdcProduct,
    OverrideReason,
    Parameter,
    PkParameter,
    Product,
    Programme,
    ProgrammeRule,
    Question,
    Rule,
    RxNormProduct,
    Source,
    Symptom,
    UnitConversion,
    ValueSet,
)
from isotrack.knowledge.rxnorm import check_ndc_product, check_product, expand_products
from isotrack.knowledge.vocabulary import check_vocabularies

KINDS: dict[str, type[msgspec.Struct]] = {
    "source": Source,
    "parameter": Parameter,
    "product": Product,
    "rule": Rule,
    "valueset": ValueSet,
    "claim": Claim,
    "indication": Indication,
    "monograph": MonographSection,
    "contraception": ContraceptionMethod,
    "symptom": Symptom,
    "interaction": Interaction,
    "contraindication": Contraindication,
    "monitoring": MonitoringItem,
    "unit": UnitConversion,
    "programme": Programme,
    "programme_rule": ProgrammeRule,
    "question": Question,
    "override_reason": OverrideReason,
    "cds_required_data": CdsRequiredData,
    "rxnorm_product": RxNormProduct,
    "ndc_product": NdcProduct,
    "contraception_product": ContraceptionProduct,
    "pk_parameter": PkParameter,
    "fhir_vocabulary": FhirVocabulary,
}

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


def _data_files() -> list[tuple[str, bytes]]:
    folder = resources.files("isotrack.knowledge") / "data"
    files = [f for f in folder.iterdir() if f.name.endswith(".toml")]
    return sorted((f"knowledge/data/{f.name}", f.read_bytes()) for f in files)


def parse_documents(documents: Iterable[tuple[str, bytes]]) -> dict[str, dict[str, msgspec.Struct]]:
    """Decode and check TOML documents (name, bytes) into entries by kind and id."""
    entries: dict[str, dict[str, msgspec.Struct]] = {kind: {} for kind in KINDS}
    where: dict[tuple[str, str], str] = {}
    for name, raw in documents:
        try:
            doc = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise KnowledgeError(f"not valid TOML: {exc}", file=name) from None
        for kind, items in doc.items():
            if kind not in KINDS:
                raise KnowledgeError(
                    f"unknown table [[{kind}]]; known: {', '.join(sorted(KINDS))}", file=name
                )
            if not isinstance(items, list):
                raise KnowledgeError(f"[[{kind}]] must be an array of tables", file=name)
            for index, item in enumerate(items):
                entry = _decode_entry(name, kind, index, item)
                entry_id = getattr(entry, "id")  # noqa: B009  # every kind has an id
                if (kind, entry_id) in where:
                    raise KnowledgeError(
                        f"duplicate id, first defined in {where[(kind, entry_id)]}",
                        file=name,
                        entry=entry_id,
                        field="id",
                    )
                where[(kind, entry_id)] = name
                entries[kind][entry_id] = entry
    _check_references(entries, where)
    check_vocabularies(entries, where)
    expand_products(entries)
    return entries


def _decode_entry(name: str, kind: str, index: int, item: Any) -> msgspec.Struct:
    label = item.get("id", f"#{index + 1}") if isinstance(item, dict) else f"#{index + 1}"
    if isinstance(item, dict) and not item.get("id"):
        raise KnowledgeError("every entry needs an id", file=name, entry=label, field="id")
    try:
        entry = msgspec.convert(item, KINDS[kind], strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field_name = text.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in text else None
        raise KnowledgeError(text, file=name, entry=label, field=field_name) from None
    if isinstance(entry, Entry) and not entry.sources:
        raise KnowledgeError(
            "every entry needs at least one source", file=name, entry=label, field="sources"
        )
    if isinstance(entry, ValueSet) and (entry.products or entry.ndc_products):
        raise KnowledgeError(
            "products are filled in from rxnorm-products.toml: list the ingredient "
            "code in codes instead",
            file=name,
            entry=label,
            field="products",
        )
    if isinstance(entry, RxNormProduct):
        check_product(name, entry)
    if isinstance(entry, NdcProduct):
        check_ndc_product(name, entry)
    if isinstance(entry, PkParameter):
        check_pk_parameter(name, entry)
    return entry


def check_pk_parameter(name: str, entry: PkParameter) -> None:
    """A PK number is finite, and a derived one says how it was derived."""
    if not math.isfinite(entry.value):
        raise KnowledgeError("must be a finite number", file=name, entry=entry.id, field="value")
    if entry.kind == "derived" and not entry.derivation.strip():
        raise KnowledgeError(
            'kind "derived" needs its derivation written out (which label numbers, '
            'which formula), or mark a value printed in the source kind = "label"',
            file=name,
            entry=entry.id,
            field="derivation",
        )


def _check_references(
    entries: dict[str, dict[str, msgspec.Struct]], where: dict[tuple[str, str], str]
) -> None:
    sources = entries["source"]
    for kind, items in entries.items():
        for entry_id, entry in items.items():
            file = where[(kind, entry_id)]
            if isinstance(entry, Entry):
                for source_id in entry.sources:
                    if source_id not in sources:
                        raise KnowledgeError(
                            f"source {source_id!r} is not in the bibliography",
                            file=file,
                            entry=entry_id,
                            field="sources",
                        )
            for ref_field, ref_kind in _REFERENCES.get(kind, ()):
                value = getattr(entry, ref_field)
                for ref in (value,) if isinstance(value, str) else value:
                    if ref and ref not in entries[ref_kind]:
                        raise KnowledgeError(
                            f"refers to {ref_kind} {ref!r}, which does not exist",
                            file=file,
                            entry=entry_id,
                            field=ref_field,
                        )


_REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "product": (("valueset", "valueset"), ("claim", "claim")),
    "contraception": (("valuesets", "valueset"),),
    "contraception_product": (("method", "contraception"), ("valueset", "valueset")),
    "symptom": (("rule", "rule"),),
    "interaction": (("valueset", "valueset"), ("rule", "rule")),
    "contraindication": (("rule", "rule"),),
    "monitoring": (("interval_parameter", "parameter"),),
    "programme_rule": (("programme", "programme"),),
    "question": (("programme", "programme"),),
}


def apply_policy(
    entries: dict[str, dict[str, msgspec.Struct]], name: str, raw: bytes
) -> frozenset[str]:
    """Override basis-P parameters from a clinic policy file:

    ``[parameters]`` then ``"tg.warning_mg_dl" = 450``. Anything else is refused.
    """
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"not valid TOML: {exc}", file=name) from None
    unknown = set(doc) - {"parameters"}
    if unknown:
        raise KnowledgeError(
            f"a policy file may only have a [parameters] table, not {sorted(unknown)}", file=name
        )
    overrides = doc.get("parameters", {})
    params = entries["parameter"]
    for key, value in overrides.items():
        current = params.get(key)
        if current is None:
            raise KnowledgeError("no such parameter", file=name, entry=key)
        assert isinstance(current, Parameter)
        if not current.overridable:
            raise KnowledgeError(
                f"basis {current.basis} (not clinic policy): only basis-P parameters "
                "can be overridden",
                file=name,
                entry=key,
                field="value",
            )
        if type(value) is not type(current.value) and not (
            isinstance(value, int | float)
            and isinstance(current.value, int | float)
            and not isinstance(value, bool)
        ):
            raise KnowledgeError(
                f"must be a {type(current.value).__name__} like the default {current.value!r}",
                file=name,
                entry=key,
                field="value",
            )
        params[key] = msgspec.structs.replace(current, value=value)
    return frozenset(overrides)


def load_knowledge(policy: Path | None = None) -> KnowledgeBase:
    """Load the packaged knowledge base, with an optional clinic policy file."""
    entries = parse_documents(_data_files())
    overridden: frozenset[str] = frozenset()
    if policy is not None:
        try:
            raw = policy.read_bytes()
        except OSError as exc:
            raise KnowledgeError(f"cannot read: {exc.strerror}", file=str(policy)) from None
        overridden = apply_policy(entries, str(policy), raw)
    return KnowledgeBase(
        entries=entries,
        policy_file=str(policy) if policy else None,
        overridden=overridden,
    )
