from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.findings import Severity
from isotrack.clinical.monitoring.triage import NOTHING_REPORTED, TriageAction, triage
from isotrack.errors import InvalidInputError
from isotrack.knowledge import KnowledgeBase, default_knowledge

SYMPTOM_IDS = sorted(s.id for s in default_knowledge().symptoms)


def test_every_triage_rule_has_a_symptom_and_every_symptom_a_triage_rule(
    kb: KnowledgeBase,
) -> None:
    triage_rules = {r.id for r in kb.rules if r.table == "triage"}
    mapped = {s.rule for s in kb.symptoms}
    assert mapped == triage_rules
    for rule_id in triage_rules:
        TriageAction.of(kb.rule(rule_id))  # every triage_action is a known action


@pytest.mark.parametrize(
    "symptom_id",
    [
        "missed-period",
        "positive-home-test",
        "unprotected-sex",
        "low-mood",
        "suicidal-thoughts",
        "dry-lips",
        "acne-flare",
    ],
)
def test_named_symptoms_exist(kb: KnowledgeBase, symptom_id: str) -> None:
    assert kb.symptom(symptom_id).advice


def test_missed_period_means_stop_now_but_not_emergency(kb: KnowledgeBase) -> None:
    result = triage(["missed-period"], kb)
    assert result.stop_now
    assert not result.emergency
    assert result.contact_prescriber
    assert result.findings[0].rule_id == "TRIAGE-PREGNANCY"
    assert result.findings[0].severity is Severity.CRITICAL
    assert "Stop" in result.headline


def test_severe_stomach_pain_is_an_emergency(kb: KnowledgeBase) -> None:
    result = triage(["severe-stomach-pain"], kb)
    assert result.emergency
    assert result.action is TriageAction.STOP_EMERGENCY
    assert "emergency" in result.headline


def test_dry_lips_are_managed_at_home(kb: KnowledgeBase) -> None:
    result = triage(["dry-lips"], kb)
    assert not result.stop_now
    assert not result.contact_prescriber
    assert result.findings[0].severity is Severity.INFO
    assert result.advice[0][1] == kb.symptom("dry-lips").advice


def test_muscle_weakness_means_contact_without_stopping(kb: KnowledgeBase) -> None:
    result = triage(["muscle-weakness"], kb)
    assert not result.stop_now
    assert result.contact_prescriber
    assert result.findings[0].severity is Severity.WARNING


def test_most_severe_comes_first_and_same_rule_symptoms_share_one_finding(
    kb: KnowledgeBase,
) -> None:
    result = triage(["dry-lips", "nosebleeds", "hives", "low-mood"], kb)
    assert [f.rule_id for f in result.findings] == [
        "TRIAGE-ANAPHYLAXIS",
        "TRIAGE-PSYCH",
        "TRIAGE-MUCOCUTANEOUS",
    ]
    assert result.symptoms[0].id == "hives"
    mucocutaneous = result.findings[-1]
    assert len(mucocutaneous.data) == 2


def test_unknown_symptom_is_refused_naming_it_and_listing_valid_ids(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInputError) as caught:
        triage(["dry-lips", "itchy-elbow"], kb)
    message = str(caught.value)
    assert "'itchy-elbow'" in message
    assert "dry-lips" in message.split("valid ids:", 1)[1]


def test_a_single_id_string_is_one_symptom_and_ids_are_normalised(kb: KnowledgeBase) -> None:
    assert [s.id for s in triage("dry-lips", kb).symptoms] == ["dry-lips"]
    assert [s.id for s in triage([" Dry-Lips ", "dry-lips"], kb).symptoms] == ["dry-lips"]


def test_nothing_reported_gives_no_findings(kb: KnowledgeBase) -> None:
    result = triage([], kb)
    assert result.findings == ()
    assert not result.stop_now
    assert result.headline == NOTHING_REPORTED


def test_summaries_fit_a_card_even_with_every_symptom(kb: KnowledgeBase) -> None:
    result = triage(SYMPTOM_IDS, kb)
    assert all(len(f.summary) <= 140 for f in result.findings)
    assert len(result.symptoms) == len(SYMPTOM_IDS)


@given(st.lists(st.sampled_from(SYMPTOM_IDS), unique=True))
def test_any_subset_is_ordered_most_severe_first_and_stops_iff_a_stop_symptom(
    chosen: list[str],
) -> None:
    kb = default_knowledge()
    result = triage(chosen, kb)
    severities = [int(f.severity) for f in result.findings]
    assert severities == sorted(severities)
    keys = [s.sort_key for s in result.symptoms]
    assert keys == sorted(keys)
    actions = {kb.rule(kb.symptom(i).rule).triage_action for i in chosen}
    assert result.stop_now == any(a.startswith("stop") for a in actions)
    assert result.emergency == ("stop, emergency" in actions)
    assert {s.id for s in result.symptoms} == set(chosen)
