"""Knowledge commands: rules (with the active programme rule set), claims, monograph, sources."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from isotrack import SAFETY_LINE
from isotrack.cli.app import PolicyOption, app, knowledge, out, print_json, translate_errors
from isotrack.cli.knowledge_view import (
    markdown_cell,
    markdown_citations,
    programme_json,
    programme_markdown,
    programme_rules_view,
    programmes_markdown,
    source_json,
)
from isotrack.errors import InvalidInputError, NotFoundError
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.describe import active_programme, basis_text, programme_line
from isotrack.knowledge.model import Programme, Rule

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
MarkdownOption = Annotated[
    bool, typer.Option("--markdown", help="Print Markdown (the docs/ page is made this way).")
]


@app.command("rules")
@translate_errors
def rules_command(
    as_json: JsonOption = False,
    table: Annotated[
        str | None,
        typer.Option("--table", help="Only one table: order, course or triage."),
    ] = None,
    policy: PolicyOption = None,
    as_markdown: MarkdownOption = False,
    programme_rules: Annotated[
        bool,
        typer.Option(
            "--programme",
            help="List the rules of the active pregnancy prevention programme rule set "
            "(values and sources) instead of the catalogue.",
        ),
    ] = False,
    rule_set: Annotated[
        str | None,
        typer.Option(
            "--rule-set",
            metavar="ID",
            help="Show this rule set (e.g. eu-ppp-2018) instead of the active one; "
            "goes with --programme",
        ),
    ] = None,
) -> None:
    """List the rule catalogue: every finding id with its severity, basis and sources.

    The table ends with the active pregnancy prevention programme rule set and
    its version; --programme lists that rule set's rules.

    Example: [bold]isotrack rules --table order[/bold]  or  [bold]isotrack rules --json[/bold]
    Example: [bold]isotrack rules --programme[/bold]
    Example: [bold]isotrack rules --programme --rule-set eu-ppp-2018 --json[/bold]
    """
    kb = knowledge(policy)
    if table is not None and table not in ("order", "course", "triage"):
        raise InvalidInputError("--table", f"must be order, course or triage, not {table!r}")
    if rule_set is not None and not programme_rules:
        raise InvalidInputError("--rule-set", "goes with --programme")
    if programme_rules:
        if table is not None:
            raise InvalidInputError("--table", "lists the catalogue; leave it out with --programme")
        show_programme(kb, chosen_programme(kb, rule_set), as_json=as_json, as_markdown=as_markdown)
        return
    rules = [r for r in kb.rules if table is None or r.table == table]
    if as_markdown:
        print(rules_markdown(kb, rules, with_programmes=table is None), end="")
        return
    if as_json:
        print_json(
            [
                {
                    "id": r.id,
                    "title": r.title,
                    "table": r.table,
                    "severities": list(r.severities),
                    "basis": r.basis,
                    "basis_text": basis_text(r.basis),
                    "section": r.section,
                    "fires_when": r.fires_when,
                    "action": r.action,
                    **({"triage_action": r.triage_action} if r.triage_action else {}),
                    "sources": source_json(kb, r.sources),
                }
                for r in rules
            ]
        )
        return
    view = Table(title="isotrack rule catalogue", caption=SAFETY_LINE, show_lines=False)
    for column in ("id", "table", "severity", "basis", "fires when", "sources"):
        view.add_column(column, overflow="fold")
    for r in rules:
        view.add_row(
            r.id,
            r.table,
            "/".join(r.severities),
            basis_text(r.basis),
            r.fires_when,
            ", ".join(r.sources),
        )
    out.print(view)
    programme = active_programme(kb)
    out.print(
        f"Pregnancy prevention programme: {programme_line(programme)}",
        markup=False,
        soft_wrap=True,
    )
    out.print(
        f"  {len(kb.programme_rules(programme.id))} rules; "
        "`isotrack rules --programme` lists them with their values and sources.",
        markup=False,
        soft_wrap=True,
    )
    if kb.overridden:
        out.print(f"Clinic policy {kb.policy_file} overrides: {', '.join(sorted(kb.overridden))}")


def chosen_programme(kb: KnowledgeBase, rule_set: str | None) -> Programme:
    """The rule set named by --rule-set, else the active one."""
    if rule_set is None:
        return active_programme(kb)
    known = ", ".join(p.id for p in kb.programmes)
    try:
        return kb.programme(rule_set)
    except NotFoundError:
        raise InvalidInputError("--rule-set", f"no rule set {rule_set!r}; known: {known}") from None


def show_programme(
    kb: KnowledgeBase, programme: Programme, *, as_json: bool, as_markdown: bool
) -> None:
    """``isotrack rules --programme``: one rule set, its rules, values and sources."""
    if as_json:
        print_json(programme_json(kb, programme))
        return
    if as_markdown:
        print("\n".join(programme_markdown(kb, programme, level=1)).lstrip() + "\n", end="")
        return
    active = programme.id == active_programme(kb).id
    state = "active rule set" if active else "not the active rule set"
    out.print(
        f"Pregnancy prevention programme: {programme_line(programme)} ({state})",
        markup=False,
        soft_wrap=True,
    )
    out.print(programme.summary, markup=False)
    out.print(programme_rules_view(kb, programme))
    out.print(
        f"Contraception rule: {programme.contraception_rule}; "
        f"{len(kb.questions(programme.id))} comprehension questions in the bank; "
        f"sources: {', '.join(programme.sources)}.",
        markup=False,
    )
    out.print(SAFETY_LINE, markup=False)


@app.command("claims")
@translate_errors
def claims_command(as_json: JsonOption = False, as_markdown: MarkdownOption = False) -> None:
    """Print the claims of the two seed articles, checked against the sources.

    Example: [bold]isotrack claims[/bold]
    """
    kb = knowledge(None)
    if as_markdown:
        print(claims_markdown(kb), end="")
        return
    if as_json:
        print_json(
            [
                {
                    "id": c.id,
                    "topic": c.topic,
                    "claim": c.claim,
                    "rating": c.rating,
                    "reason": c.reason,
                    "sources": source_json(kb, c.sources),
                }
                for c in kb.claims
            ]
        )
        return
    view = Table(title="Claims of the seed articles, checked against the sources", show_lines=True)
    for column in ("#", "claim", "verdict", "why", "sources"):
        view.add_column(column, overflow="fold")
    for c in kb.claims:
        view.add_row(c.id, c.claim, c.rating, c.reason, ", ".join(c.sources))
    out.print(view)


@app.command("monograph")
@translate_errors
def monograph_command(as_json: JsonOption = False) -> None:
    """Print the drug monograph, indications, contraindications and interactions.

    Each item shows its sources; indications show their evidence level.

    Example: [bold]isotrack monograph[/bold]
    """
    kb = knowledge(None)
    if as_json:
        print_json(
            {
                "monograph": [
                    {
                        "id": s.id,
                        "title": s.title,
                        "text": s.text.strip(),
                        "sources": source_json(kb, s.sources),
                    }
                    for s in kb.monograph
                ],
                "indications": [
                    {
                        "id": i.id,
                        "name": i.name,
                        "status": i.status,
                        "authority": i.authority,
                        "evidence": i.evidence,
                        "summary": i.summary,
                        "sources": source_json(kb, i.sources),
                    }
                    for i in kb.indications
                ],
                "contraindications": [
                    {
                        "id": c.id,
                        "text": c.text,
                        "regions": list(c.regions),
                        "kind": c.kind,
                        "rule": c.rule,
                        "sources": source_json(kb, c.sources),
                    }
                    for c in kb.contraindications
                ],
                "interactions": [
                    {
                        "id": i.id,
                        "agent": i.agent,
                        "effect": i.effect,
                        "management": i.management,
                        "rule": i.rule,
                        "sources": source_json(kb, i.sources),
                    }
                    for i in kb.interactions
                ],
            }
        )
        return
    out.print("[bold]Isotretinoin[/bold]", SAFETY_LINE, sep="\n")
    for section in kb.monograph:
        out.print(f"\n[bold underline]{section.title}[/bold underline]")
        out.print(section.text.strip(), markup=False)
        out.print(f"[dim]Sources: {', '.join(section.sources)}[/dim]")
    view = Table(title="Indications and evidence", show_lines=True)
    for column in ("indication", "status", "evidence", "summary", "sources"):
        view.add_column(column, overflow="fold")
    for i in kb.indications:
        view.add_row(
            i.name, f"{i.status} ({i.authority})", i.evidence, i.summary, ", ".join(i.sources)
        )
    out.print(view)
    if kb.contraindications:
        view = Table(title="Contraindications and warnings", show_lines=False)
        for column in ("", "region", "text", "rule", "sources"):
            view.add_column(column, overflow="fold")
        for c in kb.contraindications:
            view.add_row(c.kind, "/".join(c.regions), c.text, c.rule, ", ".join(c.sources))
        out.print(view)
    if kb.interactions:
        view = Table(title="Interactions", show_lines=False)
        for column in ("agent", "effect", "management", "rule", "sources"):
            view.add_column(column, overflow="fold")
        for x in kb.interactions:
            view.add_row(x.agent, x.effect, x.management, x.rule, ", ".join(x.sources))
        out.print(view)


@app.command("sources")
@translate_errors
def sources_command(as_json: JsonOption = False, as_markdown: MarkdownOption = False) -> None:
    """Print the bibliography every knowledge entry cites.

    Example: [bold]isotrack sources --json[/bold]
    """
    kb = knowledge(None)
    if as_markdown:
        print(sources_markdown(kb), end="")
        return
    ids = tuple(s.id for s in kb.sources)
    if as_json:
        print_json(source_json(kb, ids))
        return
    view = Table(title="Sources (P primary, S secondary)", show_lines=False)
    for column in ("id", "grade", "citation"):
        view.add_column(column, overflow="fold")
    for s in kb.sources:
        view.add_row(s.id, s.grade, s.citation + (f" {s.url}" if s.url else ""))
    out.print(view)


TABLE_TITLES = {
    "order": "Order screening",
    "course": "During the course",
    "triage": "Symptom triage",
}


def rules_markdown(kb: KnowledgeBase, rules: list[Rule], *, with_programmes: bool = False) -> str:
    """The rule catalogue as a Markdown page, with each rule's citations; with
    ``with_programmes``, a section per programme rule set after it."""
    lines = [
        "# Rule catalogue",
        "",
        "Generated by `isotrack rules --markdown` from the knowledge base; a test keeps it",
        "in step. Severity: critical stops the order as written, warning needs a decision,",
        "info is a reminder. Basis: label (or regulatory programme), guideline, clinic policy",
        "(a configurable threshold; see [knowledge.md](knowledge.md#clinic-policy)).",
        "",
        f"> {SAFETY_LINE}",
    ]
    for table in ("order", "course", "triage"):
        chosen = [r for r in rules if r.table == table]
        if not chosen:
            continue
        lines += [
            "",
            f"## {TABLE_TITLES[table]}",
            "",
            "| id | severity | basis | fires when | action | sources |",
            "|---|---|---|---|---|---|",
        ]
        for r in chosen:
            action = f"**{r.triage_action}**: {r.action}" if r.triage_action else r.action
            lines.append(
                f"| `{r.id}` | {'/'.join(r.severities)} | {basis_text(r.basis)} "
                f"| {markdown_cell(r.fires_when)} | {markdown_cell(action)} "
                f"| {markdown_citations(kb, r.sources)} |"
            )
    if with_programmes:
        lines += programmes_markdown(kb)
    return "\n".join(lines) + "\n"


def claims_markdown(kb: KnowledgeBase) -> str:
    """The checked claims as a Markdown page."""
    lines = [
        "# Where the sources disagree with popular articles",
        "",
        "isotrack began from two web articles about isotretinoin. Several of their claims",
        "are wrong or unsupported; the regulatory labels, guidelines and trials win. Each",
        "claim below is recorded in the knowledge base with its verdict (`isotrack claims`).",
        "Generated by `isotrack claims --markdown`; a test keeps it in step.",
        "",
        "| # | claim | verdict | why | sources |",
        "|---|---|---|---|---|",
    ]
    for c in kb.claims:
        lines.append(
            f"| {c.id} | {markdown_cell(c.claim)} | **{markdown_cell(c.rating)}** "
            f"| {markdown_cell(c.reason)} "
            f"| {markdown_citations(kb, c.sources)} |"
        )
    return "\n".join(lines) + "\n"


def sources_markdown(kb: KnowledgeBase) -> str:
    """The bibliography as a Markdown page with one anchor per source id."""
    lines = [
        "# Sources",
        "",
        "Every knowledge entry cites one or more of these ids. Grade P: primary (label,",
        "REMS, guideline, trial); S: secondary; policy: an isotrack default a clinic may",
        "change; definition: a unit definition. Generated by",
        "`isotrack sources --markdown`.",
        "",
    ]
    for s in kb.sources:
        url = f" <{s.url}>" if s.url else ""
        lines += [
            f'<a id="{s.id}"></a>',
            f"- **{s.id}** ({s.grade}): {markdown_cell(s.citation)}{url}",
        ]
    return "\n".join(lines) + "\n"
