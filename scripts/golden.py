"""Write the golden results: every bundled scenario and variant, a few replications, fixed seed.

    .venv/bin/python scripts/golden.py            # rewrite tests/golden/*.json
    .venv/bin/python scripts/golden.py --check    # compare without writing (exit 1 on change)

``tests/functional/test_golden.py`` reruns them and requires identical numbers, so that a
change of the engine that is meant to leave results alone (a faster kernel, a new structure)
is shown to do so to the last bit. A deliberate change of results regenerates them in the
same commit, and the commit says why they moved.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from sim.model import RepResult, run_model  # noqa: E402
from sim.results import PER_REP, STREAMED  # noqa: E402
from sim.scenario import Scenario, bundled_scenarios_dir, load_scenario  # noqa: E402

GOLDEN = ROOT / "tests" / "golden"
SEED = 20261203
REPS = 3
#: What a replication is compared on: every table it returns that a study summarises.
FIELDS = PER_REP + STREAMED


def _plain(x: Any) -> Any:
    a = np.asarray(x)
    if a.dtype == bool:
        return a.astype(int).tolist()
    if a.dtype.kind == "f":
        return [_plain(v) for v in a] if a.ndim else (None if math.isnan(a) else float(a))
    return a.tolist()


def record(res: RepResult) -> dict[str, Any]:
    return {name: _plain(getattr(res, name)) for name in FIELDS}


def variants(sc: Scenario) -> list[str | None]:
    return [None, *sorted(sc.variants)]


def golden(path: Path) -> dict[str, Any]:
    sc = load_scenario(path)
    out: dict[str, Any] = {}
    for v in variants(sc):
        s = sc if v is None else sc.variant(v)
        out[v or "default"] = [record(run_model(s, SEED, rep)) for rep in range(REPS)]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 on a change")
    args = ap.parse_args(argv)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    changed = []
    for path in sorted(bundled_scenarios_dir().glob("*.yaml")):
        target = GOLDEN / f"{path.stem}.json"
        data = golden(path)
        text = json.dumps(data, sort_keys=True, indent=0) + "\n"
        old = target.read_text(encoding="utf-8") if target.exists() else None
        if old != text:
            changed.append(path.stem)
            if not args.check:
                target.write_text(text, encoding="utf-8")
        print(f"{path.stem}: {'changed' if old != text else 'same'}", file=sys.stderr)
    if args.check and changed:
        print(f"golden results changed: {', '.join(changed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
