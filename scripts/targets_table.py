"""Run every bundled scenario and write the README's table of targets and P(met).

    .venv/bin/python scripts/targets_table.py [--reps 200] [--seed 2021] [--workers 2]
    .venv/bin/python scripts/targets_table.py --check   # is the README's table complete?

The table goes between the markers ``<!-- targets-table:start -->`` and
``<!-- targets-table:end -->`` of README.md; everything else is left alone.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.results import Collector  # noqa: E402
from sim.runner import make_runner, run_many  # noqa: E402
from sim.scenario import bundled_scenarios_dir, load_scenario  # noqa: E402

START, END = "<!-- targets-table:start -->", "<!-- targets-table:end -->"


def pct(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def goal(row) -> str:  # type: ignore[no-untyped-def]
    if row.baseline_reading != "absolute":
        unit = "pp" if row.baseline_reading == "points" else "relative"
        text = f"{row.op} {int(row.baseline_year)} {100 * row.value:+.0f} {unit}"
    else:
        text = f"{row.op} {100 * row.value:.0f}%"
    if not (isinstance(row.upper, float) and math.isnan(row.upper)):
        text += f" (upper end {100 * row.upper:.0f}%)"
    return text


def table(reps: int, seed: int, workers: int) -> str:
    lines = [
        f"P(met) under each scenario's default policy: {reps} replications, seed {seed} "
        "(`python scripts/targets_table.py`). Intervals are 95% Wilson intervals.",
        "",
        "| province | target | by | goal | P(met) | 95% interval | median metric |",
        "|---|---|---|---|---|---|---|",
    ]
    for path in sorted(bundled_scenarios_dir().glob("*.yaml")):
        sc = load_scenario(path)
        c = Collector(sc, reps).extend(run_many(sc, seed, reps, make_runner(workers)))
        s = c.summary().targets
        for r in s.itertuples():
            if r.status != "modelled":
                reason = r.status.removeprefix("not modelled: ").replace("|", "/")
                reason = reason.split(". ")[0].rstrip(".") + "."  # the first sentence
                lines.append(
                    f"| {sc.name.en.split(':')[0]} | {r.target} | | | not modelled: {reason} | | |"
                )
                continue
            p = pct(r.p_met)
            if not math.isnan(r.p_upper_met):
                p += f" (upper end {pct(r.p_upper_met)})"
            lines.append(
                f"| {sc.name.en.split(':')[0]} | {r.target} | {int(r.by)} | {goal(r)} | {p} | "
                f"{pct(r.ci_low)}-{pct(r.ci_high)} | {pct(r.metric_median)} |"
            )
        print(f"{path.stem}: {len(s)} targets", file=sys.stderr)
    return "\n".join(lines)


def readme_section(start: str, end: str) -> str | None:
    """The README's text between the markers ``start`` and ``end`` (None without them)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    if start not in text or end not in text:
        print(f"README.md has no {start} ... {end} section", file=sys.stderr)
        return None
    return text.split(start)[1].split(end)[0]


def write_readme_section(start: str, end: str, new: str) -> None:
    """Put ``new`` between the README's markers ``start`` and ``end``, the rest left alone."""
    readme = ROOT / "README.md"
    head, rest = readme.read_text(encoding="utf-8").split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{new}\n{end}{tail}", encoding="utf-8")
    print("README.md updated", file=sys.stderr)


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
        missing = []
        for path in sorted(bundled_scenarios_dir().glob("*.yaml")):
            sc = load_scenario(path)
            ids = [t.id for t in sc.targets] + [n.id for n in sc.not_modelled]
            missing += [i for i in ids if f"| {i} |" not in inside]
        if missing:
            print("targets missing from the README table: " + ", ".join(missing), file=sys.stderr)
            return 1
        print("the README table lists every target of every bundled scenario")
        return 0
    write_readme_section(START, END, table(args.reps, args.seed, args.workers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
