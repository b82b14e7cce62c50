"""Precompute the robustness table of every bundled scenario (docs/robustness/NAME.csv and
NAME.json), so that `cadresim run` and the app show whether each answer is robust without
running the 2 x (number of assumptions) extra studies.

    python scripts/robustness_tables.py                      # every bundled scenario
    python scripts/robustness_tables.py quang_binh --reps 40 # one scenario, fewer replications

A table is found by its scenario's hash, so it is used only for the scenario exactly as it is
bundled; tests/functional/test_robustness.py fails when a scenario changes and its table was not
regenerated. The tables are reproducible: same scenario, seed and replications give the same
table on any number of workers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import robustness  # noqa: E402
from sim.runner import make_runner  # noqa: E402
from sim.scenario import bundled_scenarios_dir, load_scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="bundled scenario names (default: all)")
    parser.add_argument("--reps", type=int, default=100, help="replications a point")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=robustness.STORED_DIR)
    args = parser.parse_args()
    names = args.names or sorted(p.stem for p in bundled_scenarios_dir().glob("*.yaml"))
    for name in names:
        scenario = load_scenario(bundled_scenarios_dir() / f"{name}.yaml")
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int, name: str = name, last: list[float] = last) -> None:
            now = time.perf_counter()
            if now - last[0] > 30 or done == total:
                last[0] = now
                print(f"  {name}: {done}/{total} replications", file=sys.stderr, flush=True)

        with make_runner(args.workers if args.reps >= 2 * args.workers else 1) as runner:
            result = robustness.run(
                scenario, args.seed, args.reps, runner=runner, progress=progress
            )
        elapsed = time.perf_counter() - started
        command = (
            f"python scripts/robustness_tables.py {name} --reps {args.reps} --seed {args.seed}"
        )
        robustness.save(
            result,
            args.out,
            name,
            {"scenario": name, "command": command, "elapsed_seconds": round(elapsed, 1)},
        )
        s = result.summary
        print(
            f"{name}: {len(result.table['assumption'].unique())} assumptions or groups, "
            f"{args.reps} replications a point, {elapsed:.0f} s; "
            f"{int(s['robust'].sum())} of {len(s)} targets robust",
            flush=True,
        )


if __name__ == "__main__":
    main()
