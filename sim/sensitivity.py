"""Global sensitivity of a target to the settings, with SALib: Sobol indices, Morris screening,
FAST (extended Fourier amplitude sensitivity test), Borgonovo's delta and PAWN, each reported
with a convergence check.

Each sample point of SALib's design is a scenario; its output is P(target met) (or the mean of
the target's metric) over the same replications of the same seed, so that the differences
between points come from the settings, not from the random numbers (common random numbers).
The sample runs as a sweep (:func:`sim.sweep.run_sweep`), so it can stream its replications to
a store and resume after an interruption.

The indices are computed from the sample and its outputs by :func:`analyse_outputs`, which
does not depend on the simulator: :func:`analyse_function` runs the same analysis on any
function ``y = f(X)`` (a test function with known indices, for instance).

Convergence. After the indices, the method's main index (Sobol and FAST: ST; Morris: mu*;
delta: delta; PAWN: the median KS statistic) is computed again on growing subsamples of the
points actually run: 25%, 50%, 75% and 100% of the sample, counted in whole units of the
design (Sobol: the first k base samples, i.e. the first k*(D+2) rows as SALib lays them out;
Morris: the first k trajectories; delta and PAWN: the first k points of the Latin hypercube,
a random subset since its rows are in random order). Subsamples smaller than the method's
minimum are left out. A parameter has converged when its index at the last two subsamples
agrees within a tolerance (0.05 by default; for Morris, 0.05 of the largest mu*) and its rank
is stable (no other parameter overtakes it or falls behind it by more than the tolerance).
FAST cannot be subsampled (its search curves are periodic in the number of points): its check
is SALib's bootstrap half-width of ST, which SALib itself calls indicative only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.runner import Runner, make_runner
from sim.scenario import Scenario
from sim.store import ResultStore
from sim.sweep import DesignError, Param, run_sweep

#: The methods, in the order they are offered.
METHODS = ("sobol", "morris", "fast", "delta", "pawn")
#: The index each method ranks by (and whose convergence is checked).
MAIN_INDEX = {"sobol": "ST", "morris": "mu_star", "fast": "ST", "delta": "delta", "pawn": "median"}
#: The confidence half-width of the main index (PAWN has none).
MAIN_CONF: dict[str, str | None] = {
    "sobol": "ST_conf",
    "morris": "mu_star_conf",
    "fast": "ST_conf",
    "delta": "delta_conf",
    "pawn": None,
}
#: The columns of each method's indices table, in order.
COLUMNS = {
    "sobol": ("parameter", "S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("parameter", "mu_star", "mu_star_conf", "sigma"),
    "fast": ("parameter", "S1", "S1_conf", "ST", "ST_conf"),
    "delta": ("parameter", "delta", "delta_conf", "S1", "S1_conf"),
    "pawn": ("parameter", "minimum", "mean", "median", "maximum", "CV"),
}
#: What ``n`` counts, for each method.
UNITS = {
    "sobol": "base samples",
    "morris": "trajectories",
    "fast": "points per parameter",
    "delta": "points",
    "pawn": "points",
}
#: ``n`` when none is given: Sobol 16 base samples (16*(D+2) points), Morris 16 trajectories
#: (16*(D+1) points), FAST 65 points per parameter (its minimum with M=4; 65*D points), delta
#: and PAWN 64 points of a Latin hypercube.
DEFAULT_N = {"sobol": 16, "morris": 16, "fast": 65, "delta": 64, "pawn": 64}
#: FAST's interference factor (harmonics summed): n must exceed 4*M^2.
FAST_M = 4
#: Levels of the Morris grid.
MORRIS_LEVELS = 4
#: Subsample fractions of the convergence check.
FRACTIONS = (0.25, 0.5, 0.75, 1.0)
#: Default tolerance of the convergence check (absolute; for Morris, relative to the largest mu*).
TOLERANCE = 0.05
_BOOTSTRAP = 100  # bootstrap resamples of SALib's confidence intervals


def min_n(method: str) -> int:
    """The smallest ``n`` a method accepts: Sobol 2 base samples, Morris 2 trajectories, FAST
    4*M^2+1 = 65 points per parameter, delta and PAWN 20 points."""
    if method == "fast":
        return 4 * FAST_M**2 + 1
    if method in ("delta", "pawn"):
        return 20
    return 2


def points(method: str, n: int, d: int) -> int:
    """The number of sample points (scenarios run) of ``method`` with ``n`` and ``d``
    parameters."""
    if method == "sobol":
        return n * (d + 2)
    if method == "morris":
        return n * (d + 1)
    if method == "fast":
        return n * d
    return n


def pawn_slides(n: int) -> int:
    """PAWN's conditioning slides for ``n`` points: n // 10, between 2 and 10 (SALib's default
    of 10 from 100 points on), so that a slide holds about 10 points (60 to 69 points: 5, 90
    to 99: 8, see below). The subsamples of the convergence check keep the slides of the whole
    sample."""
    slides = min(10, max(2, n // 10))
    # SALib cuts the range at np.arange(0, 1 + 1/S, 1/S), which has a point too many for
    # some S (6 and 9): take the largest S not above n // 10 that it cuts right.
    while slides > 2 and len(np.arange(0, 1 + 1 / slides, 1 / slides)) != slides + 1:
        slides -= 1
    return slides


@dataclass
class Sensitivity:
    """Indices for each parameter, ranked (most influential first), and their convergence.

    ``convergence`` has one row a parameter and subsample: ``parameter``, ``fraction`` (of
    ``n``), ``size`` (in the method's units: base samples, trajectories, points), ``points``
    (rows of the sample used), ``index`` (the main index's name), ``value``, ``conf`` (its
    bootstrap half-width, NaN for PAWN) and ``rank`` (1 = most influential in that subsample).
    ``checks`` has one row a parameter: ``parameter``, ``value`` (the main index on the whole
    sample), ``previous`` (on the subsample before it), ``change`` (their absolute
    difference), ``conf``, ``rank_stable`` (None where not judged: FAST, or a single
    subsample), ``converged`` and ``verdict`` (one line).
    ``verdict`` sums the analysis up in a sentence.
    """

    method: str
    target: str
    output: str
    indices: pd.DataFrame
    samples: pd.DataFrame  # the points run and their outputs
    convergence: pd.DataFrame = field(default_factory=pd.DataFrame)
    checks: pd.DataFrame = field(default_factory=pd.DataFrame)
    verdict: str = ""


def _problem(names: list[str], bounds: list[tuple[float, float]]) -> dict[str, Any]:
    return {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}


def _check(method: str, n: int | None) -> int:
    """``n`` for ``method`` (its default when None); DesignError if below the minimum."""
    if method not in METHODS:
        raise DesignError(f"method {method!r}: {', '.join(METHODS[:-1])} or {METHODS[-1]}")
    if n is None:
        return DEFAULT_N[method]
    low = min_n(method)
    if n < low:
        if method == "fast":
            raise DesignError(
                f"fast needs n > 4*M^2 = {low - 1} points per parameter (M={FAST_M}): give "
                f"--n {low} or more (got {n})"
            )
        raise DesignError(f"{method} needs n >= {low} {UNITS[method]}: got {n}")
    return n


def _one_thread() -> AbstractContextManager[Any]:
    """One BLAS thread while SALib computes: its many tiny kernel-density and bootstrap
    computations are an order of magnitude slower when the BLAS threads compete for busy
    cores. (threadpoolctl, when it is installed; otherwise nothing changes.)"""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=1)


@contextmanager
def _quiet_seeded(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator (some SALib analyses draw their bootstrap from it) and
    silence SALib's warnings; the caller's generator state, warning filters and warning
    format (SALib's delta replaces it) are restored afterwards."""
    # SALib's FAST and delta bootstraps draw from the legacy global generator.
    state = np.random.get_state()  # noqa: NPY002
    formatter = warnings.formatwarning
    with _one_thread(), warnings.catch_warnings(record=True):  # SALib may change the filters
        warnings.simplefilter("ignore")
        np.random.seed(seed % 2**32)  # noqa: NPY002
        try:
            yield
        finally:
            np.random.set_state(state)  # noqa: NPY002
            warnings.formatwarning = formatter


def sample(method: str, problem: Mapping[str, Any], n: int | None = None, seed: int = 2021) -> Any:
    """SALib's design for ``method`` over ``problem`` (``num_vars``, ``names``, ``bounds``):
    an array of :func:`points` rows, one column a parameter, reproducible by ``seed``.

    Sobol: Saltelli's scheme without second-order indices (``n`` should be a power of 2);
    Morris: ``n`` trajectories on 4 levels; FAST: ``n`` points on each parameter's search
    curve (M=4); delta and PAWN: a Latin hypercube of ``n`` points.
    """
    n = _check(method, n)
    problem = dict(problem)
    if method == "sobol":
        from SALib.sample import sobol as sobol_sample

        # SALib warns when n is not a power of 2; the command line says so in its own words.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    if method == "morris":
        from SALib.sample import morris as morris_sample

        return morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    if method == "fast":
        from SALib.sample import fast_sampler

        return fast_sampler.sample(problem, n, M=FAST_M, seed=seed)
    from SALib.sample import latin

    return latin.sample(problem, n, seed=seed)


def _raw_indices(
    method: str, problem: dict[str, Any], x: Any, y: Any, seed: int, slides: int
) -> pd.DataFrame:
    """The method's indices, one row a parameter in the problem's order (not ranked)."""
    names = list(problem["names"])
    with _quiet_seeded(seed):
        if method == "sobol":
            from SALib.analyze import sobol as sobol_analyze

            si = sobol_analyze.analyze(
                problem, y, calc_second_order=False, num_resamples=_BOOTSTRAP, seed=seed
            )
            data = {k: si[k] for k in ("S1", "S1_conf", "ST", "ST_conf")}
        elif method == "morris":
            from SALib.analyze import morris as morris_analyze

            si = morris_analyze.analyze(
                problem, x, y, num_resamples=_BOOTSTRAP, num_levels=MORRIS_LEVELS, seed=seed
            )
            data = {k: si[k] for k in ("mu_star", "mu_star_conf", "sigma")}
        elif method == "fast":
            from SALib.analyze import fast as fast_analyze

            si = fast_analyze.analyze(problem, y, M=FAST_M, num_resamples=_BOOTSTRAP, seed=None)
            data = {k: si[k] for k in ("S1", "S1_conf", "ST", "ST_conf")}
        elif method == "delta":
            data = _delta(x, y, seed)
        else:
            from SALib.analyze import pawn as pawn_analyze

            si = pawn_analyze.analyze(problem, x, y, S=slides, seed=None)
            data = {k: si[k] for k in ("minimum", "mean", "median", "maximum", "CV")}
    table = pd.DataFrame({"parameter": names})
    for k, v in data.items():
        table[k] = np.asarray(v, dtype=float)
    return table


def _delta(x: Any, y: Any, seed: int) -> dict[str, np.ndarray]:
    """Borgonovo's delta with SALib's estimator (Plischke, Borgonovo and Smith 2013, eq. 26)
    on the whole sample, bias-reduced by a bootstrap (eq. 30), and the first-order index S1
    from the same conditioning classes; each with its bootstrap half-width (95%).

    SALib's ``delta.analyze`` evaluates the estimate itself on a resample drawn with
    replacement, which at a few hundred points ranks a parameter of no effect above one of
    some (y = 4*x1 + x2 + 0*x3: x3 above x2); the whole sample does not. Its estimator
    functions are the same from SALib 1.4 to 1.6, its ``analyze``'s keys are not.
    A parameter whose index cannot be computed (an output constant on a resample) is NaN.
    """
    from SALib.analyze.delta import calc_delta, sobol_first, sobol_first_conf
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    size, d = x.shape
    # SALib's equal-frequency partition of each parameter's ranks and the output's grid.
    exp = 2.0 / (7.0 + np.tanh((1500.0 - size) / 500.0))
    classes = int(np.round(min(int(np.ceil(size**exp)), 48)))
    m = np.linspace(0, size, classes + 1)
    grid = np.linspace(np.min(y), np.max(y), 100)
    z = float(norm.ppf(0.975))
    out = {k: np.full(d, np.nan) for k in ("delta", "delta_conf", "S1", "S1_conf")}
    for i in range(d):
        xi = x[:, i]
        try:
            d_hat = calc_delta(y, grid, xi, m)
            boot = []
            for r in rng.integers(size, size=(_BOOTSTRAP, size)):
                if np.ptp(y[r]) > 0:
                    boot.append(2.0 * d_hat - calc_delta(y[r], grid, xi[r], m))
            if len(boot) > 1:
                out["delta"][i] = float(np.mean(boot))
                out["delta_conf"][i] = z * float(np.std(boot, ddof=1))
            out["S1"][i] = sobol_first(y, xi, m)
            out["S1_conf"][i] = sobol_first_conf(y, xi, m, _BOOTSTRAP, 0.95, size)
        except (ArithmeticError, ValueError):  # LinAlgError is a ValueError
            continue
    return out


def _ranked(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Largest first, NaN last, ties in the problem's order."""
    return table.sort_values(by, ascending=False, kind="stable", na_position="last").reset_index(
        drop=True
    )


def _ranks(values: np.ndarray) -> np.ndarray:
    """1 for the largest value, NaN last, ties in order."""
    key = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(-key, kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


def _sizes(method: str, n: int) -> list[int]:
    """Subsample sizes (in the method's units) of the convergence check, growing, ending at
    ``n``; FAST: ``n`` only."""
    if method == "fast":
        return [n]
    low = min_n(method)
    sizes = {max(1, round(f * n)) for f in FRACTIONS}
    return sorted(k for k in sizes | {n} if k >= low and k <= n)


def judged_from(method: str) -> int:
    """The smallest ``n`` whose convergence can be judged (two subsamples at least the
    method's minimum): Sobol and Morris 3, delta and PAWN 26; FAST, not subsampled, its
    minimum 65."""
    n = min_n(method)
    while len(_sizes(method, n)) < 2 and method != "fast":
        n += 1
    return n


def _fmt(v: float) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:.3g}"


def _convergence(
    method: str,
    problem: dict[str, Any],
    x: Any,
    y: Any,
    n: int,
    seed: int,
    slides: int,
    full: pd.DataFrame,
    tolerance: float,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The convergence frame, the per-parameter checks and the overall verdict."""
    names = list(problem["names"])
    d = len(names)
    main, conf_col = MAIN_INDEX[method], MAIN_CONF[method]
    unit = UNITS[method]
    rows = []
    series: list[np.ndarray] = []
    confs: list[np.ndarray] = []
    sizes = _sizes(method, n)
    for k in sizes:
        if k == n:
            table = full
        else:
            m = points(method, k, d)
            try:
                table = _raw_indices(method, problem, x[:m], y[:m], seed, slides)
            except (ArithmeticError, ValueError, IndexError):  # a subsample SALib cannot use
                table = pd.DataFrame({"parameter": names, main: np.nan})
                if conf_col:
                    table[conf_col] = np.nan
        values = table[main].to_numpy(dtype=float)
        conf = (
            table[conf_col].to_numpy(dtype=float) if conf_col else np.full(d, np.nan, dtype=float)
        )
        ranks = _ranks(values)
        series.append(values)
        confs.append(conf)
        for i, name in enumerate(names):
            rows.append(
                {
                    "parameter": name,
                    "fraction": k / n,
                    "size": k,
                    "points": points(method, k, d),
                    "index": main,
                    "value": values[i],
                    "conf": conf[i],
                    "rank": int(ranks[i]),
                }
            )
    convergence = pd.DataFrame(rows)
    last, conf = series[-1], confs[-1]
    finite = np.abs(last[np.isfinite(last)])
    # Morris's mu* is in the output's units: the tolerance is relative to the largest one.
    scale = float(finite.max()) if method == "morris" and finite.size and finite.max() > 0 else 1.0
    tol = tolerance * scale
    previous = series[-2] if len(series) > 1 else np.full(d, np.nan)
    checks = []
    for i, name in enumerate(names):
        v, p, c = float(last[i]), float(previous[i]), float(conf[i])
        change = abs(v - p)
        stable: bool | None = None if method == "fast" or len(series) < 2 else True
        if len(series) > 1:
            for j in range(d):
                if j == i:
                    continue
                now, before = v - last[j], p - previous[j]
                if now * before < 0 and abs(now) > tol and abs(before) > tol:
                    stable = False
        if not math.isfinite(v):
            ok, text = False, f"not judged: {main} could not be computed"
        elif method == "fast":
            ok = math.isfinite(c) and c <= tol
            word = "converged" if ok else "not converged"
            sign = "<=" if ok else ">"
            text = (
                f"{word}: {main} {_fmt(v)} +/- {_fmt(c)} (bootstrap half-width {sign} "
                f"{_fmt(tol)}; FAST cannot be subsampled and SALib calls its intervals "
                "indicative only)" + ("" if ok else "; add points (n)")
            )
        elif len(series) < 2:
            ok = False
            text = (
                f"not judged: {n} {unit} are too few to subsample (at least "
                f"{judged_from(method)} needed); add {unit} (n)"
            )
        else:
            ok = change <= tol and bool(stable)
            at = f"{main} {_fmt(v)} at {sizes[-1]} {unit}, {_fmt(p)} at {sizes[-2]}"
            if ok:
                text = f"converged: {at} (change {_fmt(change)} <= {_fmt(tol)}), rank stable"
            else:
                why = []
                if not math.isfinite(p):
                    why.append(f"no {main} at {sizes[-2]} {unit}")
                elif change > tol:
                    why.append(f"change {_fmt(change)} > {_fmt(tol)}")
                if not stable:
                    why.append("rank unstable")
                text = f"not converged: {at} ({', '.join(why)}); add {unit} (n)"
        checks.append(
            {
                "parameter": name,
                "value": v,
                "previous": p,
                "change": change,
                "conf": c,
                "rank_stable": stable,
                "converged": ok,
                "verdict": text,
            }
        )
    checks_frame = pd.DataFrame(checks)
    total = points(method, n, d)
    head = f"{method} on {total} points" + (f" ({n} {unit})" if unit != "points" else "")
    behind = [str(r["parameter"]) for r in checks if not r["converged"]]
    if method == "fast":
        how = (
            f"the bootstrap half-width of ST is within {_fmt(tol)} for every parameter (FAST "
            "cannot be subsampled; SALib calls these intervals indicative only)"
        )
    elif len(sizes) < 2:
        how = ""
    else:
        how = (
            f"{main} agrees within {_fmt(tol)} between the last two subsamples ({sizes[-2]} and "
            f"{sizes[-1]} {unit}) for every parameter and the ranking is stable"
        )
    if not behind:
        verdict = f"{head}: converged; {how}"
    elif len(sizes) < 2 and method != "fast":
        verdict = (
            f"{head}: convergence not judged, too few {unit} to subsample (at least "
            f"{judged_from(method)} needed); add {unit} (n)"
        )
    else:
        verdict = (
            f"{head}: not converged for {len(behind)} of {d} parameters ({', '.join(behind)}); "
            f"add {unit} (n)"
        )
    return convergence, checks_frame, verdict


def analyse_outputs(
    method: str,
    problem: Mapping[str, Any],
    x: Any,
    y: Any,
    n: int | None = None,
    seed: int = 2021,
    tolerance: float = TOLERANCE,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """The indices of outputs ``y`` at the points ``x`` of :func:`sample` (same ``method``,
    ``problem`` and ``n``), and their convergence check.

    Returns ``(indices, convergence, checks, verdict)`` as in :class:`Sensitivity`: the
    indices table has :data:`COLUMNS` of the method and is ranked by :data:`MAIN_INDEX`,
    largest first. Seeded by ``seed`` (the bootstrap intervals); the caller's NumPy global
    generator is left as it was.

    Raises:
        DesignError: an unknown method, ``n`` below the method's minimum, or ``x``/``y`` not
            of the design's size.
    """
    n = _check(method, n)
    problem = dict(problem)
    d = int(problem["num_vars"])
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    total = points(method, n, d)
    if x.shape != (total, d) or y.shape != (total,):
        raise DesignError(
            f"{method} with n={n} and {d} parameters has {total} points: got x of shape "
            f"{x.shape} and {y.size} outputs"
        )
    slides = pawn_slides(n)
    raw = _raw_indices(method, problem, x, y, seed, slides)
    convergence, checks, verdict = _convergence(
        method, problem, x, y, n, seed, slides, raw, tolerance
    )
    table = _ranked(raw, MAIN_INDEX[method])
    return table, convergence, checks, verdict


def _check_varies(y: np.ndarray, what: str, hint: str) -> None:
    if np.ptp(y) == 0:
        raise DesignError(
            f"{what} is {y[0]:.3g} at every one of the {len(y)} sample points: nothing to "
            f"attribute{hint}"
        )


def analyse_function(
    problem: Mapping[str, Any],
    model: Callable[[np.ndarray], Any],
    method: str = "sobol",
    n: int | None = None,
    seed: int = 2021,
    tolerance: float = TOLERANCE,
) -> Sensitivity:
    """The analysis of :func:`analyse` on a function: ``model(X)`` maps the sample (one row a
    point, one column a parameter of ``problem``) to one output a row.

    ``problem`` is SALib's: ``{"num_vars": D, "names": [...], "bounds": [[low, high], ...]}``.
    The result's ``target`` is the model's name and its ``output`` is ``"y"``.

    Raises:
        DesignError: an unknown method, ``n`` below the method's minimum, a parameter named
            twice, or an output that is the same at every point.
    """
    n = _check(method, n)
    problem = dict(problem)
    names = list(problem["names"])
    twice = sorted({p for p in names if names.count(p) > 1})
    if twice:
        raise DesignError(f"{', '.join(twice)}: given more than once")
    x = sample(method, problem, n, seed)
    y = np.asarray(model(x), dtype=float).reshape(-1)
    _check_varies(y, "the output", "")
    indices, convergence, checks, verdict = analyse_outputs(
        method, problem, x, y, n, seed, tolerance
    )
    samples = pd.DataFrame(x, columns=names)
    samples["output"] = y
    name = getattr(model, "__name__", "model")
    return Sensitivity(method, name, "y", indices, samples, convergence, checks, verdict)


def analyse(
    base: Scenario,
    params: list[Param],
    target: str,
    method: str = "sobol",
    n: int | None = None,
    reps: int = 50,
    seed: int = 2021,
    output: str = "p_met",
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    runner: Runner | None = None,
    store: ResultStore | None = None,
    tolerance: float = TOLERANCE,
) -> Sensitivity:
    """Global sensitivity of P(``target`` met) (``output="p_met"``) or of the mean metric
    (``output="metric"``) over the ranges of ``params``, with a convergence check.

    Methods (``D`` parameters; ``n`` defaults to :data:`DEFAULT_N`, minimum :func:`min_n`):

    - ``"sobol"``: Saltelli sampling without second-order indices, ``n`` base samples (default
      16, minimum 2, a power of 2), ``n*(D+2)`` points; first-order and total indices with
      their bootstrap confidence half-widths: ``S1``, ``S1_conf``, ``ST``, ``ST_conf``,
      ranked by ``ST``.
    - ``"morris"``: ``n`` trajectories on 4 levels (default 16, minimum 2), ``n*(D+1)``
      points; ``mu_star`` (mean absolute elementary effect, in output units),
      ``mu_star_conf``, ``sigma``, ranked by ``mu_star``.
    - ``"fast"``: extended FAST, ``n`` points on each parameter's search curve (default and
      minimum 65: FAST needs n > 4*M^2 with M=4), ``n*D`` points; ``S1``, ``S1_conf``,
      ``ST``, ``ST_conf`` (SALib's bootstrap, indicative only), ranked by ``ST``.
    - ``"delta"``: Borgonovo's moment-independent delta on a Latin hypercube of ``n`` points
      (default 64, minimum 20): ``delta`` (SALib's estimator on the whole sample,
      bias-reduced by a bootstrap, with its bootstrap half-width ``delta_conf``) and the
      first-order index ``S1`` with ``S1_conf`` estimated from the same points, ranked by
      ``delta``.
    - ``"pawn"``: PAWN on a Latin hypercube of ``n`` points (default 64, minimum 20): the
      Kolmogorov-Smirnov distance between the output's distribution and its distribution
      with the parameter held in one of :func:`pawn_slides` slides of its range, summarised
      over the slides as ``minimum``, ``mean``, ``median``, ``maximum`` and ``CV``; ranked by
      ``median``.

    The convergence check (see the module's docstring) recomputes the main index on 25%,
    50%, 75% and 100% of the sample and judges each parameter with ``tolerance``; the result
    carries it as ``convergence``, ``checks`` and ``verdict``.

    Every method is reproducible by ``seed`` (the sample, the replications, the bootstrap).
    ``progress(points_done, points)`` after each sample point; ``runner`` replaces the local
    one ``workers`` would choose; with a ``store`` the replications are streamed to it and
    the ones it holds are read back instead of run (see :mod:`sim.store`).

    Raises:
        DesignError: an unknown target or method, no parameter or one given twice, ``n``
            below the method's minimum, a sample point invalid for its setting (every point
            is checked before any runs), or an output that is the same at every point.
    """
    ids = [t.id for t in base.targets]
    if target not in ids:
        raise DesignError(f"no target {target!r} (targets: {', '.join(ids)})")
    if not params:
        raise DesignError("no parameter: give --param path=a:b")
    if method not in METHODS:
        raise DesignError(f"method {method!r}: {', '.join(METHODS[:-1])} or {METHODS[-1]}")
    if output not in ("p_met", "metric"):
        raise DesignError(f"output {output!r}: p_met or metric")
    twice = sorted({p.path for p in params if [q.path for q in params].count(p.path) > 1})
    if twice:
        raise DesignError(f"{', '.join(twice)}: given more than once")
    n = _check(method, n)
    names = [p.path for p in params]
    problem = _problem(names, [(p.low, p.high) for p in params])
    x = sample(method, problem, n, seed)
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
    what = f"P({target} met)" if output == "p_met" else f"the mean metric of {target}"
    _check_varies(y, what, "; widen the ranges, add replications, or use --output metric")
    indices, convergence, checks, verdict = analyse_outputs(
        method, problem, x, y, n, seed, tolerance
    )
    samples = pd.DataFrame(x, columns=names)
    samples["output"] = y
    return Sensitivity(method, target, output, indices, samples, convergence, checks, verdict)
