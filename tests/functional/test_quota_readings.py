"""What the quota readings mean (SPEC §5.1), checked on the engine's own event logs.

- A stricter reading of the same share never lowers the chance of meeting that share:
  ``floor`` >= ``expected`` >= ``none`` on the same random numbers, on every bundled scenario
  that has share targets.
- ``floor``: every year, each group gets at least ceil(share x that year's appointments)
  whenever eligible members of the group exist; an appointment owing both groups with nobody
  in both serves one and owes the other at the next appointment; no post waits for a
  combination of groups.
- ``expected``: the realised share equals the stated share, also when reserved contests take
  the group's best candidates (and so for the long-service preference).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sim.model import Model, RepResult
from sim.runner import make_runner, run_many
from sim.scenario import (
    FlowTarget,
    Scenario,
    StockTarget,
    bundled_scenarios_dir,
    load_scenario,
    resolve_scenario_path,
)

ROOT = Path(__file__).resolve().parents[2]
L1_RANKS = (3, 4)
WOMEN_BIT, YOUNG_BIT = 1, 2


def _results(sc: Scenario, reps: int, seed: int = 2021) -> Iterator[RepResult]:
    runner = make_runner(2)
    with runner:
        yield from run_many(sc, seed, reps, runner)


def _p_met(sc: Scenario, reps: int, ids: list[str]) -> np.ndarray:
    """Per replication (rows) and target of ``ids`` (columns): met or not."""
    cols = [[t.id for t in sc.targets].index(i) for i in ids]
    return np.array([r.target_met[cols] for r in _results(sc, reps)], dtype=float)


def _share_targets(sc: Scenario) -> list[str]:
    """The women and young targets on the posts the appointment shares act on."""
    tiers = set(sc.policy.appointment_share.tiers)
    out = []
    for t in sc.targets:
        if not isinstance(t, (StockTarget, FlowTarget)) or t.group not in ("women", "young"):
            continue
        if getattr(t, "baseline", None) is not None:
            continue  # relative to a simulated year: its threshold moves with the levers
        if all(("l1" if r.startswith("l1") else "l2") in tiers for r in t.who.ranks):
            out.append(t.id)
    return out


def _with_shares(sc: Scenario) -> Scenario:
    """The scenario with its own shares, or seed 001's 15%/15% where it sets none."""
    s = sc.policy.appointment_share
    return sc.with_overrides(
        {
            "policy.appointment_share.women": s.women or 0.15,
            "policy.appointment_share.young": s.young or 0.15,
        }
    )


def _ordered(lo: np.ndarray, hi: np.ndarray) -> tuple[bool, str]:
    """P(hi) >= P(lo) within the noise of the paired difference (two standard errors)."""
    d = hi - lo
    n = len(d)
    se = max(float(d.std(ddof=1)) / math.sqrt(n), 0.5 / n)
    return bool(d.mean() >= -2 * se), f"{hi.mean():.3f} vs {lo.mean():.3f} (se {se:.3f})"


