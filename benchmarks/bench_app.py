"""The app's default what-if: the default scenario, 200 replications, as the page runs it.

    python benchmarks/bench_app.py [--reps 200] [--workers 2] [--rounds 3]

Prints the wall time of a fresh study through ``sim.api.run_study`` (what the Run button
does, process pool included) and of summarising it for the page; the goal is under 5 s on
this 2-core machine. A second press with the same settings reuses the finished study.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import api  # noqa: E402
from sim.scenario import load_scenario, resolve_scenario_path  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    sc = load_scenario(resolve_scenario_path("quang_binh"))
    times = []
    for k in range(args.rounds):
        t0 = time.perf_counter()
        study = api.run_study(sc, 2021 + k, args.reps, workers=args.workers)
        study.summary  # noqa: B018 - the page summarises before it shows anything
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    verdict = "PASS" if med < 5 else "MISS"
    print(
        f"default what-if ({args.reps} replications, {args.workers} workers): "
        f"median {med:.1f} s over {args.rounds} rounds "
        f"({', '.join(f'{t:.1f}' for t in times)})   goal < 5 s: {verdict}"
    )
    print(
        "RESULT "
        + json.dumps(
            {
                "reps": args.reps,
                "workers": args.workers,
                "seconds": [round(t, 2) for t in times],
                "median_seconds": round(med, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
