"""Rotation (luân chuyển): yearly plans, young cadres to districts, non-local secretaries."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BUNDLED

from sim.codes import ROTATION, TO_DISTRICT
from sim.invariants import check_invariants
from sim.model import Model
from sim.population import SIDES
from sim.scenario import RANK_CODE, Scenario, load_scenario, load_scenario_text

ROTATED_TARGET = """  - id: ROT
    source: "test"
    text: {en: "leaders in rotation age rotated at least once", vi: "thử"}
    kind: stock
    who: {ranks: [l1_deputy, l2_head], service_left_at_start_months: 120}
    group: rotated
    op: ">="
    value: 0.5
    upper: 0.6
    by: 2025
"""


def scenario(**overrides: object) -> Scenario:
    text = BUNDLED.read_text(encoding="utf-8").replace(
        "\nvariants:", ROTATED_TARGET + "\nvariants:", 1
    )
    sc = load_scenario_text(text, str(BUNDLED))
    return sc.with_overrides(
        {
            "policy.rotation.enabled": True,
            "policy.rotation.pool_members_only": False,
            **overrides,
        }
    )


def run(sc: Scenario, rep: int) -> tuple[Model, object]:
    model = Model(sc, seed=7, rep=rep, keep_log=True)
    return model, model.run()


@pytest.mark.parametrize("across", ["unit", "side", "area"])
def test_rotations_move_eligible_leaders_elsewhere(across: str) -> None:
    sc = scenario(**{"policy.rotation.across": across})
    for rep in range(2):
        model, res = run(sc, rep)
        assert check_invariants(res, model.layout.post_rank) == []
        log = res.log["appointments"]
        moves = log[log["move"] == ROTATION]
        assert len(moves) > 10
        assert int(res.rotations[:, 0].sum()) == len(moves)
        lay = model.layout
        # Where each rotated person came from: their post just before the move.
        last_post: dict[int, int] = {
            int(i): p for p, i in enumerate(res.log["initial_holder"]) if i >= 0
        }
        last_rot: dict[int, float] = {}
        for row in log:
            i, q, t = int(row["person"]), int(row["post"]), float(row["t"])
            if row["move"] == ROTATION:
                p = last_post[i]
                u, v = lay.post_unit[p], lay.post_unit[q]
                assert u != v
                assert lay.post_rank[p] == lay.post_rank[q] == row["from_rank"]
                if across == "side":
                    assert lay.unit_side[u] != lay.unit_side[v]
                if across == "area":
                    assert lay.unit_district[u] != lay.unit_district[v]
                assert row["service_left"] >= 120
                assert t - last_rot.get(i, -np.inf) >= 36
                last_rot[i] = t
            last_post[i] = q


def test_rotations_are_not_appointments() -> None:
    _model, res = run(scenario(), 0)
    log = res.log["appointments"]
    assert int(res.appointments[:, :, 0].sum()) == int((log["move"] == 0).sum())


def test_a_higher_quota_rotates_more() -> None:
    shares = {}
    for share in (0.05, 0.15, 0.3):
        sc = scenario(**{"policy.rotation.share_per_year": share})
        k = [t.id for t in sc.targets].index("ROT")
        shares[share] = np.mean([run(sc, r)[1].target_value[k] for r in range(3)])
    assert shares[0.05] < shares[0.15] < shares[0.3]


def test_rotation_off_changes_nothing() -> None:
    qb = load_scenario(BUNDLED)
    off = qb.with_overrides({"policy.rotation.young_to_districts": 2})
    a, b = Model(qb, 3, 0).run(), Model(off, 3, 0).run()
    assert np.array_equal(a.appointments, b.appointments)
    assert np.array_equal(a.exits, b.exits)


def test_young_cadres_go_to_the_districts() -> None:
    sc = scenario(**{"policy.rotation.young_to_districts": 2, "policy.rotation.share_per_year": 0})
    model, res = run(sc, 1)
    assert check_invariants(res, model.layout.post_rank) == []
    log = res.log["appointments"]
    sent = log[log["move"] == TO_DISTRICT]
    assert len(sent) > 0
    assert int(res.rotations[:, 1].sum()) == len(sent)
    lay = model.layout
    assert np.all(lay.post_district[sent["post"]])
    assert np.all(sent["t"] - model.birth[sent["person"]] <= 12 * 35)
    assert np.all(lay.post_rank[sent["post"]] <= RANK_CODE["l2_head"])
    # At most two a district a year.
    years = (sent["t"] // 12).astype(int)
    units = lay.post_unit[sent["post"]]
    _, counts = np.unique(np.stack([years, units]), axis=1, return_counts=True)
    assert counts.max() <= 2


def test_non_local_district_secretaries() -> None:
    base = {"population.qualifications.l1.local": 0.8, "population.qualifications.l2.local": 0.8}
    shares = {}
    for on in (False, True):
        sc = scenario(**base, **{"policy.rotation.nonlocal_district_heads": on})
        local = total = 0
        for rep in range(3):
            model, res = run(sc, rep)
            log = res.log["appointments"]
            heads = log[
                (log["move"] == 0)
                & (log["rank"] == RANK_CODE["l1_head"])
                & model.layout.post_district[log["post"]]
            ]
            local += int(model.qual.local[heads["person"]].sum())
            total += len(heads)
        shares[on] = local / total
    assert shares[True] < shares[False] - 0.2
    assert SIDES[-1] == "district"
