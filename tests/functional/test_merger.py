"""The merger of provinces on a date (sim/merger.py, sim/merging.py): what it must mean.

- people and posts are conserved across the date: everyone present in a source province on
  the date is handed over once, with their state, and every leader handed over is then in a
  post, waiting as surplus, retired early, retired as surplus or retiring that very day;
- the invariants of every part of the replication hold (the event logs replayed);
- the merged run is reproducible on any number of workers;
- a province merged with itself, side by side, behaves like one province of twice the size;
- the "no merger" path is the first source province's own path (common random numbers);
- a roster start refuses a roster that does not fit the merged structure;
- a malformed merger is refused with a message that names the field.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import merger, merging
from sim.params import compile_params
from sim.population import POOL, build_layout
from sim.roster import RosterError, load_roster
from sim.runner import ProcessPoolRunner, SequentialRunner, run_many, run_replication
from sim.scenario import ScenarioError, load_scenario, scenario_from_dict

MERGED = ("quang_tri_2025", "tuyen_quang_2025")


@pytest.fixture(scope="module")
def qt():  # type: ignore[no-untyped-def]
    return load_scenario("scenarios/quang_tri_2025.yaml")


@pytest.fixture(scope="module")
def tq():  # type: ignore[no-untyped-def]
    return load_scenario("scenarios/tuyen_quang_2025.yaml")


def test_bundled_merged_scenarios_name_their_sources(qt, tq) -> None:  # type: ignore[no-untyped-def]
    assert [s.province for s in qt.merger_sources] == ["quang_binh", "quang_tri_former"]
    assert [s.province for s in tq.merger_sources] == ["ha_giang", "tuyen_quang_former"]
    partner = qt.merger_sources[1]
    assert sum(b.heads + b.deputies for b in partner.structure.blocks) == 335
    assert partner.targets == []  # no source document: no plan of its own
    # Quảng Bình's targets due by 2025 are reported, measured before the merger.
    pre = [t for t in qt.targets if t.pre_merger]
    assert {t.id for t in pre} >= {"quang_binh:QB-AW", "quang_binh:QB-30W"}
    assert all(t.source_province == "quang_binh" for t in pre)
    # Hà Giang's 2030 targets are carried to the merged province's blocks.
    carried = {t.id: t for t in tq.targets if t.source_province == "ha_giang" and not t.pre_merger}
    assert "HG-W1-30" in carried
    assert "communes_pc" in carried["HG-W1-30"].who.blocks
    assert "district_pc" not in carried["HG-W1-30"].who.blocks


def test_partner_scales_with_its_posts(qt) -> None:  # type: ignore[no-untyped-def]
    small = qt.with_overrides({"merger.sources.quang_tri_former.scale.l1_posts": 300})
    large = qt.with_overrides({"merger.sources.quang_tri_former.scale.l1_posts": 370})
    for sc, posts in ((small, 300), (large, 370)):
        p = sc.merger_sources[1]
        assert sum(b.heads + b.deputies for b in p.structure.blocks) == posts
        assert p.structure.block("districts").units == 10  # the public district count
    assert small.digest() != large.digest()  # the hash follows the sources


@pytest.mark.parametrize("name", MERGED)
def test_people_conserved_across_the_merger_date(name: str) -> None:
    sc = load_scenario(f"scenarios/{name}.yaml")
    plan = merger.compile_plan(sc)
    for rep in range(3):
        run = merger.run_parts(sc, 5, rep, plan)
        t = plan.when
        h = run.handoff
        assert h is not None and run.phase is not None
        # Everyone present in each source on the date is handed over, in order, with their
        # attributes.
        start = 0
        for s, m in enumerate(run.models[:-1]):
            n = m.n
            present = np.flatnonzero((m.rank[:n] > 0) | ((m.rank[:n] == POOL) & (m.gone_t[:n] > t)))
            k = len(present)
            part = slice(start, start + k)
            assert (h.origin[part] == s).all()
            np.testing.assert_array_equal(h.people.female[part], m.female[present])
            np.testing.assert_array_equal(h.people.birth[part], m.birth[present])
            np.testing.assert_array_equal(h.people.rank[part], m.rank[present])
            np.testing.assert_array_equal(h.state["merit"][part], m.merit[present])
            # A leader's post maps to a post of the same rank; no post is given twice.
            held = h.people.post[part] >= 0
            lay = plan.union.layout  # type: ignore[union-attr]
            assert (lay.post_rank[h.people.post[part][held]] == h.people.rank[part][held]).all()
            start += k
        assert start + h.newcomers == len(h.people.rank)
        # Newcomers fill only free posts of the newcomer blocks (the communes).
        new = h.people.post[start:]
        assert np.isin(new, plan.newcomer_posts).all()
        lay = plan.union.layout  # type: ignore[union-attr]
        blocks = [lay.block_ids[b] for b in np.unique(lay.post_block[new])]
        assert set(blocks) <= set(sc.merger.newcomer_blocks)
        posts = h.people.post[h.people.post >= 0]
        assert len(np.unique(posts)) == len(posts)
        # Every leader handed over: in post, waiting, retired early or retired as surplus.
        led = dict(zip(merger.LEDGER, run.phase.merger.tolist(), strict=True))
        assert led["holders"] == len(posts)
        assert led["pool"] == int((h.people.rank == POOL).sum())
        assert (
            led["in_post"]
            + led["waiting"]
            + led["early_retired"]
            + led["retired_surplus"]
            + led["retiring"]
            == led["holders"]
        )
        assert min(led.values()) >= 0
        # The posts left after the cut are exactly the merged structure's norm.
        m = run.models[-1]
        norm = build_layout(sc)
        active = np.asarray(m.post_active)
        # (posts still active at the end may be fewer: surplus posts go at the grace end)
        for r in range(1, 5):
            assert (m.layout.post_rank[active] == r).sum() <= (norm.post_rank == r).sum()


@pytest.mark.parametrize("name", MERGED)
def test_invariants_hold_through_the_date(name: str) -> None:
    sc = load_scenario(f"scenarios/{name}.yaml")
    for rep in range(4):
        assert merger.check_invariants(sc, 21, rep) == []


def test_merged_run_reproducible_on_any_number_of_workers(qt) -> None:  # type: ignore[no-untyped-def]
    seq = sorted(run_many(qt, 3, 6, SequentialRunner()), key=lambda r: r.rep)
    par = sorted(run_many(qt, 3, 6, ProcessPoolRunner(2, batch=1)), key=lambda r: r.rep)
    for a, b in zip(seq, par, strict=True):
        np.testing.assert_array_equal(a.target_value, b.target_value)
        np.testing.assert_array_equal(a.trajectory, b.trajectory)
        np.testing.assert_array_equal(a.headcount, b.headcount)
        np.testing.assert_array_equal(a.merger, b.merger)
        assert a.n_events == b.n_events


def test_no_merger_is_the_first_source_alone(qt) -> None:  # type: ignore[no-untyped-def]
    qb = load_scenario("scenarios/quang_binh.yaml")
    alone = qt.variant("no_merger")
    for rep in range(2):
        a = run_replication(alone, 9, rep)
        b = run_replication(qb, 9, rep)
        np.testing.assert_array_equal(a.headcount, b.headcount)
        np.testing.assert_array_equal(a.appointments, b.appointments)
        # The merged province's targets are read on its blocks and its congress.
        committee = [t.id for t in alone.targets].index("QT-W-PC-30")
        assert a.target_value[committee] == pytest.approx(b.committee[1, 1] / b.committee[1, 0])
    # Both paths read Quảng Bình's own targets due before the merger on the merger date, on the
    # same past: the same values, replication by replication.
    for rep in range(3):
        a = run_replication(alone, 9, rep)
        m = run_replication(qt, 9, rep)
        for k, t in enumerate(qt.targets):
            if t.pre_merger:
                assert a.target_value[k] == m.target_value[k], t.id
                assert a.target_met[k] == m.target_met[k], t.id
    # The merged run coincides with Quảng Bình's own path up to the merger date.
    m = run_replication(qt, 9, 0)
    b = run_replication(qb, 9, 0)
    year = qt.merger.date.year - qt.start.year
    parts = merger.run_parts(qt, 9, 0, merger.compile_plan(qt))
    np.testing.assert_array_equal(parts.sources[0].headcount[:year], b.headcount[:year])
    np.testing.assert_array_equal(parts.sources[0].appointments[:year], b.appointments[:year])
    assert m.headcount[0, 2, 0] > b.headcount[0, 2, 0]  # the sum of both provinces


def test_a_province_merged_with_itself_is_one_twice_the_size() -> None:
    qb = load_scenario("scenarios/quang_binh.yaml")
    twice = merging.doubled(qb)  # Quảng Bình merged with itself, side by side
    reps = 16
    t = list(run_many(twice, 4, reps))
    o = list(run_many(qb, 4, reps))
    led = np.array([r.merger for r in t])
    named = dict(zip(merger.LEDGER, led.T, strict=True))
    # Nobody loses a post: the doubled structure lays a few posts out in other units (heads go
    # to a block's first units), and their holders are moved to the free posts of their rank.
    assert (named["waiting"] == 0).all() and (named["retired_surplus"] == 0).all()
    assert (named["early_retired"] == 0).all()  # no early retirement in this file
    assert (named["in_post"] + named["retiring"] == named["holders"]).all()
    assert (named["reassigned"] <= named["posts_cut"]).all()
    hc_t = np.mean([r.headcount for r in t], axis=0)
    hc_o = np.mean([r.headcount for r in o], axis=0)
    # Twice the leaders every year (before the merger: two provinces; after: one of double
    # size), and the same women's share of L1.
    np.testing.assert_allclose(hc_t[:, 1:, 0], 2 * hc_o[:, 1:, 0], rtol=0.03)
    share_t = hc_t[:, 2, 1] / hc_t[:, 2, 0]
    share_o = hc_o[:, 2, 1] / hc_o[:, 2, 0]
    np.testing.assert_allclose(share_t, share_o, atol=0.03)
    # Appointments double too (each post falls vacant as often).
    appt_t = np.mean([r.appointments[:, 2, 0].sum() for r in t])
    appt_o = np.mean([r.appointments[:, 2, 0].sum() for r in o])
    assert appt_t == pytest.approx(2 * appt_o, rel=0.08)


def test_roster_start_takes_a_fitting_roster_and_refuses_others(qt, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sim.model import Model
    from sim.roster import roster_frame

    sc = merging.roster_scenario(qt)
    assert sc.start == qt.merger.roster_start and sc.merger is None
    assert all(not t.pre_merger and t.by >= 2026 for t in sc.targets)
    frame = roster_frame(Model(sc, 1, 0))
    good = tmp_path / "good.csv"
    frame.to_csv(good, index=False)
    roster = load_roster(good, sc, build_layout(sc))
    res = run_replication(sc, 1, 0, roster=roster)
    assert res.trajectory.shape[1] == 2030 - 2026 + 1  # the years from the roster date
    # A unit the merged structure does not have (14 departments in three blocks).
    bad = frame.copy()
    row = bad.index[(bad["block"] == "dept_economic") & (bad["rank"] == "l1_head")][0]
    bad.loc[row, "unit"] = 9
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(RosterError) as err:
        load_roster(path, sc, build_layout(sc))
    assert "unit" in str(err.value) and "dept_economic" in str(err.value)
    # A block of the old structure (the districts are gone).
    bad = frame.copy()
    bad.loc[row, "block"] = "districts"
    bad.to_csv(path, index=False)
    with pytest.raises(RosterError) as err:
        load_roster(path, sc, build_layout(sc))
    assert "districts" in str(err.value)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda d: d["merger"]["sources"][1].update(scenario="no_such_province"),
            "merger.sources[1].scenario",
            "cannot load",
        ),
        (lambda d: d["merger"]["blocks"].pop(), "merger.blocks", "neither joined"),
        (
            lambda d: d["merger"]["blocks"][0].update(block="nowhere"),
            "merger.blocks[0].block",
            "not a block",
        ),
        (lambda d: d["merger"].update(targets_after="hanoi"), "merger.targets_after", "source id"),
        (lambda d: d["merger"].update(date="2019-07-01"), "merger.date", "after the start"),
        (
            lambda d: d["merger"]["sources"][1].update(id="quang_binh"),
            "merger.sources[1].id",
            "used twice",
        ),
    ],
)
def test_a_malformed_merger_names_the_field(qt, change, field, words) -> None:  # type: ignore[no-untyped-def]
    data = qt.model_dump(mode="json")
    change(data)
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, "merged.yaml")
    text = str(err.value)
    assert field in text and words in text, text


def test_merged_flow_targets_count_from_the_merger(qt) -> None:  # type: ignore[no-untyped-def]
    data = qt.model_dump(mode="json")
    k = [t["id"] for t in data["targets"]].index("QT-AW")
    data["targets"][k]["from_year"] = 2023
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, "merged.yaml")
    assert "from the merger" in str(err.value)


def test_params_hold_the_plan(qt) -> None:  # type: ignore[no-untyped-def]
    prm = compile_params(qt)
    assert prm.merger is not None and prm.merger.scenario is qt
    a = run_replication(qt, 2, 1, params=prm)
    b = run_replication(qt, 2, 1)
    np.testing.assert_array_equal(a.target_value, b.target_value)


def test_event_log_of_a_merged_run_names_each_province_and_no_merger_is_plain(qt) -> None:  # type: ignore[no-untyped-def]
    """``run --log``: a merged replication's events come from each source to the date and the
    merged province after it, with a province column; without the merger, the first source's
    plain log (no province column)."""
    from sim.cli import _event_log

    merged = _event_log(qt, 2021, None)
    assert merged["events_appointments"].columns[0] == "province"
    assert set(merged["events_appointments"]["province"]) == {
        "quang_binh",
        "quang_tri_former",
        "quang_tri_2025",
    }
    alone = _event_log(qt.variant("no_merger"), 2021, None)
    assert "province" not in alone["events_appointments"].columns
    qb = _event_log(load_scenario("scenarios/quang_binh.yaml"), 2021, None)
    assert len(alone["events_exits"]) == len(qb["events_exits"])
