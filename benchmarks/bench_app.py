"""The app's default what-if: the default scenario, 200 replications, as the page runs it.

    python benchmarks/bench_app.py [--reps 200] [--workers 2] [--rounds 3] [--start-method M]

The Run button starts a :class:`sim.api.Study` (2 worker processes forked from a fork server,
as the page does: ``--start-method forkserver``, the default here) and shows a first estimate
as soon as the first replications are in, then the whole table. The script times, from the
press of Run:

- the first estimate: the first progress report and the summary of what is done by then
  (goal: within 1 s, warm);
- all replications and their summary (goal: within 3 s, warm);

warm (the page's process has run a study before: compiled kernels loaded, modules imported;
median over rounds) and cold (a fresh process: imports, compiled kernels loaded from the disk
cache, the first study). The script reports and does not assert.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLD = """
import time
t0 = time.perf_counter()
import sys
sys.path.insert(0, {root!r})
from sim import api, runner
from sim.scenario import load_scenario, resolve_scenario_path
runner.use_start_method({start_method!r})
sc = load_scenario(resolve_scenario_path("quang_binh"))
first = []
def progress(p):
    if not first:
        p.study.summary
        first.append(time.perf_counter() - t0)
study = api.Study.start(sc, api.StudySettings(seed=7, reps={reps}, workers={workers}))
study.run(progress)
study.summary
print(first[0], time.perf_counter() - t0)
"""


def timed_study(reps: int, workers: int, seed: int) -> tuple[float, float]:
    """Seconds to the first estimate and to the whole summary of a fresh study."""
    from sim import api
    from sim.scenario import load_scenario, resolve_scenario_path

    sc = load_scenario(resolve_scenario_path("quang_binh"))
    t0 = time.perf_counter()
    first: list[float] = []

    def progress(p: api.StudyProgress) -> None:
        if not first:
            p.study.summary  # noqa: B018 - the page summarises what is done, then shows it
            first.append(time.perf_counter() - t0)

    study = api.Study.start(sc, api.StudySettings(seed=seed, reps=reps, workers=workers))
    study.run(progress)
    study.summary  # noqa: B018
    return first[0], time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--start-method",
        default="forkserver",
        help="how the pools' workers start: forkserver (the app's), fork, spawn",
    )
    args = ap.parse_args()
    from sim import runner

    runner.use_start_method(args.start_method)
    code = COLD.format(
        root=str(ROOT), reps=args.reps, workers=args.workers, start_method=args.start_method
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    cold_first, cold_all = (float(x) for x in out.stdout.split())
    timed_study(4, args.workers, 1)  # this process is now warm
    firsts, alls = [], []
    for k in range(args.rounds):
        first, whole = timed_study(args.reps, args.workers, 2021 + k)
        firsts.append(first)
        alls.append(whole)
    first, whole = statistics.median(firsts), statistics.median(alls)
    print(
        f"default what-if ({args.reps} replications, {args.workers} workers, "
        f"{args.start_method}), warm, median of {args.rounds}:"
    )
    print(f"  first estimate  {first:.2f} s   goal <= 1 s: {'PASS' if first <= 1 else 'MISS'}")
    print(f"  all, summarised {whole:.2f} s   goal <= 3 s: {'PASS' if whole <= 3 else 'MISS'}")
    print(f"cold start (a fresh process): first estimate {cold_first:.2f} s, all {cold_all:.2f} s")
    print(
        "RESULT "
        + json.dumps(
            {
                "reps": args.reps,
                "workers": args.workers,
                "start_method": args.start_method,
                "warm_first_estimate_s": round(first, 2),
                "warm_all_s": round(whole, 2),
                "warm_rounds_all_s": [round(t, 2) for t in alls],
                "cold_first_estimate_s": round(cold_first, 2),
                "cold_all_s": round(cold_all, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
