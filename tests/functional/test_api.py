"""The public API of the app: levers, studies with progress and stop, comparisons, searches."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import BUNDLED

from sim import api
from sim.scenario import Scenario, ScenarioError, load_scenario


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(BUNDLED)


def test_levers_read_and_write_the_scenario(qb: Scenario) -> None:
    values = api.lever_values(qb)
    assert values["women_share"] == pytest.approx(0.15)
    assert api.apply_levers(qb, values) is qb  # nothing changed
    b = api.apply_levers(qb, {**values, "women_share": 0.25, "reservation": False})
    assert b.policy.appointment_share.women == 0.25
    assert not b.policy.vacancy_reservation.enabled
    assert api.apply_levers(qb, values, horizon_end_year=2035).end.year == 2035
    with pytest.raises(ScenarioError):
        api.apply_levers(qb, {**values, "women_share": 1.5})


def test_study_reports_progress_and_stops_early(qb: Scenario) -> None:
    seen: list[int] = []
    study = api.run_study(
        qb, 3, 20, progress=lambda d, n: seen.append(d), stop=lambda: len(seen) >= 5
    )
    assert study.stopped and study.done == 5
    assert seen == [1, 2, 3, 4, 5]
    assert study.summary.n_reps == 5


def test_study_on_two_workers_equals_one(qb: Scenario) -> None:
    a = api.run_study(qb, 4, 8, workers=1).summary.targets
    b = api.run_study(qb, 4, 8, workers=2).summary.targets
    assert a.equals(b)


def test_study_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="resume needs out"):
        api.StudySettings(resume=True)
    for bad in ({"reps": 0}, {"workers": 0}, {"batch": 0}, {"precision": 1.5}):
        with pytest.raises(ValueError):
            api.StudySettings(**bad)  # type: ignore[arg-type]
    few = api.StudySettings(reps=3, workers=2)
    assert few.processes == 1 and few.batch_size == 3  # too few to start processes
    sequential = api.StudySettings(reps=500, workers=4, precision=0.05)
    assert sequential.processes == 4 and sequential.batch_size == 50
    assert api.StudySettings(reps=3, workers=2, dask="local").processes == 2


def test_a_study_on_a_pool_stops_when_its_steps_close_and_continues(qb: Scenario) -> None:
    """Closing the steps ends the study at once, the pool with it, keeping what is done; run
    again, the study runs only the others, to the numbers of a study run in one go."""
    import contextlib

    study = api.Study.start(qb, api.StudySettings(seed=6, reps=12, workers=2))
    with contextlib.closing(study.steps()) as steps:
        for step in steps:
            assert step.study is study and step.total == 12 and step.ran == step.done
            if step.done == 3:
                break
    assert study.stopped and study.done == 3 and len(study.summary.replications) > 0
    study.run()
    assert not study.stopped and study.done == 12 and study.ran == 12
    alone = api.run_study(qb, 6, 12)  # sequential, in this process
    assert study.summary.targets.equals(alone.summary.targets)


def test_a_resumed_sequential_study_equals_an_uninterrupted_one(qb: Scenario, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = api.StudySettings(seed=8, reps=60, precision=0.25, batch=5, out=tmp_path)
    fresh = api.Study.start(qb, api.StudySettings(seed=8, reps=60, precision=0.25, batch=5))
    fresh.run()
    assert 5 <= fresh.done < 60 and fresh.done % 5 == 0
    first = api.Study.start(qb, settings)
    first.run(stop=lambda: first.done >= 7)  # stopped inside the second batch
    assert first.stopped and first.done == 7 and first.store is not None
    assert first.store.written_count() == 7  # stopped: what is buffered is written
    resumed = api.Study.start(qb, dataclasses.replace(settings, resume=True))
    assert resumed.resumed_with == 7
    resumed.run()
    assert resumed.done == fresh.done and resumed.ran == fresh.done - 7
    assert resumed.summary.targets.equals(fresh.summary.targets)
    with pytest.raises(ValueError, match="drop into"):
        api.Study.start(qb, settings, into=resumed.collector)


def test_population_summary_matches_the_seed(qb: Scenario) -> None:
    s = api.population_summary(qb)
    l1 = s["tiers"].set_index("tier").loc["L1"]
    assert l1["people"] == 338 and l1["women"] == 45 and l1["under_40"] == 8
    assert s["pyramid"][["men", "women"]].to_numpy().sum() == 338 + 814  # L1 and L2 holders


def test_compare_pairs_the_replications(qb: Scenario) -> None:
    b = qb.with_overrides({"policy.appointment_share.women": 0.3})
    table = api.compare(qb, b, 5, 12).set_index("target")
    row = table.loc["QB-AW"]
    assert row["p_met_b"] >= row["p_met_a"]
    assert row["difference"] == pytest.approx(row["p_met_b"] - row["p_met_a"])
    same = api.compare(qb, qb, 5, 6)
    assert np.all(same["difference"] == 0) and np.all(same["only_a"] == 0)


def test_required_share_is_the_smallest_that_reaches_the_level(qb: Scenario) -> None:
    found = api.required_share(qb, "QB-AW", "women", level=0.8, reps=20, tolerance=0.05)
    assert found.share is not None and 0 < found.share <= 0.6
    tried = dict(found.steps)
    assert tried[found.share] >= 0.8
    below = [s for s, p in found.steps if s < found.share]
    assert all(tried[s] < 0.8 for s in below)
    with pytest.raises(ValueError, match="no target"):
        api.required_share(qb, "NOPE")


def test_moves_between_ranks_follow_the_promotion_ladder(qb: Scenario) -> None:
    moves = api.moves_between_ranks(qb, 3, reps=2)
    pairs = set(zip(moves["source"], moves["target"], strict=True))
    assert ("l1_deputy", "l1_head") in pairs and ("pool", "l2_deputy") in pairs
    assert ("l1_head", "left: retirement") in pairs
    assert not any(s == "l1_head" and t == "l1_deputy" for s, t in pairs)  # nobody moves down
    assert (moves["moves"] > 0).all()


def _curve(f):  # type: ignore[no-untyped-def]
    """A P(met) curve that records where it was evaluated."""
    tried: list[float] = []

    def p_met(x: float) -> float:
        tried.append(x)
        return f(x)

    return p_met, tried


def test_lowest_reaching_bisects_a_rising_curve() -> None:
    p_met, tried = _curve(lambda x: min(1.0, 2 * x))  # reaches 0.8 at 0.4
    value, p, below = api.lowest_reaching(p_met, 0.0, 0.6, 0.8, tolerance=0.01)
    assert value is not None and 0.4 <= value <= 0.41 and p >= 0.8 and 0.39 <= below < value
    assert tried[:2] == [0.6, 0.0]  # the ends first


def test_lowest_reaching_finds_a_hump_that_the_top_misses() -> None:
    # A range target: overshot at the top of the range, met only in the middle.
    p_met, _ = _curve(lambda x: 0.9 if 0.25 <= x <= 0.45 else 0.2)
    value, p, below = api.lowest_reaching(p_met, 0.0, 0.6, 0.8, tolerance=0.01, scan=6)
    assert below == pytest.approx(0.25 - 0.01, abs=0.01)
    assert value is not None and 0.25 <= value <= 0.26 and p == 0.9
    value, p, _ = api.lowest_reaching(p_met, 0.0, 0.6, 0.8, tolerance=0.01, scan=0)
    assert value is None and p == 0.2  # without the scan the hump is missed


def test_lowest_reaching_out_of_reach_and_met_at_the_bottom() -> None:
    p_met, tried = _curve(lambda x: 0.3)
    assert api.lowest_reaching(p_met, 0.0, 0.6, 0.8, 0.01, scan=6)[0] is None
    assert len(tried) == 1 + 6
    p_met, _ = _curve(lambda x: 0.95)
    assert api.lowest_reaching(p_met, 0.0, 0.6, 0.8, 0.01)[:2] == (0.0, 0.95)


def test_a_share_without_a_quota_is_refused_or_switched_on() -> None:
    hg = load_scenario(BUNDLED.parent / "ha_giang.yaml")
    assert hg.policy.appointment_share.reading == "none"
    with pytest.raises(ValueError, match=r"no effect while policy\.appointment_share\.reading"):
        api.solve(hg, "HG-W1-25", "policy.appointment_share.women", reps=2)
    found = api.required_share(hg, "HG-W1-25", "women", reps=4, tolerance=0.2)
    assert found.assumed == (
        "policy.appointment_share.reading=expected",
        "policy.appointment_share.young=0.0",
    )
    assert len(found.steps) >= 2
