"""Qualifications and attributes: starting draws, targets that read them, age-limited groups."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BUNDLED

from sim.model import Model
from sim.qualifications import QUAL_GROUPS
from sim.scenario import Scenario, ScenarioError, load_scenario, load_scenario_text

L1_QUALS = {
    "population.qualifications.l1.theory_intermediate": 0.8,
    "population.qualifications.l1.theory_advanced": 0.5,
    "population.qualifications.l1.language_b1": 0.3,
    "population.qualifications.l1.it_basic": 0.6,
    "population.qualifications.l1.it_advanced": 0.2,
    "population.qualifications.l1.degree": 0.9,
    "population.qualifications.l1.knowledge_update": 1.0,
    "population.qualifications.l1.ethnic_minority": 0.25,
    "population.qualifications.l1.international": 0.1,
    "population.qualifications.l1.local": 0.7,
}

TARGET = """  - id: {id}
    source: "test"
    text: {{en: "test", vi: "thử"}}
    kind: stock
    who: {{ranks: [l1_head, l1_deputy]{who}}}
    group: {group}
    op: ">="
    value: 0.5
    by: {by}
"""


def scenario_with(targets: str, overrides: dict | None = None) -> Scenario:
    text = BUNDLED.read_text(encoding="utf-8").replace("\nvariants:", targets + "\nvariants:", 1)
    sc = load_scenario_text(text, "test.yaml")
    return sc.with_overrides(overrides or {})


@pytest.fixture(scope="module")
def with_quals() -> Scenario:
    return load_scenario(BUNDLED).with_overrides(L1_QUALS)


def test_starting_qualifications_follow_the_shares(with_quals: Scenario) -> None:
    expected = {
        "theory_intermediate": 0.8,
        "theory_advanced": 0.5,
        "language_b1": 0.3,
        "it_basic": 0.6,
        "it_advanced": 0.2,
        "degree": 0.9,
        "ethnic_minority": 0.25,
        "international": 0.1,
        "local": 0.7,
        "knowledge_update": 1.0,
    }
    flags: dict[str, list[np.ndarray]] = {g: [] for g in expected}
    for rep in range(10):
        model = Model(with_quals, seed=2, rep=rep)
        l1 = model.post_holder[model.layout.post_rank >= 3]
        for g in expected:
            flags[g].append(model.qual.flags(g, l1, model.t0, model.update_months))
        # Nested levels: advanced is part of intermediate.
        assert np.all(model.qual.theory[l1] <= 2)
        assert np.all((model.qual.theory[l1] == 2) <= (model.qual.theory[l1] >= 1))
    for g, share in expected.items():
        x = np.concatenate(flags[g])
        se = np.sqrt(share * (1 - share) / len(x))
        assert abs(x.mean() - share) <= 4 * se + 1e-12, (g, x.mean(), share)


def test_draws_do_not_change_the_dynamics(with_quals: Scenario) -> None:
    """Qualifications have their own stream: the careers are those of the plain scenario."""
    plain = Model(load_scenario(BUNDLED), seed=2, rep=0).run()
    quals = Model(with_quals, seed=2, rep=0).run()
    assert np.array_equal(plain.appointments, quals.appointments)
    assert np.array_equal(plain.exits, quals.exits)


def test_knowledge_update_lapses_without_training(with_quals: Scenario) -> None:
    sc = scenario_with(TARGET.format(id="KU", who="", group="knowledge_update", by=2030), L1_QUALS)
    k = [t.id for t in sc.targets].index("KU")
    for rep in range(3):
        res = Model(sc, seed=2, rep=rep).run()
        traj = res.trajectory[k]
        assert 0.6 < traj[0] < 0.85  # end 2021: updates older than 48 months lapsed
        assert np.all(np.diff(traj) <= 1e-12)  # never renewed without training
        assert traj[5] == 0.0  # 2026: every starting update is more than 60 months old


@pytest.mark.parametrize("group", QUAL_GROUPS)
def test_stock_metric_reads_the_holders_at_the_deadline(group: str) -> None:
    who = ", under_age: {men: 45, women: 42}"
    sc = scenario_with(TARGET.format(id="Q", who=who, group=group, by=2030), L1_QUALS)
    k = [t.id for t in sc.targets].index("Q")
    model = Model(sc, seed=6, rep=1)
    res = model.run()
    t = sc.end_month  # the last year end, where the model stops
    h = model.post_holder[model.layout.post_rank >= 3]
    h = h[h >= 0]
    age = t - model.birth[h]
    h = h[age < np.where(model.female[h], 12 * 42, 12 * 45)]
    assert len(h) > 10
    expected = model.qual.flags(group, h, t, model.update_months).mean()
    assert res.target_value[k] == pytest.approx(expected)


def test_nested_levels_are_checked() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BUNDLED).with_overrides(
            {
                "population.qualifications.l2.theory_advanced": 0.6,
                "population.qualifications.l2.theory_intermediate": 0.5,
            }
        )
    assert "theory_advanced (0.6) cannot exceed theory_intermediate (0.5)" in str(info.value)


def test_flow_targets_count_only_appointment_groups() -> None:
    bad = TARGET.format(id="F", who="", group="degree", by=2025).replace(
        "kind: stock", "kind: flow\n    from_year: 2021"
    )
    with pytest.raises(ScenarioError) as info:
        scenario_with(bad)
    assert "a flow target counts women, young, long_service, not degree" in str(info.value)


@pytest.mark.parametrize("match", ["all", "any"])
def test_a_target_can_combine_groups(match: str) -> None:
    """HG-Y1-30's clause: young leaders with IT *and* language (or, with any, either)."""
    target = TARGET.format(id="C", who="", group="[it_basic, language_b1]", by=2030)
    target = target.replace("    op:", f"    match: {match}\n    op:")
    sc = scenario_with(target, L1_QUALS)
    k = [t.id for t in sc.targets].index("C")
    model = Model(sc, seed=6, rep=2)
    res = model.run()
    h = model.post_holder[model.layout.post_rank >= 3]
    h = h[h >= 0]
    t = sc.end_month
    it = model.qual.flags("it_basic", h, t, model.update_months)
    lang = model.qual.flags("language_b1", h, t, model.update_months)
    expected = (it & lang) if match == "all" else (it | lang)
    assert res.target_value[k] == pytest.approx(expected.mean())
