"""Soak run: many replications in one process tree, memory sampled as they go.

    python benchmarks/soak.py [--reps 10000] [--workers 2] [--scenario quang_binh] [--every 500]

Runs the replications as `cadresim run --out` does (collector + result store, on a local
process pool) and samples the resident memory of the main process and of each worker every
``--every`` replications (from /proc). Prints the samples and the growth from the first
sample after warm-up to the last: it should be flat (a few MiB at most: the collector keeps a
few numbers a replication and target, and the workers keep nothing between replications).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.results import Collector  # noqa: E402
from sim.runner import ProcessPoolRunner  # noqa: E402
from sim.scenario import load_scenario, resolve_scenario_path  # noqa: E402
from sim.store import ResultStore, identity  # noqa: E402


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", default="quang_binh")
    ap.add_argument("--every", type=int, default=500)
    args = ap.parse_args()
    sc = load_scenario(resolve_scenario_path(args.scenario))
    me = os.getpid()
    samples = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore.open(Path(tmp), identity("run", sc, 9), [t.id for t in sc.targets])
        collector = Collector(sc, args.reps)
        with ProcessPoolRunner(args.workers) as runner:
            for k, res in enumerate(runner.results(sc, 9, range(args.reps)), start=1):
                collector.add(res)
                store.add(res)
                if k % args.every == 0:
                    workers = [rss_mib(c) for c in children(me)]
                    samples.append(
                        {
                            "reps": k,
                            "seconds": round(time.perf_counter() - t0, 1),
                            "main_mib": round(rss_mib(me), 1),
                            "workers_mib": [round(w, 1) for w in workers],
                        }
                    )
                    print(
                        f"  {k:>6} replications, {samples[-1]['seconds']:7.1f} s: main "
                        f"{samples[-1]['main_mib']:6.1f} MiB, workers "
                        + ", ".join(f"{w:6.1f}" for w in samples[-1]["workers_mib"])
                        + " MiB",
                        flush=True,
                    )
        store.flush()
        summary = collector.summary()
    warm = samples[min(1, len(samples) - 1)]  # after the first sample: imports and pools settled
    last = samples[-1]
    growth_main = last["main_mib"] - warm["main_mib"]
    growth_workers = max(
        (b - a for a, b in zip(warm["workers_mib"], last["workers_mib"], strict=False)),
        default=0.0,
    )
    print(
        f"{args.scenario}: {summary.n_reps} replications in {last['seconds']:.0f} s on "
        f"{args.workers} workers; memory from {warm['reps']} to {last['reps']} replications: "
        f"main {growth_main:+.1f} MiB, largest worker change {growth_workers:+.1f} MiB"
    )
    result = {"samples": samples, "growth_main_mib": growth_main}
    result["growth_worker_mib"] = growth_workers
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
