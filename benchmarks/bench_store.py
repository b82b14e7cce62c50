"""Streaming replications to Parquet: peak memory as replications grow, and what it costs.

    python benchmarks/bench_store.py [--reps 200,800,1600] [--workers 2] [--scenario quang_binh]

Each size runs in a fresh process, `cadresim run --out` style (collector + result store, on a
local process pool), and reports the main process's peak resident memory and the rate; one
more run of the middle size without a store gives the store's cost. Memory should stay flat:
only a chunk's worth of replications is buffered, and the collector keeps a few numbers a
replication and target.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from sim.results import Collector
from sim.runner import ProcessPoolRunner
from sim.scenario import load_scenario, resolve_scenario_path
from sim.store import ResultStore, identity

reps, workers, out, name = {reps}, {workers}, {out!r}, {scenario!r}
sc = load_scenario(resolve_scenario_path(name))
collector = Collector(sc, reps)
store = None
if out:
    store = ResultStore.open(out, identity("run", sc, 5), [t.id for t in sc.targets])
t0 = time.perf_counter()
with ProcessPoolRunner(workers) as runner:
    for res in runner.results(sc, 5, range(reps)):
        collector.add(res)
        if store is not None:
            store.add(res)
if store is not None:
    store.flush()
summary = collector.summary()
elapsed = time.perf_counter() - t0
print(json.dumps({{"reps": reps, "seconds": elapsed,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "chunks": len(list(__import__("pathlib").Path(out).glob("chunks/*.parquet")))
                  if out else 0}}))
"""


def child(reps: int, workers: int, scenario: str, out: str | None) -> dict:
    code = CHILD.format(root=str(ROOT), reps=reps, workers=workers, out=out, scenario=scenario)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", default="200,800,1600")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", default="quang_binh")
    args = ap.parse_args()
    sizes = [int(x) for x in args.reps.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            rows.append(child(n, args.workers, args.scenario, str(Path(tmp) / f"s{n}")))
        mid = sizes[len(sizes) // 2]
        bare = child(mid, args.workers, args.scenario, None)
    print(f"scenario {args.scenario}, {args.workers} workers, streamed to Parquet chunks")
    for r in rows:
        print(
            f"  {r['reps']:>6} replications: peak RSS {r['peak_rss_mib']:7.1f} MiB, "
            f"{r['reps'] / r['seconds']:5.1f} rep/s, {r['chunks']} chunks"
        )
    growth = rows[-1]["peak_rss_mib"] - rows[0]["peak_rss_mib"]
    with_store = next(r for r in rows if r["reps"] == mid)
    cost = with_store["seconds"] / bare["seconds"] - 1.0
    print(f"  memory growth from {sizes[0]} to {sizes[-1]} replications: {growth:+.1f} MiB")
    print(
        f"  without the store, {mid} replications: {mid / bare['seconds']:.1f} rep/s; "
        f"streaming costs {100 * cost:+.1f}% of run time (noise on a shared machine: a few %)"
    )
    print("RESULT " + json.dumps({"rows": rows, "bare": bare, "growth_mib": growth, "cost": cost}))


if __name__ == "__main__":
    main()
