"""Parameter sweeps: a full grid or a Latin hypercube over any scenario setting.

Every point runs the same replications of the same master seed, so points share their random
numbers wherever their histories coincide (common random numbers) and differences between
points are not drowned in noise. The result is one tidy table (a row per point and target)
and the per-replication rows behind it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.results import Collector
from sim.runner import Runner, SequentialRunner
from sim.scenario import Scenario, ScenarioError, apply_overrides
from sim.store import ResultStore


class DesignError(ValueError):
    """A sweep design that cannot be used (the message names the parameter)."""


@dataclass(frozen=True)
class Param:
    """A swept setting: its dotted path and either grid values or a range for sampling."""

    path: str
    values: tuple[float, ...] = ()  # grid
    low: float = math.nan  # range (Latin hypercube)
    high: float = math.nan
    integer: bool = False
    #: Text values of a setting that takes one of a few words (e.g. a quota reading, or
    #: ``true``/``false``); used by exploratory designs (:mod:`sim.explore`), not by the grids
    #: and Latin hypercubes here.
    choices: tuple[str, ...] = ()


def _number(text: str, spec: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DesignError(f"{spec}: {text!r} is not a number") from None


def parse_grid(spec: str) -> Param:
    """``path=a:b:step`` (inclusive) or ``path=v1,v2,...``."""
    path, sep, rhs = spec.partition("=")
    if not sep or not path or not rhs:
        raise DesignError(f"{spec}: expected path=a:b:step or path=v1,v2,...")
    integer = all(
        p.strip().lstrip("-").isdigit() for p in rhs.replace(":", ",").split(",") if p.strip()
    )
    if ":" in rhs:
        parts = rhs.split(":")
        if len(parts) != 3:
            raise DesignError(f"{spec}: a grid range is a:b:step")
        a, b, step = (_number(p, spec) for p in parts)
        if step <= 0 or b < a:
            raise DesignError(f"{spec}: needs a <= b and a positive step")
        n = math.floor((b - a) / step + 1e-9) + 1
        if n > 10_000:
            raise DesignError(f"{spec}: {n} values is too many for a grid")
        values = tuple(round(a + k * step, 12) for k in range(n))
    else:
        values = tuple(_number(p, spec) for p in rhs.split(",") if p.strip())
        if not values:
            raise DesignError(f"{spec}: no values")
    return Param(path.strip(), values=values, integer=integer)


def parse_range(spec: str) -> Param:
    """``path=a:b`` for Latin-hypercube sampling."""
    path, sep, rhs = spec.partition("=")
    parts = rhs.split(":")
    if not sep or not path or len(parts) != 2:
        raise DesignError(f"{spec}: expected path=a:b")
    a, b = (_number(p, spec) for p in parts)
    if not b > a:
        raise DesignError(f"{spec}: needs a < b")
    integer = all(p.strip().lstrip("-").isdigit() for p in parts)
    return Param(path.strip(), low=a, high=b, integer=integer)


def grid_design(params: list[Param]) -> pd.DataFrame:
    """Every combination of the grid values, one row a point."""
    if not params:
        raise DesignError("no parameter to sweep")
    mesh = np.meshgrid(*[np.array(p.values, dtype=float) for p in params], indexing="ij")
    data = {p.path: m.reshape(-1) for p, m in zip(params, mesh, strict=True)}
    return _typed(pd.DataFrame(data), params)


def lhs_design(params: list[Param], n: int, seed: int) -> pd.DataFrame:
    """``n`` points of a Latin hypercube over the ranges (scipy.stats.qmc), reproducible by
    ``seed``."""
    if not params:
        raise DesignError("no parameter to sample")
    if n < 1:
        raise DesignError("--n must be at least 1")
    sampler = qmc.LatinHypercube(d=len(params), seed=np.random.default_rng(seed))
    u = sampler.random(n)
    low = np.array([p.low for p in params])
    high = np.array([p.high for p in params])
    x = qmc.scale(u, low, high)
    return _typed(pd.DataFrame(x, columns=[p.path for p in params]), params)


def _typed(design: pd.DataFrame, params: list[Param]) -> pd.DataFrame:
    for p in params:
        if p.integer:
            design[p.path] = np.round(design[p.path]).astype(np.int64)
    design.insert(0, "point", np.arange(len(design), dtype=np.int64))
    return design


def point_scenario(base: Scenario, row: pd.Series, params: list[str]) -> Scenario:
    """The scenario of one design point (a new validated scenario)."""
    overrides = {p: (row[p].item() if hasattr(row[p], "item") else row[p]) for p in params}
    return apply_overrides(base, overrides, source="sweep")


def check_design(base: Scenario, design: pd.DataFrame) -> None:
    """Validate every point before running any, so that a bad value fails at once."""
    params = [c for c in design.columns if c != "point"]
    problems = []
    for _, row in design.iterrows():
        try:
            point_scenario(base, row, params)
        except ScenarioError as exc:
            values = ", ".join(f"{p}={row[p]}" for p in params)
            problems.append(f"point {int(row['point'])} ({values}): {exc}")
    if problems:
        shown = problems[:10]
        more = f"\n... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise DesignError("\n".join(shown) + more)


@dataclass
class SweepResult:
    points: pd.DataFrame  # one row a point and target
    replications: pd.DataFrame  # one row a point, replication and target
    #: P(every target of a deadline met in the same replication): one row a point and deadline
    #: (the columns of :attr:`sim.results.Summary.joint` after ``point``).
    joint: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Mean yearly flows (:attr:`sim.results.Summary.flows`): one row a point, year and tier.
    flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Mean yearly costs (:attr:`sim.results.Summary.costs`): one row a point and year.
    costs: pd.DataFrame = field(default_factory=pd.DataFrame)


def run_sweep(
    base: Scenario,
    design: pd.DataFrame,
    seed: int,
    reps: int,
    runner: Runner | None = None,
    progress: Callable[[int], None] | None = None,
    store: ResultStore | None = None,
) -> SweepResult:
    """Run ``reps`` replications of every design point (same seed: common random numbers).

    With a ``store``, each replication is streamed to it as it finishes, and the replications
    it already holds (an interrupted sweep being resumed) are read back instead of run again.
    ``progress(k)`` is called as ``k`` more replications are done (stored ones included).
    Besides P(met) per point and target, the result holds per point the joint P of each
    deadline's targets and the mean yearly flows and costs (:class:`SweepResult`).
    """
    check_design(base, design)
    params = [c for c in design.columns if c != "point"]
    runner = runner or SequentialRunner()
    point_rows, rep_frames = [], []
    tables: dict[str, list[pd.DataFrame]] = {"joint": [], "flows": [], "costs": []}
    for _, row in design.iterrows():
        point = int(row["point"])
        sc = point_scenario(base, row, params)
        collector = Collector(sc, reps)
        if store is not None:
            for res in store.load(point, reps=set(range(reps))):
                collector.add(res)
            if progress is not None and len(collector.done):
                progress(len(collector.done))
        have = set(collector.done.tolist())
        missing = [r for r in range(reps) if r not in have]
        for res in runner.results(sc, seed, missing):
            collector.add(res)
            if store is not None:
                store.add(res, point)
            if progress is not None:
                progress(1)
        if store is not None:
            store.flush()  # a finished point is on disk before the next one starts
        summary = collector.summary()
        values = {p: row[p] for p in params}
        t = summary.targets
        t = t[t["status"] == "modelled"]
        for r in t.itertuples():
            point_rows.append(
                {
                    "point": point,
                    **values,
                    "target": r.target,
                    "by": r.by,
                    "p_met": r.p_met,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "metric_median": r.metric_median,
                    "metric_p5": r.metric_p5,
                    "metric_p95": r.metric_p95,
                }
            )
        reps_df = summary.replications.copy()
        reps_df.insert(0, "point", point)
        rep_frames.append(reps_df)
        for name, frame in (
            ("joint", summary.joint),
            ("flows", summary.flows),
            ("costs", summary.costs),
        ):
            if len(frame):
                tables[name].append(frame.assign(point=point)[["point", *frame.columns]])
    stacked = {
        k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in tables.items()
    }
    return SweepResult(
        pd.DataFrame(point_rows),
        pd.concat(rep_frames, ignore_index=True),
        joint=stacked["joint"],
        flows=stacked["flows"],
        costs=stacked["costs"],
    )
