"""Results with a fixed seed equal the golden ones of every bundled scenario and variant.

The golden files (tests/golden/*.json) are written by ``scripts/golden.py``; a change meant to
leave results alone must keep them to the last bit, and a deliberate change regenerates them
in the same commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import golden  # noqa: E402

from sim.model import run_model  # noqa: E402
from sim.scenario import bundled_scenarios_dir, load_scenario  # noqa: E402

CASES = [
    (path.stem, v)
    for path in sorted(bundled_scenarios_dir().glob("*.yaml"))
    for v in golden.variants(load_scenario(path))
]


def test_every_bundled_scenario_has_its_golden_file() -> None:
    stems = {p.stem for p in bundled_scenarios_dir().glob("*.yaml")}
    assert stems == {p.stem for p in golden.GOLDEN.glob("*.json")}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "variant"), CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_results_equal_the_golden_ones(name: str, variant: str | None) -> None:
    stored = json.loads((golden.GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    sc = load_scenario(bundled_scenarios_dir() / f"{name}.yaml")
    if variant is not None:
        sc = sc.variant(variant)
    want = stored[variant or "default"]
    for rep, expected in enumerate(want):
        got = golden.record(run_model(sc, golden.SEED, rep))
        for field in golden.FIELDS:
            assert got[field] == expected[field], f"{name} {variant} rep {rep}: {field} moved"


INTERPRETED = """
import json, sys
sys.path.insert(0, {scripts!r})
import golden
from sim import kernels
from sim.model import run_model
from sim.scenario import bundled_scenarios_dir, load_scenario
assert not hasattr(kernels.eligible, "py_func"), "the kernels are compiled"
sc = load_scenario(bundled_scenarios_dir() / "{name}.yaml")
sc = sc.variant({variant!r}) if {variant!r} else sc
print(json.dumps(golden.record(run_model(sc, golden.SEED, 0))))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "variant"), [("quang_binh", "floor"), ("cao_bang", None)], ids=str
)
def test_kernels_give_the_same_results_interpreted(name: str, variant: str | None) -> None:
    """With ``NUMBA_DISABLE_JIT=1`` the kernels run as Python: the same golden numbers."""
    import os
    import subprocess

    code = INTERPRETED.format(scripts=str(ROOT / "scripts"), name=name, variant=variant)
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    got = json.loads(out.stdout)
    want = json.loads((golden.GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    for field in golden.FIELDS:
        assert got[field] == want[variant or "default"][0][field], field
