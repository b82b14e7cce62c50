"""Sensitivity methods (Sobol, Morris, FAST, delta, PAWN) and their convergence check.

The indices are first checked on functions whose answer is known, without the simulator
(:func:`sim.sensitivity.analyse_function`): a linear function y = 4*x1 + x2 + 0*x3 (x1 ranks
first, x3 has no effect; its Sobol indices are 16/17, 1/17 and 0) and the Ishigami function
(first-order indices 0.314, 0.442, 0; total 0.558, 0.442, 0.244). Then each new method runs
once on a shortened Quảng Bình (to the end of 2025, one congress) with two settings.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import BUNDLED

from sim.runner import SequentialRunner
from sim.scenario import Scenario, apply_overrides, load_scenario
from sim.store import ResultStore, identity
from sim.sweep import DesignError, parse_range

pytest.importorskip("SALib")

from sim.sensitivity import (
    COLUMNS,
    MAIN_INDEX,
    Sensitivity,
    analyse,
    analyse_function,
    analyse_outputs,
    min_n,
    sample,
)

WOMEN = "policy.appointment_share.women"
YOUNG = "policy.appointment_share.young"
CONVERGENCE = ["parameter", "fraction", "size", "points", "index", "value", "conf", "rank"]
CHECKS = [
    "parameter",
    "value",
    "previous",
    "change",
    "conf",
    "rank_stable",
    "converged",
    "verdict",
]

UNIT: dict[str, Any] = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0.0, 1.0]] * 3}
PI: dict[str, Any] = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}


def linear(x: np.ndarray) -> np.ndarray:
    return 4 * x[:, 0] + x[:, 1] + 0 * x[:, 2]


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def _by_parameter(result: Sensitivity, column: str) -> dict[str, float]:
    return dict(zip(result.indices["parameter"], result.indices[column], strict=True))


# -- the indices on known functions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "n", "x3_at_most"),
    [("sobol", 64, 0.01), ("morris", 10, 1e-9), ("fast", 129, 0.02), ("delta", 100, 0.1)],
)
def test_linear_function_x1_first_and_x3_near_zero(method: str, n: int, x3_at_most: float) -> None:
    result = analyse_function(UNIT, linear, method, n)
    assert list(result.indices.columns) == list(COLUMNS[method])
    main = _by_parameter(result, MAIN_INDEX[method])
    assert result.indices["parameter"].iloc[0] == "x1"
    assert abs(main["x3"]) <= x3_at_most
    assert main["x1"] > 3 * main["x2"] > 0
    # The table is sorted by the main index, largest first.
    values = result.indices[MAIN_INDEX[method]].to_numpy()
    assert (np.diff(values) <= 0).all()
    assert len(result.samples) == {"sobol": 64 * 5, "morris": 10 * 4, "fast": 129 * 3}.get(
        method, n
    )


def test_linear_function_indices_match_the_analytic_ones() -> None:
    """Var(4*x1 + x2) = 17/12: S1 = ST = 16/17 for x1 and 1/17 for x2; Morris's mu* is the
    slope."""
    for method, n in (("sobol", 256), ("fast", 129)):
        r = analyse_function(UNIT, linear, method, n)
        for col in ("S1", "ST"):
            got = _by_parameter(r, col)
            assert got["x1"] == pytest.approx(16 / 17, abs=0.03), (method, col)
            assert got["x2"] == pytest.approx(1 / 17, abs=0.03), (method, col)
    morris = _by_parameter(analyse_function(UNIT, linear, "morris", 6), "mu_star")
    assert morris == pytest.approx({"x1": 4.0, "x2": 1.0, "x3": 0.0})


def test_sobol_and_fast_recover_the_ishigami_indices() -> None:
    s1 = {"x1": 0.314, "x2": 0.442, "x3": 0.0}
    st = {"x1": 0.558, "x2": 0.442, "x3": 0.244}
    sobol = analyse_function(PI, ishigami, "sobol", 1024)
    assert _by_parameter(sobol, "S1") == pytest.approx(s1, abs=0.03)
    assert _by_parameter(sobol, "ST") == pytest.approx(st, abs=0.03)
    fast = analyse_function(PI, ishigami, "fast", 513)
    assert _by_parameter(fast, "S1") == pytest.approx(s1, abs=0.03)
    assert _by_parameter(fast, "ST") == pytest.approx(st, abs=0.06)
    assert list(fast.indices["parameter"]) == ["x1", "x2", "x3"]


def test_pawn_ranks_the_ishigami_parameters() -> None:
    """PAWN compares distributions: x2 (the large sin^2 term) moves the output's distribution
    most, then x1, and x3 least; a parameter of no effect keeps only the KS statistic's noise."""
    r = analyse_function(PI, ishigami, "pawn", 500)
    assert list(r.indices.columns) == list(COLUMNS["pawn"])
    assert list(r.indices["parameter"]) == ["x2", "x1", "x3"]
    row = r.indices.set_index("parameter")
    assert (row["minimum"] <= row["median"]).all() and (row["median"] <= row["maximum"]).all()
    lin = analyse_function(UNIT, linear, "pawn", 200)
    median = _by_parameter(lin, "median")
    assert lin.indices["parameter"].iloc[0] == "x1"
    assert median["x3"] < 0.35 * median["x1"]


