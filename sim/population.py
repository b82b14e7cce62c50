"""Posts, units and the synthetic starting population built from a scenario."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from sim import rules
from sim.scenario import (
    RANK_CODE,
    YOUNG_LAW_TOP,
    AgeDist,
    AgeLaw,
    Scenario,
    YoungAgeLaw,
    law_for,
)

L1_HEAD = RANK_CODE["l1_head"]
L1_DEPUTY = RANK_CODE["l1_deputy"]
L2_HEAD = RANK_CODE["l2_head"]
L2_DEPUTY = RANK_CODE["l2_deputy"]
POOL = RANK_CODE["pool"]


@dataclass(frozen=True)
class Layout:
    """The posts and units of a scenario as flat arrays (identical for every replication)."""

    unit_block: np.ndarray  # int16, block index of each unit
    unit_district: np.ndarray  # bool
    unit_staff_share: np.ndarray  # float, share of women among the unit's staff
    unit_side: np.ndarray  # int8 index into SIDES
    post_rank: np.ndarray  # int8 rank code of each post
    post_unit: np.ndarray  # int32
    post_block: np.ndarray  # int16
    post_district: np.ndarray  # bool
    block_ids: tuple[str, ...]

    @property
    def n_posts(self) -> int:
        return len(self.post_rank)

    @property
    def n_units(self) -> int:
        return len(self.unit_block)


#: Sides of the political system, for rotations party <-> government.
SIDES = ("party", "government", "front", "council", "district")


def build_layout(scenario: Scenario) -> Layout:
    """Lay out units and posts: heads go to the first units of a block, deputies round-robin."""
    unit_block: list[int] = []
    unit_district: list[int] = []
    unit_share: list[float] = []
    unit_side: list[int] = []
    post_rank, post_unit = [], []
    for b_idx, block in enumerate(scenario.structure.blocks):
        first_unit = len(unit_block)
        for u in range(block.units):
            unit_block.append(b_idx)
            unit_district.append(block.district)
            unit_share.append(block.staff_share(u))
            side = block.side or ("district" if block.district else "government")
            unit_side.append(SIDES.index(side))
        for u in range(block.heads):
            post_rank.append(L1_HEAD)
            post_unit.append(first_unit + u)
        for d in range(block.deputies):
            post_rank.append(L1_DEPUTY)
            post_unit.append(first_unit + d % block.units)
        for u in range(block.units):
            for _ in range(block.l2_divisions_per_unit):
                post_rank.append(L2_HEAD)
                post_unit.append(first_unit + u)
                for _ in range(block.l2_deputies_per_division):
                    post_rank.append(L2_DEPUTY)
                    post_unit.append(first_unit + u)
    ub = np.asarray(unit_block, dtype=np.int16)
    pu = np.asarray(post_unit, dtype=np.int32)
    return Layout(
        unit_block=ub,
        unit_district=np.asarray(unit_district, dtype=bool),
        unit_staff_share=np.asarray(unit_share, dtype=float),
        unit_side=np.asarray(unit_side, dtype=np.int8),
        post_rank=np.asarray(post_rank, dtype=np.int8),
        post_unit=pu,
        post_block=ub[pu],
        post_district=np.asarray(unit_district, dtype=bool)[pu],
        block_ids=tuple(b.id for b in scenario.structure.blocks),
    )


def pool_size(scenario: Scenario, layout: Layout) -> int:
    """Planned size of the specialist pool."""
    n_l2_deputy = int(np.count_nonzero(layout.post_rank == L2_DEPUTY))
    return round(scenario.structure.pool_per_l2_deputy * max(n_l2_deputy, 1))


@dataclass
class People:
    """Attributes of the starting population, one entry a person (posts first, then the pool)."""

    female: np.ndarray
    birth: np.ndarray  # month index of birth (float, mid-month precision not needed)
    post: np.ndarray  # post index or -1 for the pool
    rank: np.ndarray
    unit: np.ndarray
    since: np.ndarray  # month index the current post (or pool membership) began


def ages_to_birth(start_month: int, ages_years: np.ndarray, u_month: np.ndarray) -> np.ndarray:
    """Birth month indices for people of the given (continuous) ages on the start date."""
    return np.floor(start_month - ages_years * 12.0 - u_month).astype(np.int64)


def _max_age_years(female: bool, year: int) -> float:
    """The oldest age (years) at which someone can still be at work on 1 January of ``year``.

    The previous year's retirement age (less a month) is the safe bound: someone older would
    have reached the previous year's age, and retired, before the year began.
    """
    return rules.retirement_age_months(female, year - 1) / 12.0 - 1.0 / 12.0


def truncated_normal_ppf(u: np.ndarray, mean: float, sd: float, lo: float, hi: float) -> np.ndarray:
    """Inverse CDF of a normal law truncated to [lo, hi] (closed form, vectorised)."""
    a = special.ndtr((lo - mean) / sd)
    b = special.ndtr((hi - mean) / sd)
    return np.clip(mean + sd * special.ndtri(a + u * (b - a)), lo, hi)


def old_age_bounds(dist: AgeDist, female: bool, year: int) -> tuple[float, float]:
    """The ages [lo, hi] (years) a law of people aged 40 or over is truncated to in ``year``."""
    hi = _max_age_years(female, year)
    return min(max(dist.min, 40.0), hi - 0.5), hi


def old_age_ppf(u: np.ndarray, law: AgeLaw, female: np.ndarray, year: int) -> np.ndarray:
    """Ages (years) on 1 January of ``year`` of people aged ``min`` (at least 40) and over.

    A normal law truncated to [max(min, 40), the oldest age still at work] (see
    :func:`_max_age_years`), by inverse CDF of the uniforms ``u``; ``law`` is one law for both
    sexes or one for each (:class:`sim.scenario.AgeBySex`). Documented assumption: the seeds
    give no age distribution for leaders beyond the under-40 count.
    """
    out = np.empty(len(u))
    for is_f in (False, True):
        idx = np.flatnonzero(female == is_f)
        if len(idx) == 0:
            continue
        dist = law_for(law, is_f)
        lo, hi = old_age_bounds(dist, is_f, year)
        out[idx] = truncated_normal_ppf(u[idx], dist.mean, dist.sd, lo, hi)
    return out


#: The under-40s are drawn below this age (years) by the uniform law.
YOUNG_TOP = 40.0 - 1e-6


def young_age_ppf(
    u: np.ndarray, law: YoungAgeLaw | None, young_min: float, female: np.ndarray
) -> np.ndarray:
    """Ages (years) of under-40s from the uniforms ``u``: uniform on [young_min, 40) when
    ``law`` is None, else the law's normal truncated to [young_min, 40 - 2 months) (by sex if
    it is given by sex; see :data:`sim.scenario.YOUNG_LAW_TOP`). Documented assumption: the
    seeds give only the count of under-40 leaders."""
    if law is None:
        return young_min + u * (40.0 - young_min)
    out = np.empty(len(u))
    for is_f in (False, True):
        idx = np.flatnonzero(female == is_f)
        if len(idx):
            dist = law_for(law, is_f)
            out[idx] = truncated_normal_ppf(u[idx], dist.mean, dist.sd, young_min, YOUNG_LAW_TOP)
    return out


def sample_old_ages(
    rng: np.random.Generator, dist: AgeLaw, female: np.ndarray, start_year: int
) -> np.ndarray:
    """Draw ages with :func:`old_age_ppf`."""
    return old_age_ppf(rng.random(len(female)), dist, female, start_year)


def assign_l1_stock(
    rng: np.random.Generator, scenario: Scenario, layout: Layout, l1_posts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact assignment of sex and youth to L1 posts matching the seed's counts.

    Every assignment consistent with the counts (women by area, young by area, young women)
    is equally likely: the number of young women in districts is drawn from its exact
    (product-hypergeometric) law, then posts are chosen uniformly within each cell.
    """
    stock = scenario.population.l1
    district = layout.post_district[l1_posts]
    n = len(l1_posts)
    female = np.zeros(n, dtype=bool)
    for area, count in ((False, stock.women.provincial), (True, stock.women.district)):
        idx = np.flatnonzero(district == area)
        female[rng.choice(idx, size=count, replace=False)] = True
    yw, yd = stock.young_women, stock.young.district
    ym = stock.young.provincial + stock.young.district - yw
    wd = int(np.count_nonzero(female & district))
    wp = int(np.count_nonzero(female & ~district))
    md = int(np.count_nonzero(~female & district))
    mp = int(np.count_nonzero(~female & ~district))
    # x = young women in districts; then young men in districts = yd - x.
    xs = np.arange(0, min(yw, yd) + 1)
    w = (
        special.comb(wd, xs)
        * special.comb(wp, yw - xs)
        * special.comb(md, yd - xs)
        * special.comb(mp, ym - (yd - xs))
    )
    if not np.any(w > 0):
        raise ValueError(
            "population.l1: the counts of young, women and young women cannot be placed in "
            "the posts of their areas"
        )
    x = int(rng.choice(xs, p=w / w.sum()))
    young = np.zeros(n, dtype=bool)
    for is_f, is_d, c in (
        (True, True, x),
        (True, False, yw - x),
        (False, True, yd - x),
        (False, False, ym - (yd - x)),
    ):
        idx = np.flatnonzero((female == is_f) & (district == is_d))
        young[rng.choice(idx, size=c, replace=False)] = True
    return female, young


