"""The provincial Party congress: the directive's floors, the list, compliance and the vote."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED, Edited, edit_text
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import congress, rules
from sim.cli import app
from sim.model import STREAMS, run_model
from sim.scenario import Scenario, ScenarioError, load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(BUNDLED)


# ------------------------------------------------------------------ the rules
def test_floor_seats_of_chi_thi_35() -> None:
    assert rules.congress_floor_seats(0.15, 50) == 8  # 7.5 women: 8 seats
    assert rules.congress_floor_seats(0.10, 50) == 5
    assert rules.congress_floor_seats(0.15, 70) == 11  # 10.5
    assert rules.congress_floor_seats(0.1 + 0.05, 20) == 3  # 3.0000000000000004 is 3, not 4
    assert rules.congress_floor_seats(0.0, 50) == 0
    assert rules.congress_floor_seats(1.0, 7) == 7
    assert rules.congress_floor_seats(0.15, 0) == 0


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.integers(0, 300), st.integers(0, 300))
def test_floor_seats_meet_the_share_and_grow_with_it(a: float, b: float, n: int, m: int) -> None:
    lo, hi = sorted((a, b))
    k = rules.congress_floor_seats(lo, n)
    assert k >= lo * n - 1e-6 and (k == 0 or (k - 1) < lo * n)  # the smallest count that meets
    assert rules.congress_floor_seats(hi, n) >= k
    assert rules.congress_floor_seats(lo, max(n, m)) >= rules.congress_floor_seats(lo, min(n, m))


def test_list_is_longer_than_the_seats_by_the_surplus() -> None:
    assert rules.congress_list_length(50, 0.15) == 58  # 57.5 places: 58
    assert rules.congress_list_length(50, 0.10) == 55
    assert rules.congress_list_length(70, 0.15) == 81
    assert rules.congress_list_length(50, 0.0) == 50


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: rules.congress_floor_seats(1.5, 50), "share"),
        (lambda: rules.congress_floor_seats(0.15, -1), "seats"),
        (lambda: rules.congress_list_length(-1, 0.1), "seats"),
        (lambda: rules.congress_list_length(50, 1.5), "surplus"),
        (lambda: congress.list_additions(-1, 0.5, 0.0), "gap"),
        (lambda: congress.list_additions(3, 1.2, 0.0), "compliance"),
        (lambda: congress.list_additions(3, 0.5, 1.0), "u"),
    ],
)
def test_rules_refuse_impossible_arguments(call: Callable[[], int], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        call()


def test_list_additions_close_the_stated_share_of_the_gap_on_average() -> None:
    u = (np.arange(10_000) + 0.5) / 10_000  # uniform draws, evenly spread
    for gap in (0, 1, 3, 7):
        assert all(congress.list_additions(gap, 0.0, x) == 0 for x in u[::97])
        assert all(congress.list_additions(gap, 1.0, x) == gap for x in u[::97])
        for c in (0.1, 0.4, 0.75):
            mean = np.mean([congress.list_additions(gap, c, x) for x in u])
            assert mean == pytest.approx(c * gap, abs=1e-3)


@given(st.integers(0, 20), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 0.999999))
def test_more_compliance_never_adds_fewer(gap: int, a: float, b: float, u: float) -> None:
    lo, hi = sorted((a, b))
    k_lo, k_hi = congress.list_additions(gap, lo, u), congress.list_additions(gap, hi, u)
    assert 0 <= k_lo <= k_hi <= gap


# ------------------------------------------------------- the three steps, pure
def _candidates(seed: int, n: int) -> dict[str, np.ndarray]:
    """Random candidates in order of standing (best first)."""
    rng = np.random.default_rng(seed)
    return {
        "female": rng.random(n) < rng.uniform(0.0, 0.4),
        "young": rng.random(n) < rng.uniform(0.0, 0.2),
        "incumbent": rng.random(n) < 0.3,
        "score": np.sort(rng.normal(size=n))[::-1],
    }


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 120), st.integers(1, 60), st.floats(0.0, 0.3))
def test_full_compliance_puts_the_floors_on_the_list_whenever_candidates_exist(
    seed: int, n: int, seats: int, surplus: float
) -> None:
    c = _candidates(seed, n)
    female, young = c["female"], c["young"]
    others = ~(female | young)
    on = congress.nominate(c["incumbent"], rules.congress_list_length(seats, surplus), 10)
    length = int(on.sum())
    assert length == min(n, rules.congress_list_length(seats, surplus))
    groups = [(young, 0.10), (female, 0.15)]
    full = congress.comply(on, groups, others, 1.0, np.array([0.3, 0.7]))
    none = congress.comply(on, groups, others, 0.0, np.array([0.3, 0.7]))
    assert np.array_equal(none, on)  # compliance 0: the list as nominated
    assert int(full.sum()) == length  # additions take places, they do not add them
    assert (full[on & (female | young)]).all()  # no woman or under-40 loses her place
    needs = [rules.congress_floor_seats(floor, length) for _, floor in groups]
    for (flags, _floor), need in zip(groups, needs, strict=True):
        # Met, unless the group or the men over 40 who could give up a place ran out.
        if int(flags.sum()) >= need and int((on & others).sum()) >= sum(needs):
            assert int((full & flags).sum()) >= need


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 120), st.integers(1, 60))
def test_enforced_floors_hold_whenever_candidates_exist(seed: int, n: int, seats: int) -> None:
    c = _candidates(seed, n)
    female, young = c["female"], c["young"]
    chosen = congress.floors_by_construction(female, young, c["incumbent"], seats, 0.15, 0.10, 5)
    assert int(chosen.sum()) == min(seats, n)
    need_y = rules.congress_floor_seats(0.10, seats)
    need_w = rules.congress_floor_seats(0.15, seats)
    if young.sum() >= need_y and need_y + need_w <= min(seats, n):
        assert (chosen & young).sum() >= need_y
    if female.sum() >= need_w + need_y and need_y + need_w <= min(seats, n):
        assert (chosen & female).sum() >= need_w


def test_the_vote_elects_the_highest_votes_on_the_list() -> None:
    on = np.array([True, True, False, True, True])
    votes = np.array([0.1, 2.0, 9.0, -1.0, 0.5])
    assert congress.vote(on, votes, 2).tolist() == [False, True, False, False, True]
    assert congress.vote(on, votes, 9).tolist() == on.tolist()  # a short list is all elected


# ------------------------------------------------------------- in the model
def _first_committees(sc: Scenario, reps: int, seed: int = 11) -> np.ndarray:
    return np.array([run_model(sc, seed, r).committee[0] for r in range(reps)])


def test_the_congress_stream_is_the_last() -> None:
    assert STREAMS[-1] == "congress"  # new streams go at the end: earlier ones keep their seeds


def test_compliance_zero_is_the_plain_vote(qb: Scenario) -> None:
    """With compliance 0 the floors change nothing: the same committees with floors of 0."""
    plain = qb.with_overrides({"congress.compliance": 0.0})
    no_floors = plain.with_overrides({"congress.women_floor": 0.0, "congress.young_floor": 0.0})
    for rep in range(3):
        a, b = run_model(plain, 5, rep), run_model(no_floors, 5, rep)
        assert np.array_equal(a.committee, b.committee)
        assert np.array_equal(a.target_value, b.target_value, equal_nan=True)


def test_the_vote_is_not_a_guarantee(qb: Scenario) -> None:
    """Even with the floors put on the list in full, the vote can elect fewer under-40s than
    the floor asks."""
    full = qb.with_overrides({"congress.compliance": 1.0})
    com = _first_committees(full, 6)
    assert (com[:, 0] == qb.congress.size).all()
    need_y = rules.congress_floor_seats(qb.congress.young_floor, qb.congress.size)
    assert (com[:, 2] < need_y).any()


def test_floors_enforced_variant_meets_the_floors(qb: Scenario) -> None:
    enforced = qb.variant("floors_enforced")
    assert enforced.congress.enforce_floors
    for res in (run_model(enforced, 1, r) for r in range(3)):
        for size, women, _young, new in res.committee:
            assert women >= math.ceil(0.15 * size)
            assert new >= size - math.floor(0.67 * size)


def test_every_bundled_scenario_with_a_congress_has_the_floors_enforced_variant() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        if sc.congress is not None:
            assert not sc.congress.enforce_floors, path.name  # as it happens, by default
            assert sc.variant("floors_enforced").congress.enforce_floors, path.name


@pytest.mark.slow
def test_more_compliance_never_lowers_the_expected_shares(qb: Scenario) -> None:
    """Metamorphic: on the same seeds, a higher compliance gives the groups no fewer seats on
    average at the 2025 congress."""
    reps = 12
    means = []
    for c in (0.0, 0.5, 1.0):
        com = _first_committees(qb.with_overrides({"congress.compliance": c}), reps)
        means.append(com[:, 1:3].mean(axis=0))  # women, young
    means_arr = np.array(means)
    assert (np.diff(means_arr, axis=0) >= 0).all(), means_arr
    assert means_arr[-1, 1] > means_arr[0, 1]  # and it does something for the under-40s


@pytest.mark.slow
def test_backcast_2020_committee_is_within_the_calibration(qb: Scenario) -> None:
    """The bundled compliance, fitted by scripts/calibrate_congress.py, still reproduces the
    national under-40 share on Quảng Bình's back-cast 2020 committee (fitted fact), and the
    women's share sits where the held-out facts put Quảng Bình: below the national 16.2%, with
    a real chance of falling under 10%."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import calibrate_congress as cal

    from sim.runner import SequentialRunner

    reps = 160
    s = cal.shares(cal.committees(cal.backcast_2020(qb), reps, 2020, SequentialRunner()))
    young, se = float(s["young"].mean()), float(s["young"].std(ddof=1) / math.sqrt(reps))
    lo, hi = cal.proportion_interval(cal.COC_YOUNG, cal.COC_MEMBERS)
    assert lo - 2.5 * se <= young <= hi + 2.5 * se
    women = float(s["women"].mean())
    assert 0.10 < women < cal.COC_WOMEN / cal.COC_MEMBERS
    assert (s["women"] < 0.10).mean() > 0.0


