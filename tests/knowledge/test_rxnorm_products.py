"""The RxNorm product table: the loader refuses rows it cannot trust, expands
value sets with the products of their ingredients, and covers the sample data."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from isotrack.clinical.codes import RXNORM
from isotrack.errors import KnowledgeError
from isotrack.knowledge import KnowledgeBase, load_knowledge
from isotrack.knowledge.base import KnowledgeBase as Base
from isotrack.knowledge.loader import parse_documents

SOURCE = b"""
[[source]]
id = "s1"
title = "RxNav"
grade = "S"
citation = "RxNorm."
"""
VALUESETS = b"""
[[valueset]]
id = "progestins"
description = "Levonorgestrel, any product."
codes = [{ system = "rxnorm", code = "6373", display = "levonorgestrel" }]
sources = ["s1"]

[[valueset]]
id = "oestrogens"
description = "Ethinyl estradiol, any product."
codes = [{ system = "rxnorm", code = "4124", display = "ethinyl estradiol" }]
sources = ["s1"]
"""
PILL_FIELDS = {
    "id": '"749762"',
    "display": '"Seasonique 91 Day Pack"',
    "tty": '"BPCK"',
    "ingredients": '[{ code = "6373", name = "levonorgestrel" }, '
    '{ code = "4124", name = "ethinyl estradiol" }]',
    "seen": '"sample data"',
    "sources": '["s1"]',
}


def pill(**changes: str | None) -> str:
    """The Seasonique row as TOML, with fields changed (None leaves one out)."""
    fields = {**PILL_FIELDS, **changes}
    lines = [f"{key} = {value}" for key, value in fields.items() if value is not None]
    return "[[rxnorm_product]]\n" + "\n".join(lines) + "\n"


PILL = pill()


def entries(products: str) -> dict[str, Any]:
    documents = [("sources.toml", SOURCE), ("v.toml", VALUESETS), ("p.toml", products.encode())]
    return parse_documents(documents)


def test_a_multi_ingredient_pill_is_expanded_into_each_ingredients_value_set() -> None:
    kb = Base(entries=entries(PILL))
    assert kb.valueset("progestins").products == ("749762",)
    assert kb.valueset("oestrogens").products == ("749762",)
    product = kb.rxnorm_product("749762")
    assert product is not None
    assert [i.name for i in product.ingredients] == ["levonorgestrel", "ethinyl estradiol"]


def test_a_product_code_unknown_to_the_table_is_none() -> None:
    assert Base(entries=entries(PILL)).rxnorm_product("123") is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sources", None, "at least one source"),
        ("sources", '["nope"]', "not in the bibliography"),
        ("id", '"SEASONIQUE"', "RXCUI, digits only"),
        ("ingredients", "[]", "at least one ingredient"),
        ("ingredients", '[{ code = "levonorgestrel", name = "levonorgestrel" }]', "own RXCUI"),
        ("ingredients", '[{ code = "749762", name = "itself" }]', "own RXCUI"),
        ("tty", '"IN"', "tty"),
        ("seen", "3", "seen"),
    ],
)  # fmt: skip
def test_the_loader_refuses_a_bad_product_row(field: str, value: str | None, message: str) -> None:
    with pytest.raises(KnowledgeError, match=message) as caught:
        entries(pill(**{field: value}))
    assert caught.value.file == "p.toml"


def test_a_value_set_file_cannot_list_products_itself() -> None:
    written = VALUESETS.decode().replace(
        'sources = ["s1"]', 'products = ["749762"]\nsources = ["s1"]', 1
    )
    with pytest.raises(KnowledgeError, match=r"filled in from rxnorm-products\.toml") as caught:
        parse_documents([("sources.toml", SOURCE), ("v.toml", written.encode())])
    assert caught.value.field == "products"


def test_every_packaged_product_resolves_and_names_its_ingredients(kb: KnowledgeBase) -> None:
    products = kb.rxnorm_products
    assert len(products) >= 80
    names = {i.code: i.name for p in products for i in p.ingredients}
    for product in products:
        assert product.sources
        assert product.seen
        for ingredient in product.ingredients:
            assert names[ingredient.code] == ingredient.name  # one name per RXCUI
    listed = {c.code: c.display for v in kb.valuesets for c in v.codes if c.system == "rxnorm"}
    for code, name in names.items():
        if code in listed:
            assert listed[code].casefold() == name  # the value sets agree on the ingredient


def test_the_packaged_value_sets_are_expanded_with_their_products(kb: KnowledgeBase) -> None:
    tetracyclines = kb.valueset("tetracyclines")
    assert "1649988" in tetracyclines.products  # doxycycline hyclate 100 MG Oral Capsule
    assert ("rxnorm", "1649988") in tetracyclines.code_keys
    assert "197845" in kb.valueset("isotretinoin").products  # isotretinoin 40 MG
    assert not kb.valueset("contraception-implant").products  # lists product codes only


def _rxnorm_codings(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if value.get("system") == RXNORM and "code" in value:
            yield value["code"], value.get("display") or ""
        for item in value.values():
            yield from _rxnorm_codings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _rxnorm_codings(item)


def _sample_documents(synthea: Path, bulk: Path) -> Iterator[Any]:
    for path in sorted(synthea.glob("*.json.gz")):
        yield json.loads(gzip.decompress(path.read_bytes()))
    for path in sorted(bulk.glob("*.ndjson.gz")):
        for line in gzip.decompress(path.read_bytes()).splitlines():
            if line.strip():
                yield json.loads(line)


LEFT_OUT = {"389221", "1367439", "748856", "751905", "978950", "749882", "235389"}
"""Sample-data products whose ingredient RXCUIs could not be checked (see the file's
header): etonogestrel implant and ring, Yaz, Trinessa, Natazia, Norinyl, Enovid."""


def test_every_sample_data_product_naming_a_table_ingredient_is_in_the_table(
    synthea_dir: Path, bulk_dir: Path
) -> None:
    kb = load_knowledge()
    ingredients = {i.name for p in kb.rxnorm_products for i in p.ingredients}
    brands = ("camila", "errin", "jolivette", "mirena", "kyleena", "seasonique")
    pattern = re.compile("|".join(re.escape(n) for n in (*ingredients, *brands)), re.IGNORECASE)
    missing = {
        code: display
        for document in _sample_documents(synthea_dir, bulk_dir)
        for code, display in _rxnorm_codings(document)
        if pattern.search(display) and kb.rxnorm_product(code) is None and code not in LEFT_OUT
    }
    assert missing == {}
