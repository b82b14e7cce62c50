"""Exploratory modelling: designs of lever settings crossed with states of the world,
robustness and regret, scenario discovery (PRIM, CART), and a small real study that resumes
from a store and gives the same tables on two workers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BUNDLED, ROOT

from sim.explore import (
    DiscoveryError,
    Exploration,
    Study,
    cart_boxes,
    check,
    design,
    explore,
    parse_param,
    prim_boxes,
    robustness,
    settings,
    store_identity,
)
from sim.model import RepResult
from sim.roster import Roster
from sim.runner import SequentialRunner, make_runner
from sim.scenario import Scenario, get_setting, load_scenario
from sim.store import ResultStore
from sim.sweep import DesignError

pytest.importorskip("ema_workbench")

WOMEN = "policy.appointment_share.women"
HOLD = "policy.vacancy_reservation.max_hold_months"
#: A short Quảng Bình (to its 2025 targets): half the cost of a replication.
SHORT = {"end": "2025-12-31", "congress.dates": ["2025-10-15"]}


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(BUNDLED).with_overrides(SHORT)


# --------------------------------------------------------------------------- #
# Scenario discovery on data whose answer is known
# --------------------------------------------------------------------------- #


def corner(n: int = 500, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Uniform cases in three dimensions; a case fails iff x1 > 0.7 and x2 < 0.3."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 3)), columns=["x1", "x2", "noise"])
    return x, ((x["x1"] > 0.7) & (x["x2"] < 0.3)).to_numpy()


def test_prim_finds_the_known_box() -> None:
    x, fail = corner()
    boxes = prim_boxes(x, fail)
    first = boxes[boxes["box"] == 1].set_index("dimension")
    assert set(first.index) == {"x1", "x2"}  # the noise dimension is left free
    assert first.loc["x1", "low"] == pytest.approx(0.7, abs=0.05)
    assert first.loc["x1", "high"] == first.loc["x1", "data_high"]  # not bounded above
    assert first.loc["x2", "high"] == pytest.approx(0.3, abs=0.05)
    assert first.loc["x2", "low"] == first.loc["x2", "data_low"]  # not bounded below
    stats = first.iloc[0]
    assert stats["density"] >= 0.9 and stats["coverage"] >= 0.85
    assert stats["k"] == round(stats["coverage"] * fail.sum())
    assert stats["mass"] == pytest.approx(stats["n"] / len(x))
    inside = (x["x1"].between(first.loc["x1", "low"], first.loc["x1", "high"])) & x["x2"].between(
        first.loc["x2", "low"], first.loc["x2", "high"]
    )
    assert inside.sum() == stats["n"] and fail[inside].sum() == stats["k"]
    # the bound that matters is significant (a small quasi-p-value); the free one has none
    assert first.loc["x1", "qp_low"] < 0.01 and np.isnan(first.loc["x1", "qp_high"])
    assert prim_boxes(x, fail).equals(boxes)  # deterministic


def test_cart_finds_the_same_region() -> None:
    x, fail = corner()
    leaves = cart_boxes(x, fail)
    first = leaves[leaves["box"] == 1].set_index("dimension")
    assert set(first.index) == {"x1", "x2"}
    assert first.loc["x1", "low"] == pytest.approx(0.7, abs=0.05)
    assert first.loc["x2", "high"] == pytest.approx(0.3, abs=0.05)
    assert first["density"].iloc[0] > 0.9 and first["coverage"].iloc[0] > 0.8
    assert (leaves["density"] > 0.5).all()  # only leaves where most cases fail
    assert cart_boxes(x, fail).equals(leaves)


def test_prim_over_a_categorical_dimension() -> None:
    """A word dimension (a quota reading, say) is peeled by category."""
    rng = np.random.default_rng(5)
    x = pd.DataFrame(
        {"reading": rng.choice(["expected", "floor", "none"], 300), "u": rng.random(300)}
    )
    fail = ((x["reading"] == "none") & (x["u"] < 0.5)).to_numpy()
    boxes = prim_boxes(x, fail)
    first = boxes[boxes["box"] == 1].set_index("dimension")
    assert first.loc["reading", "categories"] == "none"
    assert first.loc["u", "high"] == pytest.approx(0.5, abs=0.05)
    # CART splits on the words too (EMA reads them as categories), and on a single dimension.
    leaves = cart_boxes(x, fail)
    first = leaves[leaves["box"] == 1].set_index("dimension")
    assert first.loc["reading", "categories"] == "none"
    assert first.loc["u", "high"] == pytest.approx(0.5, abs=0.05)
    one = cart_boxes(x[["u"]], (x["u"] < 0.3).to_numpy())
    assert list(one["dimension"]) == ["u"] and one["high"].iloc[0] == pytest.approx(0.3, abs=0.05)
    # No split at all (the same share fails everywhere): no leaf, not an error.
    flat = pd.DataFrame({"u": np.r_[np.zeros(20), np.ones(20)]})
    assert cart_boxes(flat, np.r_[[True, False] * 20]).empty


@pytest.mark.parametrize(
    ("fail", "words"),
    [
        (np.zeros(40, bool), "never fails in the design: nothing to discover"),
        (np.ones(40, bool), "fails at every point"),
        (np.arange(6) < 2, "too few"),
        (np.zeros(3, bool), "one outcome a case"),
    ],
)
def test_discovery_refuses_with_a_clear_message(fail: np.ndarray, words: str) -> None:
    n = 6 if len(fail) == 6 else 40
    x = pd.DataFrame({"a": np.linspace(0, 1, n)})
    for find in (prim_boxes, cart_boxes):
        with pytest.raises(DiscoveryError, match=words):
            find(x, fail, label="HG-W1-30")


# --------------------------------------------------------------------------- #
# Robustness and regret
# --------------------------------------------------------------------------- #


def hand_table() -> pd.DataFrame:
    """Three lever settings in four states, for target T; target D where setting 2 is best
    in every state."""
    p = {0: [0.9, 0.8, 0.7, 0.2], 1: [0.6, 0.6, 0.6, 0.6], 2: [1.0, 0.1, 0.9, 0.5]}
    rows = [
        {"lever_id": lv, "state_id": s, "target": "T", "by": 2025, "p_met": v}
        for lv, values in p.items()
        for s, v in enumerate(values)
    ]
    rows += [
        {"lever_id": lv, "state_id": s, "target": "D", "by": 2030, "p_met": 0.2 * lv + 0.1 * s}
        for lv in range(3)
        for s in range(4)
    ]
    table = pd.DataFrame(rows)
    table["share"] = table["lever_id"] / 10  # a lever column, carried to the result
    return table


def test_robustness_and_regret_by_hand() -> None:
    table = robustness(hand_table(), ["share"])
    t = table[table["target"] == "T"].set_index("lever_id")
    # best in each state: 1.0, 0.8, 0.9, 0.6
    assert t["max_regret"].to_dict() == pytest.approx({0: 0.4, 1: 0.4, 2: 0.7})
    assert t["mean_regret"].to_dict() == pytest.approx({0: 0.175, 1: 0.225, 2: 0.2})
    assert t["p_worst"].to_dict() == pytest.approx({0: 0.2, 1: 0.6, 2: 0.1})
    assert t["worst_state"].to_dict() == {0: 3, 1: 0, 2: 1}  # the first state if tied
    assert t["p10"].to_dict() == pytest.approx({0: 0.35, 1: 0.6, 2: 0.22})
    assert t["p_mean"].to_dict() == pytest.approx({0: 0.65, 1: 0.6, 2: 0.625})
    assert t["p_best"].to_dict() == pytest.approx({0: 0.9, 1: 0.6, 2: 1.0})
    # settings 0 and 1 tie on maximum regret: the higher worst case (1) ranks first
    assert t["rank_regret"].to_dict() == {1: 1, 0: 2, 2: 3}
    assert t["rank_worst"].to_dict() == {1: 1, 0: 2, 2: 3}
    assert t.loc[2, "share"] == 0.2 and (t["states"] == 4).all() and (t["by"] == 2025).all()
    d = table[table["target"] == "D"].set_index("lever_id")
    assert d.loc[2, "max_regret"] == pytest.approx(0.0)  # best in every state: no regret
    assert d.loc[0, "max_regret"] == pytest.approx(0.4)
    assert d["rank_regret"].to_dict() == {2: 1, 1: 2, 0: 3}


def test_robustness_needs_every_setting_in_every_state() -> None:
    table = hand_table()
    gap = table.drop(index=table[(table["lever_id"] == 1) & (table["state_id"] == 2)].index)
    with pytest.raises(DesignError, match="every lever setting needs one row in every state"):
        robustness(gap)


# --------------------------------------------------------------------------- #
# Designs
# --------------------------------------------------------------------------- #


def test_parse_param_forms_and_errors() -> None:
    assert parse_param(f"{WOMEN}=0.1:0.3").low == 0.1
    assert parse_param(f"{WOMEN}=0.1:0.3:0.1").values == (0.1, 0.2, 0.3)
    assert parse_param(f"{HOLD}=0,12").integer
    words = parse_param("policy.appointment_share.reading=expected,floor")
    assert words.choices == ("expected", "floor") and not words.values
    for bad, say in [
        (f"{WOMEN}=0.3:0.1", "a < b"),
        (f"{WOMEN}=0.1,floor", "numbers or words"),
        ("policy.appointment_share.reading=floor,floor", "twice"),
        (WOMEN, "expected path=a:b"),
    ]:
        with pytest.raises(DesignError, match=say) as info:
            parse_param(bad)
        assert "policy.appointment_share" in str(info.value)  # the parameter is named


def test_grid_of_levers_meets_the_same_states() -> None:
    study = Study.from_specs(
        ["dynamics.exit_hazard.l1=0.03:0.09", f"{HOLD}=0:24"],
        [f"{WOMEN}=0.1,0.2", "policy.appointment_share.reading=expected,floor,none"],
        n_states=5,
    )
    plan = design(study, 3)
    assert len(plan) == 6 * 5 and list(plan["point"]) == list(range(30))
    assert sorted(set(plan["lever_id"])) == list(range(6))
    assert (plan["point"] == plan["lever_id"] * 5 + plan["state_id"]).all()
    states = ["dynamics.exit_hazard.l1", HOLD]
    first = plan[plan["lever_id"] == 0][states].reset_index(drop=True)
    for _, rows in plan.groupby("lever_id"):
        assert rows[states].reset_index(drop=True).equals(first)  # the same states for all
    # each lever setting is one combination of the grid, every combination once
    combos = plan.drop_duplicates("lever_id")[[WOMEN, "policy.appointment_share.reading"]]
    assert len(combos.drop_duplicates()) == 6
    assert plan[HOLD].dtype == np.int64  # whole-number settings stay whole numbers
    assert design(study, 3).equals(plan)  # reproducible by seed
    assert not design(study, 4)[states].equals(plan[states])


def test_states_do_not_depend_on_the_lever_design() -> None:
    unc = ["dynamics.exit_hazard.l1=0.03:0.09"]
    a = design(Study.from_specs(unc, [f"{WOMEN}=0.1,0.2"], n_states=4), 9)
    lhs = Study.from_specs(unc, [f"{WOMEN}=0.1:0.4"], lever_design="lhs", n_levers=3, n_states=4)
    b = design(lhs, 9)
    col = "dynamics.exit_hazard.l1"
    assert a[a["lever_id"] == 0][col].tolist() == b[b["lever_id"] == 2][col].tolist()


def test_latin_hypercube_over_whole_numbers_takes_each_once() -> None:
    """25 Latin-hypercube points over the whole numbers 0..24: one in each, as integers."""
    study = Study(uncertainties=(parse_param(f"{HOLD}=0:24"),), n_states=25)
    values = design(study, 1)[HOLD]
    assert values.dtype == np.int64 and sorted(values) == list(range(25))


def test_sobol_sizes() -> None:
    unc = ["dynamics.exit_hazard.l1=0.03:0.09", "dynamics.exit_hazard.l2=0.02:0.05"]
    sobol = {"lever_design": "sobol", "n_levers": 4, "state_design": "sobol"}
    study = Study.from_specs(unc, [f"{WOMEN}=0.1:0.3"], n_states=8, **sobol)
    plan = design(study, 2)
    assert len(plan) == 4 * 8
    x = plan[plan["lever_id"] == 0]["dynamics.exit_hazard.l1"]
    assert x.between(0.03, 0.09).all() and x.nunique() == 8
    assert design(study, 2).equals(plan)
    bad = Study.from_specs(unc, [f"{WOMEN}=0.1:0.3"], n_states=6, **sobol)
    with pytest.raises(DesignError, match="power of two points \\(got 6\\): use 4 or 8"):
        design(bad, 2)


def test_bad_studies_name_the_parameter(qb: Scenario) -> None:
    with pytest.raises(DesignError, match=f"{WOMEN}: both a lever and an uncertainty"):
        Study.from_specs([f"{WOMEN}=0.1:0.3"], [f"{WOMEN}=0.1,0.2"])
    with pytest.raises(DesignError, match=f"lever {WOMEN}: given more than once"):
        Study.from_specs([], [f"{WOMEN}=0.1,0.2", f"{WOMEN}=0.3"])
    with pytest.raises(DesignError, match=f"{WOMEN}: a grid needs values"):
        design(Study.from_specs([], [f"{WOMEN}=0.1:0.3"]), 1)
    with pytest.raises(DesignError, match="nothing to explore"):
        Study()
    study = Study.from_specs(
        ["dynamics.exit_hazard.l1=0.03:0.09"], [f"{WOMEN}=0.2,1.5"], n_states=2
    )
    plan = design(study, 1)
    with pytest.raises(DesignError) as info:
        check(qb, plan, settings(qb, study, plan))
    message = str(info.value)
    assert "point 2 (lever setting 1, state 0)" in message and WOMEN in message
    assert "point 0" not in message  # the valid setting is not blamed


def test_assumptions_as_uncertainties() -> None:
    """A group is one position in [0, 1]: at 0 every member is at its low end, at 1 at its
    high end (as the robustness study moves them); an assumed setting that is a lever is left
    to the lever."""
    hg = load_scenario(ROOT / "scenarios" / "ha_giang.yaml")
    study = Study.from_assumptions(hg, levers=["policy.rotation.share_per_year=0.05,0.2"])
    names = [p.path for p in study.uncertainties]
    assert "deputies per unit" in names and "policy.rotation.share_per_year" not in names
    assert any("policy.rotation.share_per_year" in n for n in study.notes)
    lone = next(p for p in study.uncertainties if p.path == "dynamics.knowledge_update_months")
    assert (lone.low, lone.high, lone.integer) == (36, 84, False)  # on its own scale
    groups = ["deputies per unit", "women-staff shares of units", "exits"]
    plan = pd.DataFrame({"point": [0, 1], "lever_id": [0, 0], "state_id": [0, 1]})
    for p in study.uncertainties:
        plan[p.path] = [p.low, p.high]
    plan["policy.rotation.share_per_year"] = 0.05
    table = settings(hg, study, plan)
    data = hg.model_dump(mode="json")
    for group in groups:
        for a in study.moves[group].members:
            current = get_setting(data, a.path)
            assert table.loc[0, a.path] == a.at(current, "low"), a.path
            assert table.loc[1, a.path] == a.at(current, "high"), a.path
    check(hg, plan, table)  # both ends of everything together are a valid scenario
    single = Study.from_assumptions(hg, grouped=False, only=["women-staff shares of units"])
    assert all(p.path.endswith("+shift") for p in single.uncertainties)
    months = Study.from_assumptions(hg, grouped=False, only=["timing of yearly plans"])
    assert [p.path for p in months.uncertainties] == [
        "policy.training.month",
        "policy.rotation.month",
    ]
    drawn = design(months, 1)
    for p in months.uncertainties:  # whole-number settings drawn as whole numbers
        assert p.integer and drawn[p.path].dtype == np.int64 and drawn[p.path].between(1, 6).all()


# --------------------------------------------------------------------------- #
# A small real study
# --------------------------------------------------------------------------- #


def small_study(qb: Scenario) -> Study:
    return Study.from_assumptions(
        qb, levers=[f"{WOMEN}=0.05,0.5"], only=["exits", "selection delay"], n_states=4
    )


REPS = 2


def run_small(qb: Scenario, **kwargs: object) -> Exploration:
    return explore(qb, small_study(qb), seed=11, reps=REPS, min_cases=4, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def study_result(qb: Scenario) -> Exploration:
    return run_small(qb)


def test_small_study_tables(qb: Scenario, study_result: Exploration) -> None:
    r = study_result
    n_targets = len(qb.targets)
    assert len(r.design) == 8 and set(r.design["lever_id"]) == {0, 1}
    assert len(r.points) == 8 * n_targets
    assert (
        (r.points["ci_low"] <= r.points["p_met"]) & (r.points["p_met"] <= r.points["ci_high"])
    ).all()
    # P(met) is the share of the point's replications that met the target
    met = r.replications.groupby(["point", "target"])["met"].mean()
    p = r.points.set_index(["point", "target"])["p_met"]
    assert np.allclose(p.sort_index(), met.reindex(p.sort_index().index))
    # the joint P: every target of the deadline met in the same replication, so never above
    # the least likely of them
    by_target = r.points.groupby(["point", "by"])["p_met"].min()
    for row in r.joint.itertuples():
        assert row.p_all_met <= by_target[(row.point, row.by)] + 1e-12
        reps = r.replications[r.replications["point"] == row.point]
        ids = row.targets.split()
        all_met = reps[reps["target"].isin(ids)].groupby("rep")["met"].all()
        assert row.p_all_met == pytest.approx(all_met.mean())
    # flows: a women's appointment share of 50% gives more women appointments than 5%, in
    # every state (common random numbers make the comparison state by state)
    f = r.flows_costs.pivot_table(index="state_id", columns="lever_id", values="women_share_l1")
    assert (f[1] > f[0]).all()
    assert r.flows_costs["appointments_l1"].gt(0).all()
    assert r.flows_costs["vacancy_months_l1"].ge(0).all()
    # robustness: per target (and per deadline's joint P), one row a lever setting
    rob = r.robustness
    assert len(rob) == 2 * (n_targets + len(r.joint["by"].unique()))
    assert (rob["p_worst"] <= rob["p10"] + 1e-12).all() and (rob["p10"] <= rob["p_mean"]).all()
    assert (rob["p_mean"] <= rob["p_best"]).all() and (rob["max_regret"] >= 0).all()
    for target, rows in r.points.groupby("target"):
        wide = rows.pivot_table(index="state_id", columns="lever_id", values="p_met")
        regret = wide.max(axis=1).to_numpy()[:, None] - wide.to_numpy()
        got = rob[rob["target"] == target].set_index("lever_id")["max_regret"]
        assert got[0] == pytest.approx(regret[:, 0].max()) and got[1] == pytest.approx(
            regret[:, 1].max()
        )
    # discovery: every target and joint P has PRIM boxes or a reason why not
    searched = set(r.prim["target"]) | set(r.discovery_notes.query("method == 'prim'")["target"])
    assert searched == set(rob["target"])
    assert set(r.prim["dimension"]) <= {"exits", "selection delay"}
    assert r.metadata["study"]["moves"]["exits"]["value"] == "position in [0, 1]"


class Counting(SequentialRunner):
    """A sequential runner that counts the replications it runs."""

    def __init__(self) -> None:
        self.ran = 0

    def results(
        self, scenario: Scenario, seed: int, reps: Iterable[int], roster: Roster | None = None
    ) -> Iterator[RepResult]:
        for res in super().results(scenario, seed, reps, roster):
            self.ran += 1
            yield res


def same_tables(a: Exploration, b: Exploration) -> None:
    for name, table in a.tables().items():
        pd.testing.assert_frame_equal(table, b.tables()[name], obj=name)


def test_resumed_study_gives_the_same_tables(
    qb: Scenario, study_result: Exploration, tmp_path: Path
) -> None:
    study = small_study(qb)
    ids = [t.id for t in qb.targets]
    store = ResultStore.open(tmp_path, store_identity(qb, study, 11), ids)
    done = 0

    def stop_after_five(k: int) -> None:
        nonlocal done
        done += k
        if done >= 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_small(qb, store=store, progress=stop_after_five)
    store.flush()
    again = ResultStore.open(tmp_path, store_identity(qb, study, 11), ids, resume=True)
    assert again.count() == 5
    counting = Counting()
    resumed = run_small(qb, store=again, runner=counting)
    assert counting.ran == 8 * REPS - 5  # only the missing replications ran
    same_tables(study_result, resumed)


def test_two_workers_give_the_same_tables(qb: Scenario, study_result: Exploration) -> None:
    with make_runner(2) as runner:
        pooled = run_small(qb, runner=runner)
    same_tables(study_result, pooled)
