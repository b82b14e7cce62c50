"""Tests for the statutory rules in sim.rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.rules import (
    EXTENSION_THRESHOLD_MONTHS,
    MIN_MONTHS_IN_POST,
    PROMOTION_MIN_SERVICE_MONTHS,
    TERM_MONTHS,
    YOUNG_AGE_MONTHS,
    TermOutcome,
    contest_rates,
    early_retirement_uptake,
    expected_share_probability,
    floor_requires_group,
    is_young,
    month_index,
    month_to_year_month,
    new_accounts,
    pool_service_ok,
    promotion_bounds,
    promotion_service_ok,
    promotion_window,
    quota_priority,
    reappointment_allowed,
    record_contest,
    removal_rate,
    retirement_age_months,
    retirement_month,
    retirement_months,
    rotation_eligible,
    share_to_aim,
    term_end_outcome,
    time_in_post_ok,
)


def ym(years: int, months: int = 0) -> int:
    """Age or duration of ``years`` years and ``months`` months, in months."""
    return 12 * years + months


def age_reached(female: bool, birth_year: int, birth_month: int) -> int:
    """Age in months in the month the retirement age is reached (month before pension)."""
    return (
        retirement_month(female, birth_year, birth_month) - 1 - month_index(birth_year, birth_month)
    )


# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------


def test_month_index_reference_values() -> None:
    assert month_index(2021, 1) == 24252
    assert month_index(2021, 12) == 24263
    assert month_index(2022, 1) == 24264
    assert month_index(0, 1) == 0


@pytest.mark.parametrize("month", [0, 13, -1])
def test_month_index_rejects_bad_month(month: int) -> None:
    with pytest.raises(ValueError):
        month_index(2021, month)


def test_month_to_year_month_floors_fractional_months() -> None:
    assert month_to_year_month(24252) == (2021, 1)
    assert month_to_year_month(24252.999) == (2021, 1)
    assert month_to_year_month(24263.5) == (2021, 12)
    assert month_to_year_month(24264.0) == (2022, 1)
    assert month_to_year_month(24251.999) == (2020, 12)


def test_month_to_year_month_returns_python_ints() -> None:
    year, month = month_to_year_month(np.float64(24255.7))
    assert (year, month) == (2021, 4)
    assert type(year) is int
    assert type(month) is int


@given(st.integers(-3000, 5000), st.integers(1, 12), st.floats(0.0, 0.999999))
def test_month_round_trip(year: int, month: int, frac: float) -> None:
    assert month_to_year_month(month_index(year, month) + frac) == (year, month)


# ---------------------------------------------------------------------------
# Retirement age
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (1990, ym(60)),
        (2020, ym(60)),
        (2021, ym(60, 3)),
        (2022, ym(60, 6)),
        (2023, ym(60, 9)),
        (2024, ym(61)),
        (2027, ym(61, 9)),
        (2028, ym(62)),
        (2029, ym(62)),
        (2100, ym(62)),
    ],
)
def test_retirement_age_men(year: int, expected: int) -> None:
    assert retirement_age_months(False, year) == expected


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (1990, ym(55)),
        (2020, ym(55)),
        (2021, ym(55, 4)),
        (2022, ym(55, 8)),
        (2023, ym(56)),
        (2027, ym(57, 4)),
        (2034, ym(59, 8)),
        (2035, ym(60)),
        (2036, ym(60)),
        (2100, ym(60)),
    ],
)
def test_retirement_age_women(year: int, expected: int) -> None:
    assert retirement_age_months(True, year) == expected


@pytest.mark.parametrize("female", [False, True])
def test_retirement_age_steps(female: bool) -> None:
    step = 4 if female else 3
    for year in range(1990, 2060):
        diff = retirement_age_months(female, year + 1) - retirement_age_months(female, year)
        assert diff in (0, step)
        assert (diff == step) == (2020 <= year < (2035 if female else 2028))


# ---------------------------------------------------------------------------
# Retirement month: worked examples of Decree 135/2020 Appendix I
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("female", "birth", "age", "pension"),
    [
        (False, (1961, 1), ym(60, 3), (2021, 5)),
        (False, (1961, 10), ym(60, 6), (2022, 5)),
        (False, (1966, 1), ym(61, 9), (2027, 11)),
        (True, (1966, 1), ym(55, 4), (2021, 6)),
        (False, (1970, 3), ym(62), (2032, 4)),
        (True, (1980, 1), ym(60), (2040, 2)),
        (True, (1980, 7), ym(60), (2040, 8)),
        # Year-boundary cases: the age is reached in December, the pension starts in January.
        (False, (1961, 9), ym(60, 3), (2022, 1)),
        (True, (1966, 8), ym(55, 4), (2022, 1)),
        (False, (1960, 12), ym(60), (2021, 1)),
        # Before the reform.
        (False, (1955, 6), ym(60), (2015, 7)),
        (True, (1960, 6), ym(55), (2015, 7)),
    ],
)
def test_retirement_month_worked_examples(
    female: bool, birth: tuple[int, int], age: int, pension: tuple[int, int]
) -> None:
    result = retirement_month(female, *birth)
    assert month_to_year_month(result) == pension
    assert age_reached(female, *birth) == age


@pytest.mark.parametrize("female", [False, True])
def test_retirement_month_table_consistency_every_ramp_year(female: bool) -> None:
    """For each year 2021-2035 the age reached matches the schedule of that year."""
    years_seen: set[int] = set()
    for birth_year in range(1955, 1985):
        for birth_month in range(1, 13):
            pension = retirement_month(female, birth_year, birth_month)
            reached_year, _ = month_to_year_month(pension - 1)
            age = age_reached(female, birth_year, birth_month)
            # Exactly the age of the year in which it is reached, never more.
            assert age == retirement_age_months(female, reached_year)
            pension_year, pension_month = month_to_year_month(pension)
            if pension_month >= 2:
                assert age == retirement_age_months(female, pension_year)
                years_seen.add(pension_year)
    assert set(range(2021, 2036)) <= years_seen


@pytest.mark.parametrize("female", [False, True])
@pytest.mark.parametrize("year", range(2021, 2036))
def test_retirement_month_exists_for_each_ramp_year(female: bool, year: int) -> None:
    """Some birth month retires in each year, at exactly that year's age."""
    age = retirement_age_months(female, year)
    # Reach the age in June of ``year``: born ``age`` months before.
    birth = month_index(year, 6) - age
    birth_year, birth_month = month_to_year_month(birth)
    pension = retirement_month(female, birth_year, birth_month)
    assert month_to_year_month(pension) == (year, 7)
    assert pension - 1 - birth == age


