"""The succession pool (quy hoạch): plan limits, composition floors, pool-first appointments."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import BUNDLED

from sim import rules
from sim.invariants import check_invariants
from sim.model import Model
from sim.scenario import RANK_CODE, Scenario, ScenarioError, load_scenario, load_scenario_text
from sim.succession import POOL_STATS

POOL_TARGET = """  - id: POOL-W
    source: "test"
    text: {en: "women in the succession pool", vi: "nữ trong quy hoạch"}
    kind: pool
    ranks: [l1_head, l1_deputy]
    group: women
    op: ">="
    value: 0.25
    by: 2025
"""


def scenario(from_pool: bool = True, **extra: object) -> Scenario:
    text = BUNDLED.read_text(encoding="utf-8").replace("\nvariants:", POOL_TARGET + "\nvariants:")
    sc = load_scenario_text(text, str(BUNDLED))
    return sc.with_overrides(
        {
            "policy.succession_pool.enabled": True,
            "policy.succession_pool.appoint_from_pool": from_pool,
            **extra,
        }
    )


def check_plan(model: Model, t: float, fresh: bool) -> None:
    plan = model.pool
    assert plan is not None
    counts = Counter(i for p in plan.posts for i in plan.members[p])
    assert counts == Counter(plan.plans_of)
    assert max(counts.values()) <= 3
    for p in plan.posts:
        members = plan.members[p]
        assert len(members) <= 3
        assert len(set(members)) == len(members)
        if fresh:  # just planned: every member qualifies
            for i in members:
                assert model.rank_l[i] in model.src_list[model.post_rank_l[p]]
                assert model.retire_l[i] - t >= 60


def test_initial_plan_respects_limits_and_floors() -> None:
    sc = scenario()
    for rep in range(4):
        model = Model(sc, seed=3, rep=rep)
        model.pool.replan(model.t0)
        check_plan(model, model.t0, fresh=True)
        t = model.t0
        people = np.array(sorted(model.pool.plans_of))
        assert len(people) > 100
        # The floors hold, or every qualifying candidate of the group is in the pool.
        n = model.n
        qualifying = np.isin(model.rank[:n], (2, 3)) & (model.retire[:n] - t >= 60)
        for flags, floor in (
            (model.female[:n], 0.25),
            ((t - model.birth[:n]) < 480, 0.15),
        ):
            in_pool = np.isin(np.arange(n), people)
            share = flags[people].mean()
            assert share >= floor - 1e-9 or not np.any(qualifying & flags & ~in_pool), floor
        # Each post's plan has a woman whenever a woman of its sources has room for a plan.
        plans_of = model.pool.plans_of
        for p in model.pool.posts:
            plan = model.pool.members[p]
            src = model.src_list[model.post_rank_l[p]]
            room = [
                i
                for i in np.flatnonzero(qualifying & model.female[:n]).tolist()
                if model.rank_l[i] in src and plans_of.get(i, 0) < 3
            ]
            assert any(model.female_l[i] for i in plan) or not room
        # Every L1 post has a full plan (there are many more candidates than places).
        assert all(len(model.pool.members[p]) == 3 for p in model.pool.posts)


def test_plan_limits_hold_through_the_run_and_stats_are_reported() -> None:
    sc = scenario()
    for rep in range(3):
        model = Model(sc, seed=4, rep=rep, keep_log=True)
        res = model.run()
        check_plan(model, model.env.now, fresh=False)
        assert check_invariants(res, model.layout.post_rank) == []
        stats = res.pool
        assert stats.shape == (sc.end.year - sc.start.year + 1, len(POOL_STATS))
        assert np.all(stats[:, 0] > 100)  # members
        assert np.all((stats[:, 4] > 0) & (stats[:, 4] <= 3))  # ready successors per post
        k = [t.id for t in sc.targets].index("POOL-W")
        assert res.trajectory[k, 0] > 0.15  # women are scarce among the candidates
        assert res.target_value[k] == res.trajectory[k, 4]


def _share_from_plan(sc: Scenario) -> float:
    """Share of appointments to planned posts that went to one of the post's planned people."""
    hits = total = 0
    for rep in range(3):
        model = Model(sc, seed=5, rep=rep, keep_log=True)
        seen: list[tuple[int, bool]] = []
        original = model._appoint

        def spy(i: int, p: int, *quota, _orig=original, _m=model, _seen=seen) -> None:  # type: ignore[no-untyped-def]
            if _m.post_rank_l[p] >= RANK_CODE["l1_deputy"]:
                _seen.append((p, i in _m.pool.members.get(p, [])))
            _orig(i, p, *quota)

        model._appoint = spy  # type: ignore[method-assign]
        model.run()
        hits += sum(h for _, h in seen)
        total += len(seen)
    return hits / total


