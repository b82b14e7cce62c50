"""Soak run: many replications in one process tree, memory sampled as they go.

    python benchmarks/soak.py [--reps 10000] [--workers 2] [--scenario quang_binh] [--every 500]
                              [--in-memory]

Runs the replications as `cadresim run --out` does (a collector backed by a result store, on a
local process pool) and samples the resident memory of the main process and of each worker
every ``--every`` replications (from /proc). Prints the samples and the growth from the first
sample after warm-up to the last: it should be flat, since the collector keeps only counts and
sums (the per-replication fields are in the store's chunks) and the workers keep nothing
between replications. At the end the summary reads the per-replication fields back from the
chunks: the resident memory before and after it, and the peak (VmHWM) before and after it, show
that transient. ``--in-memory`` keeps the per-replication fields in the collector instead (the
path without ``--out``), for comparison.
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


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process (``VmHWM``: its peak so far), from /proc (0 if it is
    gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
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
    ap.add_argument(
        "--in-memory",
        action="store_true",
        help="keep the per-replication fields in the collector (as without --out)",
    )
    args = ap.parse_args()
    sc = load_scenario(resolve_scenario_path(args.scenario))
    me = os.getpid()
    samples = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore.open(Path(tmp), identity("run", sc, 9), [t.id for t in sc.targets])
        if args.in_memory:
            collector = Collector(sc, args.reps)
        else:
            collector = Collector(sc, args.reps, store=store)  # as `cadresim run --out`
        with ProcessPoolRunner(args.workers) as runner:
            for k, res in enumerate(runner.results(sc, 9, range(args.reps)), start=1):
                collector.add(res)
                store.add(res)  # already stored by a store-backed collector: a no-op then
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
        before = {"rss": rss_mib(me), "peak": rss_mib(me, "VmHWM")}
        t1 = time.perf_counter()
        summary = collector.summary()
        summary_seconds = time.perf_counter() - t1
        after = {"rss": rss_mib(me), "peak": rss_mib(me, "VmHWM")}
        del summary.replications  # the largest table: what is left is the collector's state
        settled = rss_mib(me)
    warm = samples[min(1, len(samples) - 1)]  # after the first sample: imports and pools settled
    last = samples[-1]
    growth_main = last["main_mib"] - warm["main_mib"]
    growth_workers = max(
        (b - a for a, b in zip(warm["workers_mib"], last["workers_mib"], strict=False)),
        default=0.0,
    )
    mode = "in-memory collector" if args.in_memory else "store-backed collector"
    print(
        f"{args.scenario}: {summary.n_reps} replications in {last['seconds']:.0f} s on "
        f"{args.workers} workers ({mode}); memory from {warm['reps']} to {last['reps']} "
        f"replications: main {growth_main:+.1f} MiB, largest worker change "
        f"{growth_workers:+.1f} MiB"
    )
    print(
        f"summary ({summary_seconds:.1f} s): main {before['rss']:.1f} MiB before, "
        f"{after['rss']:.1f} MiB after ({settled:.1f} MiB once its replications table is "
        f"dropped); peak {before['peak']:.1f} MiB during the run, {after['peak']:.1f} MiB "
        "with the summary"
    )
    result = {"samples": samples, "growth_main_mib": growth_main}
    result["growth_worker_mib"] = growth_workers
    result["summary"] = {
        "seconds": round(summary_seconds, 2),
        "rss_before_mib": round(before["rss"], 1),
        "rss_after_mib": round(after["rss"], 1),
        "rss_settled_mib": round(settled, 1),
        "peak_before_mib": round(before["peak"], 1),
        "peak_after_mib": round(after["peak"], 1),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
