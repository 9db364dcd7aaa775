"""Matching codes and text against value sets: product codes count as codes,
text is the last resort, and the fast (cached) matcher answers exactly as the
straightforward one."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.codes import ATC, RXNORM, SNOMED, Coding, Concept, Match, match
from isotrack.clinical.screening.contraception import REMOVAL_SUFFIX, method_for, removal_for
from isotrack.knowledge import KnowledgeBase, default_knowledge
from isotrack.knowledge.base import KnowledgeBase as Base
from isotrack.knowledge.codelists import Code, ValueSet
from isotrack.knowledge.loader import parse_documents

DOCUMENTS = [
    (
        "sources.toml",
        b'[[source]]\nid = "s1"\ntitle = "RxNav"\ngrade = "S"\ncitation = "RxNorm."\n',
    ),
    (
        "valuesets.toml",
        b"""
[[valueset]]
id = "progestins"
description = "Levonorgestrel."
codes = [{ system = "rxnorm", code = "6373" }]
text = ["levonorgestrel"]
sources = ["s1"]

[[valueset]]
id = "oestrogens"
description = "Ethinyl estradiol."
codes = [{ system = "rxnorm", code = "4124" }]
text = ["ethinyl estradiol"]
sources = ["s1"]
""",
    ),
    (
        "products.toml",
        b"""
