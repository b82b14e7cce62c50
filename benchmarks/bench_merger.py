"""A merged province's cost per replication against its larger source province, in one run.

    python benchmarks/bench_merger.py [--rounds 5] [--reps 4] [--json FILE]

Goal (issue 16): a merged province is about twice as large, and its cost per replication
stays within 2.2 times that of the larger source province. In interleaved rounds the script
times ``--reps`` replications (the same indices) of each merged bundled scenario, of each of
its source provinces run alone over the whole horizon, and of the merged scenario's
``no_merger`` variant; and, to tell the merger's cost from the engine's growth with size,
Quảng Bình merged with itself side by side (``sim.merging.doubled``: nothing joined or cut)
against Quảng Bình and against the same doubled province without a merger. It prints
medians per replication, the ratios, and where a merged replication spends its time (the
sources to the merger date, the merged province after it). It reports and does not assert.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import merger, merging  # noqa: E402
from sim.params import compile_params  # noqa: E402
from sim.runner import run_replication  # noqa: E402
from sim.scenario import Scenario, load_scenario, resolve_scenario_path  # noqa: E402

MERGED = ("quang_tri_2025", "tuyen_quang_2025")


def per_rep(sc: Scenario, reps: int, seed: int = 7) -> tuple[float, float]:
    """CPU seconds per replication (this process's: less sensitive than the wall clock to
    other work on a shared machine), and events per replication."""
    prm = compile_params(sc)
    t = time.process_time()
    events = 0
    for r in range(reps):
        events += run_replication(sc, seed, r, params=prm).n_events
    return (time.process_time() - t) / reps, events / reps


def phases(sc: Scenario, reps: int, seed: int = 7) -> dict[str, float]:
    """Where a merged replication's time goes: the sources to the date, the merged province."""
    from sim.model import Model

    plan = merger.compile_plan(sc)
    assert plan.union is not None and plan.phase is not None
    out = {"sources": 0.0, "hand-off": 0.0, "merged": 0.0}
    for r in range(reps):
        t0 = time.perf_counter()
        parts = []
        for s, (src, prm) in enumerate(zip(plan.sources, plan.source_params, strict=True)):
            m = Model(src, seed, r, params=prm, branch=s)
            m.begin()
            m.advance(plan.when)
            parts.append((m, s))
        t1 = time.perf_counter()
        exported = [
            merger.export(
                m,
                plan.when,
                plan.union.post_map[s],
                plan.union.unit_map[s],
                plan.union.layout.post_unit,
            )
            for m, s in parts
        ]
        handoff = merger.join(exported, plan.when, plan, {})
        t2 = time.perf_counter()
        phase = Model(
            plan.phase,
            seed,
            r,
            params=plan.phase_params,
            branch=merger.MERGED_BRANCH,
            handoff=handoff,
        )
        phase.run()
        t3 = time.perf_counter()
        out["sources"] += (t1 - t0) / reps
        out["hand-off"] += (t2 - t1) / reps
        out["merged"] += (t3 - t2) / reps
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=4, help="replications timed per case and round")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    cases: dict[str, Scenario] = {}
    for name in MERGED:
        sc = load_scenario(resolve_scenario_path(name))
        cases[name] = sc
        cases[f"{name}/no_merger"] = sc.variant("no_merger")
        for spec, src in zip(sc.merger.sources, sc.merger_sources, strict=True):  # type: ignore[union-attr]
            cases[f"{name}<{spec.id}"] = src
    # The merger's own overhead: Quảng Bình merged with itself, side by side (nothing joined or
    # cut: a province of exactly twice the size), against Quảng Bình.
    qb = load_scenario(resolve_scenario_path("quang_binh"))
    cases["quang_binh_twice"] = merging.doubled(qb)
    cases["quang_binh_twice<quang_binh"] = qb
    cases["quang_binh_doubled (no merger)"] = merging.doubled(qb, merged=False)
    for sc in cases.values():  # warm: compile, caches, first-call costs
        per_rep(sc, 1)
    times: dict[str, list[float]] = {k: [] for k in cases}
    events: dict[str, float] = {}
    for _ in range(args.rounds):
        for key, sc in cases.items():
            sec, ev = per_rep(sc, args.reps)
            times[key].append(sec)
            events[key] = ev
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"CPU seconds per replication (median of {args.rounds} rounds of {args.reps}):")
    for key in cases:
        print(f"  {key:42s} {med[key]:7.3f} s  ({events[key]:,.0f} events)")
    report: dict[str, Any] = {"median_seconds": med, "events": events, "ratios": {}}
    for name in (*MERGED, "quang_binh_twice"):
        sc = cases[name]
        sources = sorted({f"{name}<{src.province}" for src in sc.merger_sources} & set(cases))
        sources = sources or [f"{name}<quang_binh"]  # the doubled province's one source
        larger = max(sources, key=lambda k: med[k])
        ratio = med[name] / med[larger]
        report["ratios"][name] = ratio
        verdict = "within" if ratio <= 2.2 else "ABOVE"
        print(
            f"{name}: {med[name]:.3f} s a replication = {ratio:.2f} x the larger source "
            f"({larger.split('<')[1]}, {med[larger]:.3f} s): {verdict} the 2.2x goal"
        )
        split = phases(sc, min(args.reps, 2))
        report.setdefault("phases", {})[name] = split
        print(
            "  of which: " + ", ".join(f"{k} {v:.3f} s" for k, v in split.items()) + " (one pass)"
        )
    plain = med["quang_binh_doubled (no merger)"]
    own = med["quang_binh_twice"] / plain
    report["merger_overhead"] = own
    print(
        f"a province of twice Quảng Bình's size without a merger: {plain:.3f} s = "
        f"{plain / med['quang_binh_twice<quang_binh']:.2f} x Quảng Bình (the engine's own "
        f"growth with size); merged with itself: {own:.2f} x that (the merger's own overhead)"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
