"""The modelled drug levels chart of the patient page: the typical patient on the
course's own doses (view model), and the chart or its empty state on the page."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from isotrack.clinical.snapshot import Sex, Weight
from isotrack.clinical.state.course import CourseState, DispenseState, PrescriptionState
from isotrack.clinical.state.patient import PatientRecord
from isotrack.http.authz import Role
from isotrack.knowledge import KnowledgeBase
from isotrack.web.views.clinic_pk import NO_COURSE, NO_DOSE, WASHOUT_DAYS, PkChart, pk_chart
from tests.web.conftest import SignIn

START = date(2026, 3, 2)


def course(
    *,
    dispensed_on: date | None = START,
    days: int = 30,
    dose_mg: float = 40,
    times_per_day: int = 2,
    ended: date | None = None,
) -> CourseState:
    quantity = days * times_per_day
    prescription = PrescriptionState(
        "p1", START, dose_mg, times_per_day, dose_mg, quantity, days, quantity
    )
    dispenses = (
        (DispenseState("p1", dispensed_on, quantity, quantity * dose_mg),)
        if dispensed_on is not None
        else ()
    )
    return CourseState(
        "c1",
        "conventional",
        START,
        150,
        status="ended" if ended else "active",
        end=ended,
        prescriptions=(prescription,),
        dispenses=dispenses,
    )


def record(*courses: CourseState, weighed: bool = True) -> PatientRecord:
    weights = (Weight(70, START),) if weighed else ()
    return PatientRecord(
        "m1",
        "M",
        date(1998, 5, 4),
        Sex.MALE,
        None,
        "",
        "us-ipledge-2024",
        weights=weights,
        courses=courses,
    )


def washout(kb: KnowledgeBase) -> int:
    return int(kb.number(WASHOUT_DAYS))


def column(chart: PkChart, label: str) -> dict[date, float]:
    found = next(s for s in chart.series if s.label == label)
    return {day: value for day, value in found.points if value is not None}


PEAK = "Isotretinoin, daily peak"
TROUGH = "Isotretinoin, daily trough"
OXO_PEAK = "4-oxo-isotretinoin, daily peak"
OXO_TROUGH = "4-oxo-isotretinoin, daily trough"


def test_levels_rise_from_the_first_dispense_and_stay_positive_while_dosing(
    kb: KnowledgeBase,
) -> None:
    dispensed = START + timedelta(days=3)
    c = course(dispensed_on=dispensed, days=20)
    chart = pk_chart(record(c), c, on=START + timedelta(days=15), kb=kb)
    peaks, troughs, oxo = column(chart, PEAK), column(chart, TROUGH), column(chart, OXO_PEAK)
    assert [peaks[START + timedelta(days=d)] for d in range(3)] == [0, 0, 0]
    dosing = [day for day in peaks if dispensed <= day]
    assert dosing
    assert all(peaks[day] > 0 and oxo[day] > 0 for day in dosing)
    assert all(troughs[day] > 0 for day in dosing[1:])
    assert max(peaks.values()) > peaks[dispensed]  # accumulates over the first days


def test_a_running_course_stops_at_the_pages_day(kb: KnowledgeBase) -> None:
    c = course(days=60)
    on = START + timedelta(days=10)
    chart = pk_chart(record(c), c, on=on, kb=kb)
    assert max(chart.dates) == on


def test_an_ended_course_shows_thirty_days_of_falling_levels_after_the_last_dose(
    kb: KnowledgeBase,
) -> None:
    c = course(days=30, ended=START + timedelta(days=30))
    chart = pk_chart(record(c), c, on=START + timedelta(days=90), kb=kb)
    last_dose = START + timedelta(days=29)
    assert max(chart.dates) == last_dose + timedelta(days=washout(kb))
    for label in (PEAK, OXO_PEAK):
        after = [v for day, v in sorted(column(chart, label).items()) if day >= last_dose]
        falling = [v for v in after if v >= 1]  # below 1 ng/mL the rounding to 0.1 shows
        assert len(falling) > 5
        assert all(b < a for a, b in pairwise(falling))
        assert all(b <= a for a, b in pairwise(after))
    assert column(chart, PEAK)[max(chart.dates)] < 0.01 * column(chart, PEAK)[last_dose]


def test_the_table_has_one_row_a_day_with_peak_and_trough_of_both_substances(
    kb: KnowledgeBase,
) -> None:
    c = course(days=14)
    on = START + timedelta(days=13)
    header, rows = pk_chart(record(c), c, on=on, kb=kb).table
    assert header == (
        "Date",
        f"{PEAK} (ng/mL)",
        f"{TROUGH} (ng/mL)",
        f"{OXO_PEAK} (ng/mL)",
        f"{OXO_TROUGH} (ng/mL)",
    )
    assert [row[0] for row in rows] == [(START + timedelta(days=d)).isoformat() for d in range(14)]


def test_the_chart_draws_one_point_a_day_without_markers(kb: KnowledgeBase) -> None:
    c = course(days=10)
    config = pk_chart(record(c), c, on=START + timedelta(days=9), kb=kb).config()
    assert len(config["data"]["labels"]) == 10
    assert [d["pointRadius"] for d in config["data"]["datasets"]] == [0, 0, 0, 0]
    json.dumps(config)  # the page puts it in data-chart


def test_no_weight_is_needed_the_typical_patient_has_none(kb: KnowledgeBase) -> None:
    c = course(days=10)
    assert not pk_chart(record(c, weighed=False), c, on=START + timedelta(days=9), kb=kb).empty


def test_without_a_course_or_a_dispense_the_chart_says_why_it_is_empty(kb: KnowledgeBase) -> None:
    no_course = pk_chart(record(), None, on=START, kb=kb)
    undispensed = course(dispensed_on=None)
    no_dose = pk_chart(record(undispensed), undispensed, on=START + timedelta(days=5), kb=kb)
    assert (no_course.empty, no_course.empty_reason) == (True, NO_COURSE)
    assert (no_dose.empty, no_dose.empty_reason) == (True, NO_DOSE)


@settings(max_examples=15)
@given(
    dose=st.sampled_from([10.0, 20.0, 30.0, 40.0, 60.0, 80.0]),
    times_per_day=st.integers(1, 3),
    days=st.integers(1, 21),
)
def test_every_days_peak_is_at_least_its_trough_and_both_scale_with_the_dose(
    kb: KnowledgeBase, dose: float, times_per_day: int, days: int
) -> None:
    on = START + timedelta(days=days + 40)
    c, double = (
        course(days=days, dose_mg=mg, times_per_day=times_per_day, ended=START + timedelta(days))
        for mg in (dose, 2 * dose)
    )
    chart, doubled = (pk_chart(record(x), x, on=on, kb=kb) for x in (c, double))
    assert len(chart.dates) == days + washout(kb)
    for peak, trough in ((PEAK, TROUGH), (OXO_PEAK, OXO_TROUGH)):
        peaks, troughs = column(chart, peak), column(chart, trough)
        assert all(peaks[day] >= troughs[day] >= 0 for day in troughs)
        top = max(peaks.values())
        assert abs(max(column(doubled, peak).values()) - 2 * top) <= 0.2
    # Isotretinoin peaks within hours of the first dose: that day has its trough
    # (4-oxo-isotretinoin may still be rising at its end, and then has none).
    assert min(column(chart, TROUGH)) == chart.dates[0]


def test_the_patient_page_shows_the_modelled_levels_of_a_patient_on_a_course(
    sign_in: SignIn,
) -> None:
    page = sign_in(Role.PRESCRIBER).get("/clinic/patients/demo-luca")
    assert page.status_code == 200
    canvas = re.search(r'<canvas id="chart-pk" data-chart="([^"]+)"', page.text)
    assert canvas is not None
    config = json.loads(html.unescape(canvas.group(1)))
    assert [d["label"] for d in config["data"]["datasets"]][::2] == [PEAK, OXO_PEAK]
    assert "not a measurement" in page.text
    assert "Modelled drug levels as a table" in page.text


def test_the_patient_page_explains_why_there_are_no_levels_before_a_dispense(
    sign_in: SignIn,
) -> None:
    page = sign_in(Role.PRESCRIBER).get("/clinic/patients/demo-iris")
    assert page.status_code == 200
    assert 'id="chart-pk"' not in page.text
    assert "No dose to model yet" in page.text
