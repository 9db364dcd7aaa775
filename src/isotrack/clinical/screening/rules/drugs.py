"""Interacting drugs: tetracyclines, vitamin A, other retinoids, topical
irritants, phenytoin, systemic corticosteroids (facts.md §5).

Only active medication records count (not stopped, completed or cancelled, not
ended before the evaluation date). Whether a drug acts locally or on the whole
body is read from the record's route, else from its name (``dose-forms-local``,
``dose-forms-systemic``): a topical cream or an inhaler never counts as a
systemic drug. A record with neither a route nor a dose form is treated as
systemic, and the finding and the assumptions say so.

Duplicate isotretinoin: the order under review is not among the medication
records. The FHIR translator turns earlier isotretinoin prescriptions into
courses and keeps only another draft isotretinoin order as a medication record;
other sources may send earlier prescriptions that are still active. Any active,
systemic isotretinoin record other than the order under review (same
``source`` reference) is a second active order and needs a decision, even
inside a running course (the prescriber cancels it or marks it completed): we
do not guess which earlier records are "the same course", because two active
orders can both be dispensed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from isotrack.clinical.codes import SNOMED, Coding, Concept
from isotrack.clinical.findings import Finding, make_finding
from isotrack.clinical.screening.context import Hit, ScreeningContext, describe_hits, order_rule
from isotrack.clinical.screening.rules.conditions import SUMMARY_LIMIT, match_as_words, words_match
from isotrack.clinical.snapshot import MedicationRecord
from isotrack.knowledge.base import KnowledgeBase

FORM_NOT_RECORDED = (
    "A medication without a recorded route or dose form was treated as systemic "
    "(it may be a cream or inhaler: check the record)."
)


class DoseForm(StrEnum):
    LOCAL = "local"
    SYSTEMIC = "systemic"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DrugHit:
    record: MedicationRecord
    by_text: bool
    form: DoseForm
    local: bool
    """Acts locally: a local form, or an agent that only exists for local use."""

    @property
    def label(self) -> str:
        return self.record.concept.label

    @property
    def assumed_systemic(self) -> bool:
        return self.form is DoseForm.UNKNOWN and not self.local

    def describe(self) -> str:
        text = describe_hits([Hit(self.label, self.record.start, self.by_text)])
        if self.record.route:
            text += f" [route {self.record.route}]"
        if self.assumed_systemic:
            text += " [no route or dose form recorded: treated as systemic]"
        return text

    @property
    def short(self) -> str:
        since = f" (since {self.record.start.isoformat()})" if self.record.start else ""
        return f"{self.label}{since}"


def dose_form(ctx: ScreeningContext, record: MedicationRecord) -> DoseForm:
    """Local, systemic or unknown: the route decides when it is recognised, else the name."""
    kb = ctx.kb
    return ctx.memory.of(record.concept).remember(
        ("dose-form", record.route), lambda concept: _dose_form(kb, concept, record.route)
    )


def _dose_form(kb: KnowledgeBase, concept: Concept, route: str | None) -> DoseForm:
    local = kb.valueset("dose-forms-local")
    systemic = kb.valueset("dose-forms-systemic")
    candidates: list[Concept] = []
    if route:
        candidates.append(Concept((Coding(SNOMED, route),), route))
    candidates.append(concept)
    for candidate in candidates:
        if match_as_words(candidate, local).matched:
            return DoseForm.LOCAL
        if match_as_words(candidate, systemic).matched:
            return DoseForm.SYSTEMIC
    return DoseForm.UNKNOWN


def is_local(ctx: ScreeningContext, record: MedicationRecord, form: DoseForm) -> bool:
    """A local form, or an agent that only exists for local use (adapalene, Retin-A)."""
    if form is DoseForm.LOCAL:
        return True
    if form is DoseForm.SYSTEMIC:
        return False
    return words_match(ctx, ctx.memory.of(record.concept), "topical-only-agents").matched


def active_drugs(ctx: ScreeningContext, valueset_id: str) -> list[DrugHit]:
    """Active medication records in ``valueset_id``, in any form, oldest first."""
    ctx.kb.valueset(valueset_id)  # an unknown id fails even when no drug is recorded
    hits = []
    for record, memo in ctx.active_medication_records:
        found = words_match(ctx, memo, valueset_id)
        if found.matched:
            form = dose_form(ctx, record)
            hits.append(DrugHit(record, found.by_text, form, is_local(ctx, record, form)))
    return sorted(hits, key=lambda h: (h.record.start is None, h.record.start or ctx.on))


def systemic_drugs(ctx: ScreeningContext, valueset_id: str) -> list[DrugHit]:
    """Active records in ``valueset_id`` that are not in a local form."""
    return [h for h in active_drugs(ctx, valueset_id) if not h.local]


def local_drugs(ctx: ScreeningContext, valueset_id: str) -> list[DrugHit]:
    return [h for h in active_drugs(ctx, valueset_id) if h.local]


def summarize(prefix: str, hits: list[DrugHit], suffix: str = "") -> str:
    """``prefix`` + the first drug (clipped) + how many more + ``suffix``, < 140 characters."""
    more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
    room = SUMMARY_LIMIT - len(prefix) - len(more) - len(suffix)
    label = hits[0].short
    if len(label) > room:
        label = label[: max(room - 1, 0)] + "…"
    return f"{prefix}{label}{more}{suffix}"


def describe_drugs(ctx: ScreeningContext, hits: Iterable[DrugHit]) -> str:
    """The drugs, one after another, then the systemic assumption when one had no form."""
    hits = list(hits)
    text = "; ".join(h.describe() for h in hits) + "."
    if any(h.assumed_systemic for h in hits):
        ctx.assumptions.append(FORM_NOT_RECORDED)
        text += f" {FORM_NOT_RECORDED}"
    return text


def _drug_finding(
    ctx: ScreeningContext, rule_id: str, hits: list[DrugHit], prefix: str, why: str
) -> Finding:
    listed = describe_drugs(ctx, hits)
    return make_finding(
        ctx.kb,
        rule_id,
        summarize(prefix, hits),
        f"{why} Active on {ctx.on.isoformat()}: {listed}",
        data=[("active medication", h.describe()) for h in hits],
    )


@order_rule("TETRACYCLINE")
def tetracycline(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = systemic_drugs(ctx, "tetracyclines")
    if hits:
        yield _drug_finding(
            ctx,
            "TETRACYCLINE",
            hits,
            "Tetracycline-class antibiotic active: ",
            "Isotretinoin with a tetracycline is linked to intracranial hypertension "
            "(pseudotumor cerebri); the EU SmPC contraindicates the combination.",
        )


@order_rule("VITAMIN-A")
def vitamin_a(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = systemic_drugs(ctx, "vitamin-a")
    if hits:
        yield _drug_finding(
            ctx,
            "VITAMIN-A",
            hits,
            "Vitamin A supplement active: ",
            "Vitamin A adds to the toxicity of isotretinoin (hypervitaminosis A); the label "
            "advises against supplements containing vitamin A.",
        )


def _is_order_under_review(ctx: ScreeningContext, record: MedicationRecord) -> bool:
    order = ctx.order
    return order is not None and bool(order.source) and record.source == order.source


@order_rule("RETINOID-DUPLICATE")
def retinoid_duplicate(ctx: ScreeningContext) -> Iterator[Finding]:
    isotretinoin = [
        h for h in systemic_drugs(ctx, "isotretinoin") if not _is_order_under_review(ctx, h.record)
    ]
    # "tretinoin" also names isotretinoin: isotretinoin records are never "another retinoid".
    any_isotretinoin = {id(h.record) for h in active_drugs(ctx, "isotretinoin")}
    others = [
        h for h in systemic_drugs(ctx, "retinoids-systemic") if id(h.record) not in any_isotretinoin
    ]
    if others:
        yield _drug_finding(
            ctx,
            "RETINOID-DUPLICATE",
            others,
            "Another systemic retinoid active: ",
            "Systemic retinoids add to each other's toxicity (hypervitaminosis A) and must "
            "not be combined.",
        )
    if isotretinoin:
        course = ctx.current_course
        context = (
            f" A course started on {course.start.isoformat()} is running: if this is an "
            "earlier prescription of it, mark it completed or cancelled before signing."
            if course is not None
            else ""
        )
        yield make_finding(
            ctx.kb,
            "RETINOID-DUPLICATE",
            summarize("Second active isotretinoin order: ", isotretinoin),
            "Another isotretinoin prescription is still active besides the order under "
            f"review: {describe_drugs(ctx, isotretinoin)} Two active orders can both be "
            f"dispensed.{context}",
            data=[("active isotretinoin order", h.describe()) for h in isotretinoin],
        )


@order_rule("TOPICAL-IRRITANT")
def topical_irritant(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = local_drugs(ctx, "topical-irritants")
    if hits:
        yield _drug_finding(
            ctx,
            "TOPICAL-IRRITANT",
            hits,
            "Topical retinoid or keratolytic active: ",
            "Topical retinoids, benzoyl peroxide and other keratolytic or exfoliant acne "
            "agents add to the skin irritation of isotretinoin.",
        )


@order_rule("PHENYTOIN")
def phenytoin(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = systemic_drugs(ctx, "phenytoin")
    if hits:
        yield _drug_finding(
            ctx,
            "PHENYTOIN",
            hits,
            "Phenytoin active: ",
            "Phenytoin causes osteomalacia; the label lists it because isotretinoin also "
            "affects bone (no pharmacokinetic interaction is described).",
        )


@order_rule("CORTICOSTEROID-SYSTEMIC")
def corticosteroid_systemic(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = systemic_drugs(ctx, "corticosteroids-systemic")
    if hits:
        yield _drug_finding(
            ctx,
            "CORTICOSTEROID-SYSTEMIC",
            hits,
            "Systemic corticosteroid active: ",
            "Systemic corticosteroids cause bone loss (osteoporosis), which adds to the bone "
            "effects of isotretinoin. Inhaled, nasal, eye and skin forms are not counted.",
        )
