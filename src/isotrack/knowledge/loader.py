"""Loading the knowledge base: the packaged TOML data files are decoded into
entries, each checked (an id, sources that resolve, references to entries that
exist, PK numbers that say how they were derived), then a clinic policy file
may override basis-P parameters. Loading fails with a
:class:`~isotrack.errors.KnowledgeError` naming the file, entry and field."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from isotrack.errors import KnowledgeError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.codelists import FhirVocabulary, NdcProduct, RxNormProduct, ValueSet
from isotrack.knowledge.model import (
    CdsRequiredData,
    Claim,
    ContraceptionMethod,
    ContraceptionProduct,
    Contraindication,
    CrisisLine,
    Entry,
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
    "crisis_line": CrisisLine,
}


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