SCENARIOS = sorted(p.stem for p in bundled_scenarios_dir().glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_stricter_reading_never_lowers_the_chance_of_its_share(name: str) -> None:
    sc = _with_shares(load_scenario(resolve_scenario_path(name)))
    ids = _share_targets(sc)
    if not ids:
        pytest.skip(f"{name} has no share target on the posts the shares act on")
    reps = 30 if name == "quang_binh" else 16
    met = {
        reading: _p_met(sc.with_overrides({"policy.appointment_share.reading": reading}), reps, ids)
        for reading in ("none", "expected", "floor")
    }
    for k, target in enumerate(ids):
        for lo, hi in (("none", "expected"), ("expected", "floor")):
            ok, says = _ordered(met[lo][:, k], met[hi][:, k])
            assert ok, f"{name} {target}: P(met) under {hi} below {lo}: {says}"


@pytest.mark.slow
def test_a_stricter_long_service_reading_never_lowers_its_chance() -> None:
    sc = load_scenario(resolve_scenario_path("quang_binh"))
    ids = ["QB-65H", "QB-65D"]
    met = {
        reading: _p_met(sc.with_overrides({"policy.long_service.reading": reading}), 40, ids)
        for reading in ("none", "expected", "floor")
    }
    for k, target in enumerate(ids):
        for lo, hi in (("none", "expected"), ("expected", "floor")):
            ok, says = _ordered(met[lo][:, k], met[hi][:, k])
            assert ok, f"{target}: P(met) under {hi} below {lo}: {says}"


# --------------------------------------------------------------------------- the floor


def _floor_logs(sc: Scenario, reps: int) -> list[np.ndarray]:
    out = []
    for rep in range(reps):
        res = Model(sc, 2021, rep, keep_log=True).run()
        assert res.log is not None
        a = res.log["appointments"]
        out.append(a[(a["move"] == 0) & np.isin(a["rank"], L1_RANKS)])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("women_staff_rule", [False, True])
def test_the_floor_holds_every_year_it_can(women_staff_rule: bool) -> None:
    """Replay each year's L1 appointments: the floor's count is owed, served or deferred."""
    sc = load_scenario(resolve_scenario_path("quang_binh")).with_overrides(
        {
            "policy.appointment_share.reading": "floor",
            "policy.women_staff_rule.enabled": women_staff_rule,
        }
    )
    q = (sc.policy.appointment_share.women, sc.policy.appointment_share.young)
    years_checked = deferred = 0
    for log in _floor_logs(sc, 8):
        year = (log["t"] // 12).astype(int)
        for y in np.unique(year):
            a = log[year == y]
            got = [0, 0]
            owed_next = 0  # groups an appointment owed and deferred to this one
            short_any = 0
            for k, row in enumerate(a, start=1):
                inside = (bool(row["female"]), bool(row["young"]))
                due = 0
                for g in (0, 1):
                    if got[g] < math.ceil(q[g] * k - 1e-9):
                        due |= 1 << g
                assert row["owed"] == due, f"{y} appointment {k}: owed {row['owed']}, due {due}"
                # A group deferred by the previous appointment is served now, unless nobody
                # of it is eligible or this one is owed to the other group as well.
                for g in (0, 1):
                    if owed_next & (1 << g) and not inside[g]:
                        assert row["short"] & (1 << g) or row["owed"] == 3 or row["unit_rule"], (
                            f"{y} appointment {k}: group {g} deferred twice"
                        )
                owed_next = 0
                served = [inside[g] for g in (0, 1) if due & (1 << g)]
                for g in (0, 1):
                    if due & (1 << g) and not inside[g]:
                        if row["short"] & (1 << g):
                            short_any |= 1 << g
                        else:
                            # Nobody was in both owed groups: the other one was served.
                            assert any(served) or row["unit_rule"], (
                                f"{y} appointment {k}: owed group {g} had candidates and "
                                "the appointment served no owed group"
                            )
                            owed_next |= 1 << g
                            deferred += 1
                got[0] += inside[0]
                got[1] += inside[1]
            # At the year's end every group has its floor, unless nobody of it was eligible
            # at some appointment that owed it, or the last appointment deferred it.
            n = len(a)
            for g in (0, 1):
                if short_any & (1 << g) or owed_next & (1 << g):
                    continue
                assert got[g] >= math.ceil(q[g] * n - 1e-9), f"{y}: group {g} below its floor"
            years_checked += 1
    assert years_checked >= 8 * 9
    if not women_staff_rule:
        assert deferred > 0  # the case of the issue: both groups owed, nobody in both


@pytest.mark.slow
def test_no_post_waits_for_a_young_woman() -> None:
    """Under the floor with vacancy reservation, every year has L1 appointments, and a post
    goes outside the groups it owes only when none of them has anyone eligible: never held
    for a combination of groups each of which has someone (a young woman)."""
    sc = (
        load_scenario(resolve_scenario_path("quang_binh"))
        .variant("floor")
        .with_overrides({"policy.women_staff_rule.enabled": False})
    )
    held = years_without = 0
    for log in _floor_logs(sc, 8):
        owed = log["owed"].astype(int)
        in_owed = ((owed & 1) > 0) & log["female"] | ((owed & 2) > 0) & log["young"]
        outside = log[(owed > 0) & ~in_owed]
        assert not (outside["owed"].astype(int) & ~outside["short"].astype(int)).any(), outside
        waited = np.where(log["reserved_from"] >= 0, log["t"] - log["reserved_from"], -1.0)
        held += int(np.sum(waited >= 12 - 1e-9))
        years_without += 10 - len(np.unique((log["t"] // 12).astype(int)))
    assert years_without == 0
    # Posts are held the whole 12 months in Quảng Bình (in some years no under-40 is
    # eligible for L1): the check above covers holds, not only quick appointments.
    assert held > 0


# ------------------------------------------------------------------------ the expected


def _flow_stock(q: float, pool_share: float, noise: float) -> Scenario:
    return load_scenario(ROOT / "validation" / "flow_stock.yaml").with_overrides(
        {
            "population.pool.women_share": pool_share,
            "dynamics.recruitment.women_share": pool_share,
            "dynamics.evaluation_noise_sd": noise,
            "policy.appointment_share.women": q,
            "policy.appointment_share.reading": "expected",
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize("noise", [1e6, 0.5])
def test_expected_delivers_its_share_from_a_thin_pool(noise: float) -> None:
    """A 30% share from a pool that is 5% women: 30% of appointments, within a point.

    With a small evaluation noise reserved contests take the best women, so the open contests
    that follow favour men: the reading has to make up for it.
    """
    sc = _flow_stock(0.30, 0.05, noise)
    n = women = 0
    for res in _results(sc, 30):
        n += int(res.appointments[:, 2, 0].sum())
        women += int(res.appointments[:, 2, 1].sum())
    assert n > 5000
    assert abs(women / n - 0.30) <= 0.01, women / n


@pytest.mark.slow
def test_expected_delivers_the_long_service_share() -> None:
    """Seed 001 §II.8's 65% of first-time deputies with 15 years left, within a point."""
    sc = load_scenario(resolve_scenario_path("quang_binh"))
    first = longs = 0
    for rep in range(30):
        res = Model(sc, 2021, rep, keep_log=True).run()
        assert res.log is not None
        a = res.log["appointments"]
        sel = (a["move"] == 0) & (a["rank"] == 3) & a["first"]
        first += int(sel.sum())
        longs += int((sel & (a["service_left"] >= 180)).sum())
    assert abs(longs / first - 0.65) <= 0.01, longs / first
