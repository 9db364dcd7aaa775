"""The knowledge loader refuses what it cannot trust and names where."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from isotrack.errors import KnowledgeError
from isotrack.knowledge import KnowledgeBase, load_knowledge
from isotrack.knowledge.loader import parse_documents
from isotrack.knowledge.model import Entry
from tests.conftest import shared_dir

SOURCE = b"""
[[source]]
id = "s1"
title = "A label"
grade = "P"
citation = "A label, 2024."
"""


def parse(text: str) -> None:
    parse_documents([("sources.toml", SOURCE), ("extra.toml", text.encode())])


def test_entry_without_sources_is_refused_naming_file_entry_and_field() -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse(
            '[[parameter]]\nid = "x.days"\nvalue = 7\nunit = "d"\nbasis = "L"\ndescription = "d"\n'
        )
    assert caught.value.file == "extra.toml"
    assert caught.value.entry == "x.days"
    assert caught.value.field == "sources"
    assert "extra.toml, entry 'x.days', field 'sources'" in str(caught.value)


def test_entry_with_empty_sources_is_refused() -> None:
    with pytest.raises(KnowledgeError, match="at least one source"):
        parse(
            '[[parameter]]\nid = "x"\nvalue = 7\nunit = "d"\nbasis = "L"\n'
            'description = "d"\nsources = []\n'
        )


def test_unknown_source_id_is_refused() -> None:
    with pytest.raises(KnowledgeError, match="'nope' is not in the bibliography"):
        parse(
            '[[parameter]]\nid = "x"\nvalue = 7\nunit = "d"\nbasis = "L"\n'
            'description = "d"\nsources = ["nope"]\n'
        )


def test_entry_without_id_is_refused() -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse(
            '[[parameter]]\nvalue = 7\nunit = "d"\nbasis = "L"\ndescription = "d"\n'
            'sources = ["s1"]\n'
        )
    assert caught.value.field == "id"


def test_wrong_type_names_the_field() -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse(
            '[[product]]\nid = "p"\nname = "P"\nroute = "oral"\nform = "capsule"\n'
            'strengths_mg = ["ten"]\nsources = ["s1"]\n'
        )
    assert caught.value.entry == "p"
    assert caught.value.field is not None
    assert caught.value.field.startswith("strengths_mg")


def test_unknown_field_is_refused() -> None:
    with pytest.raises(KnowledgeError, match="colour"):
        parse('[[source]]\nid = "s2"\ntitle = "t"\ngrade = "P"\ncitation = "c"\ncolour = "red"\n')


def test_duplicate_id_is_refused() -> None:
    with pytest.raises(KnowledgeError, match="duplicate id"):
        parse('[[source]]\nid = "s1"\ntitle = "t"\ngrade = "P"\ncitation = "c"\n')


def test_dangling_reference_is_refused() -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse(
            '[[symptom]]\nid = "x"\ntext = "t"\nrule = "NO-SUCH-RULE"\nadvice = "a"\n'
            'sources = ["s1"]\n'
        )
    assert caught.value.field == "rule"


def test_unknown_table_and_bad_toml_are_refused() -> None:
    with pytest.raises(KnowledgeError, match="unknown table"):
        parse('[[gadget]]\nid = "x"\n')
    with pytest.raises(KnowledgeError, match="not valid TOML"):
        parse("[[source]\n")


def test_every_packaged_entry_has_resolvable_sources(kb: KnowledgeBase) -> None:
    source_ids = {s.id for s in kb.sources}
    count = 0
    for entries in kb.entries.values():
        for entry in entries.values():
            if isinstance(entry, Entry):
                assert entry.sources, entry.id
                assert set(entry.sources) <= source_ids, entry.id
                count += 1
    assert count > 150


def _catalogue_ids() -> set[str]:
    rules_md = shared_dir() / "clinical" / "rules.md"
    if not rules_md.exists():
        pytest.skip(f"{rules_md} not found")
    return set(re.findall(r"^\| `([A-Z0-9-]+)` \|", rules_md.read_text(), flags=re.M))


def test_rule_catalogue_matches_shared_rules_md(kb: KnowledgeBase) -> None:
    assert {r.id for r in kb.rules} == _catalogue_ids()


def test_every_rule_has_severity_basis_and_source(kb: KnowledgeBase) -> None:
    for rule in kb.rules:
        assert all((rule.severities, rule.basis, rule.sources, rule.action)), rule.id


def test_policy_file_overrides_policy_thresholds(tmp_path: Path) -> None:
    policy = tmp_path / "clinic.toml"
    policy.write_text('[parameters]\n"tg.warning_mg_dl" = 450\n')
    kb = load_knowledge(policy)
    assert kb.number("tg.warning_mg_dl") == 450
    assert kb.overridden == frozenset({"tg.warning_mg_dl"})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[parameters]\n"ppp.test_window_days" = 10\n', "only basis-P parameters"),
        ('[parameters]\n"no.such" = 1\n', "no such parameter"),
        ('[parameters]\n"tg.warning_mg_dl" = "high"\n', "must be a int"),
        ("[rules]\nx = 1\n", "only have a \\[parameters\\] table"),
    ],
)
def test_policy_file_refuses_label_facts_unknown_ids_and_wrong_types(
    tmp_path: Path, content: str, message: str
) -> None:
    policy = tmp_path / "clinic.toml"
    policy.write_text(content)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(policy)


def test_missing_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="cannot read"):
        load_knowledge(tmp_path / "absent.toml")
