"""The knowledge base's concept memory (answers kept per concept) and the screening
context's record lists answer exactly as the straightforward computations."""

from __future__ import annotations

import pickle
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.codes import ICD10CM, RXNORM, SNOMED, Coding, Concept, match, matches_in
from isotrack.clinical.screening.context import Hit, ScreeningContext
from isotrack.clinical.screening.rules.conditions import (
    PAST_EXCLUSIONS,
    TEXT_EXCLUSIONS,
    _evidence,
    condition_hits,
    match_as_words,
    words_match,
)
from isotrack.clinical.snapshot import (
    AllergyRecord,
    ConditionRecord,
    MedicationRecord,
    PatientSnapshot,
    ProcedureRecord,
)
from isotrack.knowledge import default_knowledge

KB = default_knowledge()
ON = date(2026, 3, 2)
TOPICS = ["hepatic-disease", "pancreatitis", "psychiatric-history", "diabetes"]
VALUESET_IDS = sorted(v.id for v in KB.valuesets)


def _vocabulary() -> tuple[list[tuple[str, str]], list[str]]:
    codes = [(c.system, c.code) for v in KB.valuesets for c in v.codes]
    words = [fragment for v in KB.valuesets for fragment in v.text]
    return codes, words


CODES, WORDS = _vocabulary()
SYSTEMS = {"snomed": SNOMED, "icd10cm": ICD10CM, "rxnorm": RXNORM}
codings = st.sampled_from(CODES).map(
    lambda code: Coding(SYSTEMS.get(code[0], code[0]), code[1])
) | st.builds(Coding, st.sampled_from([SNOMED, ICD10CM, RXNORM]), st.sampled_from(["1", "E11.9"]))
texts = st.lists(st.sampled_from([*WORDS, "history of", "pre", " ", "-"]), max_size=3).map(" ".join)
concepts = st.builds(Concept, st.lists(codings, max_size=2).map(tuple), st.none() | texts)
days = st.none() | st.dates(date(2020, 1, 1), date(2027, 1, 1))
statuses = st.sampled_from([None, "active", "resolved", "completed", "stopped", "not-done"])


def copy_of(concept: Concept) -> Concept:
    """An equal concept that is a different object (as a new request decodes it)."""
    return Concept(
        tuple(Coding(c.system, c.code, c.display) for c in concept.codings), concept.text
    )


@settings(max_examples=300, deadline=None)
@given(concepts, st.lists(st.sampled_from(VALUESET_IDS), min_size=1, max_size=6))
def test_the_concept_memory_answers_as_match(concept: Concept, valueset_ids: list[str]) -> None:
    memory = matches_in(KB)
    for valueset_id in valueset_ids:
        expected = match(concept, KB.valueset(valueset_id))
        assert memory.match(concept, valueset_id) == expected
        assert memory.of(copy_of(concept)).match(valueset_id) == expected  # kept answer


@settings(max_examples=200, deadline=None)
@given(concepts, st.sampled_from(TOPICS), st.booleans())
def test_kept_condition_evidence_and_word_matches_equal_fresh_ones(
    concept: Concept, topic: str, active: bool
) -> None:
    exclusions = (TEXT_EXCLUSIONS, PAST_EXCLUSIONS) if active else (TEXT_EXCLUSIONS,)
    snapshot = PatientSnapshot("p1", conditions=(ConditionRecord(concept),))
    ctx = ScreeningContext(snapshot=snapshot, on=ON, kb=KB)
    expected = _evidence(KB, topic, exclusions, concept)
    found = condition_hits(ctx, topic, active=active)
    assert [(h.evidence, h.by_text) for h in found] == ([] if expected is None else [expected])
    memo = matches_in(KB).of(copy_of(concept))
    assert words_match(ctx, memo, topic) == match_as_words(concept, KB.valueset(topic))


records = st.tuples(concepts, days, days, statuses)


@settings(max_examples=150, deadline=None)
@given(st.lists(records, max_size=6), st.sampled_from(VALUESET_IDS))
def test_the_record_lists_of_a_screening_hold_what_the_rules_would_filter(
    raw: list[tuple[Concept, date | None, date | None, str | None]], valueset_id: str
) -> None:
    ordered = [(c, a, b if a is None or b is None or b >= a else a, s) for c, a, b, s in raw]
    snapshot = PatientSnapshot(
        "p1",
        conditions=tuple(ConditionRecord(c, a, b, s) for c, a, b, s in ordered),
        medications=tuple(MedicationRecord(c, s, a, b) for c, a, b, s in ordered),
        allergies=tuple(AllergyRecord(c, s, a) for c, a, _, s in ordered),
        procedures=tuple(ProcedureRecord(c, a, s) for c, a, _, s in ordered),
    )
    ctx = ScreeningContext(snapshot=snapshot, on=ON, kb=KB)
    valueset = KB.valueset(valueset_id)

    def hits(pairs: list[tuple[Concept, date | None]]) -> list[Hit]:
        found = [(c, day, match(c, valueset)) for c, day in pairs]
        return [Hit(c.label, day, m.by_text) for c, day, m in found if m.matched]

    s = snapshot
    assert ctx.active_medications(valueset_id) == hits(
        [(m.concept, m.start) for m in s.medications if m.active_on(ON)]
    )
    assert ctx.active_conditions(valueset_id) == hits(
        [(c.concept, c.onset) for c in s.conditions if c.active_on(ON)]
    )
    assert ctx.conditions_ever(valueset_id) == hits(
        [(c.concept, c.onset) for c in s.conditions if c.ever_on(ON)]
    )
    assert ctx.active_allergies(valueset_id) == hits(
        [(a.concept, a.recorded) for a in s.allergies if a.active]
    )
    assert ctx.procedures_done(valueset_id) == hits(
        [(p.concept, p.performed) for p in s.procedures if p.done_by(ON)]
    )


@given(concepts)
def test_a_concept_hashes_as_its_fields_and_pickles_without_its_kept_hash(
    concept: Concept,
) -> None:
    assert hash(concept) == hash((concept.codings, concept.text))
    again = pickle.loads(pickle.dumps(concept))  # noqa: S301  # our own value, just made
    assert again == concept
    assert again._hash is None
    assert hash(again) == hash(concept)
