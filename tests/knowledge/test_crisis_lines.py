"""The crisis lines a patient is given: one per country, each with its source."""

from __future__ import annotations

import pytest

from isotrack.errors import IsotrackError
from isotrack.knowledge import KnowledgeBase


@pytest.mark.parametrize(
    ("country", "phone", "source"),
    [
        ("US", "988", "us-988-lifeline"),
        ("GB", "116 123", "uk-samaritans"),
        ("FR", "3114", "fr-3114"),
    ],
)
def test_each_country_has_its_national_line_with_a_source(
    kb: KnowledgeBase, country: str, phone: str, source: str
) -> None:
    line = kb.crisis_line(country.lower())
    assert line.phone == phone
    assert source in line.sources
    assert kb.source(source).url.startswith("https://")


def test_every_crisis_line_is_keyed_by_a_two_letter_country_code(kb: KnowledgeBase) -> None:
    assert kb.crisis_lines
    assert all(len(line.id) == 2 and line.id.isupper() for line in kb.crisis_lines)


def test_a_country_without_a_line_is_a_clear_error(kb: KnowledgeBase) -> None:
    with pytest.raises(IsotrackError, match="ZZ"):
        kb.crisis_line("zz")
