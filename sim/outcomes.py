"""Outcomes: the year-end tables, the target metrics and the replication's result.

The methods here are the part of :class:`sim.model.Model` that measures (their ``self`` is the
model): each 31 December the headcounts and the stock, pool and women-staff metrics
(:meth:`Outcomes._year_end`); at the end the flow and committee metrics, whether each target
was met (:func:`thresholds`, :func:`compare`), and the :class:`RepResult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import rules
from sim.codes import APPOINTMENT, GROUP_CODE, LONG, WOMEN, YOUNG
from sim.population import POOL
from sim.qualifications import QUAL_GROUPS
from sim.rotation import ROTATION_COLUMNS
from sim.scenario import (
    RANK_CODE,
    CommitteeTarget,
    FlowTarget,
    PoolTarget,
    StockTarget,
    UnitRuleTarget,
)
from sim.succession import POOL_STATS

if TYPE_CHECKING:
    from sim.model import Model


@dataclass
class RepResult:
    """What one replication returns: small arrays, cheap to pickle and to aggregate."""

    rep: int
    target_value: np.ndarray  # (n_targets,) metric at the deadline, NaN if undefined
    target_met: np.ndarray  # (n_targets,) bool
    target_threshold: np.ndarray  # (n_targets,) the threshold met against (relative targets vary)
    target_met_upper: np.ndarray  # (n_targets,) bool: the upper end of a range target met
    trajectory: np.ndarray  # (n_targets, n_years) yearly metric
    appointments: np.ndarray  # (n_years, 3 tiers, 4): all, women, young, young women
    vacancy_months: np.ndarray  # (n_years, 3 tiers)
    reserved_months: np.ndarray  # (n_years, 3 tiers): vacancy-months spent held for a group
    exits: np.ndarray  # (n_years, len(CAUSES)) exits of post holders
    headcount: np.ndarray  # (n_years, 3 tiers, 3): holders, women, young at year end
    committee: np.ndarray  # (n_congresses, 4): size, women, young, new members
    n_events: int
    training: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), dtype=np.int64))
    # (n_years, n_courses, 3): nominated, started, completed
    pool: np.ndarray = field(default_factory=lambda: np.zeros((0, len(POOL_STATS))))
    rotations: np.ndarray = field(
        default_factory=lambda: np.zeros((0, len(ROTATION_COLUMNS)), dtype=np.int64)
    )  # (n_years, 2): rotations, young cadres sent to districts
    # (n_years, len(POOL_STATS)) succession-pool statistics at year end (NaN when off)
    log: dict[str, np.ndarray] | None = field(default=None)
    target_empty_years: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # (len(sim.merger.LEDGER),) a merged province's ledger of the merger date (empty otherwise)
    merger: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # (n_targets,) years of an each-year flow target's window with no appointment (0 for others)


def year_end(self: Model, _ev: Any = None) -> None:
    """31 December: snapshot, target metrics; then open the next year."""
    t = self.env.now
    year = int(t // 12) - 1
    yi = year - self.year0
    holders = self.post_holder
    filled = holders >= 0
    h = holders[filled]
    tiers = self.post_tier[filled]
    female = self.female[h]
    young = (t - self.birth[h]) < rules.YOUNG_AGE_MONTHS
    for tier in (1, 2):
        sel = tiers == tier
        self.headcount[yi, tier] = (sel.sum(), (female & sel).sum(), (young & sel).sum())
    n = self.n
    pool = (self.rank[:n] == POOL) & (self.gone_t[:n] > t)
    self.headcount[yi, 0] = (
        pool.sum(),
        (pool & self.female[:n]).sum(),
        (pool & ((t - self.birth[:n]) < rules.YOUNG_AGE_MONTHS)).sum(),
    )
    for hook in self._on_year_end:
        hook(yi, t)
    self._measure_state(t, yi)
    self.year_count = [0, 0, 0]
    self.year_women = [0, 0, 0]
    self.year_young = [0, 0, 0]
    if t < self.t_end:
        self._refresh_scores(year + 1)
        self.schedule_at(t + 12, self._year_end, urgent=True)


def measure_state(self: Model, t: float, yi: int, due: int | None = None) -> None:
    """The targets measured on the state at ``t`` (stock, pool, women-staff rule) into year
    ``yi`` of their trajectories; with ``due``, only those due that year (a merged province's
    source measures its targets of the merger year on the merger date)."""
    for k, target in enumerate(self.targets):
        if due is not None and target.by != due:
            continue
        if isinstance(target, StockTarget):
            self.trajectory[k, yi] = self._stock_metric(k, target, t)
        elif isinstance(target, PoolTarget):
            self.trajectory[k, yi] = self._pool_metric(target, t)
        elif isinstance(target, UnitRuleTarget):
            self.trajectory[k, yi] = self._women_staff_metric()


def stock_metric(self: Model, k: int, target: StockTarget, t: float) -> float:
    posts = self.target_post_mask[k]
    h = self.post_holder[posts]
    h = h[h >= 0]
    if target.who.service_left_at_start_months is not None:
        h = h[self.retire[h] - self.t0 >= target.who.service_left_at_start_months]
    limit = target.who.under_age
    if limit is not None:
        age = t - self.birth[h]
        h = h[age < np.where(self.female[h], 12.0 * limit.women, 12.0 * limit.men)]
    if len(h) == 0:
        return math.nan
    return float(np.mean(self._target_flags(target, h, t)))


def target_flags(
    self: Model, target: StockTarget | PoolTarget, h: np.ndarray, t: float
) -> np.ndarray:
    """The target's group flags for people ``h``: one group, or several combined."""
    planned = isinstance(target, PoolTarget)
    if not isinstance(target.group, list):
        return self._holder_flags(target.group, h, t, planned)
    flags = [self._holder_flags(g, h, t, planned) for g in target.group]
    combine = np.logical_and if target.match == "all" else np.logical_or
    return combine.reduce(flags)


