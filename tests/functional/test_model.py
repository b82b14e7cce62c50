"""Functional, metamorphic and reproducibility tests of the engine on the bundled scenario."""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.invariants import check_invariants
from sim.model import Model, RepResult
from sim.population import build_layout, build_people
from sim.results import Collector
from sim.roster import load_roster, roster_frame
from sim.runner import ProcessPoolRunner, SequentialRunner, run_many
from sim.scenario import Scenario, load_scenario, resolve_scenario_path

L1 = 2  # tier code of L1 in the result arrays


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(resolve_scenario_path("quang_binh"))


def _collect(sc: Scenario, reps: int, seed: int = 11, workers: int = 1) -> Collector:
    runner = SequentialRunner() if workers == 1 else ProcessPoolRunner(workers)
    return Collector(sc, reps, keep="all").extend(run_many(sc, seed, reps, runner))


# --------------------------------------------------------------------------- population


def test_starting_population_matches_the_seed_counts(qb: Scenario) -> None:
    layout = build_layout(qb)
    assert int(np.count_nonzero(layout.post_rank >= 3)) == 338  # seed 001
    assert layout.n_units == sum(b.units for b in qb.structure.blocks)
    for seed in range(5):
        people = build_people(np.random.default_rng(seed), qb, layout)
        l1 = people.rank >= 3
        district = layout.post_district[people.post[l1]]
        female = people.female[l1]
        start = qb.start_month
        young = (start - people.birth[l1]) < 480
        assert int(female.sum()) == 45
        assert int((female & ~district).sum()) == 27
        assert int((female & district).sum()) == 18
        assert int(young.sum()) == 8
        assert int((young & ~district).sum()) == 7
        assert int((young & female).sum()) == 2


# --------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("variant", [None, "bau", "floor", "merit_only"])
def test_invariants_hold_on_every_replication(qb: Scenario, variant: str | None) -> None:
    sc = qb.variant(variant) if variant else qb
    sc = (
        sc.with_overrides({"policy.vacancy_reservation.after": "relax"})
        if variant == "floor"
        else sc
    )
    for rep in range(4):
        model = Model(sc, seed=3, rep=rep, keep_log=True)
        res = model.run()
        assert check_invariants(res, model.layout.post_rank) == []
        assert len(res.log["appointments"]) > 100
        assert np.all(res.log["exits"]["t"][res.log["exits"]["post"] >= 0] <= sc.end_month)


def test_the_invariant_checker_can_fail(qb: Scenario) -> None:
    model = Model(qb, seed=3, rep=0, keep_log=True)
    res = model.run()
    assert res.log is not None
    broken = res.log["appointments"].copy()
    # Appoint the second appointee into the first appointment's post at the same time.
    broken["post"][1] = broken["post"][0]
    res.log["appointments"] = broken
    assert check_invariants(res, model.layout.post_rank)


# ------------------------------------------------------------------------ reproducibility


def _same(a: RepResult, b: RepResult) -> bool:
    return (
        all(
            np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True)
            for f in (
                "target_value",
                "target_met",
                "trajectory",
                "appointments",
                "vacancy_months",
                "exits",
                "headcount",
                "committee",
            )
        )
        and a.n_events == b.n_events
    )


def test_same_seed_same_results(qb: Scenario) -> None:
    a = Model(qb, seed=42, rep=3).run()
    b = Model(qb, seed=42, rep=3).run()
    c = Model(qb, seed=43, rep=3).run()
    assert _same(a, b)
    assert not _same(a, c)


@pytest.mark.slow
@pytest.mark.parametrize("start_method", ["fork", "spawn", "forkserver"])
def test_process_pool_equals_sequential(qb: Scenario, start_method: str) -> None:
    # fork is the default on Linux; spawn on macOS and Windows (the scenario and roster are
    # then pickled to fresh workers that load the kernels themselves); forkserver is what a
    # threaded host (a server) may choose.
    seq = {r.rep: r for r in SequentialRunner().results(qb, 9, range(6))}
    runner = ProcessPoolRunner(workers=2, batch=2, start_method=start_method)
    par = {r.rep: r for r in runner.results(qb, 9, range(6))}
    assert sorted(par) == list(range(6))
    for rep in range(6):
        assert _same(seq[rep], par[rep]), rep


