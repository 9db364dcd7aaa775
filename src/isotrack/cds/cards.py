"""Findings to CDS Hooks cards, one card per finding, most severe first.

A card's ``detail`` is GitHub-flavoured Markdown: the reason, the patient data
the rule used, what to do, the sources (titles from the knowledge base) and
isotrack's safety line. Text that came from the patient's record is escaped, so
a medication name cannot inject a link, an image or HTML into the EHR's
display (brackets, emphasis, backticks, angle brackets and the like are
escaped; parentheses are left as they are: without brackets they make no link).
Warning and critical cards carry the override reasons of the knowledge base;
cards link to isotrack's SMART app (its ``/smart/launch``) only when its URL is
configured, with the EHR's patient and the draft order under review in the link's
``appContext`` (:func:`smart_app_context`), which the EHR hands back to isotrack in
the launch's token response, so that the app opens at that patient and order.

>>> escape_markdown("*Doxy* [x](y)")
'\\\\*Doxy\\\\* \\\\[x\\\\](y)'
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from isotrack import SAFETY_LINE
from isotrack.cds.models import Card, CardSource, Coding, Indicator, Link, Suggestion
from isotrack.cds.suggestions import SuggestionContext, suggestions_for
from isotrack.clinical.findings import SUMMARY_MAX, Finding, Severity
from isotrack.knowledge.base import KnowledgeBase

SOURCE_LABEL = "isotrack"
RULE_SYSTEM = "urn:isotrack:rule"
OVERRIDE_REASON_SYSTEM = "urn:isotrack:override-reason"
MAX_NOTES = 12
"""Assumptions listed on a card; more are counted, not listed."""
INDICATORS: dict[Severity, Indicator] = {
    Severity.CRITICAL: "critical",
    Severity.WARNING: "warning",
    Severity.INFO: "info",
}
_MARKDOWN = tuple((c, "\\" + c) for c in "\\`*_{}[]<>!|~")
"""Each Markdown punctuation character that could format or link, and its escape (the
backslash first, so that the escapes added are not escaped again)."""


def escape_markdown(text: str) -> str:
    for character, escaped in _MARKDOWN:
        if character in text:  # a scan in C; most texts hold few of these
            text = text.replace(character, escaped)
    return text


@dataclass(frozen=True)
class CardSettings:
    """What the cards of every request share (built once per app)."""

    kb: KnowledgeBase
    smart_app_url: str | None = None

    def override_reasons(self) -> tuple[Coding, ...]:
        return tuple(
            Coding(system=OVERRIDE_REASON_SYSTEM, code=r.id, display=r.display)
            for r in self.kb.override_reasons
        )


def render_cards(
    findings: Iterable[Finding],
    notes: Iterable[str],
    *,
    settings: CardSettings,
    suggestion_context: SuggestionContext,
) -> tuple[Card, ...]:
    """The cards of ``findings`` (already most severe first). The assessment's
    ``notes`` (assumptions) go on the DATA-MISSING card if there is one, else on
    the first card."""
    ordered = sorted(findings, key=lambda f: f.sort_key)
    notes = list(notes)
    holder = next((f for f in ordered if f.rule_id == "DATA-MISSING"), None)
    if holder is None and ordered:
        holder = ordered[0]
    reasons = settings.override_reasons()
    snapshot, draft = suggestion_context.snapshot, suggestion_context.draft
    app_context = smart_app_context(snapshot.patient_id, draft)
    return tuple(
        _card(
            finding,
            settings,
            suggestions_for(finding, suggestion_context),
            notes if finding is holder else [],
            reasons,
            app_context,
        )
        for finding in ordered
    )


def smart_app_context(patient_id: str, draft: Mapping[str, Any] | None) -> str:
    """The ``appContext`` of a card's SMART link (CDS Hooks 2.0.1: a string the EHR
    passes to the launched app): the EHR's patient id and, for an order hook, the
    draft MedicationRequest under review, as JSON.

    >>> smart_app_context("p-1", {"resourceType": "MedicationRequest", "id": "draft-9"})
    '{"patient":"p-1","order":"MedicationRequest/draft-9"}'
    >>> smart_app_context("p-1", None)
    '{"patient":"p-1"}'
    """
    context = {"patient": patient_id}
    draft_id = draft.get("id") if draft is not None else None
    if isinstance(draft_id, str) and draft_id:
        context["order"] = f"MedicationRequest/{draft_id}"
    return json.dumps(context, separators=(",", ":"))


def _card(
    finding: Finding,
    settings: CardSettings,
    suggestions: tuple[Suggestion, ...],
    notes: Sequence[str],
    reasons: tuple[Coding, ...],
    app_context: str,
) -> Card:
    kb = settings.kb
    rule = kb.rule(finding.rule_id)
    summary = finding.summary
    if len(summary) > SUMMARY_MAX:
        summary = summary[: SUMMARY_MAX - 1] + "…"
    needs_decision = finding.severity is not Severity.INFO
    links: tuple[Link, ...] = ()
    if settings.smart_app_url:
        links = (
            Link(
                label="Open the patient's isotretinoin course in isotrack",
                url=settings.smart_app_url,
                type="smart",
                app_context=app_context,
            ),
        )
    return Card(
        uuid=str(uuid.uuid4()),
        summary=summary,
        indicator=INDICATORS[finding.severity],
        source=CardSource(
            label=SOURCE_LABEL,
            topic=Coding(system=RULE_SYSTEM, code=finding.rule_id, display=rule.title),
        ),
        detail=card_detail(finding, kb, notes),
        suggestions=suggestions,
        selection_behavior="at-most-one" if suggestions else None,
        override_reasons=reasons if needs_decision else (),
        links=links,
    )


def card_detail(finding: Finding, kb: KnowledgeBase, notes: Sequence[str] = ()) -> str:
    """The Markdown detail of one finding's card."""
    rule = kb.rule(finding.rule_id)
    policy = " Threshold set by clinic policy." if finding.policy else ""
    parts = [f"**{escape_markdown(rule.title)}** ({finding.severity.label}).{policy}"]
    parts.append(escape_markdown(finding.detail))
    if finding.data:
        rows = "\n".join(
            f"- {escape_markdown(label)}: {escape_markdown(value)}" for label, value in finding.data
        )
        parts.append(f"**Patient data used**\n\n{rows}")
    parts.append(f"**What to do:** {escape_markdown(finding.action)}")
    titles = "; ".join(escape_markdown(kb.source(s).title) for s in finding.sources)
    parts.append(f"**Sources:** {titles}")
    if notes:
        listed = [f"- {escape_markdown(n)}" for n in notes[:MAX_NOTES]]
        if len(notes) > MAX_NOTES:
            listed.append(f"- … and {len(notes) - MAX_NOTES} more")
        parts.append("**Assumptions and notes**\n\n" + "\n".join(listed))
    parts.append(f"_{SAFETY_LINE}_")
    return "\n\n".join(parts)