def pool_metric(self: Model, target: PoolTarget, t: float) -> float:
    """Share of the group among the pool members planned for posts of the target's ranks."""
    if self.pool is None:  # no pool in this scenario
        return math.nan
    blocks = (
        None if target.blocks is None else {self.layout.block_ids.index(b) for b in target.blocks}
    )
    who = self.pool.members_of({RANK_CODE[r] for r in target.ranks}, blocks)
    if len(who) == 0:
        return math.nan
    return float(np.mean(self._target_flags(target, who, t)))


def holder_flags(
    self: Model, group: str, h: np.ndarray, t: float, planned: bool = False
) -> np.ndarray:
    """Whether each person of ``h`` belongs to ``group`` at time ``t`` (``planned``: they
    are succession-pool members, measured against the post they are planned for)."""
    if group in QUAL_GROUPS:
        return self.qual.flags(group, h, t, self.update_months)
    if group == "at_standard":
        if planned:
            assert self.pool is not None
            return self.pool.at_standard(h, t)
        return self.meets_standard(h, self.rank[h], t)
    if group == "rotated":
        return np.array([self.rot_count[i] > 0 for i in h.tolist()], dtype=bool)
    g = GROUP_CODE[group]
    if g == LONG:
        return (self.retire[h] - t) >= self.long_months[self.rank[h]]
    if g == WOMEN:
        return self.female[h]
    return (t - self.birth[h]) < rules.YOUNG_AGE_MONTHS


def women_staff_metric(self: Model) -> float:
    """Share of flagged units whose leaders include a woman at every rule tier."""
    if not self.metric_units:
        return math.nan
    women_at = self.women_at
    ok = sum(all(women_at[u][tier] > 0 for tier in tiers) for u, tiers in self.metric_units)
    return ok / len(self.metric_units)


def appt_array(self: Model) -> np.ndarray:
    cols = [
        ("t", float),
        ("post", np.int64),
        ("person", np.int64),
        ("rank", np.int8),
        ("from_rank", np.int8),
        ("female", bool),
        ("young", bool),
        ("first", bool),
        ("service_left", float),
        ("opened", float),
        ("reserved_from", float),
        ("move", np.int8),  # 0 appointment, 1 rotation, 2 young cadre sent to a district
        ("owed", np.int8),  # groups the yearly shares owed it: bit 0 women, bit 1 young
        ("unit_rule", bool),  # the women-staff rule owed it a woman
        ("short", np.int8),  # owed groups with no eligible candidate (same bits)
    ]
    return np.array(self.appt_log, dtype=cols)