def test_a_host_chooses_the_start_method_of_its_pools() -> None:
    import multiprocessing as mp

    from sim import runner

    # (tests/conftest.py puts the default back after each test)
    assert runner.use_start_method("forkserver") == "forkserver"
    assert ProcessPoolRunner(2).start_method == "forkserver"
    assert ProcessPoolRunner(2, start_method="spawn").start_method == "spawn"
    with pytest.raises(ValueError, match="not available"):
        runner.use_start_method("teleport")
    default = runner.use_start_method(None)
    linux = sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods()
    assert default == ("fork" if linux else "spawn")


@pytest.mark.slow
def test_a_roster_reaches_spawned_workers(qb: Scenario, tmp_path: Path) -> None:
    # Under spawn (macOS, Windows) the imported roster is pickled to the workers with the
    # scenario: a run on it equals the sequential one.
    path = tmp_path / "roster.csv"
    roster_frame(Model(qb, 3, 0)).to_csv(path, index=False)
    roster = load_roster(path, qb, build_layout(qb))
    seq = {r.rep: r for r in SequentialRunner().results(qb, 9, range(4), roster=roster)}
    runner = ProcessPoolRunner(workers=2, batch=1, start_method="spawn")
    par = {r.rep: r for r in runner.results(qb, 9, range(4), roster=roster)}
    assert sorted(par) == list(range(4))
    for rep in range(4):
        assert _same(seq[rep], par[rep]), rep
    assert not _same(seq[0], Model(qb, seed=9, rep=0).run())  # the roster was used


def test_replication_does_not_depend_on_its_neighbours(qb: Scenario) -> None:
    alone = Model(qb, seed=5, rep=4).run()
    batch = list(SequentialRunner().results(qb, 5, [2, 3, 4]))
    assert _same(alone, batch[-1])


# --------------------------------------------------------------------------- metamorphic


def _l1_share(c: Collector, col: int, years: slice = slice(0, 5)) -> float:
    a = c.arrays["appointments"][:, years, L1]
    return float(a[:, :, col].sum() / a[:, :, 0].sum())


@pytest.mark.slow
def test_more_women_share_never_lowers_the_women_targets(qb: Scenario) -> None:
    """Under common random numbers, raising the women's share cannot hurt the women targets."""
    reps = 24
    shares = (0.05, 0.15, 0.30)
    flow, p_flow = [], []
    for q in shares:
        sc = qb.with_overrides({"policy.appointment_share.women": q})
        c = _collect(sc, reps)
        flow.append(_l1_share(c, 1))
        k = [t.id for t in sc.targets].index("QB-AW")
        p_flow.append(float(c.arrays["target_met"][:, k].mean()))
    assert flow[0] < flow[1] < flow[2]
    # P(met) non-decreasing within Monte Carlo noise (two standard errors).
    for lo, hi in itertools.pairwise(p_flow):
        se = math.sqrt(max(lo * (1 - lo), 0.25 / reps) / reps)
        assert hi >= lo - 2 * se


@pytest.mark.slow
def test_vacancy_reservation_raises_group_share_and_vacancy_months(qb: Scenario) -> None:
    base = qb.with_overrides(
        {"policy.appointment_share.reading": "floor", "policy.vacancy_reservation.enabled": False}
    )
    held = base.with_overrides(
        {
            "policy.vacancy_reservation.enabled": True,
            "policy.vacancy_reservation.max_hold_months": 24,
        }
    )
    a, b = _collect(base, 16), _collect(held, 16)
    young_a, young_b = _l1_share(a, 2), _l1_share(b, 2)
    assert young_b > young_a
    assert b.arrays["reserved_months"][:, :, L1].sum() > 0
    assert a.arrays["reserved_months"].sum() == 0
    assert b.arrays["vacancy_months"][:, :, L1].sum() > a.arrays["vacancy_months"][:, :, L1].sum()


def test_quota_readings_differ(qb: Scenario) -> None:
    """The floor reading gives the groups more appointments than merit alone."""
    floor = _collect(qb.variant("floor"), 6)
    merit = _collect(qb.variant("merit_only"), 6)
    assert _l1_share(floor, 2) > _l1_share(merit, 2)


# ------------------------------------------------------------------------- flow and stock


