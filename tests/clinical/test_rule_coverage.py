"""Every catalogue id is implemented where its table says, and each triage
rule fires for its own symptoms and for no other."""

from __future__ import annotations

import pytest

from isotrack.clinical.monitoring.triage import triage
from isotrack.clinical.screening.context import COURSE_RULES, ORDER_RULES, screen_order
from isotrack.knowledge import KnowledgeBase, default_knowledge
from tests.clinical.builders import TODAY, man, order


def test_every_order_and_course_rule_of_the_catalogue_is_registered(kb: KnowledgeBase) -> None:
    screen_order(man(), order(), on=TODAY, kb=kb)  # loads the rule modules
    assert set(ORDER_RULES) == {r.id for r in kb.rules if r.table == "order"}
    assert set(COURSE_RULES) == {r.id for r in kb.rules if r.table == "course"}


@pytest.mark.parametrize("symptom", [s.id for s in default_knowledge().symptoms])
def test_each_symptom_fires_its_own_triage_rule_and_no_other(
    kb: KnowledgeBase, symptom: str
) -> None:
    result = triage([symptom], kb)
    assert [f.rule_id for f in result.findings] == [kb.symptom(symptom).rule]


def test_a_healthy_adult_man_with_a_clean_order_gets_no_finding(kb: KnowledgeBase) -> None:
    """The baseline the near-miss tests rely on: nothing fires without a reason."""
    from isotrack.clinical.snapshot import IsotretinoinCourse, LabResult

    course = IsotretinoinCourse(start=TODAY, product="conventional", prescriptions=1)
    labs = (LabResult("triglycerides", 120.0, "mg/dL", TODAY), LabResult("alt", 20.0, "U/L", TODAY))
    result = screen_order(man(labs=labs, courses=(course,)), order(), on=TODAY, kb=kb)
    assert result.findings == ()
