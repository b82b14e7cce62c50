"""The scenario compiled once: the parameter bundle every replication of a study reads.

:func:`compile_params` takes the scenario apart once (rates per month, the legal readings it
chose, lookup tables by rank and tier, which posts selection can fill by the fast path) and
returns a frozen :class:`Params`; a study builds it once and shares it with every
replication, as it shares the layout. The model copies into its own state only what the
levers' clock may switch during a run (``share_reading``, ``reserve``, ``long_on``, the
women-staff rule's tiers) and what a restructuring may change (the units measured by the
women-staff target).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim import kernels
from sim.codes import TIER_NAMES, TIER_OF_RANK, date_time
from sim.population import L1_DEPUTY, L1_HEAD, Layout, build_layout
from sim.scenario import RANK_CODE, AfterHold, Reading, Scenario


@dataclass(frozen=True, eq=False)
class Params:
    """Everything a replication reads from its scenario, in the form it reads it."""

    scenario: Scenario
    layout: Layout
    # Horizon (months): start, end, first year, number of years, when the levers start.
    t0: int
    t_end: float
    year0: int
    n_years: int
    t_levers: float
    # Monthly hazards: other exits by tier code, death or illness; per rank, the exit rate
    # and whether the person's own removal rate adds to it (post holders only).
    h_other: np.ndarray
    h_death: float
    rate_of_rank: list[float]
    rm_on_rank: list[float]
    removal: Any  # sim.scenario.Removal
    removal_multiplier: float
    p_reappoint: float
    max_terms_of_rank: list[int | None]
    update_months: float
    # Post standards by rank: requirements, enforcement, blocking ranks, kernel codes.
    std_req: list[tuple[str, ...]]
    std_mode: str
    std_block: list[bool]
    std_code: list[int]
    train_within: float
    # Promotion sources: src_lut[r][rank + 1] is True if rank feeds rank r.
    src_lut: np.ndarray
    src_list: list[tuple[int, ...]]
    same_unit_bonus: float
    bias: float
    # Yearly appointment shares (women, young), by tier.
    share_reading: Reading
    share_q: tuple[float, float]
    share_tiers: np.ndarray
    # Vacancy reservation.
    reserve: bool
    max_hold: float
    recheck: float
    after_hold: AfterHold
    # The women-staff rule (its tiers; units above the threshold, where the rule is on).
    wsr_tiers: np.ndarray
    unit_flagged: np.ndarray
    # Long service (first-time appointees with enough terms left), by rank.
    long_on: bool
    long_share: float
    long_reading: Reading
    long_months: np.ndarray
    # Posts: tier; district heads appointed from outside first; the fast path (no policy
    # can constrain the post and it has one source rank) and its source rank.
    post_tier: np.ndarray
    nonlocal_post: list[bool]
    post_plain: list[bool]
    post_source: list[int]
    # For the women-staff metric: each flagged unit with the rule tiers it has posts at.
    metric_units: list[tuple[int, list[int]]]
    # Targets: the posts each measures (None for targets without posts).
    target_post_mask: list[np.ndarray | None]
    congress_times: list[float]
    # A merged province: its plan (sim.merger.MergerPlan): sources, union layout, phases.
    merger: Any = None


def compile_params(scenario: Scenario, layout: Layout | None = None) -> Params:
    """Take ``scenario`` apart once for all its replications (``layout``: already built)."""
    sc = scenario
    if sc.merger is not None and layout is None:
        from dataclasses import replace

        from sim.merger import compile_plan

        plan = compile_plan(sc)
        main = plan.phase_params if plan.phase_params is not None else plan.alone_params
        assert main is not None
        return replace(main, merger=plan)
    lay = layout if layout is not None else build_layout(sc)
    dyn = sc.dynamics
    pol = sc.policy
    t0 = sc.start_month
    n_years = sc.end.year - sc.start.year + 1
    # Monthly hazard rates by tier code.
    h = dyn.exit_hazard
    h_other = np.array([-math.log1p(-min(p, 0.999999)) / 12.0 for p in (h.pool, h.l2, h.l1)])
    h_death = -math.log1p(-min(dyn.death_illness_hazard, 0.999999)) / 12.0
    std = pol.standards
    std_req: list[tuple[str, ...]] = [
        (),
        tuple(std.l2_deputy),
        tuple(std.l2_head),
        tuple(std.l1_deputy),
        tuple(std.l1_head),
    ]
    std_block = [std.enforcement == "block" and bool(req) for req in std_req]
    max_terms_of_rank: list[int | None] = [None] * 5
    for r, m in dyn.max_consecutive_terms.items():
        max_terms_of_rank[RANK_CODE[r]] = m
    src_lut = np.zeros((5, 6), dtype=bool)
    for r, sources in dyn.promotion_sources.items():
        for s in sources:
            src_lut[RANK_CODE[r], RANK_CODE[s] + 1] = True
    src_list = [tuple(int(x) - 1 for x in np.flatnonzero(src_lut[r])) for r in range(5)]
    share = pol.appointment_share
    share_q = (share.women, share.young)
    share_tiers = np.zeros(3, dtype=bool)
    for tier in share.tiers:
        share_tiers[TIER_NAMES.index(tier)] = True
    wsr = pol.women_staff_rule
    wsr_tiers = np.zeros(3, dtype=bool)
    if wsr.enabled:
        for tier in wsr.tiers:
            wsr_tiers[TIER_NAMES.index(tier)] = True
    ls = pol.long_service
    long_months = np.zeros(5)
    long_months[L1_HEAD] = ls.head_months
    long_months[L1_DEPUTY] = ls.deputy_months
    # Posts.
    post_tier = TIER_OF_RANK[lay.post_rank]
    flagged = lay.unit_staff_share > wsr.threshold
    share_on = share.reading is not Reading.NONE and max(share_q) > 0
    sp = pol.succession_pool
    planned = np.isin(lay.post_rank, [RANK_CODE[r] for r in sp.ranks])
    ro = pol.rotation
    nonlocal_posts = (
        ro.enabled & ro.nonlocal_district_heads & (lay.post_rank == L1_HEAD) & lay.post_district
    )
    constrained = (
        nonlocal_posts
        | (sp.enabled & sp.appoint_from_pool & planned)
        | np.array(std_block)[lay.post_rank]
        | (wsr_tiers[post_tier] & flagged[lay.post_unit])
        | (share_on & share_tiers[post_tier])
        | (ls.enabled & (long_months[lay.post_rank] > 0))
    )
    single = np.array([len(src) == 1 for src in src_list])[lay.post_rank]
    first_source = np.array([src[0] if len(src) == 1 else -1 for src in src_list])
    rule_tiers = [tier for tier in (1, 2) if wsr_tiers[tier]] or [2]
    metric_units = []
    for u in np.flatnonzero(flagged).tolist():
        at = set(post_tier[lay.post_unit == u].tolist())
        metric_units.append((u, [tier for tier in rule_tiers if tier in at]))
    # Targets.
    target_post_mask: list[np.ndarray | None] = []
    for t in sc.targets:
        who = getattr(t, "who", None)
        if who is None:
            target_post_mask.append(None)
            continue
        mask = np.isin(lay.post_rank, [RANK_CODE[r] for r in who.ranks])
        if who.blocks is not None:
            blocks = [lay.block_ids.index(b) for b in who.blocks]
            mask &= np.isin(lay.post_block, blocks)
        target_post_mask.append(mask)
    congress_times = [date_time(d) for d in sc.congress.dates] if sc.congress is not None else []
    shared = [h_other, src_lut, share_tiers, wsr_tiers, long_months, post_tier, flagged]
    for arr in shared + [m for m in target_post_mask if m is not None]:
        arr.flags.writeable = False  # shared by every replication: read only
    return Params(
        scenario=sc,
        layout=lay,
        t0=t0,
        t_end=sc.end_month,
        year0=sc.start.year,
        n_years=n_years,
        t_levers=max(float(t0), date_time(sc.levers_start)),
        h_other=h_other,
        h_death=h_death,
        rate_of_rank=[float(h_other[TIER_OF_RANK[r]] + h_death) for r in range(5)],
        rm_on_rank=[0.0 if TIER_OF_RANK[r] == 0 else 1.0 for r in range(5)],
        removal=dyn.removal,
        removal_multiplier=pol.removal_multiplier,
        p_reappoint=dyn.reappointment_probability,
        max_terms_of_rank=max_terms_of_rank,
        update_months=dyn.knowledge_update_months,
        std_req=std_req,
        std_mode=std.enforcement,
        std_block=std_block,
        std_code=[kernels.standard_code(req) for req in std_req],
        train_within=std.train_within_months,
        src_lut=src_lut,
        src_list=src_list,
        same_unit_bonus=float(dyn.same_unit_bonus),
        bias=pol.evaluation_bias,
        share_reading=share.reading,
        share_q=share_q,
        share_tiers=share_tiers,
        reserve=pol.vacancy_reservation.enabled,
        max_hold=pol.vacancy_reservation.max_hold_months,
        recheck=pol.vacancy_reservation.recheck_months,
        after_hold=pol.vacancy_reservation.after,
        wsr_tiers=wsr_tiers,
        unit_flagged=_read_only(flagged & bool(wsr_tiers.any())),
        long_on=ls.enabled,
        long_share=ls.share,
        long_reading=ls.reading,
        long_months=long_months,
        post_tier=post_tier,
        nonlocal_post=nonlocal_posts.tolist(),
        post_plain=(single & ~constrained).tolist(),
        post_source=first_source[lay.post_rank].tolist(),
        metric_units=metric_units,
        target_post_mask=target_post_mask,
        congress_times=congress_times,
    )


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr
