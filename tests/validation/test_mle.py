"""The Martell, Lane & Emrich (1996) validation: its scenario, its standalone model and the
engine's direction of effect (validation/mle.py). Fast: a few seconds in all."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.population import L1_DEPUTY, L1_HEAD, L2_DEPUTY, L2_HEAD, build_layout, pool_size
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def _load_mle():
    spec = importlib.util.spec_from_file_location("mle", ROOT / "validation" / "mle.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mle", module)  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


mle = _load_mle()


def test_bias_from_variance_matches_mle():
    assert abs(mle.BIAS_1PCT - 0.201) < 5e-4  # r = 0.1
    assert abs(10 * mle.BIAS_5PCT - 4.58) < 0.01  # MLE's 4.58 points, SD 10


def test_scenario_loads_with_mle_levels():
    sc = load_scenario(mle.SCENARIO)
    lay = build_layout(sc)
    counts = [int(np.count_nonzero(lay.post_rank == r)) for r in (L2_DEPUTY, L2_HEAD)]
    counts += [int(np.count_nonzero(lay.post_rank == r)) for r in (L1_DEPUTY, L1_HEAD)]
    assert [pool_size(sc, lay), *counts] == list(mle.ENGINE_LEVELS)
    assert sc.policy.evaluation_bias == pytest.approx(mle.BIAS_1PCT, abs=5e-4)
    assert sc.dynamics.evaluation_noise_sd == 0.0
    assert sc.dynamics.exit_hazard.model_dump() == {"l1": 0.15, "l2": 0.15, "pool": 0.15}
    assert sc.dynamics.recruitment.women_share == 0.5
    assert sc.end.year - sc.start.year + 1 == 20
    ids = {t.id for t in sc.targets}
    assert set(mle.RANK_TARGET.values()) <= ids
    assert sc.variant("no_bias").policy.evaluation_bias == 0.0


def test_standalone_without_bias_stays_at_parity():
    res = mle.standalone(bias_sd=0.0, reps=300, seed=11)
    assert res.mean.shape == (len(mle.MLE_LEVELS),)
    # Within 4 standard errors of 50% at every level (the SE comes from the run itself).
    assert np.all(np.abs(res.mean - 0.5) < 4 * res.se), (res.mean, res.se)


def test_standalone_with_bias_declines_level_by_level():
    res = mle.standalone(bias_sd=mle.BIAS_1PCT, reps=400, seed=12)
    assert np.all(np.diff(res.mean) < 0), res.mean
    # The top is well below the bottom, far beyond the noise.
    gap = res.per_rep[:, 0] - res.per_rep[:, -1]
    assert gap.mean() > 5 * gap.std(ddof=1) / math.sqrt(len(gap))


def test_standalone_five_levels_and_wait():
    res = mle.standalone(mle.ENGINE_LEVELS, bias_sd=mle.BIAS_5PCT, reps=150, seed=13)
    assert res.levels == tuple(f"level {k}" for k in range(1, 6))
    assert res.mean[-1] < res.mean[0] - 0.05
    waited = mle.standalone(mle.ENGINE_LEVELS, bias_sd=0.0, reps=150, seed=13, wait_cycles=2)
    assert np.all(np.abs(waited.mean - 0.5) < 4 * waited.se), waited.mean


def _pool_minus_head(shares) -> tuple[float, float]:
    d = shares.per_rep[:, 0] - shares.per_rep[:, -1]
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))


def test_engine_bias_leaves_fewer_women_at_the_top():
    shares = mle.engine_shares(mle.load(), reps=16, workers=1, seed=3)
    assert shares.levels == mle.RANKS
    assert np.all((shares.per_rep >= 0) & (shares.per_rep <= 1))
    gap, se = _pool_minus_head(shares)
    assert gap > 3 * se and gap > 0.03, (gap, se, shares.mean)


def test_engine_without_bias_has_no_gap():
    shares = mle.engine_shares(mle.load(0.0), reps=16, workers=1, seed=3)
    gap, se = _pool_minus_head(shares)
    assert abs(gap) < max(3 * se, 0.02), (gap, se, shares.mean)
    assert np.all(np.abs(shares.mean - 0.5) < np.maximum(4 * shares.se, 0.02)), shares.mean
