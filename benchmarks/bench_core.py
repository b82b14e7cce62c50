"""Core benchmark: engine speed, cost per event against bare SimPy, 1->2 worker speed-up, memory.

Everything is measured in one run of this script, so ratios compare like with like on a
shared, noisy machine; engine and bare-SimPy batches are interleaved and medians reported.

    python benchmarks/bench_core.py [--scenario quang_binh|heaviest|NAME] [--reps 1000] [--quick]

``--scenario heaviest`` picks the bundled scenario (as planned) that takes longest per
replication, with every mechanism it switches on.

Goals (2-core machine): 1,000 replications of the default scenario over its horizon in under
30 s with 2 workers; our cost per event within 3x of bare SimPy; a 2-worker speed-up of at
least 1.8x; peak memory that does not grow with the number of replications.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import simpy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.model import Model  # noqa: E402
from sim.population import build_layout  # noqa: E402
from sim.runner import ProcessPoolRunner, SequentialRunner  # noqa: E402
from sim.scenario import (  # noqa: E402
    bundled_scenarios_dir,
    load_scenario,
    resolve_scenario_path,
)


def heaviest_scenario() -> str:
    """The bundled scenario with the longest replications (two timed replications each)."""
    times = {}
    for path in sorted(bundled_scenarios_dir().glob("*.yaml")):
        sc = load_scenario(path)
        layout = build_layout(sc)
        Model(sc, 1, 99, layout=layout).run()  # warm-up
        t0 = time.perf_counter()
        for rep in range(2):
            Model(sc, 1, rep, layout=layout).run()
        times[str(path)] = time.perf_counter() - t0
        print(f"  {path.stem}: {times[str(path)] / 2 * 1000:.0f} ms a replication")
    return max(times, key=lambda k: times[k])


def bare_simpy(n_events: int, n_procs: int, seed: int) -> float:
    """Seconds taken by a bare SimPy model processing ``n_events`` timeout events."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    per_proc = n_events // n_procs
    delays = rng.exponential(1.0, size=(n_procs, per_proc)).tolist()

    def proc(ds: list[float]):  # type: ignore[no-untyped-def]
        for d in ds:
            yield env.timeout(d)

    for ds in delays:
        env.process(proc(ds))
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def engine_batch(scenario, layout, seed: int, reps: range) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    events = 0
    for r in reps:
        events += Model(scenario, seed, r, layout=layout).run().n_events
    return time.perf_counter() - t0, events


