"""The clinician pages' view models: the dashboard rows, the patient page, the
charts and the prescribe form's draft, read from records built by commands."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.record.aggregate import PatientRecord, apply, replay
from isotrack.clinical.state.commands import (
    AnyCommand,
    EnrolPatient,
    Prescribe,
    RecordCounselling,
    RecordLabResult,
    RecordOverride,
    RecordPHQ9,
    RecordWeight,
    StartCourse,
)
from isotrack.demo.clinic import demo_clinic
from isotrack.knowledge import KnowledgeBase
from isotrack.web.views.clinic_charts import cumulative_chart, lab_chart
from isotrack.web.views.clinic_dashboard import (
    NEEDS,
    ActionItem,
    PatientRow,
    dashboard,
    parse_need,
    parse_sort,
    patient_row,
)
from isotrack.web.views.clinic_patient import patient_page
from isotrack.web.views.clinic_prescribe import Draft, commands_to_store, evaluate, suggest

DAY = date(2026, 3, 2)


def build(kb: KnowledgeBase, *commands: AnyCommand) -> PatientRecord:
    record: PatientRecord | None = None
    for command in commands:
        record = apply(record, command, today=DAY, kb=kb)
    assert record is not None
    return record


def enrolled(kb: KnowledgeBase, *more: AnyCommand) -> PatientRecord:
    return build(
        kb,
        EnrolPatient(
            on=DAY, patient_id="p1", name="Pat New", birth_date=date(2000, 1, 1), sex="male"
        ),
        RecordCounselling(on=DAY, topic="enrolment"),
        *more,
    )


@pytest.fixture(scope="module")
def demo_records(kb: KnowledgeBase) -> dict[str, PatientRecord]:
    return {p.patient_id: replay(p.commands, kb=kb) for p in demo_clinic(DAY, kb)}


# --- the dashboard ------------------------------------------------------------------------
def test_a_positive_mood_screen_and_high_triglycerides_are_actions(
    demo_records: dict[str, PatientRecord], kb: KnowledgeBase
) -> None:
    dev = patient_row(demo_records["demo-dev"], on=DAY, kb=kb)
    ben = patient_row(demo_records["demo-ben"], on=DAY, kb=kb)
    assert "mood" in dev.needs
    assert "critical" not in dev.needs
    assert "results" in ben.needs
    assert any("620" in a.text and "500" in a.text for a in ben.actions)


def test_a_self_harm_answer_counts_as_critical_and_mood(
    demo_records: dict[str, PatientRecord], kb: KnowledgeBase
) -> None:
    jonas = patient_row(demo_records["demo-jonas"], on=DAY, kb=kb)
    assert {"critical", "mood"} <= jonas.needs
    assert jonas.urgency == 0


def test_an_overdue_post_course_test_and_an_open_window_are_listed(
    demo_records: dict[str, PatientRecord], kb: KnowledgeBase
) -> None:
    eva = patient_row(demo_records["demo-eva"], on=DAY, kb=kb)
    assert "overdue" in eva.needs
    assert "window" in eva.needs
    window = next(a for a in eva.actions if a.need == "window")
    assert window.due is not None
    assert window.due >= DAY
    assert "closes in" in window.text


def test_a_patient_with_nothing_due_has_no_action(kb: KnowledgeBase) -> None:
    row = patient_row(enrolled(kb), on=DAY, kb=kb)
    assert row.actions == ()
    assert row.course == "no course yet"
    assert row.progress_percent is None


def test_the_dashboard_filters_by_need_and_name_and_counts_before_filtering(
    demo_records: dict[str, PatientRecord], kb: KnowledgeBase
) -> None:
    rows = [patient_row(r, on=DAY, kb=kb) for r in demo_records.values()]
    moods = dashboard(rows, need="mood")
    assert {r.patient_id for r in moods.rows} == {"demo-dev", "demo-jonas"}
    assert moods.total == len(rows)
    assert moods.counts["mood"] == 2
    assert [r.name for r in dashboard(rows, query="  KARA ").rows] == ["Kara Singh"]
    assert dashboard(rows, need="mood", query="zzz").rows == ()


def test_sorting_by_name_is_alphabetical_and_by_urgency_puts_critical_first(
    demo_records: dict[str, PatientRecord], kb: KnowledgeBase
) -> None:
    rows = [patient_row(r, on=DAY, kb=kb) for r in demo_records.values()]
    names = [r.name for r in dashboard(rows, sort="name").rows]
    assert names == sorted(names, key=str.casefold)
    urgent = dashboard(rows).rows
    assert urgent[0].patient_id == "demo-jonas"
    assert [r.urgency for r in urgent] == sorted(r.urgency for r in urgent)


row_dates = st.one_of(st.none(), st.dates(DAY - timedelta(days=60), DAY + timedelta(days=60)))
rows_strategy = st.lists(
    st.builds(
        PatientRow,
        patient_id=st.uuids().map(str),
        name=st.text(min_size=1, max_size=8),
        course=st.just(""),
        progress_percent=st.none(),
        programme_state=st.just(""),
        actions=st.lists(
            st.builds(ActionItem, need=st.sampled_from(NEEDS), text=st.just("x"), due=row_dates),
            max_size=3,
        ).map(tuple),
    ),
    max_size=8,
)


@given(rows_strategy, st.sampled_from(("urgency", "name", "due")))
def test_sorting_keeps_every_row_and_due_puts_rows_without_a_deadline_last(
    rows: list[PatientRow], sort: str
) -> None:
    shown = dashboard(rows, sort=parse_sort(sort)).rows
    assert sorted(r.patient_id for r in shown) == sorted(r.patient_id for r in rows)
    if sort == "due":
        dues = [r.next_due for r in shown]
        known = [d for d in dues if d is not None]
        assert known == sorted(known)
        assert dues[: len(known)] == known


def test_unknown_query_values_fall_back_to_all_and_urgency() -> None:
    assert parse_need("mood") == "mood"
    assert parse_need("nonsense") is None
    assert parse_need(None) is None
    assert parse_sort("drop table") == "urgency"


# --- the patient page and its charts ------------------------------------------------------
def test_the_patient_page_has_the_projection_and_the_charts(
    demo_records: dict[str, PatientRecord], kb: KnowledgeBase
) -> None:
    record = demo_records["demo-luca"]
    page = patient_page(record, 40, [], on=DAY, kb=kb)
    assert page.view.projected_end is not None
    assert page.view.projected_end > DAY
    ids = [c.id for c in page.charts]
    assert ids == ["cumulative", "triglycerides", "alt", "weight", "lesions"]
    assert page.lesion_chart is not None
    assert not page.lesion_chart.empty
    assert page.age == 30


def test_the_cumulative_chart_ends_at_the_target_on_the_projected_end(
    demo_records: dict[str, PatientRecord], kb: KnowledgeBase
) -> None:
    page = patient_page(demo_records["demo-ana"], 1, [], on=DAY, kb=kb)
    chart = page.charts[0]
    projected = next(s for s in chart.series if s.label == "Projected")
    assert projected.points[-1] == (page.view.projected_end, 150.0)
    taken = chart.series[0].points
    assert [v for _, v in taken] == sorted(v for _, v in taken if v is not None)
    config = chart.config()
    assert len(config["data"]["labels"]) == len(chart.dates)
    assert all(len(d["data"]) == len(chart.dates) for d in config["data"]["datasets"])


def test_lab_thresholds_come_from_the_knowledge_base(kb: KnowledgeBase) -> None:
    record = enrolled(
        kb,
        RecordLabResult(on=DAY, analyte="triglycerides", value=300, unit="mg/dL"),
        RecordLabResult(on=DAY, analyte="alt", value=30, unit="U/L", reference_high=50),
    )
    tg = lab_chart(record, "triglycerides", on=DAY, kb=kb)
    levels = {s.points[0][1] for s in tg.series[1:]}
    assert levels == {kb.number("tg.warning_mg_dl"), kb.number("tg.critical_mg_dl")}
    alt = lab_chart(record, "alt", on=DAY, kb=kb)
    assert alt.series[1].points[0][1] == kb.number("lft.uln_multiple") * 50
    header, rows = alt.table
    assert header[0] == "Date"
    assert rows[0][1] == "30"


def test_a_chart_without_data_is_empty(kb: KnowledgeBase) -> None:
    record = enrolled(kb)
    assert lab_chart(record, "alt", on=DAY, kb=kb).empty
    assert cumulative_chart(None, None, None, on=DAY).empty


def test_a_finding_shows_the_overrides_recorded_in_its_course(kb: KnowledgeBase) -> None:
    record = enrolled(
        kb,
        RecordWeight(on=DAY, value=70),
        StartCourse(on=DAY, course_id="c1", product="absorica"),
        RecordOverride(on=DAY, rule_id="MOOD-SCREEN-DUE", reason="screened by phone"),
    )
    page = patient_page(record, 5, [], on=DAY, kb=kb)
    mood = next(f for f in page.findings if f.finding.rule_id == "MOOD-SCREEN-DUE")
    assert [o.reason for o in mood.overrides] == ["screened by phone"]


# --- the prescribe form ---------------------------------------------------------------------
def test_the_planner_suggests_a_whole_number_of_capsules_for_the_supply(
    kb: KnowledgeBase,
) -> None:
    s = suggest(kb, "absorica", 70, 150, None, on=DAY)
    assert s.dose_mg * s.times_per_day == s.plan.daily_mg
    assert s.supply_days == kb.number("ppp.max_supply_days")
    assert s.quantity * s.strength_mg == s.plan.daily_mg * s.supply_days


def full_draft(kb: KnowledgeBase, **changes: object) -> Draft:
    s = suggest(kb, "absorica", 70, 150, None, on=DAY)
    fields: dict[str, object] = {
        "prescription_id": "rx1",
        "product": "absorica",
        "dose_mg": s.dose_mg,
        "times_per_day": s.times_per_day,
        "strength_mg": s.strength_mg,
        "quantity": s.quantity,
        "supply_days": s.supply_days,
    }
    fields.update(changes)
    return Draft(**fields)  # type: ignore[arg-type]  # the test's own field values


def test_a_warning_needs_a_reason_and_then_is_stored_as_an_override(kb: KnowledgeBase) -> None:
    record = enrolled(kb, RecordWeight(on=DAY, value=70))
    first = evaluate(record, full_draft(kb), on=DAY, kb=kb)
    assert first.missing_reasons == ("BASELINE-LABS-MISSING",)
    assert not first.ready
    reasons = {"BASELINE-LABS-MISSING": "labs drawn today, results pending"}
    second = evaluate(record, full_draft(kb, overrides=reasons), on=DAY, kb=kb)
    assert second.ready
    assert second.new_course
    commands = commands_to_store(second, on=DAY)
    assert [type(c).__name__ for c in commands] == ["StartCourse", "RecordOverride", "Prescribe"]
    stored = record
    for command in commands:
        stored = apply(stored, command, today=DAY, kb=kb)
    assert stored.current_course is not None
    assert len(stored.current_course.prescriptions) == 1
    assert stored.overrides[-1].course_id == stored.current_course.course_id


def test_a_critical_finding_blocks_the_order(kb: KnowledgeBase) -> None:
    record = enrolled(kb, RecordWeight(on=DAY, value=70))
    evaluation = evaluate(record, full_draft(kb, dose_mg=120.0, strength_mg=40.0), on=DAY, kb=kb)
    assert [f.rule_id for f in evaluation.blocking] == ["DOSE-ABOVE-RANGE"]
    assert "absolute maximum" in evaluation.errors["dose_mg"]
    assert not evaluation.ready
    with pytest.raises(Exception, match="not ready"):
        commands_to_store(evaluation, on=DAY)


def test_a_draft_without_weight_or_dose_says_what_to_fill_in(kb: KnowledgeBase) -> None:
    evaluation = evaluate(enrolled(kb), Draft("rx1", product="absorica"), on=DAY, kb=kb)
    assert "weight" in evaluation.errors
    assert "dose_mg" in evaluation.errors
    assert evaluation.suggestion is None
    assert evaluation.assessment is None


def test_an_unmet_programme_requirement_keeps_the_order_from_being_ready(
    kb: KnowledgeBase,
) -> None:
    record = build(
        kb,
        EnrolPatient(
            on=DAY, patient_id="p2", name="No Counsel", birth_date=date(2000, 1, 1), sex="male"
        ),
        RecordWeight(on=DAY, value=70),
        RecordLabResult(on=DAY, analyte="triglycerides", value=100, unit="mg/dL"),
        RecordLabResult(on=DAY, analyte="alt", value=20, unit="U/L"),
        RecordPHQ9(on=DAY, total=1, item9=0),
    )
    evaluation = evaluate(record, full_draft(kb), on=DAY, kb=kb)
    assert [r.key for r in evaluation.unmet] == ["counselling"]
    assert not evaluation.ready
    assert not evaluation.blocking


def test_an_existing_course_keeps_its_product(kb: KnowledgeBase) -> None:
    record = enrolled(
        kb,
        RecordWeight(on=DAY, value=70),
        StartCourse(on=DAY, course_id="c1", product="conventional"),
    )
    evaluation = evaluate(record, full_draft(kb, product="absorica"), on=DAY, kb=kb)
    assert not evaluation.new_course
    assert evaluation.product == "conventional"


# --- regimens (issue 13) ---------------------------------------------------------------
def test_the_planner_fills_the_form_with_its_split_regimen_at_58_kg(kb: KnowledgeBase) -> None:
    """Absorica at 58 kg: morning 30 mg, evening 25 mg, as the CLI says (not 27.5 mg
    twice a day of 10 mg capsules)."""
    s = suggest(kb, "absorica", 58, 150, None, on=DAY)
    assert s.regimen.describe() == "morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)"
    assert s.regimen.quantities(s.supply_days) == ((30.0, 30), (25.0, 30))


def test_a_split_regimen_is_screened_and_stored_with_its_capsules(kb: KnowledgeBase) -> None:
    record = enrolled(kb, RecordWeight(on=DAY, value=58))
    draft = Draft("rx1", product="absorica", morning_mg=30.0, evening_mg=25.0, supply_days=30)
    evaluation = evaluate(record, draft, on=DAY, kb=kb)
    assert evaluation.regimen is not None
    assert evaluation.regimen.doses_mg == (30.0, 25.0)
    assert not evaluation.blocking
    assert evaluation.assessment is not None
    assert not evaluation.assessment.has("DOSE-NOT-TAKEABLE")
    overrides = {f.rule_id: "accepted for the test" for f in evaluation.warnings}
    ready = evaluate(record, replace(draft, overrides=overrides), on=DAY, kb=kb)
    assert ready.ready, (ready.errors, ready.unmet)
    commands = commands_to_store(ready, on=DAY)
    prescribe = commands[-1]
    assert isinstance(prescribe, Prescribe)
    assert prescribe.regimen == evaluation.regimen
    assert (prescribe.quantity, prescribe.strength_mg) == (60, 30.0)
    stored = record
    for command in commands:
        stored = apply(stored, command, today=DAY, kb=kb)
    assert stored.courses[-1].prescriptions[-1].doses_mg == (30.0, 25.0)


def test_an_untakeable_dose_is_blocked_with_the_nearest_takeable_regimens(
    kb: KnowledgeBase,
) -> None:
    record = enrolled(kb, RecordWeight(on=DAY, value=58))
    draft = Draft("rx1", product="absorica", morning_mg=27.5, evening_mg=27.5, supply_days=30)
    evaluation = evaluate(record, draft, on=DAY, kb=kb)
    assert evaluation.regimen is None
    (blocking,) = [f for f in evaluation.blocking if f.rule_id == "DOSE-NOT-TAKEABLE"]
    assert "morning 30 mg (1 × 30 mg), evening 25 mg (1 × 25 mg)" in blocking.detail
    assert not evaluation.ready
