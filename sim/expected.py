"""A deterministic expected-value (cohort) model of the same tiers and rules.

Where :mod:`sim.model` follows people one by one with random draws, this model follows the
*expected number* of people in each cell of

    rank x sex x age in months x months since appointment (or since entering the pool)

month by month, with the same statutory rules (:mod:`sim.rules`: retirement schedule, terms
and reappointment, promotion eligibility), the same hazards, the same pool intake and the same
quota readings. It answers "what is the mean trajectory?" directly, without Monte Carlo, and so
checks the discrete-event model (``docs/VALIDATION.md``): on the mechanisms both represent, the
stochastic means must agree with it within Monte Carlo error.

What it represents, and how:

- ageing, the retirement schedule by sex and birth month (Labour Code 2019 art. 169, Decree
  135/2020), exits at the tier's yearly hazard plus death and ill-health, and the mean removal
  hazard (the stochastic model's removal hazard varies with merit; here its mean is used);
- terms of 5 years with reappointment with the scenario's probability, extension to retirement
  when less than 2 years are left, and a limit on consecutive terms (Decree 138/2020 art. 41);
- vacancies filled after the scenario's gamma-distributed delay, from the eligible candidates
  of the source ranks: 60 months of service left (Kết luận 08-KL/TW), 24 months in post, and the
  pool's minimum time; a vacancy with nobody eligible is retried monthly;
- selection at random within each year's ranking, as the stochastic model selects with a very
  large evaluation noise: each candidate has a uniform place in the year's evaluation, every
  appointment takes the best remaining candidate of the group it must go to, so people who
  became candidates since the evaluation (not yet passed over) go first; the groups come from
  the appointment share (``expected`` reading: the group is required with probability
  :func:`sim.rules.expected_share_probability`) and the soft long-service preference;
- the yearly intake that tops the specialist pool up to its planned size.

What it does not represent: persistent merit (an open merit contest picks younger candidates
than random selection does, because the best older ones were promoted earlier), the evaluation
bias, units (the women-staff rule, the same-unit bonus, non-local district secretaries), vacancy
reservation, the succession pool, rotation, training and post standards, the restructuring and
congresses. :func:`unsupported` lists those a scenario switches on, and :func:`core_variant`
switches them off so that the stochastic model can be compared on common ground.

"Expected" is in the mean-field sense: a group's share among candidates is computed from
expected counts, a group with an expected ``m`` candidates is taken to be non-empty with
probability ``1 - exp(-m)`` (a Poisson approximation), and places in the ranking are a
continuum (each cell's remaining candidates spread evenly below a ceiling). On the flows both
models share this agrees with the stochastic means to within a few tenths of a point; where
an appointment is reserved for a small group, the continuum overstates how far the group's
best are skimmed off (``docs/VALIDATION.md``, section 1.3, measures both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from sim import rules
from sim.model import _retirement_months
from sim.population import (
    L1_DEPUTY,
    L1_HEAD,
    L2_DEPUTY,
    L2_HEAD,
    POOL,
    YOUNG_TOP,
    build_layout,
    old_age_bounds,
    pool_size,
)
from sim.scenario import (
    RANK_CODE,
    YOUNG_LAW_TOP,
    AgeDist,
    AgeLaw,
    Reading,
    Scenario,
    YoungAgeLaw,
    law_for,
)

#: The tier of each rank code (0 pool, 1 l2, 2 l1).
TIER = (0, 1, 1, 2, 2)
TIER_NAMES = ("pool", "l2", "l1")
#: Ages followed, in months: from 16 to 66 years (nobody is at work outside them).
AGE_MIN, AGE_MAX = 16 * 12, 66 * 12
#: Mass below which a cell is treated as empty.
TINY = 1e-12
#: Evaluation noise that turns the stochastic model's merit contest into random selection.
RANDOM_SELECTION_NOISE_SD = 1.0e6


class NotRepresented(ValueError):
    """The scenario uses a mechanism the expected-value model cannot represent."""


def unsupported(sc: Scenario) -> list[str]:
    """The mechanisms switched on in ``sc`` that the expected-value model leaves out."""
    pol = sc.policy
    dyn = sc.dynamics
    out = []
    if dyn.evaluation_noise_sd < RANDOM_SELECTION_NOISE_SD:
        out.append("merit selection (persistent latent merit)")
    if pol.evaluation_bias:
        out.append("evaluation bias")
    if dyn.same_unit_bonus and dyn.evaluation_noise_sd < RANDOM_SELECTION_NOISE_SD:
        out.append("same-unit bonus")
    if dyn.removal.yearly_rate * pol.removal_multiplier > 0 and dyn.removal.merit_slope:
        out.append("merit-linked removal (its mean rate is used)")
    if pol.vacancy_reservation.enabled:
        out.append("vacancy reservation")
    if pol.women_staff_rule.enabled:
        out.append("women-staff rule")
    if pol.succession_pool.enabled:
        out.append("succession pool")
    if pol.rotation.enabled:
        out.append("rotation")
    if pol.training.enabled:
        out.append("training")
    std = pol.standards
    if std.enforcement != "none" and any((std.l2_deputy, std.l2_head, std.l1_deputy, std.l1_head)):
        out.append("post standards")
    if pol.restructuring.enabled:
        out.append("restructuring")
    if pol.levers_from is not None and pol.levers_from > sc.start:
        out.append("levers starting after the start (policy.levers_from)")
    return out


def core_variant(sc: Scenario) -> Scenario:
    """``sc`` with every mechanism the expected-value model leaves out switched off, and
    selection at random among the eligible (a very large evaluation noise). Built with the
    scenario's own overrides, so the result is validated like any scenario."""
    return sc.with_overrides(
        {
            "dynamics.evaluation_noise_sd": RANDOM_SELECTION_NOISE_SD,
            "dynamics.same_unit_bonus": 0.0,
            "dynamics.removal.merit_slope": 0.0,
            "policy.evaluation_bias": 0.0,
            "policy.vacancy_reservation.enabled": False,
            "policy.women_staff_rule.enabled": False,
            "policy.succession_pool.enabled": False,
            "policy.rotation.enabled": False,
            "policy.training.enabled": False,
            "policy.standards.enforcement": "none",
            "policy.restructuring.enabled": False,
            "policy.levers_from": None,
        }
    )