MEMORY_SNIPPET = """
import resource, sys
sys.path.insert(0, {root!r})
from sim.results import Collector
from sim.runner import SequentialRunner, run_many
from sim.scenario import load_scenario
sc = load_scenario({path!r})
c = Collector(sc, {reps}).extend(run_many(sc, 1, {reps}, SequentialRunner()))
s = c.summary()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_kib(path: str, reps: int) -> int:
    code = MEMORY_SNIPPET.format(root=str(ROOT), path=path, reps=reps)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="quang_binh")
    ap.add_argument("--reps", type=int, default=1000, help="replications for the speed-up")
    ap.add_argument("--quick", action="store_true", help="small counts (about 30 s)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    if args.scenario == "heaviest":
        print("finding the heaviest bundled scenario")
        path = heaviest_scenario()
    else:
        path = str(resolve_scenario_path(args.scenario))
    sc = load_scenario(path)
    layout = build_layout(sc)
    rounds, per_round = (3, 4) if args.quick else (7, 12)
    reps_speedup = 100 if args.quick else args.reps
    mem_small, mem_large = (20, 100) if args.quick else (200, 1000)
    print(
        f"scenario {sc.province} ({sc.start} to {sc.end}), {'quick' if args.quick else 'full'} run"
    )

    # 1-2. Engine against bare SimPy, interleaved rounds.
    engine_batch(sc, layout, 99, range(2))  # warm-up
    eng_per_event, bare_per_event, eng_rep_s, eng_ev_s, ev_per_rep = [], [], [], [], []
    for k in range(rounds):
        reps = range(k * per_round, (k + 1) * per_round)
        secs, events = engine_batch(sc, layout, 1, reps)
        eng_per_event.append(secs / events)
        eng_rep_s.append(per_round / secs)
        eng_ev_s.append(events / secs)
        ev_per_rep.append(events / per_round)
        bare = bare_simpy(events, n_procs=300, seed=k)
        bare_per_event.append(bare / ((events // 300) * 300))
    ratio = statistics.median(eng_per_event) / statistics.median(bare_per_event)
    figures: dict[str, float | int | bool | str] = {
        "scenario": sc.province,
        "events_per_replication": round(statistics.mean(ev_per_rep)),
        "replications_per_second_1_worker": round(statistics.median(eng_rep_s), 2),
        "events_per_second": round(statistics.median(eng_ev_s)),
        "engine_us_per_event": round(statistics.median(eng_per_event) * 1e6, 2),
        "bare_simpy_us_per_event": round(statistics.median(bare_per_event) * 1e6, 2),
        "cost_per_event_ratio": round(ratio, 2),
    }
    print(f"  events per replication           {figures['events_per_replication']}")
    print(f"  replications per second (1 worker) {figures['replications_per_second_1_worker']}")
    print(f"  events per second                {figures['events_per_second']}")
    print(
        f"  cost per event: engine {figures['engine_us_per_event']} us, bare SimPy "
        f"{figures['bare_simpy_us_per_event']} us, ratio {ratio:.2f}x   goal <= 3x: "
        f"{verdict(ratio <= 3)}"
    )

    # 3. Speed-up from 1 to 2 workers on the same replications, and identical results.
    # Rounds alternate 1 and 2 workers so that machine noise falls on both alike.
    n_rounds = 4
    chunk = max(1, reps_speedup // n_rounds)
    t_seq = t_par = 0.0
    round_ratios = []
    same = True
    for k in range(n_rounds):
        reps = range(k * chunk, (k + 1) * chunk)
        t0 = time.perf_counter()
        seq = {r.rep: r.target_value for r in SequentialRunner().results(sc, 7, reps)}
        dt_seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        par = {r.rep: r.target_value for r in ProcessPoolRunner(2).results(sc, 7, reps)}
        dt_par = time.perf_counter() - t0
        t_seq += dt_seq
        t_par += dt_par
        round_ratios.append(dt_seq / dt_par)
        same &= seq.keys() == par.keys() and all(
            np.array_equal(seq[r], par[r], equal_nan=True) for r in seq
        )
    n_done = chunk * n_rounds
    speedup = t_seq / t_par
    per_1000 = t_par / n_done * 1000
    figures.update(
        {
            "speedup_reps": n_done,
            "seconds_1_worker": round(t_seq, 1),
            "seconds_2_workers": round(t_par, 1),
            "speedup_1_to_2": round(speedup, 2),
            "speedup_rounds": [round(x, 2) for x in round_ratios],
            "seconds_per_1000_reps_2_workers": round(per_1000, 1),
            "identical_across_worker_counts": same,
        }
    )
    print(
        f"  {n_done} replications in {n_rounds} alternating rounds: 1 worker {t_seq:.1f} s, "
        f"2 workers {t_par:.1f} s, speed-up {speedup:.2f}x (rounds: "
        f"{', '.join(f'{x:.2f}' for x in round_ratios)})   goal >= 1.8x: "
        f"{verdict(speedup >= 1.8)}"
    )
    print(
        f"  1,000 replications with 2 workers: {per_1000:.1f} s   goal < 30 s: "
        f"{verdict(per_1000 < 30)}"
    )
    print(f"  same results on 1 and 2 workers: {'OK' if same else 'MISMATCH'}")

    # 4. Peak memory against the number of replications (fresh processes).
    small, large = peak_rss_kib(path, mem_small), peak_rss_kib(path, mem_large)
    growth = (large - small) / 1024
    figures.update(
        {
            "peak_rss_mib_small": round(small / 1024, 1),
            "reps_small": mem_small,
            "peak_rss_mib_large": round(large / 1024, 1),
            "reps_large": mem_large,
            "peak_rss_growth_mib": round(growth, 1),
        }
    )
    print(
        f"  peak memory: {small / 1024:.1f} MiB at {mem_small} replications, "
        f"{large / 1024:.1f} MiB at {mem_large}; growth {growth:.1f} MiB   goal: flat "
        f"(within 5 MiB): {verdict(abs(growth) <= 5)}"
    )
    print("RESULT " + json.dumps(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