def _flow_stock_scenario(qb: Scenario, q: float, exit_rate: float) -> Scenario:
    """One L1 rank fed from below, equal exit rates for both sexes, nobody near retirement."""
    data = qb.model_dump(mode="json")
    for b in data["structure"]["blocks"]:
        b["deputies"] += b["heads"]
        b["heads"] = 0
    data["structure"]["l1_total"] = 338
    data["population"]["l1"]["age_heads"] = {"mean": 42, "sd": 1.5, "min": 40}
    data["population"]["l1"]["age_deputies"] = {"mean": 42, "sd": 1.5, "min": 40}
    data["population"]["l1"]["young"] = {"provincial": 0, "district": 0}
    data["population"]["l1"]["young_women"] = 0
    data["population"]["l2"]["age"] = {"mean": 42, "sd": 1.5, "min": 40}
    data["population"]["pool"]["age"] = {"mean": 41, "sd": 1.0, "min": 40}
    data["dynamics"]["recruitment"]["age"] = {"mean": 41, "sd": 1.0, "min": 40}
    data["dynamics"]["exit_hazard"]["l1"] = exit_rate
    data["dynamics"]["death_illness_hazard"] = 0.0
    data["dynamics"]["reappointment_probability"] = 1.0
    data["dynamics"]["selection_delay_months"] = 0.0
    data["dynamics"]["same_unit_bonus"] = 0.0
    data["policy"] = {
        "appointment_share": {"women": q, "young": 0.0, "reading": "expected", "tiers": ["l1"]},
        "vacancy_reservation": {"enabled": False},
        "women_staff_rule": {"enabled": False},
        "long_service": {"enabled": False},
    }
    data["congress"] = None
    data["targets"] = [
        {
            "id": "W",
            "source": "test",
            "text": {"en": "w", "vi": "w"},
            "kind": "stock",
            "who": {"ranks": ["l1_deputy"]},
            "group": "women",
            "value": 0.17,
            "by": 2030,
        }
    ]
    data["variants"] = {}
    return Scenario.model_validate(data)


@pytest.mark.slow
def test_stock_share_follows_the_flow_stock_identity(qb: Scenario) -> None:
    """SPEC §7: s(k) = q + (s0 - q)(1 - t)^k when both sexes leave at the same rate t."""
    q, t = 0.30, 0.12
    sc = _flow_stock_scenario(qb, q, t)
    c = _collect(sc, 40)
    traj = c.arrays["trajectory"][:, 0, :]  # (reps, years) women share of L1 at year end
    s0 = 45 / 338
    mean = traj.mean(axis=0)
    se = traj.std(axis=0, ddof=1) / math.sqrt(traj.shape[0])
    for k in range(1, len(mean) + 1):
        expected = q + (s0 - q) * (1 - t) ** k
        assert abs(mean[k - 1] - expected) < 3 * se[k - 1] + 0.01, (k, mean[k - 1], expected)
    # The stock never passes the flow share.
    assert np.all(mean < q + 0.01)


def test_reappointment_draws_are_fresh_in_a_new_post(qb: Scenario) -> None:
    """Each reappointment decision of a career takes its own draw. Someone renewed in one post
    and later promoted must face the same chance of renewal in the new post: indexing the draws
    by terms served in the current post reused the draw that renewed the old one, so that after
    a promotion nobody renewed before was ever refused (found by docs/VALIDATION.md)."""
    p = qb.dynamics.reappointment_probability
    outcomes: list[bool] = []  # decisions in a new post after a renewal in an earlier one

    class Recorder(Model):
        def _on_person_event(self, ev):  # type: ignore[no-untyped-def]
            i = ev.arg
            live = self.token[i] == ev.token and self.next_kind[i] == 2  # NEXT_TERM
            decide = live and self.retire_l[i] - self.env.now >= 24
            post, before = self.post[i], dict(renewed.get(i, {}))
            super()._on_person_event(ev)
            if not decide:
                return
            kept = self.post[i] == post
            if any(q != post and ok for q, ok in before.items()):
                outcomes.append(kept)
            renewed.setdefault(i, {})[post] = kept

    for rep in range(6):
        renewed: dict[int, dict[int, bool]] = {}
        Recorder(qb.variant("merit_only"), seed=5, rep=rep).run()
    assert len(outcomes) >= 60
    refused = 1 - sum(outcomes) / len(outcomes)
    se = math.sqrt(p * (1 - p) / len(outcomes))
    assert abs(refused - (1 - p)) < 4 * se, (refused, len(outcomes))


# --------------------------------------------------------------------------- calibration


@pytest.mark.slow
def test_business_as_usual_reproduces_the_2016_2020_flow_volume(qb: Scenario) -> None:
    """Seed 001: 245 appointments to L1 posts in five years (2016-2020)."""
    c = _collect(qb.variant("bau"), 30, seed=2016)
    five_years = c.arrays["appointments"][:, :5, L1, 0].sum(axis=1)
    assert 200 <= five_years.mean() <= 290
    assert 0.07 <= _l1_share(c, 1) <= 0.18  # women, seed: 10.7%
    assert 0.04 <= _l1_share(c, 2) <= 0.14  # under 40, seed: 8.2%


