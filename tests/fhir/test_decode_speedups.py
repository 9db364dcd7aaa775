"""The shortcuts of decoding answer as the straightforward computations: equal
CodeableConcepts give one Concept, joined bundles resolve and group as if indexed
afresh, and Markdown escaping is the one-character-class substitution."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.cds.cards import escape_markdown
from isotrack.fhir.datatypes import CodeableConcept, Coding
from isotrack.fhir.decode import FhirBundle, decode_bundle, join_bundles
from isotrack.fhir.resources import Condition, Patient, Procedure
from isotrack.fhir.values import _concept, concept

words = st.sampled_from(["Diabetes", "Hysterectomy", "", " ", "x"])
fhir_codings = st.builds(
    Coding,
    system=st.none() | st.sampled_from(["http://snomed.info/sct", "urn:x"]),
    code=st.none() | st.sampled_from(["1", "44054006"]),
    display=st.none() | words,
)
codeables = st.builds(
    CodeableConcept, coding=st.lists(fhir_codings, max_size=3).map(tuple), text=st.none() | words
)


@given(codeables)
def test_equal_codeable_concepts_give_the_same_concept_as_read_afresh(
    codeable: CodeableConcept,
) -> None:
    twin = CodeableConcept(coding=tuple(codeable.coding), text=codeable.text)
    assert concept(codeable) == _concept(codeable)
    assert concept(twin) is concept(codeable)


ids = st.sampled_from(["p1", "p2", "c1", "c2", "x"])
kinds = st.sampled_from(["Patient", "Condition", "Procedure", "Claim"])
entries = st.lists(
    st.tuples(kinds, ids, st.none() | st.sampled_from(["urn:uuid:1", "urn:uuid:2", "urn:uuid:p1"])),
    max_size=5,
)


def bundle(items: list[tuple[str, str, str | None]]) -> bytes:
    entry = []
    for kind, resource_id, url in items:
        item: dict[str, object] = {"resource": {"resourceType": kind, "id": resource_id}}
        if url is not None:
            item["fullUrl"] = url
        entry.append(item)
    return json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": entry}).encode()


REFERENCES = ["Patient/p1", "Condition/c1", "urn:uuid:1", "urn:uuid:p1", "x/Patient/p2", "Claim/x"]


@settings(max_examples=200, deadline=None)
@given(st.lists(entries, min_size=1, max_size=4), st.lists(st.booleans(), min_size=4, max_size=4))
def test_a_joined_bundle_reads_as_one_indexed_afresh(
    parts: list[list[tuple[str, str, str | None]]], indexed: list[bool]
) -> None:
    decoded = [decode_bundle(bundle(items)) for items in parts]
    for part, index_first in zip(decoded, indexed, strict=False):
        if index_first:
            part.of_type(Patient)  # builds this part's index before the join
    joined = join_bundles(decoded)
    afresh = FhirBundle(tuple(e for part in decoded for e in part.entries))
    for cls in (Patient, Condition, Procedure):
        assert joined.of_type(cls) == afresh.of_type(cls)
    for reference in REFERENCES:
        assert joined.resolve(reference) is afresh.resolve(reference)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>!|~])")


@given(st.text(alphabet=st.sampled_from("ab (#)\\`*_{}[]<>!|~é\n"), max_size=30))
def test_markdown_escaping_puts_a_backslash_before_each_markdown_character(text: str) -> None:
    assert escape_markdown(text) == _MARKDOWN.sub(r"\\\1", text)
