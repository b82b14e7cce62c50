"""Run the merged bundled scenarios with and without the merger and write the README's table.

    .venv/bin/python scripts/merger_table.py [--reps 200] [--seed 2021] [--workers 2]
    .venv/bin/python scripts/merger_table.py --check   # does the table cover every target?

For each merged scenario (a ``merger`` block) the script runs the scenario and its
``no_merger`` variant on the same seeds (common random numbers) and tabulates, per target,
P(met) with the merger and without it (the first source province alone on its own path), the
paired difference with its 95% interval, and the merger's ledger on the date (averages). The
table goes between ``<!-- merger-table:start -->`` and ``<!-- merger-table:end -->`` of
README.md; everything else is left alone.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from targets_table import readme_section, write_readme_section  # noqa: E402

from sim.merger import LEDGER  # noqa: E402
from sim.results import proportion_interval  # noqa: E402
from sim.runner import make_runner, run_many  # noqa: E402
from sim.scenario import Scenario, bundled_scenarios_dir, load_scenario  # noqa: E402

START, END = "<!-- merger-table:start -->", "<!-- merger-table:end -->"


def merged_scenarios() -> list[Scenario]:
    out = []
    for path in sorted(bundled_scenarios_dir().glob("*.yaml")):
        sc = load_scenario(path)
        if sc.merger is not None and "no_merger" in sc.variants:
            out.append(sc)
    return out


def pct(x: float) -> str:
    return "–" if x is None or math.isnan(x) else f"{100 * x:.0f}%"


def table(reps: int, seed: int, workers: int) -> str:
    lines = [
        f"{reps} replications of each, seed {seed}, the same seeds with and without the merger "
        "(`python scripts/merger_table.py`). *No merger*: the first source province alone on "
        "its own plan to 2030, the merged province's targets read on its own blocks (– where "
        "it has none, e.g. no Party committee in Hà Giang's plan). Intervals: 95% Wilson for "
        "P(met), normal on the paired differences for the change.",
        "",
        "| province | target | by | goal | P(met) merged | 95% interval | P(met) no merger | "
        "merged − no merger | 95% interval |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ledgers = []
    for sc in merged_scenarios():
        alone = sc.variant("no_merger")
        runner = make_runner(workers)
        a = sorted(run_many(sc, seed, reps, runner), key=lambda r: r.rep)
        b = sorted(run_many(alone, seed, reps, make_runner(workers)), key=lambda r: r.rep)
        met_a = np.array([r.target_met for r in a], dtype=float)
        met_b = np.array([r.target_met for r in b], dtype=float)
        def_b = np.array([~np.isnan(r.target_value) for r in b]).any(axis=0)
        name = sc.name.en.split(" (")[0]
        for k, t in enumerate(sc.targets):
            lo, hi = proportion_interval(int(met_a[:, k].sum()), reps)
            goal = f"{t.op} {100 * t.value:.0f}%"
            if getattr(t, "baseline", None) is not None:
                goal = f"{t.op} {t.baseline.year} {100 * t.value:+.0f} pp"
            where = f" (on {t.source_province}, before the merger)" if t.pre_merger else ""
            if def_b[k]:
                d = met_a[:, k] - met_b[:, k]
                half = 1.959964 * d.std(ddof=1) / math.sqrt(reps) if reps > 1 else math.nan
                pb, diff = pct(met_b[:, k].mean()), f"{100 * d.mean():+.0f} pp"
                ci = f"{100 * (d.mean() - half):+.0f} to {100 * (d.mean() + half):+.0f} pp"
            else:
                pb, diff, ci = "–", "–", ""
            lines.append(
                f"| {name} | {t.id}{where} | {t.by} | {goal} | {pct(met_a[:, k].mean())} | "
                f"{pct(lo)}-{pct(hi)} | {pb} | {diff} | {ci} |"
            )
        led = np.mean([r.merger for r in a], axis=0)
        ledgers.append((name, dict(zip(LEDGER, led, strict=True))))
        print(f"{sc.province}: {len(sc.targets)} targets", file=sys.stderr)
    lines += [
        "",
        "The merger date in numbers (average of the replications): leaders (L1 and L2) handed "
        "over, posts above the merged norm cut, early retirements, the surplus moved to a free "
        "post, kept waiting, and the leaders in a post of the merged structure after the date.",
        "",
        "| province | leaders handed over | posts cut | early retirements | surplus moved "
        "| surplus waiting | in post after | waiting who left at the grace end |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, led in ledgers:
        lines.append(
            f"| {name} | {led['holders']:.0f} | {led['posts_cut']:.0f} | "
            f"{led['early_retired']:.0f} | {led['reassigned']:.0f} | {led['waiting']:.0f} | "
            f"{led['in_post']:.0f} | {led['grace_left']:.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="only check the README's table")
    args = ap.parse_args()
    inside = readme_section(START, END)
    if inside is None:
        return 1
    if args.check:
        missing = [
            t.id for sc in merged_scenarios() for t in sc.targets if f"| {t.id}" not in inside
        ]
        if missing:
            print("targets missing from the merger table: " + ", ".join(missing), file=sys.stderr)
            return 1
        print("the README's merger table lists every target of every merged scenario")
        return 0
    write_readme_section(START, END, table(args.reps, args.seed, args.workers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