def test_committee_is_chosen_at_each_congress(qb: Scenario) -> None:
    res = Model(qb, seed=1, rep=0).run()
    assert res.committee.shape == (2, 4)
    size, _women, _young, new = res.committee[0]
    assert size == qb.congress.size
    assert new >= size - math.floor(0.67 * size)
    # The floors hold by construction only in the floors_enforced reading
    # (tests/unit/test_congress.py).
    size, women, _young, _new = (
        Model(qb.variant("floors_enforced"), seed=1, rep=0).run().committee[0]
    )
    assert women >= math.ceil(0.15 * size)


@pytest.mark.parametrize("variant", [None, "bau", "floor"])
def test_sorted_scan_selection_equals_the_vectorised_path(
    qb: Scenario, variant: str | None
) -> None:
    """The fast selection path is an optimisation only: every replication is identical."""
    sc = qb.variant(variant) if variant else qb
    for rep in range(2):
        fast = Model(sc, seed=21, rep=rep, fast=True).run()
        slow = Model(sc, seed=21, rep=rep, fast=False).run()
        assert _same(fast, slow)


def test_truncated_normal_inverse_cdf_matches_scipy() -> None:
    from scipy import stats

    from sim.population import truncated_normal_ppf

    u = np.linspace(0.001, 0.999, 101)
    ours = truncated_normal_ppf(u, 50.0, 5.0, 40.0, 59.9)
    ref = stats.truncnorm.ppf(u, (40 - 50) / 5, (59.9 - 50) / 5, loc=50, scale=5)
    assert np.allclose(ours, ref, atol=1e-9)


def test_retirement_table_is_the_rule() -> None:
    """The model's retirement look-up table gives the rule's months, inside and outside it."""
    from sim import rules
    from sim.model import _retirement_months

    rng = np.random.default_rng(5)
    births = np.concatenate(
        [rng.integers(12 * 1900, 12 * 2100, size=5000), [12 * 1900, 12 * 2100 - 1]]
    )
    female = rng.random(len(births)) < 0.5
    assert np.array_equal(
        _retirement_months(female, births), rules.retirement_months(female, births)
    )
    outside = np.array([12 * 1899 + 5, 12 * 2101])  # falls back to the rule itself
    assert np.array_equal(
        _retirement_months(np.array([True, False]), outside),
        rules.retirement_months(np.array([True, False]), outside),
    )


# --------------------------------------------------------------------------- removal


def test_removal_takes_weak_leaders_out_and_scales_with_the_policy(qb: Scenario) -> None:
    """Removal before term end (seed 003): more removals with a stronger drive, the removed
    are weaker than the leaders who leave for other reasons, and every invariant holds."""
    from sim.model import REMOVED

    on = qb.with_overrides({"dynamics.removal.yearly_rate": 0.03})
    removed = {}
    for mult in (0.0, 1.0, 3.0):
        sc = on.with_overrides({"policy.removal_multiplier": mult})
        total, merit_removed, merit_other = 0, [], []
        for rep in range(4):
            model = Model(sc, seed=5, rep=rep, keep_log=True)
            res = model.run()
            assert check_invariants(res, model.layout.post_rank) == []
            exits = res.log["exits"]
            holders = exits[exits["post"] >= 0]
            total += int(res.exits[:, REMOVED].sum())
            assert int((holders["cause"] == REMOVED).sum()) == int(res.exits[:, REMOVED].sum())
            merit_removed += model.merit[holders["person"][holders["cause"] == REMOVED]].tolist()
            merit_other += model.merit[holders["person"][holders["cause"] != REMOVED]].tolist()
        removed[mult] = total
        if mult > 0:
            assert np.mean(merit_removed) < np.mean(merit_other) - 0.2
    assert removed[0.0] == 0
    assert 0 < removed[1.0] < removed[3.0]


def test_removal_off_changes_nothing(qb: Scenario) -> None:
    """A zero rate and a zero multiplier both give the scenario's own results."""
    base = Model(qb, seed=8, rep=1).run()
    for overrides in (
        {"dynamics.removal.yearly_rate": 0.0},
        {"dynamics.removal.yearly_rate": 0.05, "policy.removal_multiplier": 0.0},
    ):
        assert _same(base, Model(qb.with_overrides(overrides), seed=8, rep=1).run())


