"""Property tests of the numbers and text the cards are made of."""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.cds.cards import escape_markdown
from isotrack.cds.service import months_before
from isotrack.cds.suggestions import SuggestionContext, suggestions_for
from isotrack.clinical.findings import Assessment, make_finding
from isotrack.clinical.order import IsotretinoinOrder
from isotrack.clinical.screening.context import screen_order
from isotrack.clinical.snapshot import PatientSnapshot, Sex, Weight
from isotrack.fhir import decode_bundle, read_order
from isotrack.fhir.resources import MedicationRequest
from isotrack.knowledge import default_knowledge
from tests.fhir.builders import isotretinoin_order, quantity

KB = default_knowledge()
ON = date(2026, 3, 2)
_ESCAPED = re.compile(r"\\.", re.DOTALL)


@given(st.dates(), st.integers(min_value=0, max_value=240))
def test_months_before_goes_back_whole_calendar_months(day: date, months: int) -> None:
    earlier = months_before(day, months)
    if (day.year * 12 + day.month) - months < 12 + 1:  # before January of year 1
        assert earlier == date.min
        return
    assert (day.year * 12 + day.month) - (earlier.year * 12 + earlier.month) == months
    last = calendar.monthrange(earlier.year, earlier.month)[1]
    assert earlier.day == min(day.day, last)


@given(st.text())
def test_escaped_record_text_has_no_markdown_left(text: str) -> None:
    escaped = escape_markdown(text)
    assert not set(_ESCAPED.sub("", escaped)) & set("\\`*_{}[]<>!|~")
    assert _ESCAPED.sub(lambda m: m.group(0)[1], escaped) == text


def screen(
    order_json: dict[str, Any], weight_kg: float
) -> tuple[IsotretinoinOrder, PatientSnapshot, Assessment]:
    bundle = decode_bundle(order_json)
    request = bundle.of_type(MedicationRequest)[0]
    order = read_order(request, KB, bundle=bundle).order
    snapshot = PatientSnapshot("p", birth_date=date(1990, 1, 1), sex=Sex.MALE,
                               weights=(Weight(weight_kg, date(2026, 2, 20)),))  # fmt: skip
    return order, snapshot, screen_order(snapshot, order, on=ON, kb=KB)


@settings(max_examples=60, deadline=None)
@given(
    weight_kg=st.floats(min_value=25, max_value=180).map(lambda w: round(w, 1)),
    dose_mg=st.sampled_from([40, 50, 60, 70, 80, 100, 120]),
)
def test_the_dose_suggestion_is_inside_the_usual_range_and_clears_the_finding(
    weight_kg: float, dose_mg: int
) -> None:
    draft = isotretinoin_order(dose=quantity(dose_mg, "mg"))
    order, snapshot, assessment = screen(draft, weight_kg)
    findings = [f for f in assessment.findings if f.rule_id == "DOSE-ABOVE-RANGE"]
    if not findings:
        return  # the dose is not above the range at this weight
    context = SuggestionContext(KB, ON, snapshot, order, draft)
    (suggestion,) = suggestions_for(findings[0], context)
    resource = suggestion.actions[0].resource
    assert resource is not None
    new_order, _, after = screen(resource, weight_kg)
    usual_max = KB.product("conventional").usual_max_mg_per_kg_day
    assert usual_max is not None
    assert new_order.daily_dose_mg is not None
    assert new_order.daily_dose_mg <= usual_max * weight_kg + 1e-9
    assert "DOSE-ABOVE-RANGE" not in after.rule_ids
    assert "DOSE-UNPARSEABLE" not in after.rule_ids


@given(summary=st.text(min_size=1, max_size=400))
def test_every_finding_summary_is_one_line_of_fewer_than_140_characters(summary: str) -> None:
    finding = make_finding(KB, "DATA-MISSING", summary, "detail")
    assert len(finding.summary) < 140
    assert finding.summary == summary or finding.summary.endswith("…")
