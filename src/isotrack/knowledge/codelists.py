"""Knowledge entries about codes: a code of a code system, value sets (with the
indexes matching uses), the FHIR vocabularies of the reader, and the RxNorm and
NDC product tables that put products under their ingredients."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal

import msgspec

from isotrack.knowledge.model import Entry, VocabularyElement

_NON_WORD = re.compile(r"[^0-9a-zà-ÿ]+")


def word_form(text: str) -> str:
    """Lower-case words separated by single spaces: how concepts and value-set
    text fragments are compared (``"Depo-Provera 150"`` → ``"depo provera 150"``).

    >>> word_form("  Depo-Provera® 150 MG/ML ")
    'depo provera 150 mg ml'
    """
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


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