def tables(self: Model, appts: np.ndarray) -> None:
    """Appointments and vacancy-months by year and tier, from the appointment log."""
    years = np.minimum((appts["t"] // 12).astype(np.int64) - self.year0, self.n_years - 1)
    tier = self.post_tier[appts["post"]]
    f, y = appts["female"], appts["young"]
    moved = appts["move"] != APPOINTMENT  # rotations fill vacancies but are no appointments
    for col, w in enumerate((~moved, f & ~moved, y & ~moved, f & y & ~moved)):
        np.add.at(self.appointments[:, :, col], (years, tier), w)
    # Vacancies still open at the horizon count up to its end; vacancies of posts that
    # were abolished count up to the abolition.
    open_posts = np.fromiter(self.vacant_since.keys(), dtype=np.int64)
    gone = np.array(self.vac_closed, dtype=float).reshape(-1, 4)
    opened = np.concatenate(
        [appts["opened"], np.fromiter(self.vacant_since.values(), dtype=float), gone[:, 0]]
    )
    closed = np.concatenate([appts["t"], np.full(len(open_posts), float(self.t_end)), gone[:, 1]])
    tiers = np.concatenate([tier, self.post_tier[open_posts], gone[:, 2].astype(np.int64)])
    held = np.concatenate(
        [
            appts["reserved_from"],
            np.array([self.reserved_since.get(int(p), -1.0) for p in open_posts], dtype=float),
            gone[:, 3],
        ]
    )
    is_held = held >= 0
    for j in range(self.n_years):
        y0 = 12.0 * (self.year0 + j)
        y1 = y0 + 12.0
        overlap = np.clip(np.minimum(closed, y1) - np.maximum(opened, y0), 0.0, None)
        np.add.at(self.vac_months[j], tiers, overlap)
        h = np.clip(np.minimum(closed, y1) - np.maximum(held, y0), 0.0, None) * is_held
        np.add.at(self.res_months[j], tiers, h)


def result(self: Model, n_events: int) -> RepResult:
    appts = self._appt_array()
    self._tables(appts)
    nt = len(self.targets)
    value = np.full(nt, np.nan)
    met = np.zeros(nt, dtype=bool)
    threshold = np.full(nt, np.nan)
    met_upper = np.zeros(nt, dtype=bool)
    self.empty_years = np.zeros(nt, dtype=np.int64)
    years = (appts["t"] // 12).astype(np.int64) if len(appts) else np.zeros(0, np.int64)
    for k, target in enumerate(self.targets):
        if isinstance(target, (StockTarget, UnitRuleTarget, PoolTarget)):
            value[k] = self.trajectory[k, target.by - self.year0]
        elif isinstance(target, FlowTarget):
            value[k] = self._flow_metric(k, target, appts, years)
        elif isinstance(target, CommitteeTarget):
            value[k] = self._committee_metric(k, target)
        lower, upper = thresholds(target, self.baseline_value[k])
        threshold[k] = lower
        met[k] = compare(value[k], target.op, lower)
        met_upper[k] = compare(value[k], target.op, upper)
        if self.empty_years[k] and getattr(target, "empty_year", "") == "fail":
            met[k] = met_upper[k] = False  # a year without appointments is not met
    log: dict[str, np.ndarray] | None = None
    if self.keep_log:
        assert self.initial_holder is not None  # kept whenever the log is
        log = {
            "appointments": appts,
            # ``after`` = how many appointments preceded the exit (its place in the sequence).
            "exits": np.array(
                self.exit_log,
                dtype=[
                    ("t", float),
                    ("person", np.int64),
                    ("post", np.int64),
                    ("rank", np.int8),
                    ("cause", np.int8),
                    ("after", np.int64),
                ],
            ),
            "initial_holder": self.initial_holder,
            "t_end": np.array([self.t_end]),
            "retire": self.retire[: self.n].copy(),
            "birth": self.birth[: self.n].copy(),
            "female": self.female[: self.n].copy(),
            "post_holder": self.post_holder.copy(),
            "rank": self.rank[: self.n].copy(),
            "n_people": np.array([self.n]),
        }
    # The mechanisms' tables, or empty ones for those switched off.
    tables: dict[str, np.ndarray] = {
        "rotations": np.zeros((self.n_years, len(ROTATION_COLUMNS)), dtype=np.int64),
        "pool": np.full((self.n_years, len(POOL_STATS)), np.nan),
        "training": np.zeros((self.n_years, 0, 3), dtype=np.int64),
        "merger": np.zeros(0, dtype=np.int64),
    }
    for mechanism in self.mechanisms:
        tables.update(mechanism.result())
    return RepResult(
        rep=self.rep,
        target_value=value,
        target_met=met,
        target_threshold=threshold,
        target_met_upper=met_upper,
        trajectory=self.trajectory,
        appointments=self.appointments,
        vacancy_months=self.vac_months,
        reserved_months=self.res_months,
        exits=self.exits,
        headcount=self.headcount,
        committee=np.array(self.committee_rows, dtype=np.int64).reshape(-1, 4),
        n_events=int(n_events),
        log=log,
        target_empty_years=self.empty_years,
        **tables,
    )


def flow_metric(
    self: Model, k: int, target: FlowTarget, appts: np.ndarray, years: np.ndarray
) -> float:
    posts = self.target_post_mask[k]
    assert posts is not None  # a flow target always has its posts
    mask = posts[appts["post"]] if len(appts) else np.zeros(0, bool)
    mask &= (years >= target.from_year) & (years <= target.by)
    mask &= appts["move"] == APPOINTMENT
    if target.first_time_only:
        mask &= appts["first"]
    g = GROUP_CODE[target.group]
    if g == WOMEN:
        flags = appts["female"]
    elif g == YOUNG:
        flags = appts["young"]
    else:
        flags = appts["service_left"] >= self.long_months[appts["rank"]]
    # Yearly shares for the trajectory; a year without appointments has none, and is
    # counted for an each-year target (``_result`` fails the target on it unless the
    # target says ``empty_year: skip``). The each-year metric is the lowest yearly share.
    shares = []
    empty = 0
    for y in range(target.from_year, target.by + 1):
        sel = mask & (years == y)
        if sel.any():
            s = float(np.mean(flags[sel]))
            self.trajectory[k, y - self.year0] = s
            shares.append(s)
        else:
            empty += 1
    if target.aggregate == "each_year":
        self.empty_years[k] = empty
    if not mask.any():
        return math.nan
    if target.aggregate == "pooled":
        return float(np.mean(flags[mask]))
    return float(min(shares))


def committee_metric(self: Model, k: int, target: CommitteeTarget) -> float:
    assert self.sc.congress is not None
    years = [d.year for d in self.sc.congress.dates]
    for j, y in enumerate(years):
        if j < len(self.committee_rows):
            size, women, young, _new = self.committee_rows[j]
            share = (women if target.group == "women" else young) / size if size else math.nan
            self.trajectory[k, y - self.year0] = share
    j = years.index(target.by)
    if j >= len(self.committee_rows):
        return math.nan
    size, women, young, _new = self.committee_rows[j]
    if size == 0:
        return math.nan
    return (women if target.group == "women" else young) / size


def thresholds(target: Any, b: float) -> tuple[float, float]:
    """The lower and upper thresholds of a target in this replication.

    Absolute targets use their values. A target with a baseline ("+5% vs 2021") is measured
    against ``b``, the replication's own value at the baseline date
    (:meth:`sim.scenario.Scenario.baseline_date`: 31 December of the baseline year or the
    levers' start, whichever is first; recorded by :meth:`Model._record_baselines`), in points
    or relative terms. A target without an upper end has NaN there (never met).
    """
    lower, upper = target.value, target.upper
    base = getattr(target, "baseline", None)
    if base is not None:
        if base.reading == "points":
            lower = b + lower
            upper = None if upper is None else b + upper
        else:
            lower = b * (1.0 + lower)
            upper = None if upper is None else b * (1.0 + upper)
    return float(lower), math.nan if upper is None else float(upper)


def compare(value: float, op: str, threshold: float) -> bool:
    if math.isnan(value) or math.isnan(threshold):
        return False
    eps = 1e-12
    if op == ">=":
        return value >= threshold - eps
    if op == ">":
        return value > threshold + eps
    if op == "<=":
        return value <= threshold + eps
    return value < threshold - eps
