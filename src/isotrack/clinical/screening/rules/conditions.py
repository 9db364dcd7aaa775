"""Conditions that the label warns about: liver disease, pancreatitis,
psychiatric history, inflammatory bowel disease, diabetes (facts.md §4).

Each topic has two code lists in ``valuesets-conditions.toml``: ``<topic>``
(SNOMED CT codes and text) and ``<topic>-icd10cm-categories`` (ICD-10-CM
categories matched as code prefixes, so E11.65 is in E11). A coded match wins
over a match by name; a match by name only is ignored when the words show it is
not the patient's own diagnosis (``condition-text-exclusions``), and the
finding says when a condition was recognised by name only.

The two matching helpers here, :func:`match_as_words` and
:func:`icd10_category_matches`, are also used by the drug and allergy rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from isotrack.clinical.codes import (
    ICD10CM,
    NO_MATCH,
    Coding,
    Concept,
    ConceptMatches,
    Match,
    match,
)
from isotrack.clinical.findings import SUMMARY_MAX, Finding, Severity, make_finding
from isotrack.clinical.screening.context import ScreeningContext, order_rule
from isotrack.clinical.snapshot import ConditionRecord
from isotrack.knowledge.base import KnowledgeBase
from isotrack.knowledge.codelists import ValueSet

SUMMARY_LIMIT = SUMMARY_MAX
"""The longest CDS card summary (contracts/cds-hooks.md), not a clinical number."""

TEXT_EXCLUSIONS = "condition-text-exclusions"
PAST_EXCLUSIONS = "condition-text-exclusions-past"


def match_as_words(
    concept: Concept, valueset: ValueSet, exclusions: Sequence[ValueSet] = ()
) -> Match:
    """:func:`~isotrack.clinical.codes.match`, with text fragments read against the
    concept's words padded with a space at each end (so ``" diabetes"`` marks a word
    start and does not match "prediabetes"). A match by text only is dropped when
    the words contain a fragment of one of ``exclusions``; a coded match never is.

    >>> from isotrack.knowledge import default_knowledge
    >>> kb = default_knowledge()
    >>> match_as_words(Concept(text="Prediabetes"), kb.valueset("diabetes")).matched
    False
    >>> match_as_words(Concept(text="Diabetes"), kb.valueset("diabetes")).by_text
    True
    """
    coded = match(Concept(concept.codings), valueset)
    if coded.matched and not coded.by_text:
        return coded
    words = f" {concept.words()} "
    if not any(fragment in words for fragment in valueset.folded_text):
        return NO_MATCH
    for excluded in exclusions:
        if any(fragment in words for fragment in excluded.folded_text):
            return NO_MATCH
    return Match(True, True, None)


def _icd10_key(code: str) -> str:
    return code.replace(".", "").strip().upper()


_PREFIXES: dict[int, tuple[ValueSet, tuple[str, ...]]] = {}
"""ICD-10-CM category prefixes by value set (the value set is kept, so its id stays its own)."""


def _icd10_prefixes(categories: ValueSet) -> tuple[str, ...]:
    known = _PREFIXES.get(id(categories))
    if known is not None and known[0] is categories:
        return known[1]
    prefixes = tuple(_icd10_key(c.code) for c in categories.codes if c.system == "icd10cm")
    if len(_PREFIXES) > 256:  # value sets of knowledge bases loaded and dropped (tests)
        _PREFIXES.clear()
    _PREFIXES[id(categories)] = (categories, prefixes)
    return prefixes


def icd10_category_matches(concept: Concept, categories: ValueSet) -> Coding | None:
    """The concept's ICD-10-CM coding that falls in one of ``categories`` (codes
    read as category or subcategory prefixes, dots ignored), or None.

    >>> from isotrack.knowledge import default_knowledge
    >>> kb = default_knowledge()
    >>> e11 = Concept((Coding(ICD10CM, "E11.65"),))
    >>> icd10_category_matches(e11, kb.valueset("diabetes-icd10cm-categories")).code
    'E11.65'
    """
    prefixes = _icd10_prefixes(categories)
    for coding in concept.codings:
        if coding.system == ICD10CM and _icd10_key(coding.code).startswith(prefixes):
            return coding
    return None


@dataclass(frozen=True, slots=True)
class ConditionHit:
    record: ConditionRecord
    evidence: str
    """How it matched: '[snomed 44054006]', '[ICD-10-CM E11.9, category E11]', or by name."""
    by_text: bool

    def describe(self) -> str:
        text = f"{self.record.concept.label} {self.evidence}"
        if self.record.onset is not None:
            text += f", onset {self.record.onset.isoformat()}"
        if self.record.clinical_status:
            text += f", status {self.record.clinical_status}"
        return text

    @property
    def short(self) -> str:
        onset = f" ({self.record.onset.isoformat()})" if self.record.onset else ""
        return f"{self.record.concept.label}{onset}"


def _evidence(
    kb: KnowledgeBase, topic: str, exclusions: tuple[str, ...], concept: Concept
) -> tuple[str, bool] | None:
    """How ``concept`` belongs to ``topic`` (evidence text, by text only), or None."""
    found = match_as_words(concept, kb.valueset(topic), [kb.valueset(e) for e in exclusions])
    if found.matched and found.coding is not None:
        system = "ICD-10-CM" if found.coding.system == ICD10CM else "SNOMED CT"
        return f"[{system} {found.coding.code}]", False
    categories = kb.valueset(f"{topic}-icd10cm-categories")
    coding = icd10_category_matches(concept, categories)
    if coding is not None:
        key = _icd10_key(coding.code)
        prefix = next(c.code for c in categories.codes if key.startswith(_icd10_key(c.code)))
        return f"[ICD-10-CM {coding.code}, category {prefix}]", False
    if found.matched:
        return "[recognised by name only, no matching code]", True
    return None


def words_match(ctx: ScreeningContext, memo: ConceptMatches, valueset_id: str) -> Match:
    """:func:`match_as_words` of the memo's concept and ``valueset_id`` (no exclusions),
    worked out once per concept."""
    kb = ctx.kb
    return memo.remember(
        ("as-words", valueset_id), lambda concept: match_as_words(concept, kb.valueset(valueset_id))
    )


def condition_hits(ctx: ScreeningContext, topic: str, *, active: bool) -> list[ConditionHit]:
    """Condition records of ``topic``: active on the evaluation date, or ever
    recorded up to it (refuted and entered-in-error records never count)."""
    records = ctx.active_condition_records if active else ctx.condition_records_ever
    exclusions = (TEXT_EXCLUSIONS, PAST_EXCLUSIONS) if active else (TEXT_EXCLUSIONS,)
    evidence = partial(_evidence, ctx.kb, topic, exclusions)
    ctx.kb.valueset(topic)  # an unknown topic fails even when no condition is recorded
    key = ("condition-evidence", topic, exclusions)
    hits = []
    for record, memo in records:
        found = memo.remember(key, evidence)
        if found is not None:
            hits.append(ConditionHit(record, *found))
    return sorted(hits, key=lambda h: (h.by_text, h.record.onset is None, h.record.onset or ctx.on))


def _summary(prefix: str, hits: list[ConditionHit], suffix: str) -> str:
    more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
    room = SUMMARY_LIMIT - len(prefix) - len(more) - len(suffix)
    label = hits[0].short
    if len(label) > room:
        label = label[: max(room - 1, 0)] + "…"
    return f"{prefix}{label}{more}{suffix}"


def _finding(
    ctx: ScreeningContext,
    rule_id: str,
    hits: list[ConditionHit],
    *,
    prefix: str,
    suffix: str,
    why: str,
    which: str,
    severity: Severity | None = None,
) -> Finding:
    listed = "; ".join(h.describe() for h in hits)
    by_text = (
        " A condition recognised by name only may be a different disorder: check the record."
        if any(h.by_text for h in hits)
        else ""
    )
    return make_finding(
        ctx.kb,
        rule_id,
        _summary(prefix, hits, suffix),
        f"{why} Conditions {which}: {listed}.{by_text}",
        severity=severity,
        data=[("condition", h.describe()) for h in hits],
    )


@order_rule("HEPATIC-DISEASE")
def hepatic_disease(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = condition_hits(ctx, "hepatic-disease", active=True)
    if hits:
        yield _finding(
            ctx,
            "HEPATIC-DISEASE",
            hits,
            prefix="Active liver disease: ",
            suffix="",
            why="Hepatic insufficiency is a contraindication in the EU SmPC, and the US label "
            "warns of hepatotoxicity; cirrhosis and active hepatitis are treated the same way.",
            which=f"recorded as active on {ctx.on.isoformat()}",
        )


@order_rule("PANCREATITIS-HISTORY")
def pancreatitis_history(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = condition_hits(ctx, "pancreatitis", active=False)
    if hits:
        yield _finding(
            ctx,
            "PANCREATITIS-HISTORY",
            hits,
            prefix="History of pancreatitis: ",
            suffix="",
            why="Isotretinoin can cause pancreatitis, with raised or normal triglycerides; "
            "rare cases were fatal.",
            which="ever recorded (any status except refuted)",
        )


@order_rule("PSYCH-HISTORY")
def psychiatric_history(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = condition_hits(ctx, "psychiatric-history", active=False)
    if hits:
        yield _finding(
            ctx,
            "PSYCH-HISTORY",
            hits,
            prefix="Psychiatric history: ",
            suffix="; screen mood monthly",
            why="The label warns of depression, psychosis and, rarely, suicidal ideation, "
            "attempts and suicide: ask about history before starting and assess mood at "
            "every visit.",
            which="ever recorded (any status except refuted)",
        )


@order_rule("IBD-HISTORY")
def ibd_history(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = condition_hits(ctx, "inflammatory-bowel-disease", active=False)
    if hits:
        yield _finding(
            ctx,
            "IBD-HISTORY",
            hits,
            prefix="Inflammatory bowel disease: ",
            suffix="",
            why="Isotretinoin is associated with inflammatory bowel disease; stop it if "
            "abdominal pain, rectal bleeding or severe diarrhoea occur.",
            which="ever recorded (any status except refuted)",
        )


@order_rule("DIABETES")
def diabetes(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = condition_hits(ctx, "diabetes", active=False)
    if hits:
        yield _finding(
            ctx,
            "DIABETES",
            hits,
            prefix="Diabetes recorded: ",
            suffix="; check glucose more often",
            why="Raised fasting glucose and new diabetes have been reported; in known or "
            "suspected diabetes, check blood glucose more often. Diabetes is counted when "
            "ever recorded (it is lifelong; a 'resolved' status is usually a record-keeping "
            "artefact); prediabetes and gestational diabetes are not counted.",
            which="ever recorded (any status except refuted)",
        )
