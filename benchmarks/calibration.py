"""Business as usual against seed 001's 2016-2020 figures (Quảng Bình): fitted vs held out.

Seed 001 reports 245 appointments or nominations to L1 posts in 2016-2020, 10.7% of them women
and 8.2% under 40, and an early-2021 stock of 13.3% women and 2.4% under 40. This script runs
the ``bau`` variant (the rules of 2016-2020: merit selection, no appointment share, none of the
scheme's new rules) from the 2021 stock and prints the same figures for the first five
simulated years, with their Monte Carlo spread. Each row says whether the figure was used by
``scripts/calibrate.py`` to fit a parameter (``fitted``: agreement is by construction, up to the
difference between this forward run and the fit's back-cast from 2016) or is a prediction
(``held out``). The end-of-year-1 stock rows are the fit facts read one year later.

    python benchmarks/calibration.py [--reps 200] [--workers 2] [--seed 2016]
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

from sim.results import Collector  # noqa: E402
from sim.runner import make_runner, run_many  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

L1 = 2
#: How each figure is used by scripts/calibrate.py.
ROLE = {
    "appointments_5y": "fitted",
    "women_share": "held out",
    "young_share": "held out",
    "stock_women_2021": "fitted",
    "stock_young_2021": "fitted",
}
SEED_FIGURES = {
    "appointments_5y": 245,
    "women_share": 0.107,
    "young_share": 0.082,
    "stock_women_2021": 0.133,
    "stock_young_2021": 0.024,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "quang_binh.yaml"))
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2016)
    args = ap.parse_args()

    sc = load_scenario(args.scenario).variant("bau")
    t0 = time.perf_counter()
    c = Collector(sc, args.reps, keep=("appointments", "headcount")).extend(
        run_many(sc, args.seed, args.reps, make_runner(args.workers))
    )
    elapsed = time.perf_counter() - t0
    ap_l1 = c.arrays["appointments"][:, :5, L1]  # first five years
    total = ap_l1[:, :, 0].sum(axis=1)
    women = ap_l1[:, :, 1].sum() / ap_l1[:, :, 0].sum()
    young = ap_l1[:, :, 2].sum() / ap_l1[:, :, 0].sum()
    hc = c.arrays["headcount"][:, 0, L1]  # end of the first year
    figures = {
        "appointments_5y_mean": float(total.mean()),
        "appointments_5y_p5": float(np.quantile(total, 0.05)),
        "appointments_5y_p95": float(np.quantile(total, 0.95)),
        "women_share": float(women),
        "young_share": float(young),
        "stock_women_end_year1": float(hc[:, 1].sum() / hc[:, 0].sum()),
        "stock_young_end_year1": float(hc[:, 2].sum() / hc[:, 0].sum()),
        "reps": args.reps,
        "seed": args.seed,
        "seconds": round(elapsed, 1),
    }
    print(
        f"Business as usual ({sc.province}, variant bau), {args.reps} replications, "
        f"seed {args.seed}, {elapsed:.1f} s"
    )
    rows = [
        (
            "appointments_5y",
            "L1 appointments in 5 years",
            f"{figures['appointments_5y_mean']:.0f} (5-95%: {figures['appointments_5y_p5']:.0f}-"
            f"{figures['appointments_5y_p95']:.0f})",
            "245 (2016-2020)",
        ),
        ("women_share", "share to women", f"{100 * women:.1f}%", "10.7% (2016-2020)"),
        ("young_share", "share to under-40s", f"{100 * young:.1f}%", "8.2% (2016-2020)"),
        (
            "stock_women_2021",
            "L1 stock women, end of year 1",
            f"{100 * figures['stock_women_end_year1']:.1f}%",
            "13.3% (early 2021)",
        ),
        (
            "stock_young_2021",
            "L1 stock under 40, end of year 1",
            f"{100 * figures['stock_young_end_year1']:.1f}%",
            "2.4% (early 2021)",
        ),
    ]
    for key, name, model, seed in rows:
        print(f"  [{ROLE[key]:>8}] {name:<33} {model:<22} seed 001: {seed}")
    print(
        "  fitted: used by scripts/calibrate.py to choose a parameter (on its back-cast from "
        "2016);\n  held out: never used to choose a value, so the model's figure is a prediction."
    )
    figures["roles"] = ROLE
    print("RESULT " + json.dumps(figures))


if __name__ == "__main__":
    main()
