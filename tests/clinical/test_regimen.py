"""The regimen value: administrations, capsule combinations, the nearest takeable."""

from __future__ import annotations

from fractions import Fraction

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from isotrack.clinical.dosing import (
    Administration,
    Regimen,
    administration_of,
    nearest_regimens,
    regimen_of,
)
from isotrack.clinical.units import exact
from isotrack.errors import InvalidInputError

ABSORICA = (10.0, 20.0, 25.0, 30.0, 35.0, 40.0)
LD = (8.0, 16.0, 20.0, 24.0, 28.0, 32.0)


def test_a_split_dose_counts_its_capsules_per_strength() -> None:
    regimen = regimen_of((30, 25), ABSORICA)
    assert regimen is not None
    assert regimen.doses_mg == (30.0, 25.0)
    assert regimen.total_mg == 55.0
    assert regimen.capsules_per_day() == ((30.0, 1), (25.0, 1))
    assert regimen.quantities(30) == ((30.0, 30), (25.0, 30))


def test_forty_mg_from_twenty_mg_capsules_is_two_capsules() -> None:
    dose = administration_of(40, (20.0,))
    assert dose is not None
    assert dose.capsules_mg == (20.0, 20.0)
    assert dose.describe() == "40 mg (2 × 20 mg)"


def test_a_regimen_survives_json() -> None:
    regimen = Regimen((Administration((30.0,)), Administration((20.0, 5.0))))
    assert msgspec.json.decode(msgspec.json.encode(regimen), type=Regimen) == regimen


def test_an_empty_regimen_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        Regimen(())
    with pytest.raises(InvalidInputError):
        Regimen((Administration(()),))


regimens = st.builds(
    lambda strengths, doses: Regimen(
        tuple(Administration(tuple(sorted(d, reverse=True))) for d in doses)
    ),
    st.just(ABSORICA),
    st.lists(st.lists(st.sampled_from(ABSORICA), min_size=1, max_size=3), min_size=1, max_size=3),
)


@given(regimens)
def test_every_takeable_dose_is_found_again_with_no_more_capsules(regimen: Regimen) -> None:
    found = regimen_of(regimen.doses_mg, ABSORICA)
    assert found is not None
    assert found.doses_mg == regimen.doses_mg
    assert found.capsule_count <= regimen.capsule_count


@given(
    st.sampled_from([ABSORICA, LD, (10.0,), (5.0, 10.0, 20.0, 30.0, 40.0)]),
    st.decimals(min_value=5, max_value=150, places=1).map(float),
    st.integers(min_value=1, max_value=3),
)
def test_the_nearest_regimens_are_takeable_and_never_above_the_maximum(
    strengths: tuple[float, ...], daily_mg: float, times: int
) -> None:
    most = daily_mg + max(strengths) * times
    found = nearest_regimens(daily_mg, most, strengths, times)
    assert found, "some capsule combination is always near"
    for regimen in found:
        assert regimen.strengths_used <= set(strengths)
        assert exact(regimen.total_mg) <= exact(most)
        assert regimen_of(regimen.doses_mg, strengths) is not None
    distances = [abs(exact(r.total_mg) - Fraction(exact(daily_mg))) for r in found]
    assert distances == sorted(distances)
