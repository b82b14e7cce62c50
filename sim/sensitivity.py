"""Global sensitivity of a target to the settings: Sobol indices or Morris screening (SALib).

Each sample point of SALib's design is a scenario; its output is P(target met) (or the mean of
the target's metric) over the same replications of the same seed, so that the differences
between points come from the settings, not from the random numbers (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.api import run_study
from sim.runner import Runner
from sim.scenario import Scenario, apply_overrides
from sim.sweep import DesignError, Param


@dataclass
class Sensitivity:
    """Indices for each parameter, ranked (most influential first)."""

    method: str
    target: str
    output: str
    indices: pd.DataFrame
    samples: pd.DataFrame  # the points run and their outputs


def analyse(
    base: Scenario,
    params: list[Param],
    target: str,
    method: str = "sobol",
    n: int = 16,
    reps: int = 50,
    seed: int = 2021,
    output: str = "p_met",
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    runner: Runner | None = None,
) -> Sensitivity:
    """Sobol (first-order and total indices with confidence intervals) or Morris (mu*, its
    interval, sigma) of P(``target`` met) (``output="p_met"``) or of the mean metric
    (``output="metric"``) over the ranges of ``params``."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    ids = [t.id for t in base.targets]
    if target not in ids:
        raise DesignError(f"no target {target!r} (targets: {', '.join(ids)})")
    if not params:
        raise DesignError("no parameter: give --param path=a:b")
    if method not in ("sobol", "morris"):
        raise DesignError(f"method {method!r}: sobol or morris")
    if output not in ("p_met", "metric"):
        raise DesignError(f"output {output!r}: p_met or metric")
    k = ids.index(target)
    problem = {
        "num_vars": len(params),
        "names": [p.path for p in params],
        "bounds": [[p.low, p.high] for p in params],
    }
    if method == "sobol":
        x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        x = morris_sample.sample(problem, n, num_levels=4, seed=seed)
    # Every sample point is checked before any runs, so that a bad range fails at once.
    scenarios = []
    for row, values in enumerate(x):
        overrides = {
            p.path: (round(float(v)) if p.integer else float(v))
            for p, v in zip(params, values, strict=True)
        }
        scenarios.append(apply_overrides(base, overrides, source=f"{method} sample {row}"))
    y = np.empty(len(x))
    for row, sc in enumerate(scenarios):
        study = run_study(sc, seed, reps, workers, runner=runner)
        arrays = study.collector.arrays
        if output == "p_met":
            y[row] = float(arrays["target_met"][study.collector.done, k].mean())
        else:
            y[row] = float(np.nanmean(arrays["target_value"][study.collector.done, k]))
        if progress is not None:
            progress(row + 1, len(x))
    names = [p.path for p in params]
    if np.ptp(y) == 0:
        what = f"P({target} met)" if output == "p_met" else f"the mean metric of {target}"
        raise DesignError(
            f"{what} is {y[0]:.3g} at every one of the {len(y)} sample points: nothing to "
            "attribute; widen the ranges, add replications, or use --output metric"
        )
    if method == "sobol":
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
        table = pd.DataFrame(
            {
                "parameter": names,
                "S1": si["S1"],
                "S1_conf": si["S1_conf"],
                "ST": si["ST"],
                "ST_conf": si["ST_conf"],
            }
        ).sort_values("ST", ascending=False)
    else:
        si = morris_analyze.analyze(problem, x, y, num_levels=4, seed=seed)
        table = pd.DataFrame(
            {
                "parameter": names,
                "mu_star": si["mu_star"],
                "mu_star_conf": si["mu_star_conf"],
                "sigma": si["sigma"],
            }
        ).sort_values("mu_star", ascending=False)
    samples = pd.DataFrame(x, columns=names)
    samples["output"] = y
    return Sensitivity(method, target, output, table.reset_index(drop=True), samples)