def test_pool_first_appoints_planned_successors() -> None:
    first = _share_from_plan(scenario(from_pool=True))
    merit = _share_from_plan(scenario(from_pool=False))
    assert first > 0.6
    assert first > merit + 0.1


def test_pool_target_needs_a_planned_rank() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario(**{"policy.succession_pool.ranks": ["l1_head"]})
    assert "does not plan l1_deputy" in str(info.value)


def test_pool_off_changes_nothing() -> None:
    qb = load_scenario(BUNDLED)
    a = Model(qb, seed=2, rep=0).run()
    b = Model(qb.with_overrides({"policy.succession_pool.appoint_from_pool": True}), 2, 0).run()
    assert np.array_equal(a.appointments, b.appointments)
    assert np.all(np.isnan(a.pool))


def test_pool_target_by_block() -> None:
    target = (
        POOL_TARGET.replace("id: POOL-W", "id: POOL-W-DEPT")
        .replace("    group: women", "    blocks: [dept_economic]\n    group: women")
        .replace("by: 2025", "by: 2030")  # the state at the end of the run
    )
    text = BUNDLED.read_text(encoding="utf-8").replace("\nvariants:", target + "\nvariants:")
    sc = load_scenario_text(text, str(BUNDLED)).with_overrides(
        {"policy.succession_pool.enabled": True}
    )
    k = [t.id for t in sc.targets].index("POOL-W-DEPT")
    model = Model(sc, seed=3, rep=0)
    res = model.run()
    b = model.layout.block_ids.index("dept_economic")
    who = model.pool.members_of({RANK_CODE["l1_head"], RANK_CODE["l1_deputy"]}, {b})
    assert 0 < len(who) < len(model.pool.plans_of)
    assert res.target_value[k] == pytest.approx(model.female[who].mean())
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text.replace("blocks: [dept_economic]", "blocks: [nosuch]"), "x.yaml")
    assert "unknown block(s) nosuch" in str(info.value)


def qualifies(model: Model, i: int, p: int, t: float) -> bool:
    """The one-by-one reading of a pool member's place (the first form, kept as a reference)."""
    r = model.rank_l[i]
    if r < 0 or not model.present(i, t):
        return False  # left, retired or removed
    if r not in model.src_list[model.post_rank_l[p]]:
        return False  # promoted past the sources of the post (or to it)
    assert model.pool is not None
    return rules.pool_service_ok(model.retire_l[i] - t, model.pool.cfg.min_service_months)


def ready(model: Model, i: int, p: int, t: float) -> bool:
    """A planned successor who could be appointed to ``p`` now, one by one (reference)."""
    if not qualifies(model, i, p, t):
        return False
    if not (model.ef_l[i] <= t < model.eu_l[i]):
        return False
    return model.meets_standard_one(i, model.post_rank_l[p], t)


def test_the_yearly_review_reads_each_member_as_the_one_by_one_rule_does() -> None:
    """The review and the year-end count of ready successors judge every (member, post) pair
    at once; each judgement equals the one-by-one rule (qualifies, ready) it replaces."""
    sc = scenario(**{"policy.standards.l1_head": ["theory_advanced"]})
    model = Model(sc, seed=12, rep=0)
    pool = model.pool
    assert pool is not None
    seen = []
    snapshot = pool.snapshot

    def check(yi: int, t: float) -> None:
        people, posts = pool._pairs()
        assert len(people) > 100
        pairs = list(zip(people.tolist(), posts.tolist(), strict=True))
        assert pool.qualify(people, posts, t).tolist() == [
            qualifies(model, i, p, t) for i, p in pairs
        ]
        ready_ = [sum(ready(model, i, p, t) for i in pool.members[p]) for p in pool.posts]
        snapshot(yi, t)
        assert pool.stats[yi, 4] == float(np.mean(ready_))
        seen.append(sum(not qualifies(model, i, p, t) for i, p in pairs))
        return None

    pool.snapshot = check  # type: ignore[method-assign]
    model._wire()
    model.run()
    assert len(seen) == model.n_years
    assert sum(seen) > 0  # some members stopped qualifying between reviews
