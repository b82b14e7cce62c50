"""Parameter sweeps: designs, common random numbers across points, CLI and bad designs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BUNDLED
from test_cli import invoke

from sim.scenario import Scenario, load_scenario
from sim.sweep import (
    DesignError,
    check_design,
    grid_design,
    lhs_design,
    parse_grid,
    parse_range,
    run_sweep,
)

WOMEN = "policy.appointment_share.women"


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(BUNDLED)


def test_grid_specs() -> None:
    assert parse_grid(f"{WOMEN}=0.1:0.3:0.1").values == (0.1, 0.2, 0.3)
    assert parse_grid(f"{WOMEN}=0.1,0.25").values == (0.1, 0.25)
    p = parse_grid("policy.vacancy_reservation.max_hold_months=0:24:12")
    assert p.values == (0, 12, 24) and p.integer
    design = grid_design(
        [parse_grid(f"{WOMEN}=0.1,0.2"), parse_grid(f"{WOMEN[:-5]}young=0,0.1,0.2")]
    )
    assert len(design) == 6 and list(design["point"]) == list(range(6))


@pytest.mark.parametrize(
    ("spec", "words"),
    [("x=1:2", "a:b:step"), ("x=2:1:1", "a <= b"), ("x=a:b:c", "not a number"), ("x", "expected")],
)
def test_bad_grid_specs(spec: str, words: str) -> None:
    with pytest.raises(DesignError, match=words):
        parse_grid(spec)


def test_latin_hypercube_covers_each_stratum_once() -> None:
    design = lhs_design([parse_range(f"{WOMEN}=0.1:0.3")], n=10, seed=4)
    x = np.sort(design[WOMEN].to_numpy())
    strata = np.floor((x - 0.1) / 0.02).astype(int)
    assert list(strata) == list(range(10))  # one point in each tenth of the range
    again = lhs_design([parse_range(f"{WOMEN}=0.1:0.3")], n=10, seed=4)
    assert design.equals(again)


def test_points_share_random_numbers(qb: Scenario) -> None:
    """Two points with the same value give identical results (common random numbers)."""
    design = grid_design([parse_grid(f"{WOMEN}=0.15,0.15,0.3")])
    result = run_sweep(qb, design, seed=6, reps=4)
    reps = result.replications
    a = reps[reps["point"] == 0].reset_index(drop=True)
    b = reps[reps["point"] == 1].reset_index(drop=True)
    assert a.drop(columns="point").equals(b.drop(columns="point"))
    assert set(result.points["point"]) == {0, 1, 2}
    aw = result.points[result.points["target"] == "QB-AW"].set_index("point")["p_met"]
    assert aw[0] == aw[1]


def test_bad_points_are_refused_before_running(qb: Scenario) -> None:
    design = grid_design([parse_grid(f"{WOMEN}=0.5:1.5:0.5")])
    with pytest.raises(DesignError) as info:
        check_design(qb, design)
    assert "point 2" in str(info.value) and "1.5" in str(info.value)


def test_cli_sweep_writes_tidy_tables(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    r = invoke(
        ["sweep", "--grid", f"{WOMEN}=0.1,0.3", "--reps", "3", "-w", "1", "-q", "--out", str(out)]
    )
    assert r.exit_code == 0, r.stdout
    points = pd.read_parquet(out / "sweep_points.parquet")
    assert set(points.columns) >= {"point", WOMEN, "target", "p_met", "ci_low", "ci_high"}
    assert len(points) == 2 * 7
    reps = pd.read_parquet(out / "sweep_replications.parquet")
    assert len(reps) == 2 * 3 * 7
    assert (out / "metadata.json").is_file()
    bad = invoke(["sweep", "--grid", "x=1:2", "--reps", "2"])
    assert bad.exit_code == 2 and "a:b:step" in bad.stderr
    both = invoke(["sweep", "--grid", f"{WOMEN}=0.1,0.2", "--lhs", f"{WOMEN}=0.1:0.2"])
    assert both.exit_code == 2


def test_cli_compare_and_solve(tmp_path: Path) -> None:
    r = invoke(
        ["compare", "--set-b", f"{WOMEN}=0.3", "--reps", "6", "-w", "1", "--out", str(tmp_path)]
    )
    assert r.exit_code == 0, r.stdout
    table = pd.read_csv(tmp_path / "compare.csv")
    assert {"difference", "ci_low", "ci_high", "variance_reduction"} <= set(table.columns)
    same = invoke(["compare", "--set-b", f"{WOMEN}=0.15", "--reps", "4", "-w", "1"])
    assert same.exit_code == 0 and "0.0%" in same.stdout
    nothing = invoke(["compare", "--reps", "4"])
    assert nothing.exit_code == 2 and "nothing to compare" in nothing.stderr
    r = invoke(["solve", "--target", "QB-AW", "--reps", "6", "--tolerance", "0.1", "-w", "1"])
    assert r.exit_code in (0, 1), r.stdout
    assert "P(QB-AW met)" in r.stdout
    bad = invoke(["solve", "--target", "NOPE", "--reps", "4"])
    assert bad.exit_code == 2 and "no target 'NOPE'" in bad.stderr
    bad = invoke(["solve", "--target", "QB-AW", "--high", "1.5", "--reps", "4", "-w", "1"])
    assert bad.exit_code == 2 and "less than or equal to 1" in bad.stderr


def test_paired_comparison_reduces_variance(qb: Scenario) -> None:
    """Common random numbers make the paired difference less noisy than independent runs
    would be, for a target both policies can meet."""
    from sim import api

    b = qb.with_overrides({WOMEN: 0.18})
    table = api.compare(qb, b, 3, 40).set_index("target")
    assert table.loc["QB-65H", "variance_reduction"] > 0.3


def test_run_with_sequential_stopping(tmp_path: Path) -> None:
    r = invoke(
        [
            "run",
            "--precision",
            "0.2",
            "--reps",
            "400",
            "-w",
            "1",
            "-q",
            "--out",
            str(tmp_path / "a"),
        ]
    )
    assert r.exit_code == 0, r.stdout
    assert "precision 0.200: reached" in r.stdout and "after 50 replications" in r.stdout
    plain = invoke(["run", "--reps", "50", "-w", "1", "-q", "--out", str(tmp_path / "b")])
    assert plain.exit_code == 0
    a = pd.read_csv(tmp_path / "a" / "targets.csv")
    b = pd.read_csv(tmp_path / "b" / "targets.csv")
    assert a.equals(b)  # the first 50 replications are those of a plain run
    capped = invoke(["run", "--precision", "0.01", "--reps", "60", "-w", "1", "-q"])
    assert capped.exit_code == 0
    assert "not reached at the cap of 60" in capped.stdout


def test_sensitivity_ranks_the_influential_setting_first(qb: Scenario, tmp_path: Path) -> None:
    """Morris screening on the mean women's share of appointments: the women's appointment
    share matters far more than the young share does."""
    pytest.importorskip("SALib")
    from sim.sensitivity import analyse

    params = [
        parse_range(f"{WOMEN}=0.05:0.4"),
        parse_range("policy.appointment_share.young=0.05:0.06"),
    ]
    result = analyse(qb, params, "QB-AW", "morris", n=4, reps=4, output="metric")
    assert result.indices["parameter"].iloc[0] == WOMEN
    assert result.indices["mu_star"].iloc[0] > 5 * result.indices["mu_star"].iloc[1]
    r = invoke(
        [
            "sensitivity",
            "--param",
            f"{WOMEN}=0.05:0.4",
            "--target",
            "QB-AW",
            "--method",
            "sobol",
            "--n",
            "2",
            "--reps",
            "3",
            "--output",
            "metric",
            "-w",
            "1",
            "-q",
            "--out",
            str(tmp_path),
        ]
    )
    assert r.exit_code == 0, r.stdout
    assert (tmp_path / "sensitivity_indices.csv").is_file()
    bad = invoke(["sensitivity", "--param", f"{WOMEN}=0.05:0.4", "--target", "NOPE", "-q"])
    assert bad.exit_code == 2 and "no target 'NOPE'" in bad.stderr
    flat = invoke(
        [
            "sensitivity",
            "--param",
            f"{WOMEN}=0.05:0.4",
            "--target",
            "QB-W-PC-25",
            "--n",
            "2",
            "--reps",
            "2",
            "-w",
            "1",
            "-q",
        ]
    )
    assert flat.exit_code == 2 and "at every one of the" in flat.stderr
