"""Every bundled scenario and variant: valid, and 200 replications that keep every invariant."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

import pytest

from sim.invariants import check_scenario_replications
from sim.scenario import bundled_scenarios_dir, load_scenario

BUNDLED = sorted(bundled_scenarios_dir().glob("*.yaml"))
CASES = [
    (path, variant) for path in BUNDLED for variant in [None, *sorted(load_scenario(path).variants)]
]
REPS = 200


def test_every_province_is_bundled() -> None:
    names = {p.stem for p in BUNDLED}
    assert {"quang_binh", "ha_giang", "cao_bang", "ha_noi", "nghe_an"} <= names


@pytest.mark.parametrize(
    ("path", "variant"), CASES, ids=[f"{p.stem}-{v or 'as_planned'}" for p, v in CASES]
)
def test_bundled_scenario_keeps_every_invariant(path, variant) -> None:  # type: ignore[no-untyped-def]
    sc = load_scenario(path)
    if variant is not None:
        sc = sc.variant(variant)
    reps = REPS if variant is None else REPS // 10  # every variant, the scenario itself in full
    if sc.merger is not None:  # three models a replication, each replayed: a quarter
        reps //= 4
    chunks = [range(k, reps, 2) for k in range(2)]
    with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
        found = [
            b
            for part in pool.map(check_scenario_replications, [sc] * 2, [11] * 2, chunks)
            for b in part
        ]
    assert found == [], found[:3]