def test_delta_puts_x1_far_ahead_and_x3_near_zero() -> None:
    """At 200 points delta tells x1 from the rest, but not yet x2 (1/17 of the variance)
    from x3 (none): both are within the estimator's bias of zero."""
    r = analyse_function(UNIT, linear, "delta", 200)
    assert r.indices["parameter"].iloc[0] == "x1"
    delta = _by_parameter(r, "delta")
    assert delta["x1"] > 0.5 and abs(delta["x3"]) < 0.1 and delta["x3"] < delta["x1"] / 5
    s1 = _by_parameter(r, "S1")
    assert s1["x1"] == pytest.approx(16 / 17, abs=0.1) and abs(s1["x3"]) < 0.1
    assert (r.indices["delta_conf"] > 0).all() and (r.indices["S1_conf"] > 0).all()


# -- the minimum n and the checks -----------------------------------------------------------


def test_fast_below_its_minimum_is_a_design_error_naming_it() -> None:
    assert min_n("fast") == 65
    with pytest.raises(DesignError, match=r"fast needs n > 4\*M\^2 = 64 .*--n 65 or more"):
        analyse_function(UNIT, linear, "fast", 64)
    assert len(analyse_function(UNIT, linear, "fast", 65).samples) == 65 * 3
    for method in ("delta", "pawn"):
        with pytest.raises(DesignError, match=f"{method} needs n >= 20 points: got 19"):
            analyse_function(UNIT, linear, method, 19)
    with pytest.raises(DesignError, match="morris needs n >= 2 trajectories: got 1"):
        analyse_function(UNIT, linear, "morris", 1)


def test_bad_methods_names_and_constant_outputs() -> None:
    with pytest.raises(DesignError, match="method 'sobol2': sobol, morris, fast, delta or pawn"):
        analyse_function(UNIT, linear, "sobol2", 8)
    twice = {"num_vars": 2, "names": ["a", "a"], "bounds": [[0, 1], [0, 1]]}
    with pytest.raises(DesignError, match="a: given more than once"):
        analyse_function(twice, lambda x: x[:, 0], "pawn", 20)
    with pytest.raises(DesignError, match="is 3 at every one of the 20 sample points"):
        analyse_function(UNIT, lambda x: np.full(len(x), 3.0), "delta", 20)
    x = sample("pawn", UNIT, 20)
    with pytest.raises(DesignError, match="has 20 points: got x of shape"):
        analyse_outputs("pawn", UNIT, x[:10], linear(x[:10]), 20)


