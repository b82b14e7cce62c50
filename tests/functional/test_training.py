"""Training courses (cohorts queueing for seats), post standards and their enforcement."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from conftest import BUNDLED

from sim import rules
from sim.invariants import check_invariants
from sim.model import BELOW_STANDARD, Model
from sim.scenario import RANK_CODE, Scenario, ScenarioError, load_scenario
from sim.training import COMPLETED, NOMINATED, STARTED, TrainingDesk

STANDARD_TARGET = """  - id: STD
    source: "test"
    text: {en: "L1 heads at the standard of their post", vi: "thử"}
    kind: stock
    who: {ranks: [l1_head]}
    group: at_standard
    op: ">="
    value: 0.9
    by: 2025
"""

COURSE = {
    "id": "theory_advanced",
    "name": {"en": "Advanced political theory", "vi": "Cao cấp lý luận chính trị"},
    "grants": "theory_advanced",
    "months": 12,
    "seats": 5,
    "intake_per_year": 20,
    "tiers": ["l1", "l2"],
}


def scenario(seats: int = 5, enforcement: str = "none", training: bool = True) -> Scenario:
    text = BUNDLED.read_text(encoding="utf-8").replace(
        "\nvariants:", STANDARD_TARGET + "\nvariants:", 1
    )
    path = BUNDLED.parent / "quang_binh.yaml"
    from sim.scenario import load_scenario_text

    sc = load_scenario_text(text, str(path))
    return sc.with_overrides(
        {
            "population.qualifications.l1.theory_intermediate": 0.9,
            "population.qualifications.l1.theory_advanced": 0.4,
            "population.qualifications.l2.theory_intermediate": 0.6,
            "population.qualifications.l2.theory_advanced": 0.1,
            "policy.standards.l1_head": ["theory_advanced"],
            "policy.standards.enforcement": enforcement,
            "policy.training.enabled": training,
            "policy.training.courses": [{**COURSE, "seats": seats}],
        }
    )


def test_standard_rule() -> None:
    held = {"theory_advanced": np.array([True, True, False]), "it_basic": np.array([1, 0, 1], bool)}
    assert rules.meets_standard(held, [], 3).tolist() == [True, True, True]
    assert rules.meets_standard(held, ["theory_advanced"], 3).tolist() == [True, True, False]
    assert rules.meets_standard(held, ["theory_advanced", "it_basic"], 3).tolist() == [
        True,
        False,
        False,
    ]
    with pytest.raises(KeyError):
        rules.meets_standard(held, ["language_b1"], 3)


def test_seats_queue_and_limit_graduates() -> None:
    """Five seats of a 12-month course: at most five graduates a year, the rest queue."""
    sc = scenario(seats=5)
    for rep in range(3):
        model = Model(sc, seed=1, rep=rep, keep_log=True)
        res = model.run()
        table = res.training[:, 0]
        assert table[:, NOMINATED].sum() >= table[:, STARTED].sum() >= table[:, COMPLETED].sum()
        assert table[:, COMPLETED].sum() > 0
        assert table[:, COMPLETED].max() <= 5
        assert table[:, STARTED].max() <= 5 + 5  # a year's starts: freed places, at most twice
        assert table[0, NOMINATED] == 20
        assert check_invariants(res, model.layout.post_rank) == []
        assert len(model.mechanism("training").queue[0]) > 0  # nominees still waiting at the end


def test_more_seats_never_leave_fewer_leaders_at_standard() -> None:
    values = {}
    for seats in (2, 10, 40):
        sc = scenario(seats=seats)
        k = [t.id for t in sc.targets].index("STD")
        values[seats] = np.mean([Model(sc, seed=3, rep=r).run().target_value[k] for r in range(6)])
    assert values[2] <= values[10] <= values[40]
    assert values[2] < values[40]


def test_training_off_changes_no_career() -> None:
    """Training draws no random numbers and, standards unenforced, moves nobody."""
    a = Model(scenario(training=False), seed=4, rep=0).run()
    b = Model(scenario(seats=40), seed=4, rep=0).run()
    assert np.array_equal(a.appointments, b.appointments)
    assert np.array_equal(a.exits, b.exits)


def test_block_appoints_only_people_at_the_standard() -> None:
    sc = scenario(enforcement="block")
    loose = scenario(enforcement="none")
    vac_block, vac_none = 0.0, 0.0
    for rep in range(3):
        model = Model(sc, seed=5, rep=rep, keep_log=True)
        res = model.run()
        appts = res.log["appointments"]
        heads = appts["person"][appts["rank"] == RANK_CODE["l1_head"]]
        assert len(heads) > 10
        # Theory levels only ever rise, so an appointee below the standard at the end was
        # below it when appointed.
        assert np.all(model.qual.theory[heads] == 2)
        assert check_invariants(res, model.layout.post_rank) == []
        vac_block += res.vacancy_months[:, 2].sum()
        vac_none += Model(loose, seed=5, rep=rep).run().vacancy_months[:, 2].sum()
    assert vac_block > vac_none  # posts wait for a qualified candidate


def test_train_after_relieves_those_still_below_the_standard() -> None:
    scarce = scenario(seats=1, enforcement="train_after")
    ample = scenario(seats=60, enforcement="train_after")
    relieved = {"scarce": 0, "ample": 0}
    for rep in range(4):
        for name, sc in (("scarce", scarce), ("ample", ample)):
            model = Model(sc, seed=6, rep=rep, keep_log=True)
            res = model.run()
            assert check_invariants(res, model.layout.post_rank) == []
            relieved[name] += int(res.exits[:, BELOW_STANDARD].sum())
    assert relieved["scarce"] > 0
    assert relieved["ample"] < relieved["scarce"]


def test_duplicate_course_ids_are_rejected() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BUNDLED).with_overrides({"policy.training.courses": [COURSE, COURSE]})
    assert "course id 'theory_advanced' is used twice" in str(info.value)


def test_unknown_requirement_is_rejected() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BUNDLED).with_overrides({"policy.standards.l1_head": ["charisma"]})
    assert "policy.standards.l1_head" in str(info.value)


def test_pool_members_below_their_planned_standard_go_first() -> None:
    """With the succession pool on, the default priority nominates its members who lack the
    standard of their planned post before anyone else."""
    sc = scenario(seats=5).with_overrides({"policy.succession_pool.enabled": True})
    model = Model(sc, seed=8, rep=0)
    model.pool.replan(model.t0)
    desk = model.mechanism("training")
    nominees = desk.nominees(0, desk.courses[0], model.t0)
    members = np.array(sorted(model.pool.plans_of))
    needy = set(members[~model.pool.at_standard(members, model.t0)].tolist())
    assert len(needy) >= len(nominees) > 0
    assert set(nominees.tolist()) <= needy


def test_a_course_can_set_its_own_priority_and_grant_international() -> None:
    course = {
        **COURSE,
        "id": "abroad",
        "grants": "international",
        "priority": "youngest_first",
        "intake_per_year": 30,
    }
    sc = scenario().with_overrides(
        {"policy.training.priority": "merit_first", "policy.training.courses": [course]}
    )
    model = Model(sc, seed=9, rep=0)
    desk = model.mechanism("training")
    nominees = desk.nominees(0, desk.courses[0], model.t0)
    assert len(nominees) == 30
    births = model.birth[nominees]
    assert np.all(np.diff(births) <= 0)  # youngest first, whatever the plan's priority
    before = model.qual.international[: model.n].sum()
    res = model.run()
    assert res.training[:, 0, COMPLETED].sum() > 0
    assert model.qual.international[: model.n].sum() > before


class ProcessPerNominee(TrainingDesk):
    """The first form of the courses, kept as a reference: one SimPy process a nominee,
    queueing on a :class:`simpy.Resource` with one place a seat."""

    def __init__(self, model: Model, scenario: Scenario) -> None:
        super().__init__(model, scenario)
        self.seats = [simpy.Resource(model.env, capacity=c.seats) for c in self.courses]

    def plan(self, _ev=None) -> None:  # type: ignore[no-untyped-def]
        m = self.m
        t = m.env.now
        yi = m.year_index(t)
        for c_idx, course in enumerate(self.courses):
            for i in self.nominees(c_idx, course, t).tolist():
                self.enrolled[c_idx].add(i)
                self.table[yi, c_idx, NOMINATED] += 1
                m.env.process(self.attend(i, c_idx, course))
        m.schedule_at(t + 12, self.plan)

    def attend(self, i, c_idx, course):  # type: ignore[no-untyped-def]
        m = self.m
        try:
            with self.seats[c_idx].request() as req:
                yield req
                if not m.present(i, m.env.now):
                    return
                self.table[m.year_index(m.env.now), c_idx, STARTED] += 1
                yield m.env.timeout(course.months)
            if m.present(i, m.env.now):
                self.grant(i, course.grants, m.env.now)
                self.table[m.year_index(m.env.now), c_idx, COMPLETED] += 1
        finally:
            self.enrolled[c_idx].discard(i)


@pytest.mark.parametrize(
    ("seats", "months", "enforcement"),
    [(1, 12, "train_after"), (5, 12, "none"), (3, 7.5, "block"), (40, 24, "train_after")],
)
def test_cohorts_act_as_one_process_per_nominee(
    seats: int, months: float, enforcement: str
) -> None:
    """Cohorts give, to the last bit, the results of one SimPy process per nominee queueing
    on a resource: the same starts, graduations, careers and targets, in fewer events."""
    sc = scenario(seats=seats, enforcement=enforcement).with_overrides(
        {"policy.training.courses": [{**COURSE, "seats": seats, "months": months}]}
    )
    for rep in range(2):
        cohort = Model(sc, seed=8, rep=rep)
        a = cohort.run()
        reference = Model(sc, seed=8, rep=rep)
        k = [m.name for m in reference.mechanisms].index("training")
        reference.mechanisms[k] = ProcessPerNominee(reference, sc)
        b = reference.run()
        assert np.array_equal(a.training, b.training)
        assert a.training[:, 0, COMPLETED].sum() > 0
        for name in ("target_value", "appointments", "exits", "vacancy_months", "trajectory"):
            assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
        assert a.n_events < b.n_events
