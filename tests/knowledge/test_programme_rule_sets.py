"""The rule sets us-ipledge-2024 and eu-ppp-2018 as data: the same rule names, every
rule and question cited, values of the right kind, and the numbers the engine's
other rules read agree with them."""

from __future__ import annotations

import pytest

from isotrack.knowledge import KnowledgeBase

PROGRAMMES = ("us-ipledge-2024", "eu-ppp-2018")

NUMBERS = (
    "start_tests",
    "confirmation_after_contraception_days",
    "test_window_days",
    "lockout_days",
    "post_course_test_days",
    "max_supply_days",
    "cbp_dispense_window_days",
    "non_cbp_dispense_window_days",
    "contraception_before_days",
    "contraception_after_days",
    "comprehension_valid_days",
    "comprehension_max_wrong",
)
FLAGS = (
    "monthly_test",
    "home_tests_during_treatment",
    "refills_allowed",
    "comprehension_each_month",
    "counselling_at_enrolment",
)
TEXTS = (
    "patient_categories",
    "start_test_setting",
    "cbp_dispense_window_from",
    "contraception",
    "positive_test_override_rule",
    "positive_test_referral",
)


def names(kb: KnowledgeBase, programme: str) -> set[str]:
    return {r.name for r in kb.programme_rules(programme)}


def test_both_rule_sets_have_the_same_rules(kb: KnowledgeBase) -> None:
    assert names(kb, PROGRAMMES[0]) == names(kb, PROGRAMMES[1])
    assert names(kb, PROGRAMMES[0]) == {*NUMBERS, *FLAGS, *TEXTS}


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_every_rule_is_cited_and_named_by_its_programme(programme: str, kb: KnowledgeBase) -> None:
    known = {s.id for s in kb.sources}
    for rule in kb.programme_rules(programme):
        assert rule.id == f"{programme}.{rule.name}"
        assert rule.sources
        assert set(rule.sources) <= known
        assert rule.description.strip()


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_every_value_has_the_kind_the_engine_reads(programme: str, kb: KnowledgeBase) -> None:
    for name in NUMBERS:
        value = kb.programme_rule(programme, name).value
        assert type(value) is int, name
        assert value >= 0
    for name in FLAGS:
        assert isinstance(kb.programme_rule(programme, name).value, bool), name
    for name in TEXTS:
        assert isinstance(kb.programme_rule(programme, name).value, str), name
    assert kb.programme_rule(programme, "cbp_dispense_window_from").value in (
        "specimen-date-is-day-1",
        "days-after-prescription",
    )
    kb.rule(str(kb.programme_rule(programme, "positive_test_override_rule").value))


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_the_rule_sets_agree_with_the_numbers_the_other_rules_read(
    programme: str, kb: KnowledgeBase
) -> None:
    def value(name: str) -> object:
        return kb.programme_rule(programme, name).value

    assert value("contraception") == kb.programme(programme).contraception_rule
    assert value("test_window_days") == kb.number("ppp.test_window_days")
    assert value("max_supply_days") == kb.number("ppp.max_supply_days")
    assert value("post_course_test_days") == kb.number("ppp.post_course_test_days")
    assert value("contraception_after_days") == kb.number("ppp.contraception_after_days")
    # The contraception classifier looks back ppp.contraception_before_days: the same
    # period as the rule set's, and as the confirmation test's.
    before = kb.number("ppp.contraception_before_days")
    assert value("contraception_before_days") == before
    assert value("confirmation_after_contraception_days") == before


def test_the_rule_sets_differ_where_the_programmes_do(kb: KnowledgeBase) -> None:
    def both(name: str) -> tuple[object, object]:
        return tuple(kb.programme_rule(p, name).value for p in PROGRAMMES)  # type: ignore[return-value]

    assert both("start_tests") == (2, 1)
    assert both("home_tests_during_treatment") == (True, False)
    assert both("cbp_dispense_window_from") == ("specimen-date-is-day-1", "days-after-prescription")
    assert both("lockout_days") == (0, 0)  # the 19-day lockout is gone
    assert kb.programme_rule("us-ipledge-2024", "counselling_at_enrolment").applies_to == "all"
    assert kb.programme_rule("eu-ppp-2018", "counselling_at_enrolment").applies_to == (
        "can-get-pregnant"
    )


@pytest.mark.parametrize("programme", PROGRAMMES)
def test_each_question_bank_is_small_cited_and_answerable(
    programme: str, kb: KnowledgeBase
) -> None:
    bank = kb.questions(programme)
    assert 6 <= len(bank) <= 8
    known = {s.id for s in kb.sources}
    for question in bank:
        assert question.id.startswith(f"{programme}.q-")
        assert len(question.options) >= 2
        assert 0 <= question.correct < len(question.options)
        assert len(set(question.options)) == len(question.options)
        assert question.sources
        assert set(question.sources) <= known
        assert question.explanation.strip()
