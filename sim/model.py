"""The discrete-event model of one replication: people, posts, their life cycle, congresses.

Time is an absolute month index (``12 * year + month - 1``); a replication runs from the
scenario's start to the end of its horizon. People live in flat numpy arrays (one slot a
person, declared on :class:`Model`); SimPy schedules the events. Who fills a vacancy is
:mod:`sim.selection`; what is measured is :mod:`sim.outcomes`; the levers besides selection
are the plug-ins of :mod:`sim.mechanisms`. Their functions are bound to :class:`Model` as
methods, so they read the same state.

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

import functools
import math
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT, Event

from sim import congress, mechanisms, outcomes, rules, selection
from sim.codes import (
    APPOINTMENT,
    BELOW_STANDARD,
    CAUSES,
    DEATH_ILLNESS,
    NEXT_EXIT,
    NEXT_RETIRE,
    NEXT_TERM,
    NOT_REAPPOINTED,
    OTHER_EXIT,
    REASSIGN,
    REMOVED,
    RETIREMENT,
    TIER_NAMES,
    TIER_OF_RANK,
    date_time,
)
from sim.events import Due
from sim.outcomes import RepResult
from sim.params import Params, compile_params
from sim.plugin import Mechanism
from sim.population import (
    L1_HEAD,
    POOL,
    Layout,
    build_people,
    old_age_ppf,
    pool_size,
    young_age_ppf,
)
from sim.qualifications import DRAWS as QUAL_DRAWS
from sim.qualifications import QualArrays
from sim.roster import Roster
from sim.scenario import (
    RANK_CODE,
    Reading,
    Scenario,
    StockTarget,
)
from sim.selection import RankMembers
from sim.succession import SuccessionPlan

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


def stream_seeds(seed: int, rep: int, branch: int = 0) -> dict[str, np.random.SeedSequence]:
    """The seed of every named stream of replication ``rep`` under master seed ``seed``.

    The seed tree is master seed -> replication -> stream; it depends on nothing else, so
    replication ``rep`` is the same whatever the number of workers or the backend. A merged
    province runs several models in one replication (each source province, then the merged
    one): ``branch`` tells them apart. Branch 0 is the plain tree, so the first source
    province of a merger sees the same draws as its own scenario run alone.
    """
    key = (lambda k: (rep, k)) if branch == 0 else (lambda k: (rep, k, branch))
    return {
        name: np.random.SeedSequence(entropy=seed, spawn_key=key(k))
        for k, name in enumerate(STREAMS)
    }


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
    members: RankMembers  # per rank, who holds it (the candidate scans read it)
    # Per target, the years the target's posts had nobody to measure (sim/outcomes.py).
    empty_years: np.ndarray

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        rep: int = 0,
        *,
        keep_log: bool = False,
        layout: Layout | None = None,
        params: Params | None = None,
        fast: bool = True,
        roster: Roster | None = None,
        branch: int = 0,
        handoff: Any = None,
    ) -> None:
        if params is None or params.scenario is not scenario:
            params = compile_params(scenario, layout)
        self.params = params
        self.sc = scenario
        self.roster = roster  # start from a real roster instead of a synthetic population
        # Start from the people of merged provinces on the merger date (sim/merger.py).
        self.handoff = handoff
        self.fast = fast  # use the sorted-scan selection where it applies (same results)
        self.rep = rep
        self.keep_log = keep_log
        self.layout = params.layout
        self.seeds = stream_seeds(seed, rep, branch)
        self.rng = {n: np.random.Generator(np.random.PCG64(s)) for n, s in self.seeds.items()}
        # The run begins at the start, or on the merger date for a merged province's people.
        self.t_begin = float(handoff.t) if handoff is not None else float(scenario.start_month)
        self.env = simpy.Environment(initial_time=self.t_begin)
        self.t0 = params.t0
        self.t_end = params.t_end
        self.year0 = params.year0
        self.n_years = params.n_years
        self.t_levers = params.t_levers
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

    # Selection (sim/selection.py) and measurement (sim/outcomes.py): functions of the model's
    # state, bound here as its methods.
    _index_recruits = selection.index_recruits
    _index_move = selection.index_move
    _scan_best = selection.scan_best
    _open_vacancy = selection.open_vacancy
    _quota_u = selection.quota_u
    _candidates = selection.candidates
    _on_merit = selection.on_merit
    _attempt = selection.attempt
    _best_owed = selection.best_owed
    _owed_groups = selection.owed_groups
    _share_token = selection.share_token
    _fill = selection.fill
    _women_rule_applies = selection.women_rule_applies
    _long_service_required = selection.long_service_required
    _group_flags = selection.group_flags
    _retry = selection.retry
    _year_end = outcomes.year_end
    _stock_metric = outcomes.stock_metric
    _measure_state = outcomes.measure_state
    _target_flags = outcomes.target_flags
    _pool_metric = outcomes.pool_metric
    _holder_flags = outcomes.holder_flags
    _women_staff_metric = outcomes.women_staff_metric
    _appt_array = outcomes.appt_array
    _tables = outcomes.tables
    _result = outcomes.result
    _flow_metric = outcomes.flow_metric
    _committee_metric = outcomes.committee_metric

    # ------------------------------------------------------------------ setup
    def _init_parameters(self) -> None:
        """Read the parameter bundle (:mod:`sim.params`): the model's copies of what it reads
        event by event, and its own state for what the levers' clock switches."""
        prm = self.params
        self.h_other = prm.h_other
        self.h_death = prm.h_death
        self.rate_of_rank = prm.rate_of_rank
        self.rm_on_rank = prm.rm_on_rank
        self.removal = prm.removal
        self.removal_multiplier = prm.removal_multiplier
        self.p_reappoint = prm.p_reappoint
        self.max_terms_of_rank = prm.max_terms_of_rank
        self.update_months = prm.update_months
        self.std_req = prm.std_req
        self.std_mode = prm.std_mode
        self.std_block = prm.std_block
        self.std_code = prm.std_code
        self.train_within = prm.train_within
        self.src_lut = prm.src_lut
        self.src_list = prm.src_list
        self.same_unit_bonus = prm.same_unit_bonus
        self.bias = prm.bias
        self.share_q = prm.share_q
        self.share_tiers = prm.share_tiers
        self.max_hold = prm.max_hold
        self.recheck = prm.recheck
        self.after_hold = prm.after_hold
        self.wsr_tiers = prm.wsr_tiers
        self.long_share = prm.long_share
        self.long_reading = prm.long_reading
        self.long_months = prm.long_months
        # Switched by the levers' clock (:meth:`_start_policy_clock`).
        self.share_reading = prm.share_reading
        self.reserve = prm.reserve
        self.long_on = prm.long_on
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
        self.post_tier = self.params.post_tier
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
        # Units and the women-staff rule; the fast path; the units the women-staff metric
        # looks at (a restructuring changes them).
        prm = self.params
        self.unit_flagged = prm.unit_flagged
        self.flagged_l = self.unit_flagged.tolist()
        self.rule_tier_l = self.wsr_tiers.tolist()  # switched by the levers' clock
        self.nonlocal_post = prm.nonlocal_post
        self.post_plain = prm.post_plain
        self.post_source = prm.post_source
        self.metric_units = [(u, list(tiers)) for u, tiers in prm.metric_units]

    def _init_people(self) -> None:
        if self.handoff is not None:
            people = self.handoff.people
        elif self.roster is not None:
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
        self.members.add(idx, self.rank[idx])
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
        self.hz_t[idx] = self.t_begin
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
        if self.handoff is not None:  # people of merged provinces keep their state
            self.handoff.apply(self, idx)
        # Women holding posts, by unit and tier (for the women-staff rule).
        self.women_at = [[0, 0, 0] for _ in range(self.layout.n_units)]
        for i in holders[people.female[holders]].tolist():
            p = int(people.post[i])
            self.women_at[self.post_unit_l[p]][self.post_tier_l[p]] += 1
        self.initial_holder = self.post_holder.copy() if self.keep_log else None
        self.pool_target = (
            self.handoff.pool_target
            if self.handoff is not None
            else pool_size(self.sc, self.layout)
        )
        self._update_pool_gone(np.flatnonzero(pool))
        self._init_mirrors()
        self._refresh_scores(int(self.t_begin // 12))
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
        first = self.cap == 0
        cap = self.cap

        def grown(name: str, fill: Any, dtype: Any) -> np.ndarray:
            arr = np.full(new_cap, fill, dtype=dtype)
            if not first:
                arr[:cap] = self.__dict__[name]
            return arr

        def extended(name: str, values: np.ndarray) -> np.ndarray:
            return values if first else np.concatenate([self.__dict__[name], values])

        def longer(name: str, fill: Any) -> list[Any]:
            lst: list[Any] = [] if first else self.__dict__[name]
            lst.extend([fill] * extra)
            return lst

        self.female = grown("female", False, bool)
        self.birth = grown("birth", 0.0, float)
        self.retire = grown("retire", np.inf, float)
        self.rank = grown("rank", GONE, np.int8)
        self.max_rank = grown("max_rank", GONE, np.int8)
        self.unit = grown("unit", -1, np.int32)
        self.elig_from = grown("elig_from", np.inf, float)
        self.elig_until = grown("elig_until", -np.inf, float)
        self.hz_t = grown("hz_t", 0.0, float)
        self.gone_t = grown("gone_t", np.inf, float)
        self.score = grown("score", 0.0, float)
        # Scalar-only state lives in Python lists (faster per event than numpy scalars).
        self.term_end = longer("term_end", math.inf)
        self.terms_done = longer("terms_done", 0)
        self.decisions = longer("decisions", 0)
        self.token = longer("token", 0)
        self.next_kind = longer("next_kind", 0)
        self.post = longer("post", GONE)
        self.rot_last = longer("rot_last", -math.inf)
        self.rot_count = longer("rot_count", 0)
        draws["attr_u"] = self.rng["attributes"].random(size=(extra, len(QUAL_DRAWS)))
        self.hz_left = extended("hz_left", draws["hz_left"])
        self.cause_u = extended("cause_u", draws["cause_u"])
        self.term_u = extended("term_u", draws["term_u"])
        self.merit = extended("merit", draws["merit"])
        self.female_u = extended("female_u", draws["female_u"])
        self.young_u = extended("young_u", draws["young_u"])
        self.age_u = extended("age_u", draws["age_u"])
        self.unit_u = extended("unit_u", draws["unit_u"])
        self.attr_u = extended("attr_u", draws["attr_u"])
        if first:
            self.members = RankMembers(new_cap)
            self.qual = QualArrays.empty(new_cap)
        else:
            self.members.grow(new_cap)
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
        self.targets = list(self.sc.targets)
        self.target_post_mask = self.params.target_post_mask
        self.trajectory = np.full((len(self.targets), self.n_years), np.nan)
        self.congress_times = self.params.congress_times
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

    def _standard_deadline(self, ev: Due) -> None:
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
        Due(self.env, t - now if t > now else 0.0, self._on_person_event, i, token)

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
                Due(env, t - now if t > now else 0.0, callback, i, token[i])

    def _on_person_event(self, ev: Due) -> None:
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
        self.members.move(i, self.rank.item(i), GONE)
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
        rank_now = self.rank.item(i)
        if rank_now != r:
            self.members.move(i, rank_now, r)
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
            Due(self.env, self.train_within, self._standard_deadline, i, self.token[i])
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
            self.members.add(idx, np.full(len(idx), POOL))
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
        self.members.drop(idx, self.rank[idx])
        self.rank[idx] = GONE
        self.elig_until[idx] = -np.inf

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
        preset = getattr(self.handoff, "baselines", {})
        for k, target in enumerate(self.targets):
            if target.id in preset:  # measured on the source province before a merger
                self.baseline_value[k] = preset[target.id]
                by_time = {tb: [j for j in ks if j != k] for tb, ks in by_time.items()}
        for tb, ks in sorted(by_time.items()):
            if not ks:
                continue
            if tb <= self.t_begin:
                self._record_baselines(ks)
            else:
                self.schedule_at(tb, lambda _ev, ks=ks: self._record_baselines(ks), urgent=True)
        if self.t_levers > self.t_begin:
            self.share_reading = Reading.NONE
            self.reserve = False
            self.rule_tier_l = [False, False, False]
            self.long_on = False
            self.schedule_at(self.t_levers, self._levers_on, urgent=True)

    def _levers_on(self, _ev: Any = None) -> None:
        """``policy.levers_from``: the plan's levers start (values as in
        :meth:`_init_parameters`); the floor reading counts the year's appointments from now."""
        prm = self.params
        self.share_reading = prm.share_reading
        self.reserve = prm.reserve
        self.rule_tier_l = self.wsr_tiers.tolist()
        self.long_on = prm.long_on
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
        # A merged province's first committee is appointed (SPEC §8): no vote, no cap on
        # sitting members, and some seats go to people outside the modelled leaders.
        outsiders = self.handoff.outsiders if self._first_appointed(initial) else None
        appointed = outsiders is not None
        seats = cfg.size - (outsiders or 0)
        cap = (
            None if initial or appointed else math.floor(cfg.max_incumbent_share * cfg.size + 1e-9)
        )
        if cfg.enforce_floors:
            chosen = congress.floors_by_construction(
                female, young, inc, seats, cfg.women_floor, cfg.young_floor, cap
            )
        else:
            chosen = self._congress_vote(cand, score, inc, female, young, cap, seats, appointed)
        members = cand[chosen]
        new = int((~inc[chosen]).sum())
        self.committee = {int(m) for m in members}
        if not initial:
            # Outsiders are counted as men aged 40 or more (the non-local secretary and the
            # like); they are not among the modelled leaders.
            row = (
                len(members) + (outsiders or 0),
                int(female[chosen].sum()),
                int(young[chosen].sum()),
                new,
            )
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
        seats: int | None = None,
        appointed: bool = False,
    ) -> np.ndarray:
        """The congress as it happens: list, the directive's floors on it, the vote.

        ``appointed``: the committee is appointed, not elected (a merged province's first,
        SPEC §8): the list and the directive's floors on it as at an election (the calibrated
        compliance), then the best-placed by evaluation, sitting members favoured as by the
        vote, without the delegates' noise."""
        cfg = self.sc.congress
        assert cfg is not None
        g = self.rng["congress"]
        u = g.random(2)
        # One vote draw per person, whoever is on the list: lists that differ (another
        # compliance) meet the same delegates' judgements (common random numbers).
        noise = g.standard_normal(self.n)
        size = cfg.size if seats is None else seats
        length = rules.congress_list_length(size, cfg.list_surplus)
        on = congress.nominate(inc, length, cap)
        groups = [(young, cfg.young_floor), (female, cfg.women_floor)]
        on = congress.comply(on, groups, ~(female | young), cfg.compliance, u)
        noise_sd = 0.0 if appointed else cfg.vote_noise
        votes = score + cfg.incumbent_bonus * inc + noise_sd * noise[cand]
        return congress.vote(on, votes, size)

    def _first_appointed(self, initial: bool) -> bool:
        """Whether this congress is a merged province's first, appointed committee."""
        h = self.handoff
        return not initial and h is not None and h.outsiders is not None and not self.committee_rows

    # ------------------------------------------------------------------- run
    def run(self) -> RepResult:
        """Run the replication to the end of the horizon and reduce it to a :class:`RepResult`."""
        self.begin()
        self.advance(self.t_end + 1e-9)
        return self.finish()

    def begin(self) -> None:
        """Schedule the first events (the yearly cycle, congresses, the mechanisms)."""
        t = self.t_begin
        start_year = self.sc.start.year
        self._start_policy_clock()
        if self.sc.congress is not None:
            if self.handoff is not None:  # the sitting members of the merged committees
                self.committee = set(self.handoff.committee)
            else:
                self._congress(initial=True)
            for tc in self.congress_times:
                if tc >= t:
                    self.schedule_at(tc, self._congress)
        rec_month = self.sc.dynamics.recruitment.month
        first_rec = 12 * start_year + rec_month - 1
        while first_rec < max(self.t0, t):
            first_rec += 12
        self.schedule_at(first_rec, self._recruit)
        self._wire()
        for mechanism in self.mechanisms:
            mechanism.start()
        self.schedule_at(12 * (int(t // 12) + 1), self._year_end, urgent=True)

    def advance(self, until: float) -> None:
        """Run the events before ``until`` (months)."""
        self.env.run(until=until)

    def finish(self) -> RepResult:
        """Reduce the replication, as far as it has run, to a :class:`RepResult`."""
        env = self.env
        n_events = next(env._eid) - len(env._queue)
        return self._result(n_events)


def run_model(scenario: Scenario, seed: int, rep: int, keep_log: bool = False) -> RepResult:
    """Run replication ``rep`` of ``scenario`` with master seed ``seed``."""
    if scenario.merger is not None:  # its sources, then itself (sim/merger.py)
        from sim.runner import run_replication

        return run_replication(scenario, seed, rep, keep_log=keep_log)
    return Model(scenario, seed, rep, keep_log=keep_log).run()


__all__ = ["CAUSES", "TIER_NAMES", "Model", "RepResult", "run_model", "stream_seeds"]
