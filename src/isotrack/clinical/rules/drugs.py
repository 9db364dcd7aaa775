"""Interacting drugs: tetracyclines, vitamin A, other retinoids, topical
irritants, phenytoin, systemic corticosteroids (facts.md §5)."""

from __future__ import annotations

from collections.abc import Iterator

from isotrack.clinical.findings import Finding, make_finding
from isotrack.clinical.screening import ScreeningContext, describe_hits, order_rule


@order_rule("TETRACYCLINE")
def tetracycline(ctx: ScreeningContext) -> Iterator[Finding]:
    hits = ctx.active_medications("tetracyclines")
    if hits:
        yield make_finding(
            ctx.kb,
            "TETRACYCLINE",
            f"Tetracycline-class antibiotic active: {hits[0].label}"[:140],
            "Isotretinoin with a tetracycline is linked to intracranial hypertension "
            f"(pseudotumor cerebri). Active: {describe_hits(hits)}.",
            data=[("active tetracycline", describe_hits(hits))],
        )