def _exact_flags(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    flags = np.zeros(n, dtype=bool)
    k = round(share * n)
    flags[rng.choice(n, size=k, replace=False)] = True
    return flags


def _ages(
    rng: np.random.Generator,
    female: np.ndarray,
    young: np.ndarray,
    dist: AgeLaw,
    young_min: float,
    start_year: int,
    young_law: YoungAgeLaw | None = None,
) -> np.ndarray:
    ages = np.empty(len(female))
    if young_law is None:
        ages[young] = rng.uniform(young_min, YOUNG_TOP, size=int(young.sum()))
    else:  # the same number of uniforms, so the later draws are unchanged
        u = rng.random(size=int(young.sum()))
        ages[young] = young_age_ppf(u, young_law, young_min, female[young])
    old = ~young
    ages[old] = sample_old_ages(rng, dist, female[old], start_year)
    return ages


def build_people(rng: np.random.Generator, scenario: Scenario, layout: Layout) -> People:
    """The synthetic starting population: every post filled, plus the specialist pool."""
    start = scenario.start_month
    year = scenario.start.year
    pop = scenario.population
    ranks = layout.post_rank

    l1 = np.flatnonzero(ranks >= L1_DEPUTY)
    l2 = np.flatnonzero((ranks == L2_HEAD) | (ranks == L2_DEPUTY))
    f1, y1 = assign_l1_stock(rng, scenario, layout, l1)
    ages1 = np.empty(len(l1))
    heads = ranks[l1] == L1_HEAD
    for sel, dist in ((heads, pop.l1.age_heads), (~heads, pop.l1.age_deputies)):
        ages1[sel] = _ages(
            rng, f1[sel], y1[sel], dist, pop.l1.young_min_age, year, pop.l1.young_age
        )

    f2 = _exact_flags(rng, len(l2), pop.l2.women_share)
    y2 = _exact_flags(rng, len(l2), pop.l2.young_share)
    ages2 = _ages(rng, f2, y2, pop.l2.age, pop.l2.young_min_age, year, pop.l2.young_age)

    n_pool = pool_size(scenario, layout)
    f3 = _exact_flags(rng, n_pool, pop.pool.women_share)
    y3 = _exact_flags(rng, n_pool, pop.pool.young_share)
    ages3 = _ages(rng, f3, y3, pop.pool.age, pop.pool.young_min_age, year, pop.pool.young_age)

    posts = np.concatenate([l1, l2, np.full(n_pool, -1)]).astype(np.int32)
    female = np.concatenate([f1, f2, f3])
    ages = np.concatenate([ages1, ages2, ages3])
    n = len(posts)
    birth = ages_to_birth(start, ages, rng.uniform(0.0, 1.0, size=n))
    rank = np.where(posts >= 0, ranks[np.maximum(posts, 0)], POOL).astype(np.int8)
    unit = np.where(
        posts >= 0, layout.post_unit[np.maximum(posts, 0)], rng.integers(0, layout.n_units, size=n)
    ).astype(np.int32)
    # Time already served in the current post: uniform over a term (assumption).
    since = start - rng.uniform(0.0, rules.TERM_MONTHS, size=n)
    since[posts < 0] = start - rng.uniform(0.0, 120.0, size=n_pool)
    return People(
        female=female, birth=birth.astype(float), post=posts, rank=rank, unit=unit, since=since
    )