def test_analyse_checks_before_running(qb: Scenario) -> None:
    """The checks of a scenario's analysis come before any replication is run."""

    class NoRuns(SequentialRunner):
        def results(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a replication ran")

    women, young = parse_range(f"{WOMEN}=0.05:0.4"), parse_range(f"{YOUNG}=0.05:0.06")
    cases: list[tuple[dict[str, Any], str]] = [
        (dict(target="NOPE"), "no target 'NOPE'"),
        (dict(method="saltelli"), "method 'saltelli': sobol, morris, fast, delta or pawn"),
        (dict(params=[women, women]), f"{WOMEN}: given more than once"),
        (dict(method="fast", n=16), r"fast needs n > 4\*M\^2 = 64"),
        (dict(method="delta", n=10), "delta needs n >= 20 points"),
        (dict(output="median"), "output 'median': p_met or metric"),
        (dict(params=[]), "no parameter"),
    ]
    for change, message in cases:
        kwargs: dict[str, Any] = {
            "params": [women, young],
            "target": "QB-AW",
            "method": "pawn",
            "n": 20,
            "reps": 2,
            "runner": NoRuns(),
            **change,
        }
        with pytest.raises(DesignError, match=message):
            analyse(qb, **kwargs)


# -- reproducibility --------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "n"), [("fast", 65), ("delta", 26), ("pawn", 60)])
def test_seeded_reproducible_and_leaves_the_caller_alone(method: str, n: int) -> None:
    """Same seed, same tables; another seed, another sample. The caller's NumPy global
    generator, warning filters and warning format are as they were, and SALib's warnings (its
    FAST intervals notice, say) are not passed on."""
    np.random.seed(11)  # noqa: NPY002
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(11)  # noqa: NPY002
    formatter = warnings.formatwarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = analyse_function(PI, ishigami, method, n, seed=3)
        b = analyse_function(PI, ishigami, method, n, seed=3)
    assert [str(w.message) for w in caught] == []
    assert np.random.random() == expected  # noqa: NPY002  (the caller's stream goes on)
    assert warnings.formatwarning is formatter
    for field in ("indices", "samples", "convergence", "checks"):
        pd.testing.assert_frame_equal(getattr(a, field), getattr(b, field))
    assert a.verdict == b.verdict
    c = analyse_function(PI, ishigami, method, n, seed=4)
    assert not np.allclose(a.samples["x1"].to_numpy(), c.samples["x1"].to_numpy())


# -- the convergence check --------------------------------------------------------------------


def test_sobol_subsamples_are_the_first_base_samples() -> None:
    """SALib lays a Saltelli sample out as blocks of D+2 rows per base sample, and the first k
    base samples of a sample of n are a sample of k: the convergence frame's index at k base
    samples is the index of an analysis with n=k."""
    r = analyse_function(PI, ishigami, "sobol", 16)
    conv = r.convergence
    assert list(conv.columns) == CONVERGENCE
    assert sorted(set(conv["size"])) == [4, 8, 12, 16]
    assert sorted(set(conv["fraction"])) == [0.25, 0.5, 0.75, 1.0]
    assert (conv["points"] == conv["size"] * 5).all() and (conv["index"] == "ST").all()
    for k in (4, 8):
        alone = _by_parameter(analyse_function(PI, ishigami, "sobol", k), "ST")
        at_k = conv[conv["size"] == k].set_index("parameter")["value"].to_dict()
        assert at_k == pytest.approx(alone, abs=1e-12)
    whole = conv[conv["size"] == 16].set_index("parameter")
    assert whole["value"].to_dict() == pytest.approx(_by_parameter(r, "ST"))
    assert whole["conf"].to_dict() == pytest.approx(_by_parameter(r, "ST_conf"))
    assert sorted(whole["rank"]) == [1, 2, 3]
    assert whole.loc[r.indices["parameter"].iloc[0], "rank"] == 1


def test_morris_and_pawn_subsamples_are_the_first_trajectories_and_points() -> None:
    from SALib.analyze import morris, pawn

    r = analyse_function(PI, ishigami, "morris", 8)
    x, y = r.samples[["x1", "x2", "x3"]].to_numpy(), r.samples["output"].to_numpy()
    half = morris.analyze(PI, x[: 4 * 4], y[: 4 * 4], num_levels=4, seed=2021)
    at_4 = r.convergence[r.convergence["size"] == 4].set_index("parameter")["value"]
    assert at_4.to_dict() == pytest.approx(dict(zip(PI["names"], half["mu_star"], strict=True)))
    p = analyse_function(PI, ishigami, "pawn", 60)  # 5 slides at every subsample
    x, y = p.samples[["x1", "x2", "x3"]].to_numpy(), p.samples["output"].to_numpy()
    assert sorted(set(p.convergence["size"])) == [30, 45, 60]
    first = pawn.analyze(PI, x[:30], y[:30], S=5)
    at_30 = p.convergence[p.convergence["size"] == 30].set_index("parameter")["value"]
    assert at_30.to_dict() == pytest.approx(dict(zip(PI["names"], first["median"], strict=True)))
    assert p.convergence["conf"].isna().all()  # PAWN has no interval


def test_verdicts_say_converged_or_what_to_add() -> None:
    good = analyse_function(UNIT, linear, "sobol", 64)
    assert list(good.checks.columns) == CHECKS
    assert good.checks["converged"].all() and good.checks["rank_stable"].all()
    assert good.verdict.startswith("sobol on 320 points (64 base samples): converged; ST agrees")
    assert all(v.startswith("converged: ST") for v in good.checks["verdict"])
    # Few base samples of a non-linear function: the index still moves between subsamples.
    few = analyse_function(PI, ishigami, "sobol", 8)
    assert not few.checks["converged"].all()
    assert "not converged for" in few.verdict and few.verdict.endswith("add base samples (n)")
    moved = few.checks[~few.checks["converged"]]
    assert all(v.startswith("not converged: ST") for v in moved["verdict"])
    assert (moved["change"] > 0.05).any() or (~moved["rank_stable"].astype(bool)).any()
    # Too few to subsample: said so, not called converged.
    two = analyse_function(PI, ishigami, "sobol", 2)
    assert not two.checks["converged"].any() and two.checks["rank_stable"].isna().all()
    assert "not judged" in two.verdict and "at least 3 needed" in two.verdict
    # The tolerance is the one given.
    strict = analyse_function(UNIT, linear, "pawn", 40, tolerance=1e-6)
    assert not strict.checks["converged"].all() and "within" not in strict.verdict
    loose = analyse_function(UNIT, linear, "pawn", 40, tolerance=1.0)
    assert loose.checks["converged"].all() and "median agrees within 1 " in loose.verdict


def test_fast_convergence_is_its_bootstrap_width() -> None:
    r = analyse_function(PI, ishigami, "fast", 257)
    conv = r.convergence
    assert list(conv["fraction"]) == [1.0] * 3 and list(conv["size"]) == [257] * 3
    assert (conv["points"] == 257 * 3).all()
    assert r.checks["rank_stable"].isna().all()
    width = r.checks.set_index("parameter")["conf"]
    judged = r.checks.set_index("parameter")["converged"]
    assert judged.to_dict() == (width <= 0.05).to_dict()
    assert judged.any() and not judged.all()  # x1's interval is narrow, x2's is not
    assert all("cannot be subsampled" in v for v in r.checks["verdict"])
    assert "not converged for" in r.verdict


def test_a_rank_that_changes_between_subsamples_is_not_converged() -> None:
    """Morris on y = a*x1 + b*x2 where the last of four trajectories has a steep x2: x1's
    mu* does not move, but x2 overtakes it, so neither has converged."""
    problem = {"num_vars": 2, "names": ["x1", "x2"], "bounds": [[0.0, 1.0]] * 2}
    x = sample("morris", problem, 4)
    steep = np.arange(len(x)) // 3 == 3  # the fourth trajectory (3 rows each)
    y = x[:, 0] + np.where(steep, 10.0, 0.5) * x[:, 1]
    _table, conv, checks, verdict = analyse_outputs("morris", problem, x, y, 4)
    assert sorted(set(conv["size"])) == [2, 3, 4]
    row = checks.set_index("parameter")
    assert row.loc["x1", "change"] == pytest.approx(0.0, abs=1e-12)
    assert not row.loc["x1", "rank_stable"] and not row.loc["x1", "converged"]
    assert "rank unstable" in row.loc["x1", "verdict"]
    assert "not converged for 2 of 2 parameters" in verdict


# -- small runs on the simulator ---------------------------------------------------------------


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(BUNDLED)


@pytest.fixture(scope="module")
def short(qb: Scenario) -> Scenario:
    """Quảng Bình to the end of 2025 (its targets' year), one congress: about half the cost
    of a replication."""
    return apply_overrides(qb, {"end": "2025-12-31", "congress.dates": ["2025-10-15"]})


class Counting(SequentialRunner):
    def __init__(self) -> None:
        self.ran = 0

    def results(self, scenario: Any, seed: int, reps: Any, roster: Any = None) -> Any:
        reps = list(reps)
        self.ran += len(reps)
        return super().results(scenario, seed, reps, roster)


@pytest.mark.slow
def test_delta_and_pawn_on_the_simulator(short: Scenario, tmp_path: Path) -> None:
    """Delta and PAWN sample the same Latin hypercube: PAWN reads delta's stored replications
    back instead of running them again."""
    params = [parse_range(f"{WOMEN}=0.05:0.4"), parse_range(f"{YOUNG}=0.05:0.06")]
    ident = identity("sensitivity", short, 5, design={"params": ["women", "young"]})
    targets = [t.id for t in short.targets]
    runner = Counting()
    store = ResultStore.open(tmp_path, ident, targets)
    delta = analyse(short, params, "QB-AW", "delta", 26, 2, 5, "metric", runner=runner, store=store)
    store.flush()
    assert runner.ran == 26 * 2
    again = Counting()
    kept = ResultStore.open(tmp_path, ident, targets, resume=True)
    pawn = analyse(short, params, "QB-AW", "pawn", 26, 2, 5, "metric", runner=again, store=kept)
    assert again.ran == 0
    pd.testing.assert_frame_equal(delta.samples, pawn.samples)
    assert len(delta.samples) == 26 and list(delta.samples.columns) == [WOMEN, YOUNG, "output"]
    for r in (delta, pawn):
        assert list(r.indices.columns) == list(COLUMNS[r.method])
        assert list(r.indices["parameter"]) == [WOMEN, YOUNG]  # the women's share matters
        assert list(r.convergence.columns) == CONVERGENCE
        assert sorted(set(r.convergence["size"])) == [20, 26]
        assert (r.convergence["index"] == MAIN_INDEX[r.method]).all()
        assert list(r.checks.columns) == CHECKS and list(r.checks["parameter"]) == [WOMEN, YOUNG]
        assert all(v.split(":")[0] in ("converged", "not converged") for v in r.checks["verdict"])
        assert r.verdict.startswith(f"{r.method} on 26 points: ")
    assert delta.indices["delta"].iloc[0] > delta.indices["delta"].iloc[1]
    assert pawn.indices["median"].iloc[0] > 2 * pawn.indices["median"].iloc[1]


@pytest.mark.slow
def test_fast_on_the_simulator(short: Scenario) -> None:
    """FAST's smallest design: 65 points on each of two search curves, one replication each
    (the mean metric of one replication is its metric)."""
    params = [parse_range(f"{WOMEN}=0.05:0.4"), parse_range(f"{YOUNG}=0.05:0.06")]
    done: list[int] = []

    def tick(points_done: int, points: int) -> None:
        done.append(points)

    r = analyse(
        short,
        params,
        "QB-AW",
        "fast",
        reps=1,
        seed=5,
        output="metric",
        progress=lambda d, t: done.append(t),
    )
    assert len(r.samples) == 130 and done[-1] == 130
    assert list(r.indices.columns) == list(COLUMNS["fast"])
    assert list(r.indices["parameter"]) == [WOMEN, YOUNG]
    st = _by_parameter(r, "ST")
    assert st[WOMEN] > 0.5 > st[YOUNG]
    assert list(r.convergence.columns) == CONVERGENCE
    assert list(r.convergence["size"]) == [65, 65] and list(r.convergence["points"]) == [130, 130]
    assert r.checks.set_index("parameter").loc[WOMEN, "converged"]
    assert r.verdict.startswith("fast on 130 points (65 points per parameter): ")
