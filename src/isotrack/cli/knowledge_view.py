"""How knowledge entries are shown on the command line: basis names, source
citations, and the pregnancy prevention programme rule sets (a table, JSON,
Markdown) that ``isotrack rules`` and ``isotrack ppp status`` print."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.describe import (
    DEFAULT_PROGRAMME_PARAMETER,
    active_programme,
    programme_line,
)
from isotrack.knowledge.model import Programme, ProgrammeRule

APPLIES_TO = {
    "can-get-pregnant": "patients who can get pregnant",
    "cannot-get-pregnant": "patients who cannot get pregnant",
    "all": "all patients",
}


def source_json(kb: KnowledgeBase, source_ids: tuple[str, ...]) -> list[dict[str, str]]:
    result = []
    for source_id in source_ids:
        source = kb.source(source_id)
        item = {
            "id": source.id,
            "title": source.title,
            "grade": source.grade,
            "citation": source.citation,
        }
        if source.url:
            item["url"] = source.url
        result.append(item)
    return result


def markdown_cell(text: str) -> str:
    """One Markdown table cell: blanks collapsed, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def markdown_citations(kb: KnowledgeBase, source_ids: tuple[str, ...]) -> str:
    return "; ".join(f"[{s}](sources.md#{s})" for s in source_ids)


# --- Programme rule sets ----------------------------------------------------------------------
def rule_value(rule: ProgrammeRule) -> str:
    """A rule's value as people read it: '7 d', 'yes', '2 {method}' becomes '2 methods'."""
    value = rule.value
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = f"{value:g}" if isinstance(value, int | float) else str(value)
    unit = rule.unit.strip()
    if unit.startswith("{") and unit.endswith("}"):  # UCUM annotation: {method} -> method(s)
        unit = unit[1:-1] + ("" if value == 1 else "s")
    return f"{text} {unit}".strip()


def programme_rule_json(kb: KnowledgeBase, rule: ProgrammeRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "value": rule.value,
        "unit": rule.unit,
        "value_text": rule_value(rule),
        "applies_to": rule.applies_to,
        "description": rule.description,
        "sources": source_json(kb, rule.sources),
    }


def programme_json(kb: KnowledgeBase, programme: Programme) -> dict[str, Any]:
    """A rule set with its rules, for ``isotrack rules --programme --json``."""
    return {
        "id": programme.id,
        "name": programme.name,
        "region": programme.region,
        "version": programme.version,
        "summary": programme.summary,
        "contraception_rule": programme.contraception_rule,
        "active": programme.id == active_programme(kb).id,
        "questions": len(kb.questions(programme.id)),
        "sources": source_json(kb, programme.sources),
        "rules": [programme_rule_json(kb, r) for r in kb.programme_rules(programme.id)],
    }


def programme_rules_view(kb: KnowledgeBase, programme: Programme) -> Group:
    """The rules of one rule set, one block each (readable at any terminal width):

    ``test_window_days = 7 d (patients who can get pregnant)``, then what it says and
    its sources, indented."""
    blocks: list[RenderableType] = [Text(f"Rules of {programme.id}:", style="bold")]
    for rule in kb.programme_rules(programme.id):
        head = Text()
        head.append(rule.name, style="bold")
        head.append(f" = {rule_value(rule)}")
        head.append(f" ({APPLIES_TO.get(rule.applies_to, rule.applies_to)})", style="dim")
        body = Text(rule.description)
        body.append(f"\nSources: {', '.join(rule.sources)}", style="dim")
        blocks += [head, Padding(body, (0, 0, 0, 4))]
    return Group(*blocks)


def programmes_markdown(kb: KnowledgeBase) -> list[str]:
    """Markdown lines: one section per rule set, the active one named."""
    active = active_programme(kb)
    lines = [
        "",
        "## Pregnancy prevention programmes",
        "",
        f"The clinic's rule set is `{DEFAULT_PROGRAMME_PARAMETER}` (clinic policy); by default",
        f"**{programme_line(active)}**. A patient's course records which rule set and",
        "version applied each month (`isotrack ppp status`); [ppp.md](ppp.md) explains them.",
    ]
    for programme in kb.programmes:
        lines += programme_markdown(kb, programme, level=3)
    return lines


def programme_markdown(kb: KnowledgeBase, programme: Programme, *, level: int) -> list[str]:
    """Markdown lines of one rule set: a heading of ``level``, its summary, its rules."""
    questions = len(kb.questions(programme.id))
    lines = [
        "",
        f"{'#' * level} {programme.name} (`{programme.id}`)",
        "",
        f"Version: {markdown_cell(programme.version)}. Region: {programme.region}. "
        f"{markdown_cell(programme.summary)} Comprehension questions in the bank: "
        f"{questions}. Sources: {markdown_citations(kb, programme.sources)}.",
        "",
        "| rule | value | applies to | what it says | sources |",
        "|---|---|---|---|---|",
    ]
    for rule in kb.programme_rules(programme.id):
        lines.append(
            f"| `{rule.name}` | {markdown_cell(rule_value(rule))} "
            f"| {APPLIES_TO.get(rule.applies_to, rule.applies_to)} "
            f"| {markdown_cell(rule.description)} | {markdown_citations(kb, rule.sources)} |"
        )
    return lines
