"""The local RxNorm product table (``rxnorm-products.toml``): each product code
(SCD, SBD, pack) with its ingredient RXCUIs.

The loader checks every row (:func:`check_product`) and then gives every value set
the product codes whose ingredients it lists (:func:`expand_products`), so that a
record coded only with a product code (``748962`` Camila 28 Day Pack) matches a
value set that lists its ingredient (``7514`` norethindrone) by code.
"""

from __future__ import annotations

import msgspec

from isotrack.errors import KnowledgeError
from isotrack.knowledge.model import RxNormProduct, ValueSet


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
    (``ValueSet.products``): a product code then matches by code."""
    by_ingredient: dict[str, list[str]] = {}
    for product in entries["rxnorm_product"].values():
        assert isinstance(product, RxNormProduct)
        for ingredient in product.ingredients:
            by_ingredient.setdefault(ingredient.code, []).append(product.id)
    valuesets = entries["valueset"]
    for valueset_id, valueset in valuesets.items():
        assert isinstance(valueset, ValueSet)
        found = [
            product
            for code in valueset.codes
            if code.system == "rxnorm"
            for product in by_ingredient.get(code.code, ())
        ]
        if found:
            products = tuple(dict.fromkeys(found))
            valuesets[valueset_id] = msgspec.structs.replace(valueset, products=products)
