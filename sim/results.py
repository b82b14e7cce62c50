"""Monte Carlo estimates from replications: P(met) with intervals, quantiles, trajectories.

Statistics only: the files a study writes (tables, metadata, event logs) are
:mod:`sim.outputs`, and replications streamed to disk are :mod:`sim.store`. Neither is
imported here: a collector takes any store with :class:`ReplicationStore`'s two methods.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from sim.model import CAUSES, TIER_NAMES, RepResult
from sim.scenario import Scenario

CI_LEVEL = 0.95


def proportion_interval(k: int, n: int, level: float = CI_LEVEL) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials (scipy)."""
    if n == 0:
        return (math.nan, math.nan)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return (float(ci.low), float(ci.high))


#: Per-replication results kept replication by replication (quantiles need them all).
PER_REP = (
    "target_value",
    "target_met",
    "target_threshold",
    "target_met_upper",
    "trajectory",
    "n_events",
    "pool",
    "target_empty_years",
)
#: Results only ever averaged: summed over replications as they arrive, in replication order
#: (so that floating-point sums, and so every figure, do not depend on the arrival order).
STREAMED = (
    "appointments",
    "vacancy_months",
    "reserved_months",
    "exits",
    "headcount",
    "committee",
    "training",
    "rotations",
    "merger",
)


def _fields(res: RepResult) -> dict[str, np.ndarray]:
    return {
        "target_value": res.target_value,
        "target_met": res.target_met,
        "target_threshold": res.target_threshold,
        "target_met_upper": res.target_met_upper,
        "trajectory": res.trajectory,
        "n_events": np.asarray(res.n_events),
        "appointments": res.appointments,
        "vacancy_months": res.vacancy_months,
        "reserved_months": res.reserved_months,
        "exits": res.exits,
        "headcount": res.headcount,
        "committee": res.committee,
        "training": res.training,
        "pool": res.pool,
        "rotations": res.rotations,
        "target_empty_years": res.target_empty_years,
        "merger": res.merger,
    }


class ReplicationStore(Protocol):
    """What a :class:`Collector` needs of a store of replications (:class:`sim.store.ResultStore`
    is one): take a replication, and give back fields of stored replications as arrays."""

    def add(self, res: RepResult, point: int = 0) -> None: ...

    def arrays(
        self, reps: np.ndarray, names: Iterable[str], point: int = 0
    ) -> dict[str, np.ndarray]: ...