@given(
    st.booleans(),
    st.integers(month_index(1950, 1), month_index(2000, 12) - 1),
)
def test_retirement_month_non_decreasing_in_birth_month(female: bool, birth: int) -> None:
    y0, m0 = month_to_year_month(birth)
    y1, m1 = month_to_year_month(birth + 1)
    assert retirement_month(female, y1, m1) >= retirement_month(female, y0, m0)


@given(st.booleans(), st.integers(1950, 2000), st.integers(1, 12))
def test_retirement_month_is_earliest(female: bool, birth_year: int, birth_month: int) -> None:
    """The month before the reached month does not yet satisfy the age condition."""
    birth = month_index(birth_year, birth_month)
    reached = retirement_month(female, birth_year, birth_month) - 1
    assert reached - birth >= retirement_age_months(female, reached // 12)
    for earlier in range(birth, reached):
        assert earlier - birth < retirement_age_months(female, earlier // 12)


# ---------------------------------------------------------------------------
# Vectorised retirement months
# ---------------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(month_index(1900, 1), month_index(2100, 12))),
        min_size=1,
        max_size=50,
    )
)
def test_retirement_months_matches_scalar(people: list[tuple[bool, int]]) -> None:
    female = np.array([f for f, _ in people], dtype=bool)
    birth = np.array([b for _, b in people], dtype=np.int64)
    result = retirement_months(female, birth)
    expected = [retirement_month(f, *month_to_year_month(b)) for f, b in people]
    assert result.shape == female.shape
    assert np.issubdtype(result.dtype, np.integer)
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("female", [False, True])
def test_retirement_months_matches_scalar_exhaustively(female: bool) -> None:
    birth = np.arange(month_index(1940, 1), month_index(2010, 12) + 1)
    result = retirement_months(np.full(birth.shape, female), birth)
    expected = [retirement_month(female, *month_to_year_month(b)) for b in birth]
    np.testing.assert_array_equal(result, expected)


def test_retirement_months_broadcasts_and_accepts_int32() -> None:
    birth = np.array([month_index(1961, 1), month_index(1966, 1)], dtype=np.int32)
    result = retirement_months(np.array([False, True]), birth)
    assert [month_to_year_month(m) for m in result] == [(2021, 5), (2021, 6)]
    scalar_sex = retirement_months(np.array(False), birth)
    assert [month_to_year_month(m) for m in scalar_sex] == [(2021, 5), (2027, 11)]