[[rxnorm_product]]
id = "749762"
display = "Seasonique 91 Day Pack"
tty = "BPCK"
ingredients = [
  { code = "6373", name = "levonorgestrel" },
  { code = "4124", name = "ethinyl estradiol" },
]
seen = "sample data"
sources = ["s1"]
""",
    ),
]


def rx(code: str, display: str | None = None) -> Concept:
    return Concept((Coding(RXNORM, code, display),))


def test_a_product_code_without_any_text_matches_its_ingredients_value_set_by_code(
    kb: KnowledgeBase,
) -> None:
    found = match(rx("1649988"), kb.valueset("tetracyclines"))  # doxycycline hyclate 100 MG
    assert found == Match(True, False, Coding(RXNORM, "1649988"))


def test_an_isotretinoin_capsule_code_is_isotretinoin_by_code(kb: KnowledgeBase) -> None:
    found = match(rx("197845"), kb.valueset("allergy-isotretinoin-retinoids-vitamin-a"))
    assert found.matched
    assert not found.by_text


def test_a_multi_ingredient_pill_matches_the_value_set_of_each_ingredient() -> None:
    kb = Base(entries=parse_documents(DOCUMENTS))
    pill = rx("749762")  # Seasonique: levonorgestrel + ethinyl estradiol, no text
    for valueset_id in ("progestins", "oestrogens"):
        found = match(pill, kb.valueset(valueset_id))
        assert found.matched
        assert not found.by_text


def test_an_unknown_code_falls_back_to_text_and_says_so(kb: KnowledgeBase) -> None:
    named = rx("999999999", "Doxycycline 100 MG Oral Capsule")
    assert match(named, kb.valueset("tetracyclines")) == Match(True, True, None)
    assert not match(rx("999999999"), kb.valueset("tetracyclines")).matched


def test_a_product_of_another_ingredient_does_not_match(kb: KnowledgeBase) -> None:
    assert not match(rx("312617"), kb.valueset("tetracyclines")).matched  # prednisone 5 MG


# --- The fast matcher equals the straightforward one -------------------------------------
_NON_WORD = re.compile(r"[^0-9a-zà-ÿ]+")


def _normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


def straightforward_match(concept: Concept, valueset: ValueSet) -> Match:
    """The matcher as first written: nothing cached, everything rebuilt per call."""
    aliases = {RXNORM: "rxnorm", SNOMED: "snomed", ATC: "atc"}
    wanted = {(c.system, c.code) for c in valueset.codes}
    wanted |= {("rxnorm", code) for code in valueset.products}
    for coding in concept.codings:
        if (aliases.get(coding.system, coding.system), coding.code) in wanted:
            return Match(True, False, coding)
    if valueset.text:
        parts = [concept.text or ""] + [c.display or "" for c in concept.codings]
        words = f" {_normalise(' '.join(parts).casefold())} "
        if any(f" {_normalise(fragment)}" in words for fragment in valueset.text):
            return Match(True, True, None)
    return Match(False)


WORDS = ["Doxy", "doxycycline", "Ortho", "tri-cyclen", "É", "ß", "ǅ", "İ", "ﬁ", "  ", "-", "/"]
text = st.lists(st.sampled_from(WORDS) | st.text(max_size=4), max_size=5).map("".join)
codes = st.sampled_from(["1", "2", "3640", "749762", "1649988"])
codings = st.builds(
    Coding, st.sampled_from([RXNORM, SNOMED, ATC, "urn:other"]), codes, st.none() | text
)
concepts = st.builds(Concept, st.lists(codings, max_size=3).map(tuple), st.none() | text)
valuesets = st.builds(
    lambda listed, fragments, products: ValueSet(
        id="v", sources=("s",), description="d", codes=tuple(listed), text=tuple(fragments),
        products=tuple(products),
    ),
    st.lists(st.builds(Code, system=st.sampled_from(["rxnorm", "snomed", "atc"]), code=codes)),
    st.lists(text, max_size=4),
    st.lists(codes, max_size=2),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(concepts, valuesets)
def test_the_cached_matcher_answers_as_the_straightforward_one(
    concept: Concept, valueset: ValueSet
) -> None:
    assert match(concept, valueset) == straightforward_match(concept, valueset)
    assert match(concept, valueset) == straightforward_match(concept, valueset)  # cached


def straightforward_method_for(concept: Concept, kb: KnowledgeBase) -> tuple[str, bool] | None:
    """Contraception method classification as first written (no index, no memory)."""
    methods = kb.contraception_methods
    if any(
        straightforward_match(concept, kb.valueset(v)).matched
        for m in methods
        for v in m.valuesets
        if v.endswith(REMOVAL_SUFFIX)
    ):
        return None
    by_text = None
    for method in methods:
        for valueset_id in [v for v in method.valuesets if not v.endswith(REMOVAL_SUFFIX)]:
            found = straightforward_match(concept, kb.valueset(valueset_id))
            if found.matched and not found.by_text:
                return method.id, False
            if found.matched and by_text is None:
                by_text = method.id
    return (by_text, True) if by_text is not None else None


def _contraceptive_vocabulary() -> tuple[list[str], list[str]]:
    kb = default_knowledge()
    ids = [v for m in kb.contraception_methods for v in m.valuesets]
    sets = [kb.valueset(v) for v in dict.fromkeys(ids)]
    return [c.code for v in sets for c in v.codes], [f for v in sets for f in v.text]


CODES, FRAGMENTS = _contraceptive_vocabulary()
contraceptive_text = st.lists(
    st.sampled_from(FRAGMENTS) | st.sampled_from(["Removal of", "Paragard", " ", "-"]),
    max_size=3,
).map(" ".join)
contraceptive_concepts = st.builds(
    Concept,
    st.lists(
        st.builds(Coding, st.sampled_from([RXNORM, SNOMED]), st.sampled_from(CODES)), max_size=2
    ).map(tuple),
    st.none() | contraceptive_text,
)


@settings(max_examples=300, deadline=None)
@given(contraceptive_concepts)
def test_method_classification_answers_as_the_straightforward_one(concept: Concept) -> None:
    kb = default_knowledge()
    expected_removal = tuple(
        m.id
        for m in kb.contraception_methods
        if any(
            straightforward_match(concept, kb.valueset(v)).matched
            for v in m.valuesets
            if v.endswith(REMOVAL_SUFFIX)
        )
    )
    for _ in range(2):  # the second answer comes from memory
        assert removal_for(concept, kb) == expected_removal
        assert method_for(concept, kb) == straightforward_method_for(concept, kb)
