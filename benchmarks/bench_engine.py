"""Engine speed against fixed units measured in the same run: the goals of the engine's redesign.

    python benchmarks/bench_engine.py [--rounds 7] [--quick] [--json FILE]

The unit is a bare SimPy model processing 5,465 events (the event count of a Quảng Bình
replication before the redesign: a fixed amount of work, so that removing useless events
counts as a gain). In interleaved rounds the script times:

- one replication of Quảng Bình (goal: at most 4x the unit);
- one replication of Hà Nội, the heaviest bundled scenario (goal: at most 10x the unit);
- one replication of Quảng Bình with four times the units and posts (goal: at most 4.4x the
  cost of Quảng Bình's);
- the floor: a compiled minimal vacancy chain with Quảng Bình's posts
  (``benchmarks/floor_chain.py``);
- the floor under SimPy: the same chain with every event a SimPy event that makes one
  compiled call (``benchmarks/floor_simpy.py``): the least an event can cost while SimPy
  schedules the model;
- building Quảng Bình's model (population and draws) without running it.

From these it prints what the 4x goal leaves for the model's own decisions once Quảng Bình's
events have paid the floor under SimPy and its model has been built.

A replication's time includes building its model (population, draws) and reducing its result.
Medians over rounds are reported; the script reports and does not assert.
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
sys.path.insert(0, str(ROOT / "benchmarks"))

import floor_chain  # noqa: E402
import floor_simpy  # noqa: E402
from bench_core import bare_simpy  # noqa: E402

from sim.model import Model  # noqa: E402
from sim.params import Params, compile_params  # noqa: E402
from sim.scenario import Scenario, load_scenario, resolve_scenario_path  # noqa: E402

UNIT_EVENTS = 5465


def scaled(sc: Scenario, k: int) -> Scenario:
    """``sc`` with ``k`` times the units, heads, deputies and managed posts of every block."""
    d = sc.model_dump(mode="python")
    st = d["structure"]
    st["l1_total"] *= k
    for b in st["blocks"]:
        for key in ("units", "heads", "deputies"):
            b[key] *= k
        if isinstance(b.get("women_staff_share"), list):
            b["women_staff_share"] = b["women_staff_share"] * k
    return Scenario.model_validate(d)


def time_reps(sc: Scenario, prm: Params, reps: range) -> tuple[float, float]:
    """Seconds a replication and events a replication, over ``reps``."""
    t0 = time.perf_counter()
    events = 0
    for r in reps:
        events += Model(sc, 1, r, params=prm).run().n_events
    return (time.perf_counter() - t0) / len(reps), events / len(reps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="3 rounds, fewer replications")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    rounds = 3 if args.quick else args.rounds
    per = {
        "qb": 2 if args.quick else 6,
        "hn": 1 if args.quick else 2,
        "qb4": 1 if args.quick else 2,
    }
    qb = load_scenario(resolve_scenario_path("quang_binh"))
    hn = load_scenario(resolve_scenario_path("ha_noi"))
    qb4 = scaled(qb, 4)
    cases = {"qb": (qb, compile_params(qb)), "hn": (hn, compile_params(hn))}
    cases["qb4"] = (qb4, compile_params(qb4))
    post_rank, n_pool, years = floor_chain.quang_binh_posts()
    # Warm-up: compiled kernels loaded, caches filled.
    for sc, prm in cases.values():
        Model(sc, 1, 999, params=prm).run()
    floor_chain.chain(post_rank, n_pool, years, 0)
    floor_simpy.replication(post_rank, n_pool, years, 0)
    kinds = ("unit", "qb", "hn", "qb4", "floor", "floor_simpy", "qb_build")
    samples: dict[str, list[float]] = {k: [] for k in kinds}
    events: dict[str, list[float]] = {k: [] for k in ("qb", "hn", "qb4", "floor", "floor_simpy")}
    for k in range(rounds):
        done = (UNIT_EVENTS // 300) * 300  # events the bare model processes
        samples["unit"].append(bare_simpy(UNIT_EVENTS, n_procs=300, seed=k) * UNIT_EVENTS / done)
        for name, (sc, prm) in cases.items():
            n = per[name]
            secs, ev = time_reps(sc, prm, range(k * n, (k + 1) * n))
            samples[name].append(secs)
            events[name].append(ev)
        t0 = time.perf_counter()
        ev_floor = sum(
            floor_chain.chain(post_rank, n_pool, years, 10 + k * 5 + j)[0] for j in range(5)
        )
        samples["floor"].append((time.perf_counter() - t0) / 5)
        events["floor"].append(ev_floor / 5)
        t0 = time.perf_counter()
        ev_floor = sum(
            floor_simpy.replication(post_rank, n_pool, years, 10 + k * 5 + j) for j in range(5)
        )
        samples["floor_simpy"].append((time.perf_counter() - t0) / 5)
        events["floor_simpy"].append(ev_floor / 5)
        qb, qb_prm = cases["qb"]
        t0 = time.perf_counter()
        for j in range(5):
            Model(qb, 1, 500 + k * 5 + j, params=qb_prm)
        samples["qb_build"].append((time.perf_counter() - t0) / 5)
    med = {k: statistics.median(v) for k, v in samples.items()}
    unit = med["unit"]
    figures: dict[str, Any] = {
        "unit_events": UNIT_EVENTS,
        "unit_ms": round(unit * 1e3, 2),
        "rounds": rounds,
    }
    print(f"unit: bare SimPy, {UNIT_EVENTS:,} events: {unit * 1e3:.2f} ms (median of {rounds})")
    goals = {"qb": 4.0, "hn": 10.0}
    labels = {
        "qb": "Quang Binh",
        "hn": "Ha Noi (heaviest)",
        "qb4": "Quang Binh x4 posts",
        "floor": "floor: compiled minimal chain",
        "floor_simpy": "floor under SimPy",
    }
    for name in ("qb", "hn", "qb4", "floor", "floor_simpy"):
        ratio = med[name] / unit
        ev = statistics.mean(events[name])
        figures[f"{name}_ms_per_rep"] = round(med[name] * 1e3, 2)
        figures[f"{name}_events_per_rep"] = round(ev)
        figures[f"{name}_x_unit"] = round(ratio, 2)
        line = (
            f"{labels[name]:32s} {med[name] * 1e3:8.2f} ms a replication, {ev:8,.0f} events, "
            f"{ratio:6.2f}x the unit"
        )
        if name in goals:
            ok = ratio <= goals[name]
            line += f"   goal <= {goals[name]:g}x: {'PASS' if ok else 'MISS'}"
        print(line)
    scale = med["qb4"] / med["qb"]
    figures["population_x4_cost_ratio"] = round(scale, 2)
    print(
        f"four times the population costs {scale:.2f}x a replication   goal <= 4.4x: "
        f"{'PASS' if scale <= 4.4 else 'MISS'}"
    )
    figures["engine_over_floor"] = round(med["qb"] / med["floor"], 1)
    print(f"Quang Binh against the floor: {med['qb'] / med['floor']:.1f}x")
    # What the 4x goal leaves: Quang Binh's events at the floor's cost under SimPy, plus
    # building the model, against 4 units.
    per_event = med["floor_simpy"] / statistics.mean(events["floor_simpy"])
    qb_events = statistics.mean(events["qb"])
    least = qb_events * per_event
    build = med["qb_build"]
    figures["unit_us_per_event"] = round(unit / UNIT_EVENTS * 1e6, 2)
    figures["floor_simpy_us_per_event"] = round(per_event * 1e6, 2)
    figures["qb_events_at_simpy_floor_x_unit"] = round(least / unit, 2)
    figures["qb_build_ms"] = round(build * 1e3, 2)
    figures["qb_build_x_unit"] = round(build / unit, 2)
    left = 4.0 - (least + build) / unit
    figures["qb_4x_left_for_decisions_x_unit"] = round(left, 2)
    print(
        f"an event: {unit / UNIT_EVENTS * 1e6:.2f} us in the unit, {per_event * 1e6:.2f} us "
        f"at the floor under SimPy (one compiled call an event)"
    )
    print(
        f"Quang Binh's {qb_events:,.0f} events at that floor: {least / unit:.2f}x the unit; "
        f"building its model: {build * 1e3:.2f} ms = {build / unit:.2f}x; the 4x goal leaves "
        f"{left:.2f}x for every decision, log, mechanism and yearly step"
    )
    print("RESULT " + json.dumps(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
