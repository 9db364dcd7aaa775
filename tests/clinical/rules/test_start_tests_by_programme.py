"""PPP-START-TESTS follows the clinic's rule set: iPLEDGE asks for two negative
start tests, the EU programme for one medically supervised test."""

from __future__ import annotations

from pathlib import Path

import pytest

import isotrack.clinical.screening.rules.pregnancy  # noqa: F401  # registers the rule
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import TestSetting
from isotrack.knowledge import KnowledgeBase, load_knowledge
from tests.clinical.builders import order
from tests.clinical.builders_pregnancy import TODAY, negative, using, woman

IMPLANT_ONLY = (using("implant-etonogestrel", 400),)


@pytest.fixture(scope="module")
def eu_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    policy: Path = tmp_path_factory.mktemp("policy") / "clinic.toml"
    policy.write_text('[parameters]\n"ppp.default_programme" = "eu-ppp-2018"\n')
    return load_knowledge(policy)


def fires(kb: KnowledgeBase, **changes: object) -> bool:
    return screen_order(woman(**changes), order(), on=TODAY, kb=kb).has("PPP-START-TESTS")


def test_one_medical_test_after_a_month_of_an_implant_is_enough_in_the_eu(
    eu_kb: KnowledgeBase,
) -> None:
    assert not fires(eu_kb, pregnancy_tests=(negative(3),), contraception=IMPLANT_ONLY)


def test_the_same_patient_needs_a_second_test_under_ipledge(kb: KnowledgeBase) -> None:
    assert fires(kb, pregnancy_tests=(negative(3),), contraception=IMPLANT_ONLY)


def test_the_eu_start_test_must_be_medically_supervised(eu_kb: KnowledgeBase) -> None:
    home = (negative(3, TestSetting.HOME),)
    result = screen_order(
        woman(pregnancy_tests=home, contraception=IMPLANT_ONLY), order(), on=TODAY, kb=eu_kb
    )
    finding = next(f for f in result.findings if f.rule_id == "PPP-START-TESTS")
    assert finding.summary.startswith("Start pregnancy test not documented")
    assert "in a medical setting" in finding.detail


def test_the_eu_start_test_must_follow_a_month_of_contraception(eu_kb: KnowledgeBase) -> None:
    recent = (using("implant-etonogestrel", 10),)
    assert fires(eu_kb, pregnancy_tests=(negative(3),), contraception=recent)