def test_retirement_months_empty() -> None:
    result = retirement_months(np.array([], dtype=bool), np.array([], dtype=np.int64))
    assert result.shape == (0,)


def test_retirement_months_accepts_float_births() -> None:
    births = np.arange(month_index(1955, 1), month_index(1990, 1))
    female = births % 2 == 0
    expected = retirement_months(female, births)
    np.testing.assert_array_equal(retirement_months(female, births.astype(float)), expected)
    # A fractional index counts as the calendar month containing it.
    np.testing.assert_array_equal(retirement_months(female, births + 0.7), expected)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_retirement_months_rejects_non_finite_births(bad: float) -> None:
    with pytest.raises(ValueError):
        retirement_months(np.array([False, True]), np.array([24000.0, bad]))


# ---------------------------------------------------------------------------
# Terms
# ---------------------------------------------------------------------------


def test_term_constants() -> None:
    assert TERM_MONTHS == 60
    assert EXTENSION_THRESHOLD_MONTHS == 24


@pytest.mark.parametrize(
    ("months_left", "outcome"),
    [
        (0, TermOutcome.EXTEND_TO_RETIREMENT),
        (1, TermOutcome.EXTEND_TO_RETIREMENT),
        (23, TermOutcome.EXTEND_TO_RETIREMENT),
        (23.999, TermOutcome.EXTEND_TO_RETIREMENT),
        (24, TermOutcome.DECIDE),
        (24.0, TermOutcome.DECIDE),
        (25, TermOutcome.DECIDE),
        (120, TermOutcome.DECIDE),
    ],
)
def test_term_end_outcome(months_left: float, outcome: TermOutcome) -> None:
    assert term_end_outcome(months_left) is outcome


def test_term_outcome_members() -> None:
    assert {o.name for o in TermOutcome} == {"EXTEND_TO_RETIREMENT", "DECIDE"}


@pytest.mark.parametrize(
    ("done", "limit", "allowed"),
    [
        (0, None, True),
        (7, None, True),
        (0, 2, True),
        (1, 2, True),
        (2, 2, False),
        (3, 2, False),
        (0, 1, True),
        (1, 1, False),
        (0, 0, False),
    ],
)
def test_reappointment_allowed(done: int, limit: int | None, allowed: bool) -> None:
    assert reappointment_allowed(done, limit) is allowed


@pytest.mark.parametrize(("done", "limit"), [(-1, None), (-1, 2), (0, -1)])
def test_reappointment_allowed_rejects_negative(done: int, limit: int | None) -> None:
    with pytest.raises(ValueError):
        reappointment_allowed(done, limit)


# ---------------------------------------------------------------------------
# Promotion eligibility
# ---------------------------------------------------------------------------


def test_eligibility_constants() -> None:
    assert PROMOTION_MIN_SERVICE_MONTHS == 60
    assert MIN_MONTHS_IN_POST == 24


@pytest.mark.parametrize(
    ("months_left", "is_promotion", "ok"),
    [
        (60, True, True),
        (60.0, True, True),
        (59.999, True, False),
        (59, True, False),
        (61, True, True),
        (0, True, False),
        (59, False, True),
        (0, False, True),
    ],
)
def test_promotion_service_ok(months_left: float, is_promotion: bool, ok: bool) -> None:
    assert promotion_service_ok(months_left, is_promotion) is ok


@pytest.mark.parametrize(
    ("months_in_post", "first", "ok"),
    [
        (24, False, True),
        (23.999, False, False),
        (23, False, False),
        (0, False, False),
        (100, False, True),
        (0, True, True),
        (23, True, True),
    ],
)
def test_time_in_post_ok(months_in_post: float, first: bool, ok: bool) -> None:
    assert time_in_post_ok(months_in_post, first) is ok


def in_window(start: np.ndarray, end: np.ndarray, t: float) -> np.ndarray:
    """Membership of time ``t`` in the half-open windows ``[start, end)``."""
    return (start <= t) & (t < end)