@dataclass
class ExpectedResult:
    """Mean trajectories: ``flows`` has the columns of :attr:`sim.results.Summary.flows`
    (appointments and year-end stock by year and tier); ``exits`` the yearly exits of post
    holders by year, tier and cause (death and ill-health counted with ``other_exit``)."""

    flows: pd.DataFrame
    exits: pd.DataFrame


# ----------------------------------------------------------------- age laws
def _trunc_normal_cdf(x: np.ndarray, dist: AgeDist, lo: float, hi: float) -> np.ndarray:
    """CDF (years) of the truncated normal law of :func:`sim.population.old_age_ppf`."""
    a = special.ndtr((lo - dist.mean) / dist.sd)
    b = special.ndtr((hi - dist.mean) / dist.sd)
    xc = np.clip(x, lo, hi)
    return (special.ndtr((xc - dist.mean) / dist.sd) - a) / (b - a)


def _old_bounds(dist: AgeDist, female: bool, year: int) -> tuple[float, float]:
    return old_age_bounds(dist, female, year)


def _age_pmf(cdf_years, jitter: bool) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Probabilities of each integer age in months ``a`` (index ``a - AGE_MIN``) of people whose
    age in years has the CDF ``cdf_years``, when the birth month is ``floor(t - 12 * age)`` (or
    ``floor(t - 12 * age - u)`` with ``u`` uniform on [0, 1) when ``jitter``): the age in months
    is then the integer ``a`` with ``a - 1 < 12 * age (+ u) <= a``."""
    edges = np.arange(AGE_MIN - 1, AGE_MAX + 1, dtype=float)  # a - 1 for a = AGE_MIN..AGE_MAX
    if jitter:
        us = (np.arange(64) + 0.5) / 64.0
        cdf = cdf_years((edges[:, None] - us[None, :]) / 12.0).mean(axis=1)
    else:
        cdf = cdf_years(edges / 12.0)
    pmf = np.diff(cdf)
    return pmf / pmf.sum() if pmf.sum() > 0 else pmf


def _young_pmf(
    young_min: float,
    jitter: bool,
    top: float = 40.0,
    law: YoungAgeLaw | None = None,
    female: bool = False,
) -> np.ndarray:
    """Ages of the under-40s: uniform on [young_min, top), or the scenario's truncated normal
    law (:func:`sim.population.young_age_ppf`)."""
    if law is None:
        return _age_pmf(lambda x: np.clip((x - young_min) / (top - young_min), 0.0, 1.0), jitter)
    dist = law_for(law, female)
    a = special.ndtr((young_min - dist.mean) / dist.sd)
    b = special.ndtr((YOUNG_LAW_TOP - dist.mean) / dist.sd)

    def cdf(x: np.ndarray) -> np.ndarray:
        xc = np.clip(x, young_min, YOUNG_LAW_TOP)
        return (special.ndtr((xc - dist.mean) / dist.sd) - a) / (b - a)

    return _age_pmf(cdf, jitter)


def _old_pmf(law: AgeLaw, female: bool, year: int, jitter: bool) -> np.ndarray:
    dist = law_for(law, female)
    lo, hi = _old_bounds(dist, female, year)
    return _age_pmf(lambda x: _trunc_normal_cdf(x, dist, lo, hi), jitter)


def _record(acc: list[float], reserved: bool, hits: float, count: float) -> None:
    """:func:`sim.rules.record_contest` for an expected ``count`` of contests at once, of which
    ``hits`` went to the group (spread evenly among them)."""
    if count <= TINY:
        return
    keep1 = 1.0 - 1.0 / rules.QUOTA_MEMORY
    keep = keep1**count
    weight = (1.0 - keep) / (1.0 - keep1)  # the faded weight of ``count`` contests in a row
    k = 2 if reserved else 0
    acc[k] = acc[k] * keep + hits / count * weight
    acc[k + 1] = acc[k + 1] * keep + weight
    acc[4] += hits
    acc[5] += count


def _gamma_steps(mean: float, shape: float, spread: bool, n: int) -> np.ndarray:
    """P(the selection attempt falls in step ``k`` after the vacancy opened), k = 0..n-1, with
    a gamma(shape, mean/shape) delay ``D``; step ``k`` holds the times [k, k+1). A vacancy opened
    at the start of its step (a retirement) is examined in step ``floor(D)``; one opened at a
    uniform time ``U`` inside it (``spread``: an exit, a term end, an appointment up the
    chain) in step ``floor(U + D)``. The remainder goes to the last step."""
    if mean <= 0:
        p = np.zeros(n)
        p[0] = 1.0
        return p
    edges = np.arange(1, n + 1, dtype=float)
    law = stats.gamma(shape, scale=mean / shape)
    if spread:
        us = (np.arange(64) + 0.5) / 64.0
        cdf = law.cdf(edges[:, None] - us[None, :]).mean(axis=1)
    else:
        cdf = law.cdf(edges)
    p = np.diff(np.concatenate([[0.0], cdf]))
    p[-1] += 1.0 - cdf[-1]
    return p


# ------------------------------------------------------------------ the model
class ExpectedModel:
    """The expected-value model of a scenario (see the module docstring)."""

    def __init__(self, sc: Scenario) -> None:
        share = sc.policy.appointment_share
        if share.reading is Reading.FLOOR and max(share.women, share.young) > 0:
            raise NotRepresented(
                "the expected-value model has no 'floor' reading of the appointment share; "
                "use 'expected' or 'none'"
            )
        if sc.policy.long_service.enabled and sc.policy.long_service.reading is Reading.FLOOR:
            raise NotRepresented("the expected-value model has no 'floor' long-service reading")
        self.sc = sc
        self.layout = build_layout(sc)
        dyn = sc.dynamics
        self.t0 = sc.start_month
        self.t_end = math.ceil(sc.end_month)
        self.year0 = sc.start.year
        self.n_years = sc.end.year - sc.start.year + 1
        self.na = AGE_MAX - AGE_MIN + 1
        self.ages = np.arange(AGE_MIN, AGE_MAX + 1)
        # Months since appointment: terms end at 60, 120, ...; the index wraps by 60 beyond
        # the last term a limit on consecutive terms can need.
        limits = [m for m in dyn.max_consecutive_terms.values()]
        self.max_terms: list[int | None] = [None] * 5
        for r, m in dyn.max_consecutive_terms.items():
            self.max_terms[RANK_CODE[r]] = m
        self.k_terms = max([1, *limits])
        self.tau_holder = rules.TERM_MONTHS * (self.k_terms + 1)
        self.pool_min = math.ceil(dyn.pool_min_months)
        # The pool's index runs a year past its minimum time: people who became eligible less
        # than a year ago keep their own place in the yearly ranking (see ``run``); beyond,
        # everyone merged at the last index has been ranked since the same evaluation.
        self.tau = [self.pool_min + 13] + [self.tau_holder] * 4
        # Hazards per month (as the stochastic model: exponential with yearly probability h).
        h = dyn.exit_hazard
        other = [-math.log1p(-min(p, 0.999999)) / 12.0 for p in (h.pool, h.l2, h.l1)]
        death = -math.log1p(-min(dyn.death_illness_hazard, 0.999999)) / 12.0
        rm = dyn.removal
        removal = 0.0
        if rm.yearly_rate > 0 and sc.policy.removal_multiplier > 0:
            base = float(rules.removal_rate(rm.yearly_rate, 0.0, 0.0, sc.policy.removal_multiplier))
            removal = base * math.exp(rm.merit_slope**2 / 2.0)  # mean over merit ~ N(0, 1)
        self.rate = [other[TIER[r]] + death + (removal if r > 0 else 0.0) for r in range(5)]
        self.share_removal = [
            (removal if r > 0 else 0.0) / self.rate[r] if self.rate[r] else 0.0 for r in range(5)
        ]
        self.p_reappoint = dyn.reappointment_probability
        sources_of = {str(rank): ranks for rank, ranks in dyn.promotion_sources.items()}
        self.sources = [
            tuple(RANK_CODE[s] for s in sources_of.get(name, []))
            for name in ("pool", "l2_deputy", "l2_head", "l1_deputy", "l1_head")
        ]
        self.posts = np.bincount(self.layout.post_rank, minlength=5).astype(float)
        self.pool_target = float(pool_size(sc, self.layout))
        # Quotas.
        self.share_q = (share.women, share.young)
        self.share_on = [False] * 3
        if share.reading is Reading.EXPECTED:
            for tier in share.tiers:
                self.share_on[TIER_NAMES.index(tier)] = True
        ls = sc.policy.long_service
        self.long_months = np.zeros(5)
        if ls.enabled and ls.reading is not Reading.NONE:
            self.long_months[L1_HEAD] = ls.head_months
            self.long_months[L1_DEPUTY] = ls.deputy_months
        self.long_share = ls.share
        # The expected reading's accounts (sim.rules.new_accounts), per tier and group and,
        # for long service, per rank; opened at the first appointment that needs them.
        self.acc_share: list[list[list[float] | None]] = [[None, None] for _ in range(3)]
        self.acc_long: list[list[float] | None] = [None] * 5
        # Selection delays: attempts k steps after a vacancy opened at the start of a step
        # (a retirement) or at any time in it (an exit, a term end, an appointment up the
        # chain).
        n_delay = int(max(12, math.ceil(dyn.selection_delay_months * 8)))
        mean, shape = dyn.selection_delay_months, dyn.selection_delay_shape
        self.delay_start = _gamma_steps(mean, shape, False, n_delay)
        self.delay_mid = _gamma_steps(mean, shape, True, n_delay)

    # ------------------------------------------------------------ population
    def initial_state(self) -> list[np.ndarray]:
        """Expected starting population: ``n[r][sex, age - AGE_MIN, months in post]``."""
        sc = self.sc
        lay = self.layout
        pop = sc.population
        year = sc.start.year
        n = [np.zeros((2, self.na, self.tau[r])) for r in range(5)]
        # Months served, uniform over a term (a pool membership: over 10 years), as the index
        # ``k`` with ``k - 1 < months <= k``, so that an event ``m`` months after the start of
        # the post falls in the step that contains it.
        term = np.zeros(self.tau_holder)
        term[1 : rules.TERM_MONTHS + 1] = 1.0 / rules.TERM_MONTHS
        pool_tau = np.zeros(self.tau[POOL])
        for k in range(1, 121):  # capped at the pool's last index
            pool_tau[min(k, self.tau[POOL] - 1)] += 1.0 / 120.0

        def add(
            r: int,
            female: int,
            young: bool,
            count: float,
            dist: AgeLaw,
            ymin: float,
            tau: np.ndarray,
            ylaw: YoungAgeLaw | None,
        ) -> None:
            if count <= 0:
                return
            pmf = (
                _young_pmf(ymin, True, YOUNG_TOP, ylaw, bool(female))
                if young
                else _old_pmf(dist, bool(female), year, True)
            )
            n[r][female] += count * pmf[:, None] * tau[None, :]

        # L1: the exact counts of women, young and young women by area, spread over the posts
        # of each area uniformly (sim.population.assign_l1_stock), in expectation.
        l1 = pop.l1
        district = lay.post_district
        ranks = lay.post_rank
        wd, wp = l1.women.district, l1.women.provincial
        yd, yp, yw = l1.young.district, l1.young.provincial, l1.young_women
        is_l1 = ranks >= L1_DEPUTY
        pd_, pp_ = int(np.sum(is_l1 & district)), int(np.sum(is_l1 & ~district))
        md, mp = pd_ - wd, pp_ - wp
        ym = yp + yd - yw
        xs = np.arange(0, min(yw, yd) + 1)
        w = (
            special.comb(wd, xs)
            * special.comb(wp, yw - xs)
            * special.comb(md, yd - xs)
            * special.comb(mp, ym - (yd - xs))
        )
        ex = float(np.sum(xs * w) / np.sum(w))
        cells = {  # (female, young, district): expected count
            (1, True, True): ex,
            (1, True, False): yw - ex,
            (0, True, True): yd - ex,
            (0, True, False): ym - (yd - ex),
        }
        cells[(1, False, True)] = wd - cells[(1, True, True)]
        cells[(1, False, False)] = wp - cells[(1, True, False)]
        cells[(0, False, True)] = md - cells[(0, True, True)]
        cells[(0, False, False)] = mp - cells[(0, True, False)]
        for (female, young, dist_), count in cells.items():
            area = is_l1 & (district == dist_)
            total = int(np.sum(area))
            for r, age in ((L1_HEAD, l1.age_heads), (L1_DEPUTY, l1.age_deputies)):
                share = np.sum(area & (ranks == r)) / total if total else 0.0
                add(r, female, young, count * share, age, l1.young_min_age, term, l1.young_age)
        # L2 and the pool: exact numbers of women and young, drawn independently.
        n_l2 = int(np.sum((ranks == L2_HEAD) | (ranks == L2_DEPUTY)))
        for ranks_, m, spec, tau in (
            ((L2_HEAD, L2_DEPUTY), n_l2, pop.l2, term),
            ((POOL,), int(self.pool_target), pop.pool, pool_tau),
        ):
            if m == 0:
                continue
            pf = round(spec.women_share * m) / m
            py = round(spec.young_share * m) / m
            for r in ranks_:
                count = self.pool_target if r == POOL else float(np.sum(ranks == r))
                for female, p_f in ((1, pf), (0, 1.0 - pf)):
                    for young, p_y in ((True, py), (False, 1.0 - py)):
                        add(
                            r,
                            female,
                            young,
                            count * p_f * p_y,
                            spec.age,
                            spec.young_min_age,
                            tau,
                            spec.young_age,
                        )
        return n

    # ------------------------------------------------------------------ run
    def run(self) -> ExpectedResult:
        """Step month by month from the start to the end of the horizon.

        Each step ``t`` covers the times [t, t+1): the year-end measure (before anything of
        the step, as the stochastic model's 31 December snapshot), retirements on their date,
        term ends, exits at the hazards, the pool's intake, then the vacancies whose selection
        falls in the step, top rank first so that a chain of promotions can run on."""
        sc = self.sc
        ny = self.n_years
        n = self.initial_state()
        # The yearly ranking: a candidate's place in this year's evaluation is uniform on [0, 1]
        # (1 = top); each appointment takes the best remaining, so a cell's remaining
        # candidates are spread uniformly below a ceiling ``top`` (1 for people who became
        # candidates since the evaluation). The evaluation of 1 January resets every ceiling.
        top = [np.ones_like(x) for x in n]
        appts = np.zeros((ny, 3, 3))  # count, women, young
        stock = np.zeros((ny, 3, 3))  # holders, women, young at 31 December
        exits = np.zeros((ny, 3, 4))  # by tier: retirement, other, not reappointed, removed
        nd = len(self.delay_start)
        queue = [np.zeros(nd + 1) for _ in range(5)]  # attempts due k steps from now
        due = np.zeros(5)  # vacancies whose attempt is due and still unfilled
        rec = sc.dynamics.recruitment
        rec_month = rec.month - 1
        survive = [math.exp(-self.rate[r]) for r in range(5)]
        term_idx = [k * rules.TERM_MONTHS for k in range(1, self.k_terms + 1)]
        for t in range(self.t0, self.t_end):
            if t % 12 == 0:
                if t > self.t0:
                    self._measure(n, stock, (t // 12) - 1 - self.year0, t)
                for x in top:
                    x.fill(1.0)
            yi = min(t // 12 - self.year0, ny - 1)
            retire = self._retire(t)  # [sex, age]: first month of retirement
            left = retire - t
            # 1. Retirements on their date.
            gone = left <= 0
            for r in range(5):
                out = n[r][gone].sum()
                if r > 0:
                    exits[yi, TIER[r], 0] += out
                    self._open(queue[r], out, start=True)
                n[r][gone] = 0.0
            # 2. Term ends: extended to retirement, reappointed, or not.
            for r in range(1, 5):
                for k, idx in enumerate(term_idx, start=1):
                    cell = n[r][:, :, idx]
                    extend = left < rules.EXTENSION_THRESHOLD_MONTHS
                    allowed = rules.reappointment_allowed(k, self.max_terms[r])
                    keep = self.p_reappoint if allowed else 0.0
                    lost = np.where(extend, 0.0, cell * (1.0 - keep))
                    out = lost.sum()
                    if out > 0:
                        exits[yi, TIER[r], 2] += out
                        cell -= lost
                        self._open(queue[r], out, start=False)
            # 3. Exits at the tier hazards during the month.
            for r in range(5):
                lost = n[r].sum() * (1.0 - survive[r])
                n[r] *= survive[r]
                if r > 0 and lost > 0:
                    removed = lost * self.share_removal[r]
                    exits[yi, TIER[r], 3] += removed
                    exits[yi, TIER[r], 1] += lost - removed
                    self._open(queue[r], lost, start=False)
            # 4. The pool's yearly intake.
            if t % 12 == rec_month:
                self._recruit(n, t)
            # 5. Vacancies whose selection is due: top rank first, so a chain can run on.
            for r in (L1_HEAD, L1_DEPUTY, L2_HEAD, L2_DEPUTY):
                due[r] += queue[r][0]
                queue[r][0] = 0.0
                if due[r] > TINY:
                    filled = self._fill(n, top, r, due[r], left, appts[yi], queue)
                    due[r] -= filled
            # 6. A month passes.
            for r in range(5):
                queue[r][:-1] = queue[r][1:]
                queue[r][-1] = 0.0
                n[r], top[r] = self._age(n[r], top[r], r)
        self._measure(n, stock, ny - 1, self.t_end)
        return self._tables(appts, stock, exits)

    def _retire(self, t: int) -> np.ndarray:
        birth = (t - self.ages).astype(np.int64)
        return np.stack(
            [
                _retirement_months(np.zeros(self.na, bool), birth),
                _retirement_months(np.ones(self.na, bool), birth),
            ]
        ).astype(float)

    def _open(self, queue: np.ndarray, mass: float, start: bool) -> None:
        if mass <= 0:
            return
        p = self.delay_start if start else self.delay_mid
        queue[: len(p)] += mass * p

    def _age(self, x: np.ndarray, top: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
        """A month later: everyone a month older and a month longer in post; newcomers
        (index 0) and people merged at the last index keep a mass-weighted ceiling."""
        new = np.zeros_like(x)
        new[:, 1:, 1:] = x[:, :-1, :-1]
        new_top = np.ones_like(top)
        new_top[:, 1:, 1:] = top[:, :-1, :-1]
        last, last_top = x[:, :-1, -1], top[:, :-1, -1]
        # Past the last index: the pool's eligible stay eligible; holders wrap to the same
        # point of the next term.
        at = -1 if r == POOL else -rules.TERM_MONTHS
        here, here_top = new[:, 1:, at], new_top[:, 1:, at]
        both = here + last
        with np.errstate(invalid="ignore", divide="ignore"):
            merged = np.where(both > 0, (here * here_top + last * last_top) / both, 1.0)
        new[:, 1:, at] = both
        new_top[:, 1:, at] = merged
        return new, new_top

    def _measure(self, n: list[np.ndarray], stock: np.ndarray, yi: int, t: int) -> None:
        young = self.ages < rules.YOUNG_AGE_MONTHS
        for r in range(5):
            tier = TIER[r]
            by_sex_age = n[r].sum(axis=2)
            stock[yi, tier, 0] += by_sex_age.sum()
            stock[yi, tier, 1] += by_sex_age[1].sum()
            stock[yi, tier, 2] += by_sex_age[:, young].sum()

    def _recruit(self, n: list[np.ndarray], t: int) -> None:
        k = self.pool_target - n[POOL].sum()
        if k <= 0:
            return
        rec = self.sc.dynamics.recruitment
        year = t // 12
        for female, p_f in ((1, rec.women_share), (0, 1.0 - rec.women_share)):
            young = _young_pmf(rec.young_min_age, False, 40.0, rec.young_age, bool(female))
            old = _old_pmf(rec.age, bool(female), year, False)
            pmf = rec.young_share * young + (1.0 - rec.young_share) * old
            n[POOL][female, :, 0] += k * p_f * pmf

    def _fill(
        self,
        n: list[np.ndarray],
        top: list[np.ndarray],
        r: int,
        due: float,
        left: np.ndarray,
        appts: np.ndarray,
        queue: list[np.ndarray],
    ) -> float:
        """Fill an expected ``due`` vacancies of rank ``r`` this step; return how many were."""
        sources = self.sources[r]
        # Attempts fall inside the step [t, t+1): 60 months of service must be left at the
        # attempt (retirement dates are whole months). Someone whose 24 months in post run
        # out during the step joins the candidates at the next one, with a fresh place in the
        # year's ranking (recruits join the pool on a month's first day, so their minimum
        # time in the pool ends exactly on a step).
        serve = left > rules.PROMOTION_MIN_SERVICE_MONTHS  # [sex, age]
        elig = []
        for s in sources:
            start = self.pool_min if s == POOL else rules.MIN_MONTHS_IN_POST
            e = np.zeros(self.tau[s])
            e[start + (1 if s != POOL and start > 0 else 0) :] = 1.0
            elig.append(serve[:, :, None] * e[None, None, :])
        cand = [n[s] * e for s, e in zip(sources, elig, strict=True)]
        total = sum(float(c.sum()) for c in cand)
        if total <= TINY:
            return 0.0
        filled = min(due * -math.expm1(-total), total)  # at least one candidate (Poisson)
        young = (self.ages < rules.YOUNG_AGE_MONTHS)[None, :, None]
        female = np.array([0.0, 1.0])[:, None, None]
        longs = None
        if self.long_months[r] > 0:
            longs = (left > self.long_months[r])[:, :, None].astype(float)

        def mass(mask: np.ndarray | float) -> float:
            return float(sum((c * mask).sum() for c in cand))

        tier = TIER[r]
        p_req = [0.0, 0.0]
        if self.share_on[tier]:
            for g, (q, mask) in enumerate(((self.share_q[0], female), (self.share_q[1], young))):
                if q > 0:
                    acc = self.acc_share[tier][g]
                    if acc is None:
                        acc = self.acc_share[tier][g] = rules.new_accounts(mass(mask) / total)
                    aim = rules.share_to_aim(q, acc)
                    p_req[g] = rules.expected_share_probability(aim, *rules.contest_rates(acc))
        p_soft = 0.0
        if longs is not None:
            acc = self.acc_long[r]
            if acc is None:
                acc = self.acc_long[r] = rules.new_accounts(mass(longs) / total)
            aim = rules.share_to_aim(self.long_share, acc)
            p_soft = rules.expected_share_probability(aim, *rules.contest_rates(acc))
        # Each appointment: the groups it must go to are drawn; then the best in every
        # required group (its long-service members first when that preference is drawn), else
        # the best in one of them (women first), or the best of all when the groups have
        # nobody (the stochastic model then ignores the preference). Each part of the plan
        # is tagged (women reserved, young reserved, long service preferred) for the accounts.
        plan: list[tuple[float, np.ndarray | float, tuple[bool, bool, bool]]] = []
        for need_w in (False, True):
            pw = p_req[0] if need_w else 1.0 - p_req[0]
            for need_y in (False, True):
                p_h = pw * (p_req[1] if need_y else 1.0 - p_req[1])
                if p_h <= 0:
                    continue
                hard: np.ndarray | float = (female if need_w else 1.0) * (young if need_y else 1.0)
                f = filled * p_h
                in_group = 1.0 if isinstance(hard, float) else -math.expm1(-mass(hard))
                if longs is not None and p_soft > 0:
                    in_soft = -math.expm1(-mass(hard * longs))
                    plan.append(
                        (f * in_group * p_soft * in_soft, hard * longs, (need_w, need_y, True))
                    )
                    plan.append(
                        (f * in_group * (1.0 - p_soft * in_soft), hard, (need_w, need_y, False))
                    )
                else:
                    plan.append((f * in_group, hard, (need_w, need_y, False)))
                rest = f * (1.0 - in_group)
                if rest > 0 and need_w and need_y:  # nobody in both: serve one of them
                    for one in (female, young):
                        some = -math.expm1(-mass(one))
                        plan.append((rest * some, one, (need_w, need_y, False)))
                        rest *= 1.0 - some
                if rest > 0:
                    plan.append((rest, 1.0, (need_w, need_y, False)))
        got = 0.0
        by_sex_age = np.zeros((2, self.na))
        # Per kind of contest (open / reserved, for women and young; long service): appointed
        # and of them in the group.
        tally = np.zeros((3, 2, 2))
        for f, within, tag in plan:
            if f <= TINY:
                continue
            removed = self._take(n, top, sources, elig, within, f)
            took = np.zeros((2, self.na))
            for s, m in zip(sources, removed, strict=True):
                took += m.sum(axis=2)
                if s != POOL:
                    self._open(queue[s], float(m.sum()), start=False)
            count = float(took.sum())
            got += count
            by_sex_age += took
            hits = (float(took[1].sum()), float(took[:, self.ages < rules.YOUNG_AGE_MONTHS].sum()))
            for g in (0, 1):
                tally[g, int(tag[g])] += (count, hits[g])
            if longs is not None:
                long_mass = sum(float((m * longs).sum()) for m in removed)
                tally[2, int(tag[2])] += (count, long_mass)
        for g in (0, 1):
            acc = self.acc_share[tier][g]
            if acc is not None:
                for k in (0, 1):
                    _record(acc, bool(k), tally[g, k, 1], tally[g, k, 0])
        acc_long = self.acc_long[r]
        if longs is not None and acc_long is not None:
            for k in (0, 1):
                _record(acc_long, bool(k), tally[2, k, 1], tally[2, k, 0])
        appts[TIER[r], 0] += got
        appts[TIER[r], 1] += by_sex_age[1].sum()
        appts[TIER[r], 2] += by_sex_age[:, self.ages < rules.YOUNG_AGE_MONTHS].sum()
        n[r][:, :, 0] += by_sex_age
        top[r][:, :, 0] = 1.0
        return got

    @staticmethod
    def _take(
        n: list[np.ndarray],
        top: list[np.ndarray],
        sources: tuple[int, ...],
        elig: list[np.ndarray],
        mask: np.ndarray | float,
        f: float,
    ) -> list[np.ndarray]:
        """Appoint an expected ``f`` people, the best in this year's ranking, from the
        candidates of ``sources`` in ``mask``: everyone ranked above a level ``L`` goes, with
        ``L`` such that ``f`` people do (each cell's candidates are uniform below its
        ceiling). Remove them from ``n``, lower the ceilings to ``L``; return who went."""
        m = [n[s] * e * mask for s, e in zip(sources, elig, strict=True)]
        sel = [x > TINY for x in m]
        ceil = np.concatenate([top[s][k] for s, k in zip(sources, sel, strict=True)])
        dens = np.concatenate([x[k] for x, k in zip(m, sel, strict=True)]) / ceil
        if len(ceil) == 0:
            return [np.zeros_like(x) for x in m]
        levels, inv = np.unique(ceil, return_inverse=True)
        d = np.bincount(inv, weights=dens)[::-1]  # by level, from the top down
        lv = levels[::-1]
        dens_above = np.cumsum(d)
        mass_above = np.cumsum(d * lv)  # mass ranked above each level's own ceiling ...
        below = np.append(lv[1:], 0.0)
        at_next = mass_above - dens_above * below  # ... and above the next level down
        k = int(np.searchsorted(at_next, f * (1.0 - 1e-12)))
        level = 0.0 if k >= len(lv) else max(0.0, (mass_above[k] - f) / dens_above[k])
        out = []
        for s, x, keep in zip(sources, m, sel, strict=True):
            c = top[s]
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(keep, np.clip((c - level) / c, 0.0, 1.0), 0.0)
            gone = x * frac
            n[s] -= gone
            c[keep] = np.minimum(c[keep], level if level > 0 else c[keep])
            out.append(gone)
        return out

    def _tables(self, appts: np.ndarray, stock: np.ndarray, exits: np.ndarray) -> ExpectedResult:
        rows = []
        for j, y in enumerate(self.sc.years):
            for tier in (2, 1):
                a = appts[j, tier]
                s = stock[j, tier]
                rows.append(
                    {
                        "year": y,
                        "tier": TIER_NAMES[tier],
                        "appointments_mean": a[0],
                        "women_share": a[1] / a[0] if a[0] else math.nan,
                        "young_share": a[2] / a[0] if a[0] else math.nan,
                        "stock_women_share": s[1] / s[0] if s[0] else math.nan,
                        "stock_young_share": s[2] / s[0] if s[0] else math.nan,
                        "holders_mean": s[0],
                    }
                )
        causes = ["retirement", "other_exit", "not_reappointed", "removed"]
        ex = pd.DataFrame(
            [
                {
                    "year": y,
                    "tier": TIER_NAMES[tier],
                    **dict(zip(causes, exits[j, tier], strict=True)),
                }
                for j, y in enumerate(self.sc.years)
                for tier in (2, 1)
            ]
        )
        return ExpectedResult(pd.DataFrame(rows), ex)


def expected_flows(sc: Scenario) -> ExpectedResult:
    """Run the expected-value model of ``sc`` (see :class:`ExpectedModel`)."""
    return ExpectedModel(sc).run()