def test_summary_does_not_depend_on_the_arrival_order(qb: Scenario) -> None:
    """Averaged tables are summed in replication order, whatever order results arrive in."""
    results = list(SequentialRunner().results(qb, 9, list(range(8))))
    ordered = Collector(qb, 8).extend(results).summary()
    shuffled = Collector(qb, 8).extend([results[k] for k in (5, 2, 7, 0, 3, 6, 1, 4)])
    assert "appointments" not in shuffled.arrays  # streamed, not kept per replication
    for name, table in ordered.tables().items():
        assert table.equals(shuffled.summary().tables()[name]), name
    # An interrupted run: replications 0, 2 and 3 arrived, 1 never did.
    partial = Collector(qb, 8).extend([results[3], results[0], results[2]]).summary()
    assert partial.n_reps == 3
    flows = partial.flows
    l1 = flows[flows["tier"] == "l1"].iloc[0]
    expected = np.mean([results[k].appointments[0, 2, 0] for k in (0, 2, 3)])
    assert l1["appointments_mean"] == pytest.approx(expected)


def test_batches_cover_every_replication_once_in_order_and_start_small() -> None:
    from sim.runner import batches

    for n, workers in ((1, 2), (7, 2), (100, 2), (1000, 2), (1000, 8), (5, 16)):
        tasks = batches(3, list(range(10, 10 + n)), workers)
        assert [r for t in tasks for r in t.reps] == list(range(10, 10 + n))
        assert all(t.seed == 3 and t.reps for t in tasks)
        assert all(len(t.reps) == 1 for t in tasks[: min(workers, n)])  # first results early
        assert max(len(t.reps) for t in tasks) <= 25


def test_mechanisms_never_import_the_model() -> None:
    """Mechanisms talk to the model only through sim.plugin.Host: none imports sim.model, and
    the model names none of them (it builds what sim.mechanisms.REGISTRY lists)."""
    import ast
    from pathlib import Path

    from sim.mechanisms import REGISTRY

    sim_dir = Path(__file__).resolve().parents[2] / "sim"
    for cls in REGISTRY:
        path = sim_dir / f"{cls.__module__.split('.')[-1]}.py"
        imported = {
            node.module
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom)
        }
        assert "sim.model" not in imported, path.name
    model_src = (sim_dir / "model.py").read_text(encoding="utf-8")
    for cls in REGISTRY:
        if cls.__name__ != "SuccessionPlan":  # read by pool targets, through the registry
            assert cls.__name__ not in model_src, cls.__name__
    names = [cls.name for cls in REGISTRY]
    assert len(set(names)) == len(names) and all(names)


def test_a_shared_parameter_bundle_is_read_only_and_changes_nothing() -> None:
    """The scenario is compiled once (sim.params) and shared by replications: its arrays are
    read only, and a replication gives the same result with a shared bundle or its own."""
    from sim.params import compile_params
    from sim.scenario import bundled_scenarios_dir, load_scenario

    sc = load_scenario(bundled_scenarios_dir() / "quang_binh.yaml").variant("floor")
    prm = compile_params(sc)
    with pytest.raises(ValueError):
        prm.long_months[3] = 1.0
    with pytest.raises(ValueError):
        prm.src_lut[0, 0] = True
    shared = [Model(sc, 5, rep, params=prm).run() for rep in range(2)]
    own = [Model(sc, 5, rep).run() for rep in range(2)]
    for a, b in zip(shared, own, strict=True):
        assert np.array_equal(a.target_value, b.target_value, equal_nan=True)
        assert np.array_equal(a.appointments, b.appointments)


@pytest.mark.parametrize(
    ("name", "variant"),
    [("quang_binh", None), ("quang_binh", "restructuring_2025"), ("cao_bang", None)],
)
def test_the_rank_index_holds_exactly_the_people_of_each_rank(
    name: str, variant: str | None
) -> None:
    """The candidate scans read per-rank member lists kept on each move: at every year end
    they hold exactly the people whose rank it is."""
    from sim.scenario import bundled_scenarios_dir, load_scenario

    sc = load_scenario(bundled_scenarios_dir() / f"{name}.yaml")
    sc = sc.variant(variant) if variant else sc
    model = Model(sc, 11, 0)
    checked = []
    year_end = model._year_end

    def check(ev: object = None) -> None:
        m = model.members
        for r in range(5):
            listed = sorted(m.ids[r, : m.size[r]].tolist())
            assert listed == np.flatnonzero(model.rank[: model.n] == r).tolist(), r
            assert all(m.slot[i] == k for k, i in enumerate(m.ids[r, : m.size[r]].tolist()))
        checked.append(model.env.now)
        year_end(ev)

    model._year_end = check  # type: ignore[method-assign]
    model.run()
    assert len(checked) == model.n_years