def test_promotion_window_values_and_boundaries() -> None:
    retire = np.array([month_index(2040, 1), month_index(2030, 6)])
    since = np.array([month_index(2020, 1), month_index(2025, 1)])
    start, end = promotion_window(retire, since)
    assert start.dtype == end.dtype == np.float64
    np.testing.assert_array_equal(start, since + 24)
    # The upper bound is retire - 60 up to one unit in the last place.
    np.testing.assert_allclose(end, retire - 60, rtol=0, atol=1e-8)
    assert np.all(end > retire - 60)
    r = int(retire[0])
    # Exactly 60 months left (integer or float time): still eligible.
    assert in_window(start, end, r - 60)[0]
    assert in_window(start, end, float(r - 60))[0]
    assert in_window(start, end, r - 60.5)[0]
    # Less than 60 months left: not eligible.
    assert not in_window(start, end, r - 59)[0]
    assert not in_window(start, end, r - 59.5)[0]
    assert not in_window(start, end, np.nextafter(r - 60.0, np.inf))[0]
    # Last eligible calendar month is retire - 60.
    assert month_to_year_month(end[0]) == (2035, 1)
    # Exactly 24 months in post: eligible; any less: not.
    s = int(since[0])
    assert in_window(start, end, s + 24)[0]
    assert not in_window(start, end, s + 23)[0]
    assert not in_window(start, end, s + 23.5)[0]
    assert not in_window(start, end, np.nextafter(s + 24.0, -np.inf))[0]
    # Second person: from 2027-01, until 2025-06 (60 months before 2030-06): empty window.
    assert start[1] >= end[1]
    assert not any(in_window(start, end, t)[1] for t in range(int(since[1]), int(retire[1])))


def test_promotion_window_float_since() -> None:
    start, end = promotion_window(np.array([30000]), np.array([29000.25]))
    assert start[0] == 29024.25
    assert not in_window(start, end, 29024.0)[0]
    assert in_window(start, end, 29024.25)[0]


def test_promotion_window_broadcasts() -> None:
    start, end = promotion_window(np.array([30000, 30100]), np.array(29000))
    assert start.shape == end.shape == (2,)
    np.testing.assert_array_equal(start, [29024, 29024])
    np.testing.assert_allclose(end, [29940, 30040], rtol=0, atol=1e-8)
    start[0] = 0.0  # results are writeable, independent arrays
    assert start[1] == 29024


@given(
    st.integers(20000, 30000),
    st.integers(0, 600),
    st.integers(-100, 700),
    st.sampled_from([0.0, 0.0, 0.25, 0.5, 0.999]),
    st.sampled_from([0.0, 0.0, 0.5]),
)
def test_promotion_window_agrees_with_scalar_rules(
    since: int, tenure_to_retire: int, offset: int, frac: float, since_frac: float
) -> None:
    """Window membership at any time t equals both scalar rules evaluated at t."""
    since_m = since + since_frac
    retire = since + tenure_to_retire
    start, end = promotion_window(np.array([retire]), np.array([since_m]))
    t = since + offset + frac
    expected = time_in_post_ok(t - since_m, False) and promotion_service_ok(retire - t, True)
    assert bool(in_window(start, end, t)[0]) == expected


# ---------------------------------------------------------------------------
# Age groups
# ---------------------------------------------------------------------------


def test_is_young_scalars() -> None:
    assert YOUNG_AGE_MONTHS == 480
    assert is_young(479) is True
    assert is_young(479.99) is True
    assert is_young(480) is False
    assert is_young(480.0) is False
    assert is_young(600) is False
    assert is_young(np.int64(300)) is True


def test_is_young_arrays() -> None:
    result = is_young(np.array([0, 479, 480, 481, 479.5]))
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.bool_
    np.testing.assert_array_equal(result, [True, True, False, False, True])


# ---------------------------------------------------------------------------
# Quotas: annual floor reading
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "n", "group", "required"),
    [
        (0.15, 1, 0, True),  # ceil(0.15) = 1
        (0.15, 7, 1, True),  # ceil(1.05) = 2
        (0.15, 7, 2, False),
        (0.15, 6, 1, False),  # ceil(0.90) = 1
        (0.15, 20, 3, False),  # ceil(3.0) = 3
        (0.15, 20, 2, True),
        (0.1 + 0.05, 20, 3, False),  # 0.15000000000000002 * 20 is 3.0000000000000004
        (0.1 + 0.05, 20, 2, True),
        (0.07, 100, 7, False),  # 0.07 * 100 is 7.000000000000001
        (0.55, 100, 55, False),  # 0.55 * 100 is 55.00000000000001
        (0.0, 1, 0, False),
        (0.0, 50, 0, False),
        (1.0, 1, 0, True),
        (1.0, 50, 49, True),
    ],
)
def test_floor_requires_group_worked_cases(
    share: float, n: int, group: int, required: bool
) -> None:
    assert floor_requires_group(share, n, group) is required


