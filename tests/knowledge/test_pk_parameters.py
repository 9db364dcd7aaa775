"""The PK numbers of pk.toml: the loader refuses a derived one without its
derivation, and each derivation, recomputed from the label entries, gives the
stored value."""

from __future__ import annotations

import math

import pytest

from isotrack.clinical.pk.parameters import pk_model
from isotrack.errors import KnowledgeError
from isotrack.knowledge import KnowledgeBase
from isotrack.knowledge.loader import parse_documents

SOURCE = b'[[source]]\nid = "s1"\ntitle = "A label"\ngrade = "P"\ncitation = "A label."\n'


def parse(text: str) -> None:
    parse_documents([("sources.toml", SOURCE), ("pk.toml", text.encode())])


def entry(kind: str, extra: str = "") -> str:
    return (
        f'[[pk_parameter]]\nid = "pk.x"\nvalue = 1.5\nunit = "L"\nkind = "{kind}"\n'
        f'description = "d"\nsources = ["s1"]\n{extra}'
    )


def test_a_derived_pk_parameter_without_its_derivation_is_refused() -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse(entry("derived"))
    assert caught.value.field == "derivation"
    assert caught.value.entry == "pk.x"


def test_a_derived_pk_parameter_with_a_blank_derivation_is_refused() -> None:
    with pytest.raises(KnowledgeError, match="derivation"):
        parse(entry("derived", 'derivation = "  "\n'))


def test_a_pk_parameter_without_sources_is_refused() -> None:
    with pytest.raises(KnowledgeError, match="at least one source"):
        parse(entry("label").replace('sources = ["s1"]\n', ""))


def test_a_pk_parameter_of_unknown_kind_is_refused() -> None:
    with pytest.raises(KnowledgeError, match="kind"):
        parse(entry("guess"))


def test_a_non_finite_pk_value_is_refused() -> None:
    with pytest.raises(KnowledgeError, match="finite"):
        parse(entry("label").replace("value = 1.5", "value = nan"))


def test_label_and_derived_entries_load() -> None:
    parse(
        entry("label")
        + "\n"
        + entry("derived", 'derivation = "2 × 0.75"\n').replace("pk.x", "pk.y")
    )


def test_every_pk_parameter_is_label_or_derived_with_sources(kb: KnowledgeBase) -> None:
    assert len(kb.pk_parameters) > 40
    for item in kb.pk_parameters:
        assert item.sources
        assert item.kind == "label" or item.derivation.strip()


def omega(cv: float) -> float:
    return math.log(1 + cv * cv)


def test_each_derivation_recomputed_from_the_label_gives_the_stored_value(
    kb: KnowledgeBase,
) -> None:
    def v(name: str) -> float:
        return kb.pk_parameter(f"pk.{name}").value

    dose, auc_fed = v("label.single_dose_mg"), v("label.auc_fed")
    oxo_k = math.log(2) / v("label.oxo_half_life")
    expected = {
        "cl": dose / (auc_fed / 1000),
        "f.conventional.fasted": v("label.auc_fasted") / auc_fed,
        "f.absorica.fasted": v("f.absorica.fed") / v("label.absorica_food_auc_ratio"),
        "f.absorica-ld.fed": v("label.absorica_reference_mg")
        / v("label.absorica_ld_equivalent_mg")
        * v("f.absorica.fed"),
        "oxo.volume_per_fraction": v("cl") / (v("label.oxo_auc_ratio") * oxo_k),
        "omega.cl": math.sqrt(omega(v("label.cv_auc_fed"))),
        "omega.v": math.sqrt(omega(v("label.cv_half_life_fed")) - omega(v("label.cv_auc_fed"))),
        "omega.f.fasted": math.sqrt(omega(v("label.cv_auc_fasted")) - omega(v("label.cv_auc_fed"))),
        "omega.ka.fed": math.sqrt(omega(v("label.cv_tmax_fed"))),
        "omega.ka.fasted": math.sqrt(omega(v("label.cv_tmax_fasted"))),
        "omega.oxo": math.sqrt(omega(v("label.oxo_half_life_sd") / v("label.oxo_half_life"))),
    }
    for name, value in expected.items():
        assert v(name) == pytest.approx(value, rel=1e-3), name


def test_the_fitted_disposition_has_the_label_terminal_half_life(kb: KnowledgeBase) -> None:
    rate = pk_model(kb).terminal_rate()
    assert math.log(2) / rate == pytest.approx(
        kb.pk_parameter("pk.label.half_life").value, rel=0.01
    )
