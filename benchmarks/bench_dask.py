"""Replications per second on 1 and 2 local workers and on a 2-worker Dask LocalCluster.

    python benchmarks/bench_dask.py [--reps 1000] [--rounds 3] [--scenario quang_binh]

Prints each backend's rate, Dask's overhead against the local process pool (goal: within 15%
at 1,000 replications; the LocalCluster's start-up is included, as a user would wait for it),
and whether every backend gave the same replications.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.runner import DaskRunner, ProcessPoolRunner, SequentialRunner  # noqa: E402
from sim.scenario import load_scenario, resolve_scenario_path  # noqa: E402


def timed(runner, sc, reps):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = {r.rep: r.target_value for r in runner.results(sc, 11, range(reps))}
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved pool/Dask rounds")
    ap.add_argument("--scenario", default="quang_binh")
    args = ap.parse_args()
    sc = load_scenario(resolve_scenario_path(args.scenario))
    seq_reps = max(20, args.reps // 5)  # the 1-worker rate from a fifth of the replications
    t1, r1 = timed(SequentialRunner(), sc, seq_reps)
    pool_t, dask_t, same = [], [], True
    for _ in range(args.rounds):  # interleaved, so that a busy spell hits both alike
        t2, r2 = timed(ProcessPoolRunner(2), sc, args.reps)
        td, rd = timed(DaskRunner("local", 2), sc, args.reps)
        pool_t.append(t2)
        dask_t.append(td)
        same &= all(np.array_equal(r2[k], rd[k], equal_nan=True) for k in r2) and all(
            np.array_equal(r1[k], r2[k], equal_nan=True) for k in r1
        )
    overheads = [d / p - 1.0 for p, d in zip(pool_t, dask_t, strict=True)]
    overhead = float(np.median(overheads))
    t2, td = float(np.median(pool_t)), float(np.median(dask_t))
    print(f"scenario {sc.province}, {args.reps} replications, median of {args.rounds} rounds")
    print(f"  1 worker (sequential): {seq_reps / t1:.1f} replications/s")
    print(f"  2 local processes:     {args.reps / t2:.1f} replications/s ({t2:.1f} s)")
    print(
        f"  Dask LocalCluster (2): {args.reps / td:.1f} replications/s ({td:.1f} s, "
        "cluster start-up included)"
    )
    print(
        f"  Dask overhead against the local pool: {100 * overhead:+.1f}% (rounds: "
        + ", ".join(f"{100 * o:+.1f}%" for o in overheads)
        + f")   goal within 15%: {'PASS' if overhead <= 0.15 else 'MISS'}"
    )
    print(f"  same replications on every backend: {'OK' if same else 'MISMATCH'}")
    print(
        "RESULT "
        + json.dumps(
            {
                "reps": args.reps,
                "rate_1": seq_reps / t1,
                "rate_pool_2": args.reps / t2,
                "rate_dask_2": args.reps / td,
                "dask_overhead": overhead,
                "overheads": overheads,
                "identical": same,
            }
        )
    )


if __name__ == "__main__":
    main()