@dataclass
class Collector:
    """Collects replication results, in any order, into what the summary needs.

    The larger tables that are only averaged are summed in replication order, so memory stays
    flat however many replications run. Target metrics and trajectories (for intervals and
    quantiles) are kept per replication in :attr:`arrays`, unless a result ``store`` is given:
    then each replication is written to the store (design point ``point``) as it is added,
    only counts are kept (so that memory stays flat in a long run too), and :meth:`summary`
    reads the per-replication fields back from the store; the figures are the same to the
    last bit. ``keep`` names streamed tables to keep per replication in :attr:`arrays` as
    well (e.g. for a calibration study); ``keep="all"`` keeps every one.
    """

    scenario: Scenario
    reps: int
    keep: Iterable[str] | str = ()
    store: ReplicationStore | None = None
    point: int = 0
    _got: np.ndarray = field(init=False)
    arrays: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    sums: dict[str, np.ndarray] = field(init=False, default_factory=dict)
    _pending: dict[int, dict[str, np.ndarray]] = field(init=False, default_factory=dict)
    _next: int = field(init=False, default=0)
    _count: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._got = np.zeros(self.reps, dtype=bool)
        self._keep = set(STREAMED) if self.keep == "all" else set(self.keep)
        unknown = self._keep - set(STREAMED)
        if unknown:
            raise ValueError(f"cannot keep {sorted(unknown)}: not a streamed table")
        n_targets = len(self.scenario.targets)
        self._met = np.zeros(n_targets, dtype=np.int64)
        self._met_upper = np.zeros(n_targets, dtype=np.int64)

    def add(self, res: RepResult) -> None:
        """Take one replication (a replication already taken is ignored)."""
        if self._got[res.rep]:
            return
        if self.store is not None:
            # First: whatever this collector counts must be in the store for the summary to
            # read back (an interrupt or a failed write, a full disk say, may stop us here).
            self.store.add(res, self.point)
        fields = _fields(res)
        in_memory = self._keep if self.store is not None else (*PER_REP, *self._keep)
        for name in in_memory:
            value = fields[name]
            if name not in self.arrays:
                self.arrays[name] = np.zeros(
                    (self.reps, *np.shape(value)), dtype=np.asarray(value).dtype
                )
            self.arrays[name][res.rep] = value
        self._met += np.asarray(res.target_met, dtype=bool)
        self._met_upper += np.asarray(res.target_met_upper, dtype=bool)
        self._got[res.rep] = True
        self._count += 1
        self._pending[res.rep] = {name: fields[name] for name in STREAMED}
        while self._next in self._pending:
            self._fold(self.sums, self._pending.pop(self._next))
            self._next += 1

    @staticmethod
    def _fold(sums: dict[str, np.ndarray], fields: dict[str, np.ndarray]) -> None:
        for name, value in fields.items():
            if name in sums:
                sums[name] = sums[name] + value
            else:
                sums[name] = np.array(value, dtype=float)

    def extend(self, results: Iterable[RepResult]) -> Collector:
        for r in results:
            self.add(r)
        return self

    @property
    def done(self) -> np.ndarray:
        """Indices of the replications received so far."""
        return np.flatnonzero(self._got)

    @property
    def count(self) -> int:
        """Number of replications received so far (``len(done)``, without building it)."""
        return self._count

    def met_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Replications so far in which each target was met, and in which the upper end of
        each (range) target was met."""
        return self._met.copy(), self._met_upper.copy()

    def summary(self) -> Summary:
        """Every table, from the replications received so far (with a store, the
        per-replication fields are read back from it: this costs, for the time of the call,
        the memory an in-memory collector holds all along)."""
        # Replications received out of order (an interrupted run) are added in order here.
        sums = dict(self.sums)
        for rep in sorted(self._pending):
            self._fold(sums, self._pending[rep])
        done = self.done
        arr = {k: v[done] for k, v in self.arrays.items()}
        if self.store is not None and len(done):
            arr.update(self.store.arrays(done, PER_REP, self.point))
        return summarise(self.scenario, arr, done, sums=sums)


@dataclass
class Summary:
    """Every table a user reads, as tidy DataFrames."""

    targets: pd.DataFrame
    joint: pd.DataFrame
    trajectories: pd.DataFrame
    flows: pd.DataFrame
    costs: pd.DataFrame
    replications: pd.DataFrame
    committee: pd.DataFrame
    n_reps: int
    n_events_mean: float
    pool: pd.DataFrame = field(default_factory=pd.DataFrame)
    merger: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["item", "mean", "meaning"])
    )

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "targets": self.targets,
            "joint": self.joint,
            "trajectories": self.trajectories,
            "flows": self.flows,
            "costs": self.costs,
            "committee": self.committee,
            "pool": self.pool,
            "merger": self.merger,
            "replications": self.replications,
        }


#: Columns of :attr:`Summary.committee` (also when the scenario has no congress).
#: Columns of :attr:`Summary.merger` (the merger date of a merged province).
MERGER_COLUMNS = ("item", "mean", "meaning")

COMMITTEE_COLUMNS = (
    "congress",
    "size_mean",
    "women_share_mean",
    "young_share_mean",
    "new_share_mean",
)

#: Columns of :attr:`Summary.targets` (also when a scenario has no target).
TARGET_COLUMNS = (
    "target",
    "kind",
    "by",
    "op",
    "value",
    "upper",
    "baseline_year",
    "baseline_reading",
    "threshold_median",
    "p_met",
    "ci_low",
    "ci_high",
    "p_upper_met",
    "upper_ci_low",
    "upper_ci_high",
    "metric_median",
    "metric_p5",
    "metric_p95",
    "undefined_reps",
    "status",
    "source",
    "text_en",
    "text_vi",
    # Each-year flow targets: years of the window without any appointment.
    "empty_year_rule",
    "empty_years_mean",
    "empty_years_share",
    # "All comply" targets: P(met) is the chance that every one complies; the share of those
    # that comply, next to it (the metric itself, named for what it counts).
    "complying_of",
    "complying_median",
    "complying_p5",
    "complying_p95",
)
JOINT_COLUMNS = ("by", "targets", "p_all_met", "ci_low", "ci_high")
#: A text column's value where it does not apply (pandas reads "" and "n/a" in a CSV as NaN).
NOT_APPLICABLE = "-"


def complying_of(target: Any) -> str:
    """What an "all comply" target counts ("units", "leaders", "pool members",
    "appointments"), or :data:`NOT_APPLICABLE` for any other target. A women-staff-rule
    target is one (its metric is the share of complying units), and so is any absolute
    target of 100%."""
    if target.kind == "women_staff_rule":
        return "units"
    if getattr(target, "baseline", None) is not None or target.op not in (">=", ">"):
        return NOT_APPLICABLE
    if target.value < 1.0 - 1e-12:
        return NOT_APPLICABLE
    kinds = {"stock": "leaders", "pool": "pool members", "flow": "appointments"}
    return kinds.get(target.kind, NOT_APPLICABLE)


def _empty_years(target: Any, empty: np.ndarray) -> dict[str, Any]:
    """The columns about years without appointments (each-year flow targets only)."""
    if target.kind != "flow" or target.aggregate != "each_year":
        return {
            "empty_year_rule": NOT_APPLICABLE,
            "empty_years_mean": math.nan,
            "empty_years_share": math.nan,
        }
    return {
        "empty_year_rule": target.empty_year,
        "empty_years_mean": float(empty.mean()) if len(empty) else math.nan,
        "empty_years_share": float((empty > 0).mean()) if len(empty) else math.nan,
    }


def _complying(applies: bool, med: float, p5: float, p95: float) -> dict[str, float]:
    """The share that complies (the metric's median and 5-95%), where it applies."""
    if not applies:
        med = p5 = p95 = math.nan
    return {"complying_median": med, "complying_p5": p5, "complying_p95": p95}


def _quantiles(x: np.ndarray) -> tuple[float, float, float]:
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return (math.nan, math.nan, math.nan)
    q = np.quantile(x, [0.05, 0.5, 0.95])
    return (float(q[1]), float(q[0]), float(q[2]))


def widest_half_width(collector: Collector) -> float:
    """The widest half-width of the 95% intervals of P(met) over the targets so far (and of
    P(upper end met) for range targets): what sequential stopping watches."""
    n = len(collector.done)
    if n == 0:
        return math.inf
    widest = 0.0
    for upper, met in zip((False, True), collector.met_counts(), strict=True):
        for k, t in enumerate(collector.scenario.targets):
            if upper and t.upper is None:
                continue
            lo, hi = proportion_interval(int(met[k]), n)
            widest = max(widest, (hi - lo) / 2)
    return widest


def summarise(
    scenario: Scenario,
    arr: dict[str, np.ndarray],
    reps: np.ndarray,
    sums: dict[str, np.ndarray] | None = None,
) -> Summary:
    """Reduce replication results to the estimates: per-replication target metrics and
    trajectories in ``arr``, and the sums over replications of the averaged tables in
    ``sums`` (computed from ``arr`` when not given)."""
    n = len(reps)
    if sums is None:
        sums = {k: arr[k].sum(axis=0).astype(float) for k in STREAMED if k in arr}
    targets = scenario.targets
    years = scenario.years
    rows = []
    met = arr.get("target_met", np.zeros((n, len(targets)), bool))
    val = arr.get("target_value", np.zeros((n, len(targets))))
    thr = arr.get("target_threshold", np.full((n, len(targets)), np.nan))
    met_up = arr.get("target_met_upper", np.zeros((n, len(targets)), bool))
    empty = arr.get("target_empty_years", np.zeros((n, len(targets)), np.int64))
    for k, t in enumerate(targets):
        k_met = int(met[:, k].sum()) if n else 0
        lo, hi = proportion_interval(k_met, n)
        med, p5, p95 = _quantiles(val[:, k]) if n else (math.nan,) * 3
        if t.upper is not None and n:
            k_up = int(met_up[:, k].sum())
            up_lo, up_hi = proportion_interval(k_up, n)
            p_up = k_up / n
        else:
            p_up = up_lo = up_hi = math.nan
        base = getattr(t, "baseline", None)
        defined = thr[:, k][~np.isnan(thr[:, k])] if n else thr[:0, k]
        thr_med = float(np.median(defined)) if len(defined) else math.nan
        rows.append(
            {
                "target": t.id,
                "kind": t.kind,
                "by": t.by,
                "op": t.op,
                "value": t.value,
                "upper": math.nan if t.upper is None else t.upper,
                "baseline_year": float(base.year) if base else math.nan,
                "baseline_reading": base.reading if base else "absolute",
                "threshold_median": thr_med,
                "p_met": k_met / n if n else math.nan,
                "ci_low": lo,
                "ci_high": hi,
                "p_upper_met": p_up,
                "upper_ci_low": up_lo,
                "upper_ci_high": up_hi,
                "metric_median": med,
                "metric_p5": p5,
                "metric_p95": p95,
                "undefined_reps": int(np.isnan(val[:, k]).sum()) if n else 0,
                "status": "modelled",
                "source": t.source,
                "text_en": t.text.en,
                "text_vi": t.text.vi,
                **_empty_years(t, empty[:, k] if n else np.zeros(0, np.int64)),
                "complying_of": complying_of(t),
                **_complying(complying_of(t) != NOT_APPLICABLE, med, p5, p95),
            }
        )
    from sim.merging import unmeasured

    missing = unmeasured(scenario)  # the "no merger" path of a merged province
    for target_row in rows:
        if target_row["target"] in missing:
            for name in (
                "p_met",
                "ci_low",
                "ci_high",
                "p_upper_met",
                "upper_ci_low",
                "upper_ci_high",
            ):
                target_row[name] = math.nan
            target_row["status"] = f"not measured: {missing[target_row['target']]}"
    for nm in scenario.not_modelled:
        rows.append(
            {
                "target": nm.id,
                "kind": "not_modelled",
                "by": None,
                "op": None,
                "value": None,
                "upper": math.nan,
                "baseline_year": math.nan,
                "baseline_reading": "absolute",
                "threshold_median": math.nan,
                "p_met": math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "p_upper_met": math.nan,
                "upper_ci_low": math.nan,
                "upper_ci_high": math.nan,
                "metric_median": math.nan,
                "metric_p5": math.nan,
                "metric_p95": math.nan,
                "undefined_reps": 0,
                "status": f"not modelled: {nm.reason}",
                "source": nm.source,
                "text_en": nm.text.en,
                "text_vi": nm.text.vi,
                "empty_year_rule": NOT_APPLICABLE,
                "empty_years_mean": math.nan,
                "empty_years_share": math.nan,
                "complying_of": NOT_APPLICABLE,
                "complying_median": math.nan,
                "complying_p5": math.nan,
                "complying_p95": math.nan,
            }
        )
    target_df = pd.DataFrame(rows, columns=list(TARGET_COLUMNS))

    joint_rows = []
    # A deadline's targets met together, measured on one province: a merged province's own,
    # and each source's before the merger, apart (targets a run cannot measure left out).
    groups = sorted(
        {(t.by, t.source_province if t.pre_merger else "") for t in targets},
        key=lambda g: (g[0], g[1]),
    )
    for by, where in groups:
        cols = [
            k
            for k, t in enumerate(targets)
            if t.by == by
            and (t.source_province if t.pre_merger else "") == where
            and t.id not in missing
        ]
        if not cols:
            continue
        all_met = met[:, cols].all(axis=1) if n else np.zeros(0, bool)
        k_all = int(all_met.sum())
        lo, hi = proportion_interval(k_all, n)
        joint_rows.append(
            {
                "by": by,
                "targets": " ".join(targets[c].id for c in cols),
                "p_all_met": k_all / n if n else math.nan,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    joint_df = pd.DataFrame(joint_rows, columns=list(JOINT_COLUMNS))

    traj_rows = []
    traj = arr.get("trajectory")
    if traj is not None and n:
        for k, t in enumerate(targets):
            for j, y in enumerate(years):
                x = traj[:, k, j]
                x = x[~np.isnan(x)]
                if len(x) == 0:
                    continue
                q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
                traj_rows.append(
                    {
                        "target": t.id,
                        "year": y,
                        "n": len(x),
                        "mean": float(x.mean()),
                        "p5": q[0],
                        "p25": q[1],
                        "median": q[2],
                        "p75": q[3],
                        "p95": q[4],
                        "threshold": (
                            float(np.nanmedian(thr[:, k]))
                            if getattr(t, "baseline", None) is not None
                            and not np.isnan(thr[:, k]).all()
                            else t.value
                        ),
                        "by": t.by,
                    }
                )
    traj_df = pd.DataFrame(traj_rows)

    flow_rows = []
    cost_rows = []
    if n and "appointments" in sums:
        ap = sums["appointments"]  # (years, tiers, 4), summed over replications
        vac = sums["vacancy_months"]
        res = sums["reserved_months"]
        ex = sums["exits"]
        training = sums.get("training")
        if training is not None and training.shape[1] == 0:
            training = None
        hc = sums["headcount"]
        for j, y in enumerate(years):
            for tier in (2, 1):
                a = ap[j, tier]
                tot = a[0]
                flow_rows.append(
                    {
                        "year": y,
                        "tier": TIER_NAMES[tier],
                        "appointments_mean": a[0] / n,
                        "women_share": a[1] / tot if tot else math.nan,
                        "young_share": a[2] / tot if tot else math.nan,
                        "young_women_share": a[3] / tot if tot else math.nan,
                        "stock_women_share": _ratio(hc[j, tier, 1], hc[j, tier, 0]),
                        "stock_young_share": _ratio(hc[j, tier, 2], hc[j, tier, 0]),
                        "holders_mean": hc[j, tier, 0] / n,
                    }
                )
            row: dict[str, Any] = {"year": y}
            for tier in (2, 1):
                row[f"vacancy_months_{TIER_NAMES[tier]}"] = vac[j, tier] / n
                row[f"reserved_months_{TIER_NAMES[tier]}"] = res[j, tier] / n
            for c, cause in enumerate(CAUSES):
                row[f"exits_{cause}"] = ex[j, c] / n
            rot = sums.get("rotations")
            if rot is not None and scenario.policy.rotation.enabled:
                row["rotations"] = rot[j, 0] / n
                row["young_to_districts"] = rot[j, 1] / n
            if training is not None:
                for c, course in enumerate(scenario.policy.training.courses):
                    for col, what in enumerate(("nominated", "started", "completed")):
                        row[f"training_{course.id}_{what}"] = training[j, c, col] / n
            cost_rows.append(row)
    flows_df = pd.DataFrame(flow_rows)
    costs_df = pd.DataFrame(cost_rows)

    committee_rows = []
    com = sums.get("committee")
    if com is not None and n and scenario.congress is not None and com.shape[0]:
        for j, d in enumerate(scenario.congress.dates[: com.shape[0]]):
            c = com[j]
            committee_rows.append(
                {
                    "congress": d.isoformat(),
                    "size_mean": c[0] / n,
                    "women_share_mean": _ratio(c[1], c[0]),
                    "young_share_mean": _ratio(c[2], c[0]),
                    "new_share_mean": _ratio(c[3], c[0]),
                }
            )
    committee_df = pd.DataFrame(committee_rows, columns=list(COMMITTEE_COLUMNS))

    from sim.succession import POOL_STATS

    pool_rows = []
    pool_arr = arr.get("pool")
    if pool_arr is not None and n and scenario.policy.succession_pool.enabled:
        for j, y in enumerate(years):
            row = {"year": y}
            for c, name in enumerate(POOL_STATS):
                x = pool_arr[:, j, c]
                x = x[~np.isnan(x)]
                row[f"{name}_mean"] = float(x.mean()) if len(x) else math.nan
            pool_rows.append(row)
    # Without a succession pool the table is empty but keeps its columns (a reader of several
    # studies finds the same columns in each).
    pool_df = pd.DataFrame(pool_rows, columns=["year", *(f"{s}_mean" for s in POOL_STATS)])

    rep_rows = {
        "rep": np.repeat(reps, len(targets)),
        "target": np.tile([t.id for t in targets], n),
        "value": val.reshape(-1) if n else np.zeros(0),
        "met": met.reshape(-1) if n else np.zeros(0, bool),
    }
    rep_df = pd.DataFrame(rep_rows)
    ne = arr.get("n_events")
    return Summary(
        target_df,
        joint_df,
        traj_df,
        flows_df,
        costs_df,
        rep_df,
        committee_df,
        n,
        float(ne.mean()) if ne is not None and n else math.nan,
        pool_df,
        _merger_table(sums.get("merger"), n),
    )


def _merger_table(sums: np.ndarray | None, n: int) -> pd.DataFrame:
    """The merger date of a merged province (:data:`sim.merger.LEDGER`), averaged over the
    replications; empty, with its columns, for other scenarios."""
    from sim.merger import LEDGER, LEDGER_MEANING

    if sums is None or n == 0 or np.size(sums) != len(LEDGER):
        return pd.DataFrame(columns=list(MERGER_COLUMNS))
    return pd.DataFrame(
        {
            "item": list(LEDGER),
            "mean": np.asarray(sums, dtype=float) / n,
            "meaning": [LEDGER_MEANING[k] for k in LEDGER],
        }
    )


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else math.nan