def test_floor_float_error_guard() -> None:
    share = 0.1 + 0.05  # a share of 15% obtained by arithmetic
    assert math.ceil(share * 20) == 4  # the raw product would round up to 4
    assert not floor_requires_group(share, 20, 3)
    assert math.ceil(0.07 * 100) == 8
    assert not floor_requires_group(0.07, 100, 7)


@given(st.integers(1, 200), st.data())
def test_floor_share_zero_and_one(n: int, data: st.DataObject) -> None:
    group = data.draw(st.integers(0, n - 1))
    assert not floor_requires_group(0.0, n, group)
    assert floor_requires_group(1.0, n, group)


@given(
    st.sampled_from([0.05, 0.07, 0.1, 0.1 + 0.05, 0.15, 0.2, 0.3, 1 / 3, 0.5, 0.55]),
    st.integers(1, 300),
)
def test_floor_greedy_policy_holds_floor_exactly(share: float, year_total: int) -> None:
    """Giving the group exactly the required appointments keeps count == ceil(share * n)."""
    group = 0
    for n in range(1, year_total + 1):
        if floor_requires_group(share, n, group):
            group += 1
        assert group == math.ceil(round(share * n, 9))


@pytest.mark.parametrize(
    ("share", "n", "group"),
    [(-0.1, 1, 0), (1.1, 1, 0), (0.15, 0, 0), (0.15, 3, 3), (0.15, 3, -1)],
)
def test_floor_requires_group_rejects_bad_input(share: float, n: int, group: int) -> None:
    with pytest.raises(ValueError):
        floor_requires_group(share, n, group)


# ---------------------------------------------------------------------------
# Quotas: expected share reading
# ---------------------------------------------------------------------------


def test_expected_share_probability_worked_cases() -> None:
    assert expected_share_probability(0.15, 0.0) == pytest.approx(0.15)
    assert expected_share_probability(0.15, 0.15) == 0.0
    assert expected_share_probability(0.15, 0.3) == 0.0
    assert expected_share_probability(0.4, 0.2) == pytest.approx(0.25)
    assert expected_share_probability(1.0, 0.3) == pytest.approx(1.0)
    assert expected_share_probability(0.15, 1.0) == 0.0
    assert expected_share_probability(0.15, 1.5) == 0.0
    assert expected_share_probability(1.5, 0.2) == 1.0
    assert expected_share_probability(-0.2, 0.2) == 0.0


unit = st.floats(0.0, 1.0, allow_nan=False)


@given(unit, unit)
def test_expected_share_identity(target: float, baseline: float) -> None:
    pi = expected_share_probability(target, baseline)
    assert 0.0 <= pi <= 1.0
    expected_share = pi + (1.0 - pi) * baseline
    if baseline >= 1.0:
        assert pi == 0.0
    elif target >= baseline:
        assert expected_share == pytest.approx(target, abs=1e-9)
    else:
        assert pi == 0.0
        assert expected_share == baseline
    # The expected share is never capped below the target.
    assert expected_share >= target - 1e-9


@given(unit, unit, unit)
def test_expected_share_identity_with_failed_reservations(
    target: float, open_rate: float, reserved_rate: float
) -> None:
    """pi * reserved + (1 - pi) * open hits the target whenever some pi in [0, 1] can."""
    pi = expected_share_probability(target, open_rate, reserved_rate)
    assert 0.0 <= pi <= 1.0
    share = pi * reserved_rate + (1.0 - pi) * open_rate
    lo, hi = sorted((open_rate, reserved_rate))
    if lo <= target <= hi and reserved_rate > open_rate:
        assert share == pytest.approx(target, abs=1e-9)
    elif target <= open_rate:
        assert pi == 0.0
    else:  # out of reach: reserve everything that helps
        assert pi == 1.0


def test_the_accounts_learn_what_contests_deliver() -> None:
    acc = new_accounts(0.5)
    assert contest_rates(acc) == (0.5, 1.0)
    for k in range(200):  # open contests now go to the group one time in ten
        record_contest(acc, reserved=False, hit=k % 10 == 0)
    open_rate, reserved_rate = contest_rates(acc)
    assert open_rate == pytest.approx(0.1, abs=0.05)  # the prior has faded
    assert reserved_rate == 1.0
    record_contest(acc, reserved=True, hit=False)
    assert contest_rates(acc)[1] < 1.0
    with pytest.raises(ValueError):
        new_accounts(1.5)


