"""The local RxNorm product table (``rxnorm-products.toml``): each product code
(SCD, SBD, pack) with its ingredient RXCUIs, and the NDC products
(``ndc-products.toml``) with the RxNorm product each one is.

The loader checks every row (:func:`check_product`) and then gives every value set
the product codes whose ingredients it lists (:func:`expand_products`), so that a
record coded only with a product code (``748962`` Camila 28 Day Pack) matches a
value set that lists its ingredient (``7514`` norethindrone) by code. Each value
set also gets the NDC products whose RxNorm product it holds (by code or through
its ingredients), as :func:`ndc_product_key` writes them.

EHRs send an NDC as the 11-digit billing form (``00093713756``), as the
10-digit package code with hyphens (``0093-7137-56``), or as the product code
(``0093-7137``); :func:`ndc_product_key` reduces each to its labeler and product
(``00093-7137``), since the package does not change what the drug is.

>>> ndc_product_key("0093-7137-56"), ndc_product_key("00093713756")
('00093-7137', '00093-7137')
>>> ndc_product_key("78206-145"), ndc_product_key("9371375") is None
('78206-0145', True)
"""

from __future__ import annotations

import msgspec

from isotrack.errors import KnowledgeError
from isotrack.knowledge.codelists import NdcProduct, RxNormProduct, ValueSet

_LABELER, _PRODUCT = 5, 4
"""Digits of the labeler and product segments in the 11-digit (5-4-2) NDC."""


def ndc_product_key(code: str) -> str | None:
    """The labeler-product part of an NDC as ``LLLLL-PPPP``; ``None`` when the code
    is no NDC or its segments cannot be told apart (10 digits without hyphens)."""
    text = code.strip()
    if "-" in text:
        parts = text.split("-")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            return None
        labeler, product = parts[0], parts[1]
        if len(labeler) > _LABELER or len(product) > _PRODUCT:
            return None
        return f"{labeler.zfill(_LABELER)}-{product.zfill(_PRODUCT)}"
    if text.isdigit() and len(text) == _LABELER + _PRODUCT + 2:
        return f"{text[:_LABELER]}-{text[_LABELER : _LABELER + _PRODUCT]}"
    return None


def check_ndc_product(name: str, product: NdcProduct) -> None:
    """An NDC product row names a labeler-product code and an RXCUI."""
    if ndc_product_key(product.id) is None or product.id.count("-") != 1:
        raise KnowledgeError(
            "the id is the labeler-product NDC as openFDA writes it (e.g. 78206-145)",
            file=name,
            entry=product.id,
            field="id",
        )
    if not product.rxcui.isdigit():
        raise KnowledgeError(
            "rxcui is the RxNorm product code (digits)", file=name, entry=product.id,
            field="rxcui",
        )  # fmt: skip


def check_product(name: str, product: RxNormProduct) -> None:
    """An RxNorm product row names an RXCUI and at least one ingredient RXCUI."""
    if not product.id.isdigit():
        raise KnowledgeError(
            "the id is the product's RXCUI, digits only", file=name, entry=product.id, field="id"
        )
    if not product.ingredients:
        raise KnowledgeError(
            "a product needs at least one ingredient", file=name, entry=product.id,
            field="ingredients",
        )  # fmt: skip
    for ingredient in product.ingredients:
        if not ingredient.code.isdigit() or ingredient.code == product.id:
            raise KnowledgeError(
                f"ingredient {ingredient.name!r} needs its own RXCUI (digits), "
                f"not {ingredient.code!r}",
                file=name,
                entry=product.id,
                field="ingredients",
            )


def expand_products(entries: dict[str, dict[str, msgspec.Struct]]) -> None:
    """Give every value set the product codes whose ingredients it lists
    (``ValueSet.products``) and the NDC products of its RxNorm products
    (``ValueSet.ndc_products``): a product code or an NDC then matches by code."""
    by_ingredient: dict[str, list[str]] = {}
    for product in entries["rxnorm_product"].values():
        assert isinstance(product, RxNormProduct)
        for ingredient in product.ingredients:
            by_ingredient.setdefault(ingredient.code, []).append(product.id)
    ndc_by_rxcui: dict[str, list[str]] = {}
    for ndc in entries.get("ndc_product", {}).values():
        assert isinstance(ndc, NdcProduct)
        key = ndc_product_key(ndc.id)
        if key is not None:
            ndc_by_rxcui.setdefault(ndc.rxcui, []).append(key)
    valuesets = entries["valueset"]
    for valueset_id, valueset in valuesets.items():
        assert isinstance(valueset, ValueSet)
        found = [
            product
            for code in valueset.codes
            if code.system == "rxnorm"
            for product in by_ingredient.get(code.code, ())
        ]
        rxcuis = {c.code for c in valueset.codes if c.system == "rxnorm"} | set(found)
        ndcs = tuple(key for rxcui in sorted(rxcuis) for key in ndc_by_rxcui.get(rxcui, ()))
        if found or ndcs:
            products = tuple(dict.fromkeys(found))
            valuesets[valueset_id] = msgspec.structs.replace(
                valueset, products=products, ndc_products=tuple(dict.fromkeys(ndcs))
            )
