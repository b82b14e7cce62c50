"""The discrete-event model of one replication: people, posts, vacancies, selection and congresses.

Time is an absolute month index (``12 * year + month - 1``); a replication runs from the
scenario's start to the end of its horizon. People live in flat numpy arrays (one slot a person)
so that the selection of a candidate is a few vectorised operations; SimPy schedules the events.

Common random numbers: every random quantity is tied to an entity and drawn from a named stream
in a fixed order, so two policies run on the same seed see the same people, the same exit
times and the same draws for the same posts wherever their histories coincide:

- ``population``: the starting population;
- ``person``: per-person uniforms (exit budget, exit cause, reappointment draws, merit and the
  attributes of recruits), drawn in fixed chunks of :data:`CHUNK` people;
- ``posts``: per-post selection delays and quota draws, one row for each vacancy of a post;
- ``evaluation``: the yearly evaluation noise, one child stream a year;
- ``overflow``: draws for posts that fall vacant more often than the per-post table holds;
- ``attributes``: per-person uniforms for qualifications and attributes, in the same chunks;
- ``restructuring``: per-person uniforms for early retirement in a restructuring.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT, Event

from sim import congress, kernels, mechanisms, rules
from sim.codes import (
    APPOINTMENT,
    BELOW_STANDARD,
    CAUSES,
    DEATH_ILLNESS,
    NOT_REAPPOINTED,
    OTHER_EXIT,
    REASSIGN,
    REMOVED,
    RETIREMENT,
    date_time,
)
from sim.plugin import Mechanism
from sim.population import (
    L1_DEPUTY,
    L1_HEAD,
    POOL,
    Layout,
    build_layout,
    build_people,
    old_age_ppf,
    pool_size,
    young_age_ppf,
)
from sim.qualifications import DRAWS as QUAL_DRAWS
from sim.qualifications import QUAL_GROUPS, QualArrays
from sim.roster import Roster
from sim.rotation import ROTATION_COLUMNS
from sim.scenario import (
    RANK_CODE,
    AfterHold,
    CommitteeTarget,
    FlowTarget,
    PoolTarget,
    Reading,
    Scenario,
    StockTarget,
    UnitRuleTarget,
)
from sim.succession import POOL_STATS, SuccessionPlan

#: People whose per-person uniforms are drawn at once (fixed so draws align across scenarios).
CHUNK = 1024
#: Reappointment draws kept per person: one for each reappointment decision of a career (eight
#: five-year terms span 40 years); later decisions draw from the ``overflow`` stream.
TERM_DRAWS = 8
#: Stream names, in the order their seeds are spawned. Never reorder: it would change results.
STREAMS = (
    "population",
    "person",
    "posts",
    "evaluation",
    "overflow",
    "attributes",
    "restructuring",
    "congress",
)

GONE = -1
# Exit causes (columns of the exits table).
# What a person's next scheduled event is.
NEXT_EXIT, NEXT_RETIRE, NEXT_TERM = 0, 1, 2
# Tiers as codes: 0 pool, 1 l2, 2 l1.
TIER_OF_RANK = np.array([0, 1, 1, 2, 2], dtype=np.int8)
TIER_NAMES = ("pool", "l2", "l1")
# Groups.
WOMEN, YOUNG, LONG = 0, 1, 2
GROUP_CODE = {"women": WOMEN, "young": YOUNG, "long_service": LONG}
# Columns of a post's per-vacancy quota draws.
U_WOMEN, U_YOUNG, U_LONG = range(3)


_LUT_FIRST_BIRTH = 12 * 1900  # births covered by the retirement look-up table
_LUT_BIRTHS = 12 * 200


@functools.cache
def _retirement_lut() -> np.ndarray:
    """:func:`sim.rules.retirement_months` for every birth month of 1900-2099, by sex."""
    births = np.arange(_LUT_FIRST_BIRTH, _LUT_FIRST_BIRTH + _LUT_BIRTHS, dtype=np.int64)
    return np.stack([rules.retirement_months(False, births), rules.retirement_months(True, births)])


def _retirement_months(female: np.ndarray, birth: np.ndarray) -> np.ndarray:
    """The retirement rule (:func:`sim.rules.retirement_months`), from a table when it can."""
    k = birth - _LUT_FIRST_BIRTH
    if len(k) and (k.min() < 0 or k.max() >= _LUT_BIRTHS):
        return rules.retirement_months(female, birth)
    return _retirement_lut()[female.astype(np.intp), k]


def stream_seeds(seed: int, rep: int) -> dict[str, np.random.SeedSequence]:
    """The seed of every named stream of replication ``rep`` under master seed ``seed``.

    The seed tree is master seed -> replication -> stream; it depends on nothing else, so
    replication ``rep`` is the same whatever the number of workers or the backend.
    """
    return {
        name: np.random.SeedSequence(entropy=seed, spawn_key=(rep, k))
        for k, name in enumerate(STREAMS)
    }


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
    # (n_targets,) years of an each-year flow target's window with no appointment (0 for others)


class Model:
    """One replication of a scenario."""

    # The people, one slot each (structure of arrays, grown by :meth:`_alloc`; a slot is
    # never reused). Declared here, the one place the person state is listed.
    female: np.ndarray  # bool
    birth: np.ndarray  # month of birth (model time)
    retire: np.ndarray  # month of statutory retirement
    rank: np.ndarray  # int8 rank code, GONE once out
    max_rank: np.ndarray  # int8 highest rank held
    unit: np.ndarray  # int32 unit, -1 for none
    elig_from: np.ndarray  # eligible for promotion from this month
    elig_until: np.ndarray  # ... until this month (age limits)
    hz_t: np.ndarray  # when the exit hazard was last consumed
    gone_t: np.ndarray  # month of leaving (inf while present)
    score: np.ndarray  # evaluation score (merit, bias, noise)
    merit: np.ndarray  # standard normal, drawn once
    rm: np.ndarray  # yearly removal rate
    # Per-person uniforms and exponentials, drawn with the slot (common random numbers).
    hz_left: np.ndarray
    cause_u: np.ndarray
    term_u: np.ndarray
    female_u: np.ndarray
    young_u: np.ndarray
    age_u: np.ndarray
    unit_u: np.ndarray
    attr_u: np.ndarray
    # Scalar state read event by event: Python lists (faster than numpy scalars).
    term_end: list[float]
    terms_done: list[int]
    decisions: list[int]
    token: list[int]
    next_kind: list[int]
    post: list[int]
    rot_last: list[float]
    rot_count: list[int]
    rm_l: list[float]

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        rep: int = 0,
        *,
        keep_log: bool = False,
        layout: Layout | None = None,
        fast: bool = True,
        roster: Roster | None = None,
    ) -> None:
        self.sc = scenario
        self.roster = roster  # start from a real roster instead of a synthetic population
        self.fast = fast  # use the sorted-scan selection where it applies (same results)
        self.rep = rep
        self.keep_log = keep_log
        self.layout = layout if layout is not None else build_layout(scenario)
        self.seeds = stream_seeds(seed, rep)
        self.rng = {n: np.random.Generator(np.random.PCG64(s)) for n, s in self.seeds.items()}
        self.env = simpy.Environment(initial_time=scenario.start_month)
        self.t0 = scenario.start_month
        self.t_end = scenario.end_month
        self.year0 = scenario.start.year
        self.n_years = scenario.end.year - scenario.start.year + 1
        self.t_levers = max(float(self.t0), date_time(scenario.levers_start))
        self._init_parameters()
        self._init_posts()
        self._init_people()
        self._init_records()
        self._init_targets()
        # The levers besides selection, as plug-ins (sim/mechanisms.py lists them).
        self.mechanisms: list[Mechanism] = mechanisms.build(self, scenario)
        # Vacancy attempts can go stale only when posts are filled or removed outside selection.
        self.guard_vacancies = any(m.moves_posts for m in self.mechanisms)
        self._wire()

    def mechanism(self, name: str) -> Mechanism | None:
        """The mechanism called ``name`` if the scenario switches it on."""
        for m in self.mechanisms:
            if m.name == name:
                return m
        return None

    def _wire(self) -> None:
        """Collect the hooks the mechanisms implement (once, before the run)."""

        def overrides(m: Mechanism, hook: str) -> bool:
            return getattr(type(m), hook) is not getattr(Mechanism, hook)

        self._on_appointed = [m.appointed for m in self.mechanisms if overrides(m, "appointed")]
        self._on_year_end = [m.year_end for m in self.mechanisms if overrides(m, "year_end")]
        providers = [m.successors for m in self.mechanisms if overrides(m, "successors")]
        assert len(providers) <= 1, "one mechanism at most names planned successors"
        self._successors = providers[0] if providers else (lambda p: ())
        pool = self.mechanism(SuccessionPlan.name)
        self.pool = pool if isinstance(pool, SuccessionPlan) else None

    # ------------------------------------------------------------------ setup
    def _init_parameters(self) -> None:
        sc = self.sc
        dyn = sc.dynamics
        pol = sc.policy
        # Monthly hazard rates by tier code.
        h = dyn.exit_hazard
        self.h_other = np.array(
            [-math.log1p(-min(p, 0.999999)) / 12.0 for p in (h.pool, h.l2, h.l1)]
        )
        self.h_death = -math.log1p(-min(dyn.death_illness_hazard, 0.999999)) / 12.0
        self.p_reappoint = dyn.reappointment_probability
        self.update_months = dyn.knowledge_update_months
        std = pol.standards
        self.std_req: list[tuple[str, ...]] = [
            (),
            tuple(std.l2_deputy),
            tuple(std.l2_head),
            tuple(std.l1_deputy),
            tuple(std.l1_head),
        ]
        self.std_mode = std.enforcement
        self.std_block = [self.std_mode == "block" and bool(req) for req in self.std_req]
        self.std_code = [kernels.standard_code(req) for req in self.std_req]
        self.train_within = std.train_within_months
        self.max_terms_of_rank: list[int | None] = [None] * 5
        for r, m in dyn.max_consecutive_terms.items():
            self.max_terms_of_rank[RANK_CODE[r]] = m
        self.rate_of_rank = [float(self.h_other[TIER_OF_RANK[r]] + self.h_death) for r in range(5)]
        # Removal before term end: a person's own hazard (merit-linked), for post holders only.
        # A holder's exit rate is rate_of_rank[r] + rm_on_rank[r] * rm_l[i].
        self.rm_on_rank = [0.0 if TIER_OF_RANK[r] == 0 else 1.0 for r in range(5)]
        self.removal = dyn.removal
        self.removal_multiplier = pol.removal_multiplier
        # Source lookup: src_lut[r][rank + 1] is True if rank feeds rank r.
        self.src_lut = np.zeros((5, 6), dtype=bool)
        for r, sources in dyn.promotion_sources.items():
            for s in sources:
                self.src_lut[RANK_CODE[r], RANK_CODE[s] + 1] = True
        self.src_list: list[tuple[int, ...]] = [
            tuple(int(x) - 1 for x in np.flatnonzero(self.src_lut[r])) for r in range(5)
        ]
        self.same_unit_bonus = float(dyn.same_unit_bonus)
        share = pol.appointment_share
        self.share_reading = share.reading
        self.share_q = (share.women, share.young)
        self.share_tiers = np.zeros(3, dtype=bool)
        for tier in share.tiers:
            self.share_tiers[TIER_NAMES.index(tier)] = True
        self.bias = pol.evaluation_bias
        res = pol.vacancy_reservation
        self.reserve = res.enabled
        self.max_hold = res.max_hold_months
        self.recheck = res.recheck_months
        self.after_hold = res.after
        wsr = pol.women_staff_rule
        self.wsr_tiers = np.zeros(3, dtype=bool)
        if wsr.enabled:
            for tier in wsr.tiers:
                self.wsr_tiers[TIER_NAMES.index(tier)] = True
        ls = pol.long_service
        self.long_on = ls.enabled
        self.long_share = ls.share
        self.long_reading = ls.reading
        self.long_months = np.zeros(5)
        self.long_months[L1_HEAD] = ls.head_months
        self.long_months[L1_DEPUTY] = ls.deputy_months
        # The current year's evaluation noise (see :meth:`_scores_for`).
        self._noise_year = -1
        self._noise = np.zeros(0)

    def _init_posts(self) -> None:
        lay = self.layout
        n = lay.n_posts
        self.post_rank = lay.post_rank
        self.post_unit = lay.post_unit.copy()  # a restructuring may merge units
        self.post_active: list[bool] = [True] * n
        self.vac_closed: list[tuple[float, float, int, float]] = []  # vacancies of posts that went
        self.post_tier = TIER_OF_RANK[lay.post_rank]
        self.post_holder = np.full(n, GONE, dtype=np.int64)
        self.post_nvac = [0] * n
        self.post_rank_l = lay.post_rank.tolist()
        self.post_tier_l = self.post_tier.tolist()
        self.post_unit_l = lay.post_unit.tolist()
        self.vacant_since: dict[int, float] = {}
        self.reserved_since: dict[int, float] = {}
        # Per-post draws for up to k_max vacancies each.
        self.k_max = max(8, self.n_years + 4)
        g = self.rng["posts"]
        shape = self.sc.dynamics.selection_delay_shape
        mean = self.sc.dynamics.selection_delay_months
        self.post_delay = (
            g.gamma(shape, mean / shape, size=(n, self.k_max))
            if mean > 0
            else (np.zeros((n, self.k_max)))
        )
        self.post_u = g.random(size=(n, self.k_max, 3))
        # Units and the women-staff rule: posts of each unit by tier.
        flagged = lay.unit_staff_share > self.sc.policy.women_staff_rule.threshold
        self.unit_flagged = flagged & bool(self.wsr_tiers.any())
        self.flagged_l = self.unit_flagged.tolist()
        self.rule_tier_l = self.wsr_tiers.tolist()
        # Posts no policy can ever constrain, with a single source rank: the fast path.
        share_on = self.share_reading is not Reading.NONE and max(self.share_q) > 0
        sp = self.sc.policy.succession_pool
        planned = np.isin(lay.post_rank, [RANK_CODE[r] for r in sp.ranks])
        ro = self.sc.policy.rotation
        nonlocal_posts = (
            ro.enabled & ro.nonlocal_district_heads & (lay.post_rank == L1_HEAD) & lay.post_district
        )
        self.nonlocal_post: list[bool] = nonlocal_posts.tolist()
        constrained = (
            nonlocal_posts
            | (sp.enabled & sp.appoint_from_pool & planned)
            | np.array(self.std_block)[lay.post_rank]
            | (self.wsr_tiers[self.post_tier] & flagged[lay.post_unit])
            | (share_on & self.share_tiers[self.post_tier])
            | (self.long_on & (self.long_months[lay.post_rank] > 0))
        )
        single = np.array([len(src) == 1 for src in self.src_list])[lay.post_rank]
        self.post_plain: list[bool] = (single & ~constrained).tolist()
        first_source = np.array([src[0] if len(src) == 1 else -1 for src in self.src_list])
        self.post_source: list[int] = first_source[lay.post_rank].tolist()
        # For the women-staff metric: each flagged unit with the rule tiers it has posts at.
        rule_tiers = [tier for tier in (1, 2) if self.wsr_tiers[tier]] or [2]
        self.metric_units: list[tuple[int, list[int]]] = []
        for u in np.flatnonzero(flagged).tolist():
            at = set(self.post_tier[lay.post_unit == u].tolist())
            self.metric_units.append((u, [tier for tier in rule_tiers if tier in at]))

    def _init_people(self) -> None:
        if self.roster is not None:
            people = self.roster.people
        else:
            people = build_people(self.rng["population"], self.sc, self.layout)
        n0 = len(people.female)
        self.n = 0
        self.cap = 0
        self._alloc(n0 + CHUNK)
        idx = np.arange(n0)
        self.n = n0
        self.female[idx] = people.female
        self.birth[idx] = people.birth
        self.rank[idx] = people.rank
        self.unit[idx] = people.unit
        self.post[:n0] = people.post.tolist()
        self.max_rank[idx] = people.rank
        self.retire[idx] = _retirement_months(people.female, people.birth.astype(np.int64))
        self.elig_from[idx], self.elig_until[idx] = rules.promotion_window(
            self.retire[idx], people.since
        )
        pool = people.post < 0
        # A first appointment is exempt from the 24 months in post, but specialists serve a
        # minimum time in the pool first (assumption).
        self.elig_from[idx[pool]] = people.since[pool] + self.sc.dynamics.pool_min_months
        self.hz_t[idx] = self.t0
        for i, s in zip(idx.tolist(), people.since.tolist(), strict=True):
            self.term_end[i] = s + rules.TERM_MONTHS
        holders = np.flatnonzero(~pool)
        self.post_holder[people.post[holders]] = holders
        quals = self.sc.population.qualifications
        tier = TIER_OF_RANK[people.rank]
        for code, shares in ((0, quals.pool), (1, quals.l2), (2, quals.l1)):
            who = idx[tier == code]
            self.qual.assign(who, shares, self.attr_u[who], self.t0, self.update_months)
        if self.roster is not None:  # what the roster says replaces the drawn values
            for col, values in self.roster.quals.items():
                target = "update_t" if col == "knowledge_update" else col
                getattr(self.qual, target)[idx] = values
        # Women holding posts, by unit and tier (for the women-staff rule).
        self.women_at = [[0, 0, 0] for _ in range(self.layout.n_units)]
        for i in holders[people.female[holders]].tolist():
            p = int(people.post[i])
            self.women_at[self.post_unit_l[p]][self.post_tier_l[p]] += 1
        self.initial_holder = self.post_holder.copy() if self.keep_log else None
        self.pool_target = pool_size(self.sc, self.layout)
        self._update_pool_gone(np.flatnonzero(pool))
        self._init_mirrors()
        self._refresh_scores(self.sc.start.year)
        self._schedule_first(holders)
        # Posts a roster leaves empty start vacant.
        for p in np.flatnonzero(self.post_holder < 0).tolist():
            self._open_vacancy(p)

    def _alloc(self, cap: int) -> None:
        """Grow the person arrays to at least ``cap`` slots, drawing per-person uniforms."""
        new_cap = max(cap, self.cap)
        new_cap = int(math.ceil(new_cap / CHUNK) * CHUNK)
        if new_cap <= self.cap:
            return
        extra = new_cap - self.cap
        g = self.rng["person"]
        draws = {
            "hz_left": g.standard_exponential(size=extra),
            "cause_u": g.random(size=extra),
            "term_u": g.random(size=(extra, TERM_DRAWS)),
            "merit": g.standard_normal(size=extra),
            "female_u": g.random(size=extra),
            "young_u": g.random(size=extra),
            "age_u": g.random(size=extra),
            "unit_u": g.random(size=extra),
        }
        specs: dict[str, tuple[Any, Any]] = {
            "female": (bool, False),
            "birth": (float, 0.0),
            "retire": (float, np.inf),
            "rank": (np.int8, GONE),
            "max_rank": (np.int8, GONE),
            "unit": (np.int32, -1),
            "elig_from": (float, np.inf),
            "elig_until": (float, -np.inf),
            "hz_t": (float, 0.0),
            "gone_t": (float, np.inf),
            "score": (float, 0.0),
        }
        for name, (dtype, fill) in specs.items():
            old = getattr(self, name, None)
            arr = np.full(new_cap, fill, dtype=dtype)
            if old is not None:
                arr[: self.cap] = old
            setattr(self, name, arr)
        # Scalar-only state lives in Python lists (faster per event than numpy scalars).
        for name, fill in (
            ("term_end", math.inf),
            ("terms_done", 0),
            ("decisions", 0),
            ("token", 0),
            ("next_kind", 0),
            ("post", GONE),
            ("rot_last", -math.inf),
            ("rot_count", 0),
        ):
            lst = getattr(self, name, None)
            if lst is None:
                lst = []
                setattr(self, name, lst)
            lst.extend([fill] * extra)
        draws["attr_u"] = self.rng["attributes"].random(size=(extra, len(QUAL_DRAWS)))
        for name, values in draws.items():
            old = getattr(self, name, None)
            setattr(self, name, values if old is None else np.concatenate([old, values]))
        first = self.cap == 0
        if first:
            self.qual = QualArrays.empty(new_cap)
        else:
            self.qual.grow(new_cap)
        self.cap = new_cap
        rm = rules.removal_rate(
            self.removal.yearly_rate,
            draws["merit"],
            self.removal.merit_slope,
            self.removal_multiplier,
        )
        if first:
            self.rm_l = []
            self.rm = rm
        else:
            self.rm = np.concatenate([self.rm, rm])
        self.rm_l.extend(rm.tolist())
        # New slots are scored on merit until the next yearly evaluation.
        self.score[-extra:] = self.merit[-extra:] - self.bias * self.female[-extra:]

    def _init_records(self) -> None:
        ny = self.n_years
        self.appointments = np.zeros((ny, 3, 4), dtype=np.int64)
        self.vac_months = np.zeros((ny, 3))
        self.res_months = np.zeros((ny, 3))
        self.exits = np.zeros((ny, len(CAUSES)), dtype=np.int64)
        self.headcount = np.zeros((ny, 3, 3), dtype=np.int64)
        # Appointments this year by tier, and of which women / young (for the floor reading).
        self.year_count = [0, 0, 0]
        self.year_women = [0, 0, 0]
        self.year_young = [0, 0, 0]
        # The expected reading's accounts (:func:`sim.rules.new_accounts`) per tier and group
        # (women, young), opened at the first draw; and reservations carried over to the
        # next vacancy of the tier. Long service likewise, per rank, over first-time
        # appointments.
        self.share_stats: list[list[list[float] | None]] = [[None, None] for _ in range(3)]
        self.share_debt = [[0, 0] for _ in range(3)]
        self.long_stats: list[list[float] | None] = [None] * 5
        self.appt_log: list[tuple] = []
        self.exit_log: list[tuple] = []
        self.committee: set[int] = set()
        self.committee_rows: list[tuple[int, int, int, int]] = []
        self.committee_members: list[np.ndarray] = []

    def _init_targets(self) -> None:
        lay = self.layout
        self.targets = list(self.sc.targets)
        self.target_post_mask: list[np.ndarray | None] = []
        for t in self.targets:
            who = getattr(t, "who", None)
            if who is None:
                self.target_post_mask.append(None)
                continue
            mask = np.isin(lay.post_rank, [RANK_CODE[r] for r in who.ranks])
            if who.blocks is not None:
                blocks = [lay.block_ids.index(b) for b in who.blocks]
                mask &= np.isin(lay.post_block, blocks)
            self.target_post_mask.append(mask)
        self.trajectory = np.full((len(self.targets), self.n_years), np.nan)
        self.congress_times = []
        if self.sc.congress is not None:
            self.congress_times = [
                12 * d.year + d.month - 1 + (d.day - 1) / 31.0 for d in self.sc.congress.dates
            ]
        self.committee_year_value: dict[int, tuple[float, float]] = {}

    # --------------------------------------------------------------- helpers
    def year_index(self, t: float) -> int:
        return min(int(t // 12) - self.year0, self.n_years - 1)

    def schedule_at(self, t: float, callback: Any, urgent: bool = False) -> None:
        """Call ``callback(event)`` at absolute time ``t``."""
        ev = Event(self.env)
        ev._ok = True
        ev._value = None
        ev.callbacks.append(callback)
        self.env.schedule(ev, URGENT if urgent else NORMAL, max(0.0, t - self.env.now))

    def schedule_in(self, delay: float, callback: Any, urgent: bool = False) -> None:
        """Call ``callback(event)`` ``delay`` months from now (as a SimPy timeout would)."""
        ev = Event(self.env)
        ev._ok = True
        ev._value = None
        ev.callbacks.append(callback)
        self.env.schedule(ev, URGENT if urgent else NORMAL, delay)

    def _refresh_scores(self, year: int) -> None:
        """The yearly evaluation: latent merit plus noise, minus the evaluation bias for women.

        Each year has its own child stream, and person ``i`` always takes draw ``i`` of it.
        """
        self.score = self._scores_for(year, slice(None))
        self._rebuild_index()

    def _scores_for(self, year: int, idx: slice | np.ndarray) -> np.ndarray:
        """Evaluation scores of ``year`` for people ``idx`` (draw ``i`` goes to person ``i``)."""
        if self._noise_year != year or len(self._noise) < self.cap:
            ss = self.seeds["evaluation"]
            child = np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, year))
            # Normal draws come in sequence, so a longer vector extends a shorter one.
            self._noise = np.random.Generator(np.random.PCG64(child)).standard_normal(self.cap)
            self._noise_year = year
        noise = self._noise[: self.cap][idx]
        sd = self.sc.dynamics.evaluation_noise_sd
        return self.merit[idx] + sd * noise - self.bias * self.female[idx]

    def _init_mirrors(self) -> None:
        """Python-list copies of the per-person state the selection scans read.

        They are kept current person by person (:meth:`_index_move`, :meth:`_index_recruits`),
        so only the scores need a full refresh, at each yearly evaluation.
        """
        n = self.n
        self.rank_l = self.rank[:n].tolist()
        self.ef_l = self.elig_from[:n].tolist()
        self.eu_l = self.elig_until[:n].tolist()
        self.unit_l = self.unit[:n].tolist()
        # Fixed at creation:
        self.retire_l = self.retire[:n].tolist()
        self.birth_l = self.birth[:n].tolist()
        self.female_l = self.female[:n].tolist()
        # The exit-hazard clock lives only here once people exist (the arrays keep the
        # starting values, used when people are created).
        self.hz_left_l = self.hz_left[:n].tolist()
        self.hz_t_l = self.hz_t[:n].tolist()

    def _rebuild_index(self) -> None:
        """Per rank, the people sorted by decreasing score (rebuilt at each evaluation).

        Each rank keeps a list of people, sorted by decreasing score, who are past their
        ``elig_from`` time, and a heap of those still waiting for it. Entries go stale when
        people move up, leave or age out of eligibility; scans drop them as they meet them.
        """
        n = self.n
        t = self.env.now
        self.score_l = self.score[:n].tolist()
        live = np.flatnonzero((self.rank[:n] >= 0) & (self.elig_until[:n] > t))
        live = live[np.argsort(-self.score[live], kind="stable")]
        ready = self.elig_from[live] <= t
        ranks = self.rank[live]
        self.order_ids = []
        self.order_keys = []
        self.waiting: list[list[tuple[float, int]]] = []
        for s in range(5):
            ids = live[ready & (ranks == s)]
            self.order_ids.append(ids.tolist())
            self.order_keys.append((-self.score[ids]).tolist())
            later = live[~ready & (ranks == s)]
            heap = list(zip(self.elig_from[later].tolist(), later.tolist(), strict=True))
            heapq.heapify(heap)
            self.waiting.append(heap)

    def _index_recruits(self, idx: np.ndarray) -> None:
        """Append new pool members to the mirrors and to the pool's waiting heap."""
        self.rank_l.extend(self.rank[idx].tolist())
        self.retire_l.extend(self.retire[idx].tolist())
        self.birth_l.extend(self.birth[idx].tolist())
        self.female_l.extend(self.female[idx].tolist())
        self.hz_left_l.extend(self.hz_left[idx].tolist())
        self.hz_t_l.extend(self.hz_t[idx].tolist())
        self.ef_l.extend(self.elig_from[idx].tolist())
        self.eu_l.extend(self.elig_until[idx].tolist())
        self.unit_l.extend(self.unit[idx].tolist())
        self.score_l.extend(self.score[idx].tolist())
        t = self.env.now
        for ef, i in zip(self.elig_from[idx].tolist(), idx.tolist(), strict=True):
            if ef > t:
                heapq.heappush(self.waiting[POOL], (ef, i))
            else:
                self._insert_sorted(POOL, i)

    def _index_move(
        self, i: int, r: int, ef: float = math.inf, eu: float = -math.inf, unit: int = -1
    ) -> None:
        """Keep the mirrors and sorted lists current after person ``i`` moved to rank ``r``
        (``GONE`` for a departure), with their new eligibility window and unit."""
        self.rank_l[i] = r
        self.ef_l[i] = ef
        self.eu_l[i] = eu
        self.unit_l[i] = unit
        if r >= 0:
            if ef > self.env.now:
                heapq.heappush(self.waiting[r], (ef, i))
            else:
                self._insert_sorted(r, i)

    def _insert_sorted(self, s: int, i: int) -> None:
        key = -self.score_l[i]
        pos = bisect.bisect_right(self.order_keys[s], key)
        self.order_keys[s].insert(pos, key)
        self.order_ids[s].insert(pos, i)

    def _scan_best(self, s: int, t: float, unit: int) -> int:
        """Best eligible person of rank ``s`` at ``t`` on merit (with the same-unit bonus).

        The best overall is the first ready entry of the rank's list (stale entries met on
        the way are dropped). With a same-unit bonus, someone of the post's own unit further
        down wins if their score plus the bonus beats it: only the entries within the bonus
        of the best (found by bisection) need a look. -1 if nobody is eligible. Gives the
        same choice as the vectorised path (the tests check it).
        """
        waiting = self.waiting[s]
        while waiting and waiting[0][0] <= t:
            _, i = heapq.heappop(waiting)
            if self.rank_l[i] == s and self.ef_l[i] <= t:
                self._insert_sorted(s, i)
        rank, ef, eu = self.rank_l, self.ef_l, self.eu_l
        ids, keys = self.order_ids[s], self.order_keys[s]
        j = 0
        while j < len(ids):
            i = ids[j]
            if rank[i] != s or t >= eu[i]:  # moved or gone, or no longer eligible: for good
                del ids[j], keys[j]
            elif ef[i] > t:  # moved within the rank and not yet eligible again
                j += 1
            else:
                break
        else:
            return -1
        best = ids[j]
        bonus = self.same_unit_bonus
        units = self.unit_l
        if not bonus or units[best] == unit:
            return best
        best_score = self.score_l[best]
        stop = bisect.bisect_right(keys, bonus + keys[j], j + 1)
        score = self.score_l
        for i in ids[j + 1 : stop]:
            if units[i] == unit and rank[i] == s and ef[i] <= t < eu[i]:
                return i if score[i] + bonus > best_score else best
        return best

    def meets_standard(self, who: np.ndarray, ranks: np.ndarray, t: float) -> np.ndarray:
        """Whether each person of ``who`` meets the standard of the rank beside them."""
        ok = np.ones(len(who), dtype=bool)
        for r in range(1, 5):
            req = self.std_req[r]
            if not req:
                continue
            sel = ranks == r
            if sel.any():
                w = who[sel]
                held = {g: self.qual.flags(g, w, t, self.update_months) for g in req}
                ok[sel] = rules.meets_standard(held, req, len(w))
        return ok

    def meets_standard_one(self, i: int, r: int, t: float) -> bool:
        """:meth:`meets_standard` for one person (the same rule, read item by item)."""
        has, months = self.qual.has, self.update_months
        return all(has(g, i, t, months) for g in self.std_req[r])

    def present(self, i: int, t: float) -> bool:
        """Whether person ``i`` is still in the model at ``t`` (a holder, or a pool member who
        has not left)."""
        r = self.rank_l[i]
        return r > 0 or (r == POOL and self.gone_t.item(i) > t)

    def _standard_deadline(self, ev: _Due) -> None:
        """Enforcement ``train_after``: a holder still below the post's standard when the
        deadline comes is relieved of the post."""
        i = ev.arg
        if self.token[i] != ev.token or self.rank_l[i] <= 0:
            return  # moved or gone since the appointment
        if not self.meets_standard_one(i, self.rank_l[i], self.env.now):
            self.remove(i, BELOW_STANDARD)

    # ------------------------------------------------------ person life cycle
    def _consume_hazard(self, i: int, t: float) -> None:
        """Spend the exit budget accumulated at the current tier's hazard since the last update."""
        r = self.rank_l[i]
        rate = self.rate_of_rank[r] + self.rm_on_rank[r] * self.rm_l[i]
        self.hz_left_l[i] = max(0.0, self.hz_left_l[i] - (t - self.hz_t_l[i]) * rate)
        self.hz_t_l[i] = t

    def _hazard_exit_time(self, i: int) -> float:
        r = self.rank_l[i]
        rate = self.rate_of_rank[r] + self.rm_on_rank[r] * self.rm_l[i]
        return self.hz_t_l[i] + self.hz_left_l[i] / rate if rate > 0 else math.inf

    def _update_pool_gone(self, idx: np.ndarray) -> None:
        """Pool members have no scheduled events: they are simply ineligible after leaving."""
        rate = self.h_other[0] + self.h_death
        with np.errstate(over="ignore"):  # a vanishing hazard: never leaves (inf)
            exit_t = self.hz_t[idx] + self.hz_left[idx] / rate if rate > 0 else np.inf
        gone = np.minimum(self.retire[idx], exit_t)
        self.gone_t[idx] = gone
        _, until = rules.promotion_window(self.retire[idx], self.hz_t[idx])
        self.elig_until[idx] = np.minimum(until, gone)

    def _schedule_next(self, i: int) -> None:
        """Schedule the next event of a post holder: exit, retirement or term end."""
        exit_t = self._hazard_exit_time(i)
        t_ret = self.retire_l[i]
        t_term = self.term_end[i]
        if t_ret <= exit_t and t_ret <= t_term:
            kind, t = NEXT_RETIRE, t_ret
        elif exit_t <= t_term:
            kind, t = NEXT_EXIT, exit_t
        else:
            kind, t = NEXT_TERM, t_term
        self.next_kind[i] = kind
        token = self.token[i] + 1
        self.token[i] = token
        if t >= self.t_end:
            return  # beyond the horizon: never processed, so never scheduled
        now = self.env.now
        _Due(self.env, t - now if t > now else 0.0, self._on_person_event, i, token)

    def _schedule_first(self, holders: np.ndarray) -> None:
        """:meth:`_schedule_next` for the starting post holders, vectorised."""
        ranks = self.rank[holders]
        rate = (
            np.array(self.rate_of_rank)[ranks] + np.array(self.rm_on_rank)[ranks] * self.rm[holders]
        )
        with np.errstate(divide="ignore", over="ignore"):  # no or a vanishing hazard: inf
            exit_t = np.where(rate > 0, self.hz_t[holders] + self.hz_left[holders] / rate, np.inf)
        t_ret = self.retire[holders]
        t_term = np.array([self.term_end[i] for i in holders.tolist()])
        retire_first = (t_ret <= exit_t) & (t_ret <= t_term)
        exit_first = ~retire_first & (exit_t <= t_term)
        kind = np.where(retire_first, NEXT_RETIRE, np.where(exit_first, NEXT_EXIT, NEXT_TERM))
        when = np.where(retire_first, t_ret, np.where(exit_first, exit_t, t_term))
        now = self.env.now
        env, callback, token = self.env, self._on_person_event, self.token
        for i, k, t in zip(holders.tolist(), kind.tolist(), when.tolist(), strict=True):
            self.next_kind[i] = k
            token[i] += 1
            if t < self.t_end:
                _Due(env, t - now if t > now else 0.0, callback, i, token[i])

    def _on_person_event(self, ev: _Due) -> None:
        i = ev.arg
        if self.token[i] != ev.token:
            return  # superseded by a move or an exit
        t = self.env.now
        kind = self.next_kind[i]
        if kind == NEXT_RETIRE:
            self.remove(i, RETIREMENT)
        elif kind == NEXT_EXIT:
            r = self.rank_l[i]
            removal = self.rm_on_rank[r] * self.rm_l[i]
            rate = self.rate_of_rank[r] + removal
            u = self.cause_u.item(i)
            p_death = self.h_death / rate
            if u < p_death:
                self.remove(i, DEATH_ILLNESS)
            elif u < p_death + removal / rate:
                self.remove(i, REMOVED)
            else:
                self.remove(i, OTHER_EXIT)
        else:
            outcome = rules.term_end_outcome(self.retire_l[i] - t)
            if outcome is rules.TermOutcome.EXTEND_TO_RETIREMENT:
                self.term_end[i] = math.inf
                self._consume_hazard(i, t)
                self._schedule_next(i)
                return
            done = self.terms_done[i] + 1
            allowed = rules.reappointment_allowed(done, self.max_terms_of_rank[self.rank_l[i]])
            # The k-th decision of the person's career takes their k-th draw: indexing by terms
            # in the current post would reuse, in a new post, the draw that renewed the old one.
            k = self.decisions[i]
            self.decisions[i] = k + 1
            u = self.term_u.item(i, k) if k < TERM_DRAWS else float(self.rng["overflow"].random())
            if allowed and u < self.p_reappoint:
                self.terms_done[i] = done
                self.term_end[i] = t + rules.TERM_MONTHS
                self._consume_hazard(i, t)
                self._schedule_next(i)
            else:
                self.remove(i, NOT_REAPPOINTED)

    def remove(self, i: int, cause: int) -> None:
        t = self.env.now
        p = self.post[i]
        self.exits[self.year_index(t), cause] += 1
        if self.keep_log:
            self.exit_log.append((t, i, p, int(self.rank[i]), cause, len(self.appt_log)))
        self.rank[i] = GONE
        self.post[i] = GONE
        self.gone_t[i] = t
        self.elig_until[i] = -np.inf
        self.token[i] += 1  # cancels any pending event
        self._index_move(i, GONE)
        if p >= 0:
            self.post_holder[p] = GONE
            if self.female_l[i]:
                self.women_at[self.post_unit_l[p]][self.post_tier_l[p]] -= 1
            self._open_vacancy(p)

    # -------------------------------------------------------------- vacancies
    def _open_vacancy(self, p: int) -> None:
        if not self.post_active[p]:
            return  # the post was abolished: it goes with its holder
        self.vacant_since[p] = self.env.now
        k = self.post_nvac[p]
        self.post_nvac[p] = k + 1
        if k < self.k_max:
            delay = self.post_delay.item(p, k)
            draws = None  # read from the post's table when needed
        else:
            g = self.rng["overflow"]
            sh = self.sc.dynamics.selection_delay_shape
            mean = self.sc.dynamics.selection_delay_months
            delay = float(g.gamma(sh, mean / sh)) if mean > 0 else 0.0
            draws = g.random(3)
        _Due(self.env, delay, self._attempt, _Vacancy(p, k, draws))

    def _quota_u(self, v: _Vacancy, col: int) -> float:
        """The vacancy's uniform draw for a quota decision (column ``col``)."""
        if v.draws is None:
            return self.post_u.item(v.post, v.k, col)
        return float(v.draws[col])

    def _candidates(self, p: int, t: float, relax: bool = False) -> np.ndarray:
        """People eligible for post ``p`` at time ``t`` (see :mod:`sim.rules` for the rules).

        ``relax`` waives the 24-months-in-post rule (used once a reservation has run out).
        """
        r = self.post_rank_l[p]
        q = self.qual
        return kernels.eligible(
            self.n,
            self.rank,
            self.elig_from,
            self.elig_until,
            self.src_lut[r],
            t,
            relax,
            self.std_code[r] if self.std_block[r] else 0,
            q.theory,
            q.it,
            q.language_b1,
            q.degree,
            q.update_t,
            self.update_months,
            q.ethnic_minority,
            q.international,
            q.local,
        )

    def _on_merit(self, cand: np.ndarray, p: int) -> int:
        """The best of ``cand`` on merit for post ``p`` (with the same-unit bonus)."""
        return int(
            kernels.best_on_merit(
                cand, self.score, self.unit, self.post_unit_l[p], self.same_unit_bonus
            )
        )

    def _attempt(self, ev: _Due) -> None:
        """Try to fill a vacant post: merit within the groups the policies say it owes.

        The groups an appointment owes (:meth:`_owed_groups`) are served on their own
        accounts: the best candidate in every owed group first (a young woman serves both
        shares), else the best in one of them, the group further behind first; the other
        is owed again at the next appointment. Only when no candidate is in any owed group
        and vacancy reservation is on is the post held, re-examined every
        ``recheck_months`` until the holding time runs out; then it is filled on merit (or,
        with ``after: relax``, from the owed groups with the 24-month rule waived). A post
        is never held for a combination of groups.
        """
        v = ev.arg
        t = self.env.now
        p = v.post
        if self.guard_vacancies and (
            self.post_holder.item(p) >= 0 or v.k != self.post_nvac[p] - 1 or not self.post_active[p]
        ):
            return  # filled by a move or abolished meanwhile (and perhaps vacant again since)
        if v.first_try is None:
            v.first_try = t
        if self.fast and self.post_plain[p]:  # no policy can apply: straight to merit
            best = self._scan_best(self.post_source[p], t, self.post_unit_l[p])
            if best < 0:
                self._retry(v, reserved=False)
            else:
                self._appoint(best, p)
            return
        r = self.post_rank_l[p]
        found: list[np.ndarray] = []

        def candidates() -> np.ndarray:
            if not found:
                found.append(self._candidates(p, t))
            return found[0]

        owed = self._owed_groups(v, p, r, self.post_tier_l[p], candidates, t)
        if owed is None:  # a draw needs candidates and nobody is eligible
            self._retry(v, reserved=False)
            return
        hard, soft = owed
        planned = self._successors(p)
        use_plan = bool(planned)
        nonlocal_first = self.nonlocal_post[p]
        if (
            self.fast
            and not (hard or soft or use_plan or nonlocal_first or self.std_block[r])
            and len(self.src_list[r]) == 1
        ):
            # (With a blocking standard the vectorised path below checks it for everyone at
            # once: far cheaper than person by person when few meet it.)
            best = self._scan_best(self.src_list[r][0], t, self.post_unit_l[p])
            if best < 0:
                self._retry(v, reserved=False)
            else:
                self._fill(best, p, v, hard, 0)
            return
        cand = candidates()
        if len(cand) == 0:
            self._retry(v, reserved=False)
            return
        if not (hard or soft or use_plan or nonlocal_first):
            self._fill(self._on_merit(cand, p), p, v, hard, 0)
            return
        best, short = self._best_owed(cand, p, r, t, hard, soft, planned)
        if best >= 0:
            self._fill(best, p, v, hard, short)
            return
        if self.reserve:  # nobody in any owed group: hold the post for them
            if t - v.first_try < self.max_hold - 1e-9:
                self._retry(v, reserved=True)
                return
            if self.after_hold is AfterHold.RELAX:
                wide = self._candidates(p, t, relax=True)
                best, _ = self._best_owed(wide, p, r, t, hard, soft, [], groups_only=True)
                if best >= 0:
                    self._fill(best, p, v, hard, short)
                    return
        self._fill(self._on_merit(cand, p), p, v, hard, short)

    def _best_owed(
        self,
        cand: np.ndarray,
        p: int,
        r: int,
        t: float,
        hard: tuple[int, ...],
        soft: tuple[int, ...],
        planned: Sequence[int],
        groups_only: bool = False,
    ) -> tuple[int, int]:
        """The best candidate for post ``p`` by the order of preference, and the owed groups
        with nobody eligible (a bit mask, bit ``g`` for group ``g``).

        Preference: candidates in every owed group, else in one of them (in the order of
        ``hard``); within that, the post's planned successors first, long-service members
        (``soft``) first, and for a district secretary non-local candidates first. -1 when
        some group is owed and no candidate is in any (``groups_only``: also when nobody is
        owed).
        """
        best, short = kernels.best_owed(
            cand,
            self.score,
            self.unit,
            self.post_unit_l[p],
            self.same_unit_bonus,
            np.array(hard, dtype=np.int64),
            groups_only,
            bool(soft),
            float(self.long_months[r]),
            np.array(planned, dtype=np.int64),
            bool(self.nonlocal_post[p]),
            self.qual.local,
            self.female,
            self.birth,
            self.retire,
            t,
            float(rules.YOUNG_AGE_MONTHS),
        )
        return int(best), int(short)

    def _in_all(self, groups: tuple[int, ...], cand: np.ndarray, r: int, t: float) -> np.ndarray:
        ok = np.ones(len(cand), dtype=bool)
        for g in groups:
            ok &= self._group_flags(g, cand, r, t)
        return ok

    def _owed_groups(
        self,
        v: _Vacancy,
        p: int,
        r: int,
        tier: int,
        candidates: Callable[[], np.ndarray],
        t: float,
    ) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """The groups this appointment owes: hard (women, young), in the order to serve
        them, and soft (long service).

        A woman is owed first under the women-staff rule (a rule of the post's unit); then
        the yearly shares in the scenario's reading, the group further behind its share
        first (:func:`sim.rules.quota_priority`): under ``floor`` every group the year's
        count says is due (:func:`sim.rules.floor_requires_group`); under ``expected`` each
        group this vacancy holds a reservation for (:meth:`_share_token`). Only hard groups
        can hold a post vacant; the long-service preference is soft. ``None`` means a draw
        needed candidates and nobody is eligible yet.
        """
        v.rule = self._women_rule_applies(p)
        hard: list[int] = [WOMEN] if v.rule else []
        if self.share_tiers[tier] and self.share_reading is not Reading.NONE:
            n = self.year_count[tier] + 1
            so_far = (self.year_women[tier], self.year_young[tier])
            due: list[int] = []
            for g in (WOMEN, YOUNG):
                q = self.share_q[g]
                if q <= 0:
                    continue
                if self.share_reading is Reading.FLOOR:
                    need = rules.floor_requires_group(q, n, so_far[g])
                else:
                    if v.drawn[g] is None:  # drawn once per vacancy, on its first attempt
                        token = self._share_token(v, g, tier, r, candidates, t)
                        if token is None:
                            return None
                        v.drawn[g] = token
                    need = bool(v.drawn[g])
                if need:
                    due.append(g)
            if len(due) > 1:
                order = rules.quota_priority(self.share_q, n, so_far)
                due.sort(key=order.index)
            v.due = sum(1 << g for g in due)
            hard.extend(g for g in due if g not in hard)
        soft: tuple[int, ...] = ()
        if self.long_on and self.long_months[r] > 0:
            if v.drawn[LONG] is None:
                drawn = self._long_service_required(v, candidates, r, t)
                if drawn is None:
                    return None
                v.drawn[LONG] = drawn
            if v.drawn[LONG]:
                soft = (LONG,)
        return tuple(hard), soft

    def _share_token(
        self,
        v: _Vacancy,
        g: int,
        tier: int,
        r: int,
        candidates: Callable[[], np.ndarray],
        t: float,
    ) -> bool | None:
        """The ``expected`` reading: is this vacancy reserved for group ``g``?

        It is when its uniform falls below the reservation probability that makes the
        expected share equal the target (:func:`sim.rules.expected_share_probability`, on
        the rates realised so far in the tier: :func:`sim.rules.realised_rate`), or when an
        earlier appointment owed the group and served the other one instead (a reservation
        carried over). ``None``: the prior needs candidates and nobody is eligible.
        """
        accounts = self.share_stats[tier][g]
        if accounts is None:  # the prior: the group's share of the first contest's candidates
            cand = candidates()
            if len(cand) == 0:
                return None
            base = np.count_nonzero(self._group_flags(g, cand, r, t)) / len(cand)
            accounts = self.share_stats[tier][g] = rules.new_accounts(base)
        u = self._quota_u(v, U_WOMEN if g == WOMEN else U_YOUNG)
        aim = rules.share_to_aim(self.share_q[g], accounts)
        pi = rules.expected_share_probability(aim, *rules.contest_rates(accounts))
        if u < pi:
            return True
        debt = self.share_debt[tier]
        if debt[g] > 0:
            debt[g] -= 1
            return True
        return False

    def _fill(self, i: int, p: int, v: _Vacancy, hard: tuple[int, ...], short: int) -> None:
        """Appoint ``i`` to ``p`` and settle the quota accounts of the vacancy ``v``.

        Under the ``expected`` reading the tier's realised rates are updated: a reserved
        vacancy that went to its group counts as a success; one that served another owed
        group instead passes its reservation on to the next vacancy of the tier; one that
        went to nobody owed counts as a miss; an unreserved one is an open contest. The
        long-service preference is counted likewise over first-time appointments.
        """
        t = self.env.now
        r = self.post_rank_l[p]
        tier = self.post_tier_l[p]
        inside = (self.female_l[i], (t - self.birth_l[i]) < rules.YOUNG_AGE_MONTHS)
        if self.share_reading is Reading.EXPECTED and self.share_tiers[tier]:
            served_any = any(inside[g] for g in hard)
            for g in (WOMEN, YOUNG):
                if self.share_q[g] <= 0:
                    continue
                accounts = self.share_stats[tier][g]
                if accounts is None or v.drawn[g] is None:
                    continue
                if v.drawn[g] and served_any and not inside[g]:
                    self.share_debt[tier][g] += 1  # served the other owed group: owed again
                else:
                    rules.record_contest(accounts, bool(v.drawn[g]), inside[g])
        if (
            self.long_on
            and self.long_reading is Reading.EXPECTED
            and self.long_months[r] > 0
            and self.max_rank.item(i) < r
            and v.drawn[LONG] is not None
            and (accounts := self.long_stats[r]) is not None
        ):
            long = self.retire_l[i] - t >= self.long_months[r]
            rules.record_contest(accounts, bool(v.drawn[LONG]), long)
        self._appoint(i, p, (v.due, v.rule, short))

    def _women_rule_applies(self, p: int) -> bool:
        """The >30%-women-staff rule: the post's unit has no woman at this tier (seed 001)."""
        tier = self.post_tier_l[p]
        u = self.post_unit_l[p]
        return self.rule_tier_l[tier] and self.flagged_l[u] and self.women_at[u][tier] == 0

    def _long_service_required(
        self, v: _Vacancy, candidates: Callable[[], np.ndarray], r: int, t: float
    ) -> bool | None:
        """The 65% preference: first-time appointees with 2 (heads) or 3 (deputies) terms left.

        Under ``expected`` the vacancy prefers the group with the probability that makes the
        expected share of first-time appointees equal the target, on the rates realised so
        far at the rank (as :meth:`_share_token`); under ``floor`` it always prefers the
        group. ``None`` when the draw needs candidates and nobody is eligible yet.
        """
        if self.long_reading is Reading.NONE:
            return False
        accounts = self.long_stats[r]
        if self.long_reading is Reading.EXPECTED and accounts is not None:
            u = self._quota_u(v, U_LONG)
            aim = rules.share_to_aim(self.long_share, accounts)
            return u < rules.expected_share_probability(aim, *rules.contest_rates(accounts))
        cand = candidates()
        if len(cand) == 0:
            return None
        first = self.max_rank[cand] < r
        if not first.any():
            return False
        base = np.count_nonzero(self._group_flags(LONG, cand[first], r, t)) / np.count_nonzero(
            first
        )
        if self.long_reading is Reading.FLOOR:
            return bool(base < 1.0)  # always prefer the group when the floor reading is chosen
        self.long_stats[r] = rules.new_accounts(base)  # the prior: this contest's candidates
        return self._long_service_required(v, candidates, r, t)

    def _group_flags(self, g: int, cand: np.ndarray, r: int, t: float) -> np.ndarray:
        if g == WOMEN:
            return self.female[cand]
        if g == YOUNG:
            return (t - self.birth[cand]) < rules.YOUNG_AGE_MONTHS
        return (self.retire[cand] - t) >= self.long_months[r]

    def _retry(self, v: _Vacancy, reserved: bool) -> None:
        if reserved and v.post not in self.reserved_since:
            self.reserved_since[v.post] = self.env.now
        _Due(self.env, self.recheck, self._attempt, v)

    def _appoint(self, i: int, p: int, quota: tuple[int, bool, int] = (0, False, 0)) -> None:
        """Appoint person ``i`` to post ``p``; the post they leave falls vacant in turn.

        ``quota`` is logged with the appointment: the groups the yearly shares owed it (a bit
        mask, bit 0 women, bit 1 young), whether the women-staff rule owed it a woman, and the
        owed groups that had no eligible candidate.
        """
        t = self.env.now
        r = self.post_rank_l[p]
        tier = self.post_tier_l[p]
        old_post = self.post[i]
        max_rank = self.max_rank.item(i)
        opened = self.vacant_since.pop(p)
        held = self.reserved_since.pop(p, -1.0)
        female = self.female_l[i]
        retire = self.retire_l[i]
        young = (t - self.birth_l[i]) < rules.YOUNG_AGE_MONTHS
        self.year_count[tier] += 1
        self.year_women[tier] += female
        self.year_young[tier] += young
        self.appt_log.append(
            (
                t,
                p,
                i,
                r,
                self.rank_l[i],
                female,
                young,
                max_rank < r,
                retire - t,
                opened,
                held,
                APPOINTMENT,
                *quota,
            )
        )
        # Move the person: spend the exit budget of the old tier, then index them in the new.
        old_rank = self.rank_l[i]
        rate = self.rate_of_rank[old_rank] + self.rm_on_rank[old_rank] * self.rm_l[i]
        self.hz_left_l[i] = max(0.0, self.hz_left_l[i] - (t - self.hz_t_l[i]) * rate)
        self.hz_t_l[i] = t
        unit = self.post_unit_l[p]
        ef, eu = rules.promotion_bounds(retire, t)
        self.rank[i] = r
        self.post[i] = p
        self.unit[i] = unit
        self.elig_from[i] = ef
        self.elig_until[i] = eu
        self.term_end[i] = t + rules.TERM_MONTHS
        self.terms_done[i] = 0
        if r > max_rank:
            self.max_rank[i] = r
        self.rank_l[i] = r
        self.ef_l[i] = ef
        self.eu_l[i] = eu
        self.unit_l[i] = unit
        if ef > t:
            heapq.heappush(self.waiting[r], (ef, i))
        else:
            self._insert_sorted(r, i)
        self.post_holder[p] = i
        if female:
            self.women_at[self.post_unit_l[p]][tier] += 1
            if old_post >= 0:
                self.women_at[self.post_unit_l[old_post]][self.post_tier_l[old_post]] -= 1
        self._schedule_next(i)
        for hook in self._on_appointed:
            hook(i, p)
        train_after = self.std_mode == "train_after" and self.std_req[r]
        if train_after and not self.meets_standard_one(i, r, t):
            _Due(self.env, self.train_within, self._standard_deadline, i, self.token[i])
        if old_post >= 0:
            self.post_holder[old_post] = GONE
            self._open_vacancy(old_post)

    def move(self, i: int, q: int, kind: int) -> None:
        """Move holder ``i`` to the vacant post ``q`` of the same rank (a rotation): no new
        term, no new eligibility window; the post they leave falls vacant."""
        t = self.env.now
        p = self.post[i]
        r = self.post_rank_l[q]
        assert r == self.rank_l[i] and p >= 0 and self.post_holder.item(q) < 0
        opened = self.vacant_since.pop(q)
        held = self.reserved_since.pop(q, -1.0)
        female = self.female_l[i]
        young = (t - self.birth_l[i]) < rules.YOUNG_AGE_MONTHS
        self.appt_log.append(
            (
                t,
                q,
                i,
                r,
                r,
                female,
                young,
                False,
                self.retire_l[i] - t,
                opened,
                held,
                kind,
                0,
                False,
                0,
            )
        )
        unit = self.post_unit_l[q]
        self.post[i] = q
        self.unit[i] = unit
        self.unit_l[i] = unit
        self.post_holder[q] = i
        self.post_holder[p] = GONE
        if female:
            self.women_at[unit][self.post_tier_l[q]] += 1
            self.women_at[self.post_unit_l[p]][self.post_tier_l[p]] -= 1
        if kind != REASSIGN:
            self.rot_last[i] = t
            self.rot_count[i] += 1
        self._open_vacancy(p)

    def longest_vacant(self, r: int) -> int:
        """The vacant post of rank ``r`` that has waited longest, -1 if none."""
        best, since = -1, math.inf
        for q, opened in self.vacant_since.items():
            if self.post_rank_l[q] == r and opened < since:
                best, since = q, opened
        return best

    def abolish_post(self, p: int) -> None:
        """Post ``p`` goes: never filled again; a vacancy it had is closed now."""
        self.post_active[p] = False
        if p in self.vacant_since:
            opened = self.vacant_since.pop(p)
            held = self.reserved_since.pop(p, -1.0)
            self.vac_closed.append((opened, self.env.now, self.post_tier_l[p], held))

    def set_post_unit(self, posts: np.ndarray, unit: int) -> None:
        """Posts ``posts`` now belong to ``unit`` (a merger), and so do their holders."""
        self.post_unit[posts] = unit
        for p in posts.tolist():
            self.post_unit_l[p] = unit
            i = self.post_holder.item(p)
            if i >= 0:
                self.unit[i] = unit
                self.unit_l[i] = unit

    def refresh_unit_counts(self) -> None:
        """Recount women holders by unit and tier, and the units the women-staff metric
        looks at (those that still have posts), after a restructuring."""
        self.women_at = [[0, 0, 0] for _ in range(self.layout.n_units)]
        for p in np.flatnonzero(self.post_holder >= 0).tolist():
            if self.female_l[self.post_holder.item(p)]:
                self.women_at[self.post_unit_l[p]][self.post_tier_l[p]] += 1
        active = np.array(self.post_active)
        kept = []
        for u, tiers in self.metric_units:
            at = set(self.post_tier[active & (self.post_unit == u)].tolist())
            if at:
                kept.append((u, [tier for tier in tiers if tier in at] or tiers))
        self.metric_units = kept

    # --------------------------------------------------------- yearly cycle
    def _recruit(self, _ev: Any = None) -> None:
        """Replenish the specialist pool to its planned size (assumed yearly intake)."""
        t = self.env.now
        n = self.n
        in_pool = np.flatnonzero(self.rank[:n] == POOL)
        gone = in_pool[self.gone_t[in_pool] <= t]
        self._log_pool_exits(gone)
        for i in gone.tolist():  # their stale index entries are dropped by later scans
            self.rank_l[i] = GONE
            self.eu_l[i] = -math.inf
        alive = len(in_pool) - len(gone)
        year = int(t // 12)
        k = self.pool_target - alive
        if k > 0:
            self._alloc(n + k)
            idx = np.arange(n, n + k)
            rec = self.sc.dynamics.recruitment
            rec_pool_min = self.sc.dynamics.pool_min_months
            female = self.female_u[idx] < rec.women_share
            young = self.young_u[idx] < rec.young_share
            ages = np.empty(k)
            ages[young] = young_age_ppf(
                self.age_u[idx[young]], rec.young_age, rec.young_min_age, female[young]
            )
            ages[~young] = old_age_ppf(self.age_u[idx[~young]], rec.age, female[~young], year)
            self.female[idx] = female
            self.birth[idx] = np.floor(t - ages * 12.0)
            self.retire[idx] = _retirement_months(female, self.birth[idx].astype(np.int64))
            self.rank[idx] = POOL
            self.max_rank[idx] = POOL
            self.unit[idx] = (self.unit_u[idx] * self.layout.n_units).astype(np.int32)
            self.elig_from[idx] = t + rec_pool_min
            self.hz_t[idx] = t
            self.qual.assign(idx, rec.qualifications, self.attr_u[idx], t, self.update_months)
            self.n = n + k
            self._update_pool_gone(idx)
            # This year's evaluation for the recruits, from the same yearly draws as everyone.
            self.score[idx] = self._scores_for(year, idx)
            self._index_recruits(idx)
        self.schedule_at(t + 12, self._recruit)

    def _log_pool_exits(self, idx: np.ndarray) -> None:
        """Pool members who left since the last intake (exits of non-holders are not counted
        in the exits table, which is about post holders)."""
        if self.keep_log:
            for i in idx:
                t_gone = float(self.gone_t[i])
                cause = RETIREMENT if t_gone >= self.retire[i] else OTHER_EXIT
                self.exit_log.append((t_gone, int(i), -1, POOL, cause, -1))
        self.rank[idx] = GONE
        self.elig_until[idx] = -np.inf

    def _year_end(self, _ev: Any = None) -> None:
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
        for k, target in enumerate(self.targets):
            if isinstance(target, StockTarget):
                self.trajectory[k, yi] = self._stock_metric(k, target, t)
            elif isinstance(target, PoolTarget):
                self.trajectory[k, yi] = self._pool_metric(target, t)
            elif isinstance(target, UnitRuleTarget):
                self.trajectory[k, yi] = self._women_staff_metric()
        self.year_count = [0, 0, 0]
        self.year_women = [0, 0, 0]
        self.year_young = [0, 0, 0]
        if t < self.t_end:
            self._refresh_scores(year + 1)
            self.schedule_at(t + 12, self._year_end, urgent=True)

    def _stock_metric(self, k: int, target: StockTarget, t: float) -> float:
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

    def _target_flags(
        self, target: StockTarget | PoolTarget, h: np.ndarray, t: float
    ) -> np.ndarray:
        """The target's group flags for people ``h``: one group, or several combined."""
        planned = isinstance(target, PoolTarget)
        if not isinstance(target.group, list):
            return self._holder_flags(target.group, h, t, planned)
        flags = [self._holder_flags(g, h, t, planned) for g in target.group]
        combine = np.logical_and if target.match == "all" else np.logical_or
        return combine.reduce(flags)

    def _pool_metric(self, target: PoolTarget, t: float) -> float:
        """Share of the group among the pool members planned for posts of the target's ranks."""
        if self.pool is None:  # no pool in this scenario
            return math.nan
        blocks = (
            None
            if target.blocks is None
            else {self.layout.block_ids.index(b) for b in target.blocks}
        )
        who = self.pool.members_of({RANK_CODE[r] for r in target.ranks}, blocks)
        if len(who) == 0:
            return math.nan
        return float(np.mean(self._target_flags(target, who, t)))

    def _holder_flags(
        self, group: str, h: np.ndarray, t: float, planned: bool = False
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

    def _women_staff_metric(self) -> float:
        """Share of flagged units whose leaders include a woman at every rule tier."""
        if not self.metric_units:
            return math.nan
        women_at = self.women_at
        ok = sum(all(women_at[u][tier] > 0 for tier in tiers) for u, tiers in self.metric_units)
        return ok / len(self.metric_units)

    # ------------------------------------------- levers_from and baselines
    def _start_policy_clock(self) -> None:
        """Before the run: switch the levers off until ``policy.levers_from`` (business as
        usual before it) and schedule the baselines of relative targets.

        The selection code is left as it is: what it reads for the levers is switched, namely
        ``share_reading`` (to ``none``), ``reserve`` (False), ``rule_tier_l`` (no tier under
        the women-staff rule) and ``long_on`` (False); :meth:`_levers_on` restores them from
        the scenario. ``post_plain`` was computed with the levers on, so posts they will
        constrain take the general selection path from the start (the same choices).
        """
        self.baseline_value = np.full(len(self.targets), np.nan)
        by_time: dict[float, list[int]] = {}
        for k, target in enumerate(self.targets):
            base = getattr(target, "baseline", None)
            if base is not None:
                tb = max(float(self.t0), date_time(self.sc.baseline_date(base)))
                by_time.setdefault(tb, []).append(k)
        for tb, ks in sorted(by_time.items()):
            if tb <= self.t0:
                self._record_baselines(ks)
            else:
                self.schedule_at(tb, lambda _ev, ks=ks: self._record_baselines(ks), urgent=True)
        if self.t_levers > self.t0:
            self.share_reading = Reading.NONE
            self.reserve = False
            self.rule_tier_l = [False, False, False]
            self.long_on = False
            self.schedule_at(self.t_levers, self._levers_on, urgent=True)

    def _levers_on(self, _ev: Any = None) -> None:
        """``policy.levers_from``: the plan's levers start (values as in
        :meth:`_init_parameters`); the floor reading counts the year's appointments from now."""
        pol = self.sc.policy
        self.share_reading = pol.appointment_share.reading
        self.reserve = pol.vacancy_reservation.enabled
        self.rule_tier_l = self.wsr_tiers.tolist()
        self.long_on = pol.long_service.enabled
        self.year_count = [0, 0, 0]
        self.year_women = [0, 0, 0]
        self.year_young = [0, 0, 0]

    def _record_baselines(self, ks: list[int]) -> None:
        """The baseline values of relative targets ``ks``, measured now (their baseline date,
        never after the levers start)."""
        t = self.env.now
        for k in ks:
            target = self.targets[k]
            assert isinstance(target, StockTarget)
            self.baseline_value[k] = self._stock_metric(k, target, t)

    # --------------------------------------------------------------- congress
    def _congress(self, _ev: Any = None, initial: bool = False) -> None:
        """Choose the provincial Party committee (Chỉ thị 35-CT/TW; :mod:`sim.congress`)."""
        cfg = self.sc.congress
        assert cfg is not None
        t = self.env.now
        n = self.n
        ranks = np.array([RANK_CODE[r] for r in cfg.candidate_ranks])
        cand = np.flatnonzero(np.isin(self.rank[:n], ranks))
        left = self.retire[cand] - t
        inc = np.array([int(c) in self.committee for c in cand], dtype=bool)
        ok = np.where(
            inc, left >= cfg.incumbent_min_service_months, left >= cfg.new_member_min_service_months
        )
        cand, inc = cand[ok], inc[ok]
        score = self.score[cand] + cfg.head_bonus * (self.rank[cand] == L1_HEAD)
        order = np.argsort(-score, kind="stable")
        cand, inc, score = cand[order], inc[order], score[order]
        female = self.female[cand]
        young = (t - self.birth[cand]) < rules.YOUNG_AGE_MONTHS
        cap = None if initial else math.floor(cfg.max_incumbent_share * cfg.size + 1e-9)
        if cfg.enforce_floors:
            chosen = congress.floors_by_construction(
                female, young, inc, cfg.size, cfg.women_floor, cfg.young_floor, cap
            )
        else:
            chosen = self._congress_vote(cand, score, inc, female, young, cap)
        members = cand[chosen]
        new = int((~inc[chosen]).sum())
        self.committee = {int(m) for m in members}
        if not initial:
            row = (len(members), int(female[chosen].sum()), int(young[chosen].sum()), new)
            self.committee_rows.append(row)
            if self.keep_log:
                self.committee_members.append(members.copy())

    def _congress_vote(
        self,
        cand: np.ndarray,
        score: np.ndarray,
        inc: np.ndarray,
        female: np.ndarray,
        young: np.ndarray,
        cap: int | None,
    ) -> np.ndarray:
        """The congress as it happens: list, the directive's floors on it, the vote."""
        cfg = self.sc.congress
        assert cfg is not None
        g = self.rng["congress"]
        u = g.random(2)
        # One vote draw per person, whoever is on the list: lists that differ (another
        # compliance) meet the same delegates' judgements (common random numbers).
        noise = g.standard_normal(self.n)
        length = rules.congress_list_length(cfg.size, cfg.list_surplus)
        on = congress.nominate(inc, length, cap)
        groups = [(young, cfg.young_floor), (female, cfg.women_floor)]
        on = congress.comply(on, groups, ~(female | young), cfg.compliance, u)
        votes = score + cfg.incumbent_bonus * inc + cfg.vote_noise * noise[cand]
        return congress.vote(on, votes, cfg.size)

    # ------------------------------------------------------------------- run
    def run(self) -> RepResult:
        """Run the replication to the end of the horizon and reduce it to a :class:`RepResult`."""
        env = self.env
        start_year = self.sc.start.year
        self._start_policy_clock()
        if self.sc.congress is not None:
            self._congress(initial=True)
            for tc in self.congress_times:
                self.schedule_at(tc, self._congress)
        rec_month = self.sc.dynamics.recruitment.month
        first_rec = 12 * start_year + rec_month - 1
        if first_rec < self.t0:
            first_rec += 12
        self.schedule_at(first_rec, self._recruit)
        self._wire()
        for mechanism in self.mechanisms:
            mechanism.start()
        self.schedule_at(12 * (start_year + 1), self._year_end, urgent=True)
        env.run(until=self.t_end + 1e-9)
        n_events = next(env._eid) - len(env._queue)
        return self._result(n_events)

    def _appt_array(self) -> np.ndarray:
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

    def _tables(self, appts: np.ndarray) -> None:
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
        closed = np.concatenate(
            [appts["t"], np.full(len(open_posts), float(self.t_end)), gone[:, 1]]
        )
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

    def _result(self, n_events: int) -> RepResult:
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
            lower, upper = _thresholds(target, self.baseline_value[k])
            threshold[k] = lower
            met[k] = _compare(value[k], target.op, lower)
            met_upper[k] = _compare(value[k], target.op, upper)
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

    def _flow_metric(
        self, k: int, target: FlowTarget, appts: np.ndarray, years: np.ndarray
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

    def _committee_metric(self, k: int, target: CommitteeTarget) -> float:
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


class _Due(Event):
    """A callback due after ``delay``: the least an event costs SimPy (no process behind it).

    The callback receives the event, which carries ``arg`` and ``token`` for it.
    """

    def __init__(
        self,
        env: simpy.Environment,
        delay: float,
        callback: Callable[[Any], None],
        arg: Any = None,
        token: int = 0,
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        self.arg = arg
        self.token = token
        env.schedule(self, NORMAL, delay)


class _Vacancy:
    """The state of one vacancy while it waits to be filled."""

    __slots__ = ("drawn", "draws", "due", "first_try", "k", "post", "rule")

    def __init__(self, post: int, k: int, draws: np.ndarray | None) -> None:
        self.post = post
        self.k = k  # the post's k-th vacancy: row k of its draw tables
        self.draws = draws  # overflow draws, when k is past the tables
        # Per group (women, young, long service): whether the vacancy is reserved for it
        # under the expected reading, decided on its first attempt.
        self.drawn: list[bool | None] = [None, None, None]
        self.due = 0  # groups the yearly shares owe it at its latest attempt (bit mask)
        self.rule = False  # the women-staff rule owes it a woman (latest attempt)
        self.first_try: float | None = None


def _thresholds(target: Any, b: float) -> tuple[float, float]:
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


def _compare(value: float, op: str, threshold: float) -> bool:
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


def run_model(scenario: Scenario, seed: int, rep: int, keep_log: bool = False) -> RepResult:
    """Run replication ``rep`` of ``scenario`` with master seed ``seed``."""
    return Model(scenario, seed, rep, keep_log=keep_log).run()


__all__ = ["CAUSES", "TIER_NAMES", "Model", "RepResult", "run_model", "stream_seeds"]
