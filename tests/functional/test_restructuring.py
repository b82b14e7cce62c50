"""The 2025 restructuring shock: abolished districts, merged departments, capped deputies,
early retirement, and the surplus absorbed."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BUNDLED

from sim.codes import REASSIGN, RESTRUCTURED
from sim.invariants import check_invariants
from sim.model import Model
from sim.population import L1_DEPUTY, L1_HEAD
from sim.scenario import Scenario, ScenarioError, load_scenario

DATE = 12 * 2025 + 6  # 1 July 2025


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(BUNDLED)


def shock(qb: Scenario, **extra: object) -> Scenario:
    return qb.with_overrides(
        {
            "policy.restructuring.enabled": True,
            "policy.restructuring.abolish_blocks": ["districts"],
            "policy.restructuring.merge": [{"block": "dept_economic", "into_units": 6}],
            "policy.restructuring.deputy_cap": 3,
            "policy.restructuring.early_retirement": [
                {"min_years": 2, "max_years": 5, "uptake": 0.3},
                {"min_years": 5, "max_years": 10, "uptake": 0.1},
            ],
            **extra,
        }
    )


def test_abolished_and_merged_posts_are_never_filled_again(qb: Scenario) -> None:
    sc = shock(qb)
    for rep in range(3):
        model = Model(sc, seed=2, rep=rep, keep_log=True)
        res = model.run()
        assert check_invariants(res, model.layout.post_rank) == []
        lay = model.layout
        appts = res.log["appointments"]
        after = appts[appts["t"] >= DATE]
        # No appointment or move into a district post after the date.
        assert not np.any(lay.post_district[after["post"]])
        # By the end of the grace period every district post is empty.
        assert np.all(model.post_holder[lay.post_district] < 0)
        # Departments of the economic block now sit in 6 units, with one head each.
        b = lay.block_ids.index("dept_economic")
        active = np.array(model.post_active)
        posts = np.flatnonzero((lay.post_block == b) & active)
        assert len(np.unique(model.post_unit[posts])) == 6
        heads = posts[lay.post_rank[posts] == L1_HEAD]
        assert len(heads) == 6
        # Deputy cap: at most 3 active deputy posts a unit.
        deputies = np.flatnonzero(active & (lay.post_rank == L1_DEPUTY))
        _, per_unit = np.unique(model.post_unit[deputies], return_counts=True)
        assert per_unit.max() <= 3
        # Some surplus leaders were reassigned, some left with the restructuring.
        assert np.any(appts["move"] == REASSIGN)
        assert res.exits[:, RESTRUCTURED].sum() > 0


def test_early_retirement_follows_the_uptake(qb: Scenario) -> None:
    from sim import rules

    sc = shock(
        qb,
        **{
            "policy.restructuring.abolish_blocks": [],
            "policy.restructuring.merge": [],
            "policy.restructuring.deputy_cap": None,
        },
    )
    bands = [(2.0, 5.0, 0.3), (5.0, 10.0, 0.1)]
    took = 0
    expected = variance = 0.0
    for rep in range(6):
        model = Model(sc, seed=3, rep=rep, keep_log=True)
        desk = model.mechanism("restructuring")
        apply = desk.apply

        def spy(ev: object = None, _m: Model = model, _apply=apply) -> None:
            nonlocal expected, variance
            holders = _m.post_holder[_m.post_holder >= 0]
            p = np.array(
                [rules.early_retirement_uptake(_m.retire_l[i] - DATE, bands) for i in holders]
            )
            expected += p.sum()
            variance += (p * (1 - p)).sum()
            _apply(ev)

        desk.apply = spy  # type: ignore[method-assign]
        res = model.run()
        exits = res.log["exits"]
        early = exits[exits["cause"] == RESTRUCTURED]
        assert np.all(np.abs(early["t"] - DATE) < 1e-9)
        years_left = (model.retire[early["person"]] - DATE) / 12
        assert np.all((years_left >= 2) & (years_left < 10))
        took += len(early)
    assert abs(took - expected) < 4 * np.sqrt(variance), (took, expected)


def test_shock_gives_fewer_appointments_in_2025_2026(qb: Scenario) -> None:
    base = [Model(qb, seed=4, rep=r).run().appointments for r in range(4)]
    cut = [Model(shock(qb), seed=4, rep=r).run().appointments for r in range(4)]
    years = slice(2025 - 2021, 2027 - 2021)
    assert sum(a[years, 2, 0].sum() for a in cut) < sum(a[years, 2, 0].sum() for a in base)


def test_shock_off_changes_nothing(qb: Scenario) -> None:
    off = qb.with_overrides({"policy.restructuring.abolish_blocks": ["districts"]})
    a, b = Model(qb, 5, 0).run(), Model(off, 5, 0).run()
    assert np.array_equal(a.appointments, b.appointments)


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ({"policy.restructuring.abolish_blocks": ["nosuch"]}, "unknown block nosuch"),
        (
            {"policy.restructuring.merge": [{"block": "dept_internal", "into_units": 5}]},
            "has 2 units: cannot merge into 5",
        ),
        ({"policy.restructuring.date": "2035-01-01"}, "outside the horizon"),
        (
            {
                "policy.restructuring.early_retirement": [
                    {"min_years": 5, "max_years": 2, "uptake": 0.3}
                ]
            },
            "max_years must be above min_years",
        ),
    ],
)
def test_bad_restructuring_is_rejected(qb: Scenario, override: dict, words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        qb.with_overrides({"policy.restructuring.enabled": True, **override})
    assert words in str(info.value)
