"""Global sensitivity of a target to the settings: Sobol indices or Morris screening (SALib).

Each sample point of SALib's design is a scenario; its output is P(target met) (or the mean of
the target's metric) over the same replications of the same seed, so that the differences
between points come from the settings, not from the random numbers (common random numbers).
The sample runs as a sweep (:func:`sim.sweep.run_sweep`), so it can stream its replications to
a store and resume after an interruption.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.runner import Runner, make_runner
from sim.scenario import Scenario
from sim.store import ResultStore
from sim.sweep import DesignError, Param, run_sweep


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
    store: ResultStore | None = None,
) -> Sensitivity:
    """Sobol (first-order and total indices with confidence intervals) or Morris (mu*, its
    interval, sigma) of P(``target`` met) (``output="p_met"``) or of the mean metric
    (``output="metric"``) over the ranges of ``params``.

    ``progress(points_done, points)`` after each sample point; ``runner`` replaces the local
    one ``workers`` would choose; with a ``store`` the replications are streamed to it and
    the ones it holds are read back instead of run (see :mod:`sim.store`).

    Raises:
        DesignError: an unknown target or method, no parameter or one given twice, a sample
            point invalid for its setting (every point is checked before any runs), or an
            output that is the same at every point.
    """
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
    twice = sorted({p.path for p in params if [q.path for q in params].count(p.path) > 1})
    if twice:
        raise DesignError(f"{', '.join(twice)}: given more than once")
    problem = {
        "num_vars": len(params),
        "names": [p.path for p in params],
        "bounds": [[p.low, p.high] for p in params],
    }
    if method == "sobol":
        x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        x = morris_sample.sample(problem, n, num_levels=4, seed=seed)
    names = [p.path for p in params]
    # The sample as a sweep design (integer settings rounded): every point is checked before
    # any runs, replications can be streamed to a store, and a stored one is not run again.
    design = pd.DataFrame(x, columns=names)
    for p in params:
        if p.integer:
            design[p.path] = np.round(design[p.path]).astype(np.int64)
    design.insert(0, "point", np.arange(len(design), dtype=np.int64))
    done = 0

    def tick(k: int) -> None:
        nonlocal done
        before, done = done // reps, done + k
        if progress is not None and done // reps > before:
            progress(done // reps, len(x))

    if runner is None:
        runner = make_runner(workers if reps >= 2 * workers else 1)
    swept = run_sweep(base, design, seed, reps, runner, progress=tick, store=store)
    rows = swept.replications[swept.replications["target"] == target]
    column = "met" if output == "p_met" else "value"
    y = rows.groupby("point")[column].mean().reindex(design["point"]).to_numpy(dtype=float)
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