def test_a_shortfall_is_made_up_and_an_excess_given_back() -> None:
    acc = new_accounts(0.1)
    assert share_to_aim(0.15, acc) == pytest.approx(0.15)  # nothing happened yet
    for _ in range(40):
        record_contest(acc, reserved=False, hit=False)
    behind = share_to_aim(0.15, acc)
    assert behind > 0.15
    for _ in range(40):
        record_contest(acc, reserved=True, hit=True)
    assert share_to_aim(0.15, acc) < 0.15
    assert 0.0 <= share_to_aim(0.15, acc) <= 1.0


def test_quota_priority_serves_the_group_further_behind() -> None:
    # Third appointment of the year, women 0 of 2 so far, young 1 of 2.
    assert quota_priority([0.15, 0.15], 3, [0, 1]) == (0, 1)
    assert quota_priority([0.15, 0.15], 3, [1, 0]) == (1, 0)
    # Equal shortfalls: the smaller share of its target, then the order given.
    assert quota_priority([0.15, 0.15], 1, [0, 0]) == (0, 1)
    assert quota_priority([0.10, 0.30], 10, [0, 1]) == (1, 0)
    assert quota_priority([0.10, 0.30], 10, [0, 2]) == (0, 1)
    with pytest.raises(ValueError):
        quota_priority([0.15], 1, [0, 0])


@given(
    retire=st.integers(min_value=20000, max_value=30000),
    since=st.floats(min_value=20000, max_value=30000, allow_nan=False),
)
def test_promotion_bounds_equals_the_array_window(retire: int, since: float) -> None:
    lo, hi = promotion_bounds(float(retire), since)
    arr_lo, arr_hi = promotion_window(np.array([retire]), np.array([since]))
    assert lo == arr_lo[0] and hi == arr_hi[0]


# --------------------------------------------------------------------------- removal


def test_removal_rate_at_average_merit_is_the_yearly_probability() -> None:
    h = float(removal_rate(0.05, 0.0, -0.7))
    assert math.isclose(1.0 - math.exp(-12.0 * h), 0.05, rel_tol=1e-12)


def test_removal_rate_is_zero_when_off() -> None:
    merit = np.linspace(-3, 3, 7)
    assert np.all(removal_rate(0.0, merit, -0.7) == 0.0)
    assert np.all(removal_rate(0.05, merit, -0.7, multiplier=0.0) == 0.0)


@given(
    yearly=st.floats(0.001, 0.5),
    slope=st.floats(-3.0, -0.01),
    multiplier=st.floats(0.1, 5.0),
    merit=st.floats(-4.0, 4.0),
)
def test_removal_rate_scales_with_the_policy_and_falls_with_merit(
    yearly: float, slope: float, multiplier: float, merit: float
) -> None:
    base = float(removal_rate(yearly, merit, slope))
    scaled = float(removal_rate(yearly, merit, slope, multiplier))
    assert math.isclose(scaled, multiplier * base, rel_tol=1e-12)
    assert float(removal_rate(yearly, merit + 0.5, slope)) < base


@pytest.mark.parametrize(
    ("yearly", "multiplier"), [(-0.1, 1.0), (1.0, 1.0), (1.5, 1.0), (0.05, -1.0)]
)
def test_removal_rate_rejects_impossible_parameters(yearly: float, multiplier: float) -> None:
    with pytest.raises(ValueError):
        removal_rate(yearly, 0.0, -0.7, multiplier)


# --------------------------------------------------------------------------- succession pool


@pytest.mark.parametrize(
    ("months", "required", "ok"), [(60, 60, True), (59.9, 60, False), (120, 60, True), (0, 0, True)]
)
def test_pool_service_needs_a_full_term(months: float, required: float, ok: bool) -> None:
    assert pool_service_ok(months, required) is ok


@pytest.mark.parametrize(
    ("left", "since", "ok"),
    [(120, math.inf, True), (119.5, math.inf, False), (200, 36, True), (200, 35.9, False)],
)
def test_rotation_needs_ten_years_left_and_three_years_since_the_last(
    left: float, since: float, ok: bool
) -> None:
    assert rotation_eligible(left, since) is ok


@pytest.mark.parametrize(
    ("months", "uptake"), [(0, 0.0), (23.9, 0.0), (24, 0.3), (59.9, 0.3), (60, 0.1), (130, 0.0)]
)
def test_early_retirement_uptake_by_band(months: float, uptake: float) -> None:
    bands = [(2.0, 5.0, 0.3), (5.0, 10.0, 0.1)]
    assert early_retirement_uptake(months, bands) == uptake