# ----------------------------------------------------------- scenario errors
def _compliance_line(text: str) -> str:
    m = re.search(r"^  compliance: .*$", text, re.M)
    assert m is not None
    return m.group(0)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("compliance", "1.5", "less than or equal to 1"),
        ("compliance", "-0.1", "greater than or equal to 0"),
        ("list_surplus", "1.5", "less than or equal to 1"),
        ("vote_noise", "-1", "greater than or equal to 0"),
        ("vote_noise", "20", "less than or equal to 10"),
        ("incumbent_bonus", "-0.5", "greater than or equal to 0"),
        ("compliance", "high", "valid number"),
    ],
)
def test_bad_congress_values_are_refused_with_their_place(
    bundled_text: str, key: str, value: str, words: str
) -> None:
    old = (
        _compliance_line(bundled_text)
        if key == "compliance"
        else re.search(rf"^  {key}: .*$", bundled_text, re.M).group(0)  # type: ignore[union-attr]
    )
    text, line, _ = edit_text(bundled_text, old, f"  {key}: {value}", value)
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "bad.yaml")
    message = str(info.value)
    assert f"bad.yaml:{line}:" in message
    assert f"congress.{key}" in message
    assert words in message


def test_cli_refuses_a_bad_compliance_with_exit_code_2(
    edited: Callable[..., Edited], bundled_text: str
) -> None:
    from typer.testing import CliRunner

    e = edited(_compliance_line(bundled_text), "  compliance: 2", "2")
    result = CliRunner().invoke(app, ["validate", str(e.path)])
    assert result.exit_code == 2
    assert f"{e.path}:{e.line}:" in result.stderr
    assert "congress.compliance" in result.stderr
    assert "Traceback" not in result.stderr
