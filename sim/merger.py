"""The merger of provinces on a date, in one replication (the scenario side: :mod:`sim.merging`).

A replication of a merged scenario (one with a ``merger`` block switched on) runs, with the
same master seed and replication index:

1. each source province under its own scenario, from the common start to the merger date,
   each with its own random streams (:func:`sim.model.stream_seeds`, ``branch`` = its place
   in the list; the first source's streams are those of its own scenario run alone, so the
   "no merger" path and the merged one coincide up to the date);
2. on the date, their people become one province (:class:`Handoff`): everyone present keeps
   their state (age, post, term, exit clock, merit, qualifications, committee seat), each post
   becomes a post of the merged layout (:func:`union_layout`: unit k of a source block goes to
   unit k of the merged block it is joined into), and the :class:`MergerDesk` applies the
   merged structure at once: posts above its norm cut (vacant ones first, then those whose
   holders retire soonest), early retirement (Decree 178/2024) by years to retirement, the
   surplus reassigned to vacant posts of their rank, kept until the grace period ends
   (Decree 45/2025) or retired, as a restructuring does (:mod:`sim.restructuring`); posts
   of the merged file's ``newcomer_blocks`` that no source leader takes (the communes) are
   filled on the date by people entering the provincial corps (:func:`newcomers`);
3. the merged province, under the merged file's policy, to the end; its first committee is
   appointed (SPEC §8), the later ones elected.

The replication's result holds the merged province's targets (measured from the merger on)
and each source's targets that fell due before it (measured on that province, up to the
date); its yearly tables add the sources' years before the date to the merged province's
after it. With ``merger.enabled: false`` the first source province runs alone to the end and
the merged province's targets are read on its own blocks (:func:`sim.merging.back_target`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim import rules
from sim.codes import date_time
from sim.mergerdesk import LEDGER, LEDGER_MEANING, MergerDesk
from sim.merging import back_target, unmeasured
from sim.outcomes import RepResult
from sim.params import Params, compile_params
from sim.population import POOL, Layout, People, build_layout, build_people, pool_size
from sim.scenario import Scenario

#: The branch of the merged province's own streams (the sources take 0, 1, ...).
MERGED_BRANCH = 1000


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True, eq=False)
class UnionLayout:
    """The merged province's posts on the merger date: its own structure's posts, plus a post
    for every source leader beyond its norm (cut on the date), and where each source post and
    unit goes."""

    layout: Layout
    n_norm: int  # posts of the merged structure (the first ones)
    post_map: tuple[np.ndarray, ...]  # per source: its post -> merged post
    unit_map: tuple[np.ndarray, ...]  # per source: its unit -> merged unit (pool members)
    post_group: np.ndarray  # merged post -> its (unit, rank) group, -1 if never over the norm
    group_keep: np.ndarray  # group -> posts the norm keeps


def _source_units(
    merger: Any, sid: str, lay: Layout, base: Layout, stacked: dict[str, int]
) -> list[list[int]]:
    """For each unit of a source layout, the merged units its posts go to (empty: abolished).
    ``stacked``: per merged block, the units earlier sources have taken side by side."""
    join = {}
    how = {}
    for bm in merger.blocks:
        for b in bm.sources.get(sid, []):
            join[b] = bm.block
            how[b] = bm.placement
    out: list[list[int]] = [[] for _ in range(lay.n_units)]
    for b_idx, bid in enumerate(lay.block_ids):
        if bid not in join:
            continue
        units = np.flatnonzero(lay.unit_block == b_idx).tolist()
        target = np.flatnonzero(base.unit_block == base.block_ids.index(join[bid])).tolist()
        k_n, u_n = len(units), len(target)
        first = stacked.get(join[bid], 0)
        for k, u in enumerate(units):
            if how[bid] == "spread" and u_n > k_n:
                lo, hi = k * u_n // k_n, (k + 1) * u_n // k_n
                out[u] = target[lo : max(hi, lo + 1)]
            elif how[bid] == "stack":
                out[u] = [target[(first + k) % u_n]]
            else:
                out[u] = [target[k % u_n]]
        if how[bid] == "stack":
            stacked[join[bid]] = first + k_n
    return out


def union_layout(scenario: Scenario, sources: tuple[Scenario, ...]) -> UnionLayout:
    """The merged layout (see :class:`UnionLayout`). A source post goes to the merged unit of
    its unit (spread over several merged units, rank by rank, when the block map says
    ``spread``); in each merged unit and rank, source posts take the norm's posts in order
    (first source first) and the rest become extra posts of that unit, which together with
    the norm's form a group cut back to the norm on the date. Posts of abolished blocks
    become extra posts of a group that keeps none."""
    merger = scenario.merger
    assert merger is not None
    base = build_layout(scenario)
    norm: dict[tuple[int, int], list[int]] = {}
    for p, (u, r) in enumerate(zip(base.post_unit.tolist(), base.post_rank.tolist(), strict=True)):
        norm.setdefault((u, r), []).append(p)
    taken: dict[tuple[int, int], int] = {}
    extra_unit: list[int] = []
    extra_rank: list[int] = []
    extra_key: list[tuple[int, int]] = []
    post_maps, unit_maps = [], []
    last_unit = base.n_units - 1
    stacked: dict[str, int] = {}
    for spec, src in zip(merger.sources, sources, strict=True):
        lay = build_layout(src)
        units = _source_units(merger, spec.id, lay, base, stacked)
        pmap = np.full(lay.n_posts, -1, dtype=np.int64)
        turn: dict[tuple[int, int], int] = {}
        for p in range(lay.n_posts):
            su, r = int(lay.post_unit[p]), int(lay.post_rank[p])
            choices = units[su]
            if not choices:  # an abolished block: an extra post that the norm never keeps
                key = (-1, r)
                u = last_unit
            else:
                j = turn.get((su, r), 0)
                turn[(su, r)] = j + 1
                u = choices[j % len(choices)]
                key = (u, r)
            k = taken.get(key, 0)
            taken[key] = k + 1
            slots = norm.get(key, []) if key[0] >= 0 else []
            if k < len(slots):
                pmap[p] = slots[k]
            else:
                pmap[p] = base.n_posts + len(extra_unit)
                extra_unit.append(u)
                extra_rank.append(r)
                extra_key.append(key)
        post_maps.append(pmap)
        umap = np.array([(c[0] if c else 0) for c in units], dtype=np.int64)
        unit_maps.append(umap)
    n = base.n_posts + len(extra_unit)
    post_unit = np.concatenate([base.post_unit, np.asarray(extra_unit, dtype=np.int32)])
    post_rank = np.concatenate([base.post_rank, np.asarray(extra_rank, dtype=np.int8)])
    layout = Layout(
        unit_block=base.unit_block,
        unit_district=base.unit_district,
        unit_staff_share=base.unit_staff_share,
        unit_side=base.unit_side,
        post_rank=post_rank,
        post_unit=post_unit.astype(np.int32),
        post_block=base.unit_block[post_unit],
        post_district=base.unit_district[post_unit],
        block_ids=base.block_ids,
    )
    groups: dict[tuple[int, int], int] = {}
    for key in extra_key:
        groups.setdefault(key, len(groups))
    post_group = np.full(n, -1, dtype=np.int64)
    keep = np.zeros(len(groups), dtype=np.int64)
    for key, g in groups.items():
        if key[0] >= 0:
            post_group[norm.get(key, [])] = g
            keep[g] = len(norm.get(key, []))
    post_group[base.n_posts :] = [groups[k] for k in extra_key]
    return UnionLayout(
        layout=layout,
        n_norm=base.n_posts,
        post_map=tuple(post_maps),
        unit_map=tuple(unit_maps),
        post_group=post_group,
        group_keep=keep,
    )


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True, eq=False)
class MergerPlan:
    """A merged scenario compiled once for all its replications."""

    scenario: Scenario
    when: float  # the merger date (month index)
    sources: tuple[Scenario, ...]
    source_params: tuple[Params, ...]
    union: UnionLayout | None
    phase: Scenario | None  # the merged province after the date (its own targets)
    phase_params: Params | None
    pool_target: int
    # Posts of newcomer blocks that no source post takes: filled on the date by newcomers.
    newcomer_posts: np.ndarray | None
    merged_start: Scenario | None  # the merged scenario as of the date (for the newcomers)
    # Where each of the scenario's targets comes from: ("phase", k), ("source", s, k), or on
    # the "no merger" path ("alone", k) or ("before", k) (read on the merger date); None: not
    # measured on that path.
    slots: tuple[tuple[Any, ...] | None, ...]
    alone: Scenario | None = None
    alone_params: Params | None = None


def compile_plan(scenario: Scenario) -> MergerPlan:
    """Compile a merged scenario: its sources, the union layout and the merged phase."""
    merger = scenario.merger
    assert merger is not None
    sources = scenario.merger_sources
    when = date_time(merger.date)
    ids = [s.id for s in merger.sources]
    targets = scenario.targets
    after = [t for t in targets if not t.pre_merger]
    slots: list[tuple[Any, ...] | None] = []
    src_index = {s: {t.id: k for k, t in enumerate(src.targets)} for s, src in enumerate(sources)}
    if not merger.enabled:
        first = sources[0]
        missing = unmeasured(scenario)  # what the first source alone cannot measure
        extra: list[Any] = []
        where: dict[str, int] = {}
        for t in after:
            b = back_target(t, ids[0], merger)
            if b is None or t.id in missing:
                continue
            where[t.id] = len(first.targets) + len(extra)
            extra.append(b.model_copy(update={"id": f"~{t.id}"[:40]}))
        alone = first.model_copy(update={"targets": [*first.targets, *extra]})
        for t in targets:
            if not t.pre_merger:
                slots.append(("alone", where[t.id]) if t.id in where else None)
            elif t.source_province == ids[0]:  # read on the merger date (_measured_on_date)
                slots.append(("before", src_index[0][t.id.split(":", 1)[1]]))
            else:
                slots.append(None)
        return MergerPlan(
            scenario=scenario,
            when=when,
            sources=sources,
            source_params=(),
            union=None,
            phase=None,
            phase_params=None,
            pool_target=0,
            newcomer_posts=None,
            merged_start=None,
            slots=tuple(slots),
            alone=alone,
            alone_params=compile_params(alone),
        )
    union = union_layout(scenario, sources)
    phase = scenario.model_copy(update={"targets": after})
    base = build_layout(scenario)
    taken = np.zeros(union.n_norm, dtype=bool)
    for pmap in union.post_map:
        taken[pmap[pmap < union.n_norm]] = True
    blocks = [base.block_ids.index(b) for b in merger.newcomer_blocks]
    newcomer = np.isin(base.post_block, blocks) & ~taken
    phase_params = compile_params(phase, union.layout)
    k_after = 0
    for t in targets:
        if not t.pre_merger:
            slots.append(("phase", k_after))
            k_after += 1
        else:
            s = ids.index(str(t.source_province))
            slots.append(("source", s, src_index[s][t.id.split(":", 1)[1]]))
    return MergerPlan(
        scenario=scenario,
        when=when,
        sources=sources,
        source_params=tuple(compile_params(s) for s in sources),
        union=union,
        phase=phase,
        phase_params=phase_params,
        pool_target=pool_size(scenario, base),
        newcomer_posts=np.flatnonzero(newcomer),
        merged_start=scenario.model_copy(
            update={"start": merger.date.replace(day=1), "merger": None, "targets": []}
        ),
        slots=tuple(slots),
    )


# --------------------------------------------------------------------------- hand-off


@dataclass
class Handoff:
    """The people of the source provinces on the merger date, as the merged model takes them."""

    t: float
    people: People
    state: dict[str, np.ndarray]
    quals: dict[str, np.ndarray]
    committee: list[int]
    baselines: dict[str, float]
    outsiders: int | None
    pool_target: int
    origin: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # source
    union: UnionLayout | None = None
    newcomers: int = 0  # people entering on the date (the last ones), with drawn states

    def apply(self, m: Any, idx: np.ndarray) -> None:
        """Give the merged model's people ``idx`` their state from the source provinces (the
        model calls it while it sets up its people, before anything is scheduled). Newcomers
        (the last ``newcomers``) keep the state drawn for them, as a roster's people do."""
        idx = idx[: len(idx) - self.newcomers]
        st = self.state
        m.max_rank[idx] = st["max_rank"]
        m.elig_from[idx] = st["elig_from"]
        m.elig_until[idx] = st["elig_until"]
        m.hz_t[idx] = self.t
        m.hz_left[idx] = st["hz_left"]
        m.cause_u[idx] = st["cause_u"]
        m.term_u[idx] = st["term_u"]
        m.merit[idx] = st["merit"]
        for name, values in self.quals.items():
            getattr(m.qual, name)[idx] = values
        rm = rules.removal_rate(
            m.removal.yearly_rate, st["merit"], m.removal.merit_slope, m.removal_multiplier
        )
        m.rm[idx] = rm
        # The people handed over are the model's first ones: their list entries are a slice.
        k = len(idx)
        assert k == 0 or (idx[0] == 0 and idx[-1] == k - 1)
        m.rm_l[:k] = rm.tolist()
        for name in ("term_end", "terms_done", "decisions", "rot_last", "rot_count"):
            getattr(m, name)[:k] = st[name].tolist()


def export(m: Any, t: float, pmap: np.ndarray, umap: np.ndarray, post_unit: np.ndarray) -> dict:
    """The people present in source model ``m`` at ``t`` and their state (posts and units as
    the merged layout numbers them)."""
    n = m.n
    rank = m.rank[:n]
    present = (rank > 0) | ((rank == POOL) & (m.gone_t[:n] > t))
    who = np.flatnonzero(present)
    post = np.array(m.post, dtype=np.int64)[who]
    held = post >= 0
    new_post = np.where(held, pmap[np.maximum(post, 0)], -1)
    src_unit = np.maximum(m.unit[who], 0)
    new_unit = np.where(held, post_unit[np.maximum(new_post, 0)], umap[src_unit])
    r = rank[who].astype(np.int64)
    rate = np.asarray(m.rate_of_rank)[r] + np.asarray(m.rm_on_rank)[r] * np.asarray(m.rm_l)[who]
    hz_left = np.asarray(m.hz_left_l)[who]
    hz_t = np.asarray(m.hz_t_l)[who]
    remaining = np.maximum(0.0, hz_left - (t - hz_t) * rate)
    wl = who.tolist()
    state = {
        "female": m.female[who].copy(),
        "birth": m.birth[who].copy(),
        "rank": rank[who].copy(),
        "post": new_post,
        "unit": new_unit.astype(np.int32),
        "max_rank": m.max_rank[who].copy(),
        "elig_from": m.elig_from[who].copy(),
        "elig_until": m.elig_until[who].copy(),
        "hz_left": remaining,
        "cause_u": m.cause_u[who].copy(),
        "term_u": m.term_u[who].copy(),
        "merit": m.merit[who].copy(),
        "term_end": np.array([m.term_end[i] for i in wl], dtype=float),
        "terms_done": np.array([m.terms_done[i] for i in wl], dtype=np.int64),
        "decisions": np.array([m.decisions[i] for i in wl], dtype=np.int64),
        "rot_last": np.array([m.rot_last[i] for i in wl], dtype=float),
        "rot_count": np.array([m.rot_count[i] for i in wl], dtype=np.int64),
    }
    quals = {f: getattr(m.qual, f)[who].copy() for f in m.qual.__dataclass_fields__}
    pos = {int(i): k for k, i in enumerate(wl)}
    committee = sorted(pos[i] for i in m.committee if i in pos)
    return {"state": state, "quals": quals, "committee": committee}


def newcomers(plan: MergerPlan, seed: int, rep: int) -> People | None:
    """The people entering the merged province's corps on the date in its newcomer blocks (one
    for each post there that no source leader takes), drawn from the merged file's population
    as of the date with the merged province's ``population`` stream."""
    from sim.model import stream_seeds

    posts = plan.newcomer_posts
    if posts is None or len(posts) == 0 or plan.merged_start is None:
        return None
    g = np.random.Generator(np.random.PCG64(stream_seeds(seed, rep, MERGED_BRANCH)["population"]))
    everyone = build_people(g, plan.merged_start, build_layout(plan.scenario))
    pick = np.flatnonzero(np.isin(everyone.post, posts))
    return People(
        female=everyone.female[pick],
        birth=everyone.birth[pick],
        post=everyone.post[pick],
        rank=everyone.rank[pick],
        unit=everyone.unit[pick],
        since=everyone.since[pick],
    )


def join(
    parts: list[dict],
    t: float,
    plan: MergerPlan,
    baselines: dict[str, float],
    new: People | None = None,
) -> Handoff:
    """The hand-off of several sources' exports (first source's people first), and the
    newcomers ``new`` last."""
    offset = 0
    committee: list[int] = []
    for part in parts:
        committee += [offset + k for k in part["committee"]]
        offset += len(part["state"]["rank"])
    state = {k: np.concatenate([p["state"][k] for p in parts]) for k in parts[0]["state"]}
    quals = {k: np.concatenate([p["quals"][k] for p in parts]) for k in parts[0]["quals"]}
    people = People(
        female=state["female"],
        birth=state["birth"],
        post=state["post"].astype(np.int32),
        rank=state["rank"].astype(np.int8),
        unit=state["unit"],
        since=np.full(len(state["rank"]), t),
    )
    n_new = 0
    if new is not None and len(new.post):
        n_new = len(new.post)
        people = People(
            **{
                f: np.concatenate(
                    [getattr(people, f), getattr(new, f).astype(getattr(people, f).dtype)]
                )
                for f in ("female", "birth", "post", "rank", "unit", "since")
            }
        )
    merger = plan.scenario.merger
    assert merger is not None
    fc = merger.first_committee
    origin = np.concatenate(
        [np.full(len(p["state"]["rank"]), s, dtype=np.int64) for s, p in enumerate(parts)]
    )
    return Handoff(
        t=t,
        people=people,
        state=state,
        quals=quals,
        committee=committee,
        baselines=baselines,
        outsiders=fc.outsiders if fc.appointed else None,
        pool_target=plan.pool_target,
        origin=np.concatenate([origin, np.full(n_new, -1, dtype=np.int64)]),
        union=plan.union,
        newcomers=n_new,
    )


# --------------------------------------------------------------------------- running


_TARGET_FIELDS = (
    "target_value",
    "target_met",
    "target_threshold",
    "target_met_upper",
    "trajectory",
    "target_empty_years",
)


def _measured_on_date(m: Any, ks: list[int]) -> dict[int, dict[str, Any]]:
    """Targets ``ks`` of model ``m`` measured now (the merger date), as a merged run measures
    a source's pre-merger targets, leaving the model as it was: per target, the fields of
    :class:`sim.outcomes.RepResult` that hold it."""
    from sim.outcomes import compare, thresholds
    from sim.scenario import FlowTarget

    if not ks:
        return {}
    saved = m.trajectory.copy()
    saved_empty = getattr(m, "empty_years", None)
    m.empty_years = np.zeros(len(m.targets), dtype=np.int64)
    _measure_now(m)
    appts = m._appt_array()
    years = (appts["t"] // 12).astype(np.int64) if len(appts) else np.zeros(0, np.int64)
    out: dict[int, dict[str, Any]] = {}
    for k in ks:
        target = m.targets[k]
        if isinstance(target, FlowTarget):
            value = m._flow_metric(k, target, appts, years)
        else:
            value = float(m.trajectory[k, target.by - m.year0])
        lower, upper = thresholds(target, m.baseline_value[k])
        met = compare(value, target.op, lower)
        met_upper = compare(value, target.op, upper)
        empty = int(m.empty_years[k])
        if empty and getattr(target, "empty_year", "") == "fail":
            met = met_upper = False
        out[k] = {
            "target_value": value,
            "target_met": met,
            "target_threshold": lower,
            "target_met_upper": met_upper,
            "trajectory": m.trajectory[k].copy(),
            "target_empty_years": empty,
        }
    m.trajectory[:] = saved
    if saved_empty is None:
        del m.empty_years
    else:
        m.empty_years = saved_empty
    return out


def _measure_now(m: Any) -> None:
    """Measure the stock-like targets of a source province due in the merger year on the
    merger date (its last day), in the column of that year."""
    t = m.env.now
    m._measure_state(t, m.year_index(t), due=int(t // 12))


@dataclass
class MergedRun:
    """Every part of a merged replication (for checks and tests)."""

    result: RepResult
    sources: list[RepResult]
    phase: RepResult | None
    handoff: Handoff | None
    models: list[Any]


def run_parts(
    scenario: Scenario, seed: int, rep: int, plan: MergerPlan, keep_log: bool = False
) -> MergedRun:
    """Run one replication of a merged scenario and keep its parts."""
    from sim.model import Model

    if plan.alone is not None:  # the "no merger" path: the first source alone
        model = Model(plan.alone, seed, rep, keep_log=keep_log, params=plan.alone_params)
        model.begin()
        model.advance(plan.when)
        # Its targets due before the merger are read on the date, as in the merged run, so
        # that the two paths measure the same thing (it goes on to the end of 2025 unmerged).
        early = _measured_on_date(model, [s[1] for s in plan.slots if s and s[0] == "before"])
        model.advance(model.t_end + 1e-9)
        res = model.finish()
        for k, row in early.items():
            for name, value in row.items():
                getattr(res, name)[k] = value
        return MergedRun(_assemble(plan, rep, [res], None, alone=res), [res], None, None, [model])
    assert plan.union is not None and plan.phase is not None
    t = plan.when
    parts, results, models = [], [], []
    baselines: dict[str, float] = {}
    carried = plan.scenario.merger.targets_after if plan.scenario.merger else "merged"
    for s, (src, prm) in enumerate(zip(plan.sources, plan.source_params, strict=True)):
        m = Model(src, seed, rep, keep_log=keep_log, params=prm, branch=s)
        m.begin()
        m.advance(t)
        _measure_now(m)
        parts.append(
            export(
                m, t, plan.union.post_map[s], plan.union.unit_map[s], plan.union.layout.post_unit
            )
        )
        if src.province == carried:
            for k, target in enumerate(src.targets):
                if getattr(target, "baseline", None) is not None:
                    baselines[target.id] = float(m.baseline_value[k])
        m.t_end = t  # its vacancies and records end on the date
        results.append(m.finish())
        models.append(m)
    handoff = join(parts, t, plan, baselines, newcomers(plan, seed, rep))
    phase = Model(
        plan.phase,
        seed,
        rep,
        keep_log=keep_log,
        params=plan.phase_params,
        branch=MERGED_BRANCH,
        handoff=handoff,
    )
    res = phase.run()
    models.append(phase)
    return MergedRun(_assemble(plan, rep, results, res), results, res, handoff, models)


def run_replication(
    scenario: Scenario, seed: int, rep: int, plan: MergerPlan, keep_log: bool = False
) -> RepResult:
    """One replication of a merged scenario (see the module's docstring)."""
    return run_parts(scenario, seed, rep, plan, keep_log).result


#: The yearly tables of a merged replication that add its parts: the sources' years before
#: the date and the merged province's after it (they count events, so the sum is the whole).
_SUMMED = ("appointments", "vacancy_months", "reserved_months", "exits", "headcount", "rotations")


def _assemble(
    plan: MergerPlan,
    rep: int,
    sources: list[RepResult],
    phase: RepResult | None,
    alone: RepResult | None = None,
) -> RepResult:
    """The merged scenario's result from its parts (see the module's docstring)."""
    nt = len(plan.slots)
    main = phase if phase is not None else alone
    assert main is not None
    ny = main.trajectory.shape[1]
    value = np.full(nt, np.nan)
    met = np.zeros(nt, dtype=bool)
    thr = np.full(nt, np.nan)
    upper = np.zeros(nt, dtype=bool)
    traj = np.full((nt, ny), np.nan)
    empty = np.zeros(nt, dtype=np.int64)
    for i, slot in enumerate(plan.slots):
        if slot is None:
            continue
        if slot[0] == "phase":
            r, k = phase, slot[1]
        elif slot[0] in ("alone", "before"):
            r, k = alone, slot[1]
        else:
            r, k = sources[slot[1]], slot[2]
        assert r is not None
        value[i] = r.target_value[k]
        met[i] = r.target_met[k]
        thr[i] = r.target_threshold[k]
        upper[i] = r.target_met_upper[k]
        traj[i] = r.trajectory[k]
        if len(r.target_empty_years):
            empty[i] = r.target_empty_years[k]
    if alone is not None:
        tables = {name: getattr(alone, name) for name in (*_SUMMED, "training", "pool")}
        events = alone.n_events
    else:
        assert phase is not None
        parts = [*sources, phase]
        tables = {name: sum(np.asarray(getattr(r, name)) for r in parts) for name in _SUMMED}
        same = all(np.shape(r.training) == np.shape(phase.training) for r in sources)
        tables["training"] = sum(np.asarray(r.training) for r in parts) if same else phase.training
        tables["pool"] = phase.pool
        events = sum(int(r.n_events) for r in parts)
    return RepResult(
        rep=rep,
        target_value=value,
        target_met=met,
        target_threshold=thr,
        target_met_upper=upper,
        trajectory=traj,
        committee=main.committee,
        n_events=int(events),
        log=main.log,
        target_empty_years=empty,
        merger=main.merger,
        **tables,
    )


def logged_parts(
    scenario: Scenario, seed: int, rep: int, plan: MergerPlan | None = None
) -> list[tuple[str, RepResult, Layout]]:
    """Replication ``rep`` of a merged scenario run with its event logs, part by part: each
    source province to the merger date, then the merged province (or, without the merger, the
    first source alone), as (province, result with its log, the layout its posts index)."""
    plan = plan or _plan_for(scenario)
    run = run_parts(scenario, seed, rep, plan, keep_log=True)
    if plan.alone is not None:
        return [(plan.sources[0].province, run.result, run.models[0].layout)]
    assert run.phase is not None
    return [
        *(
            (src.province, res, m.layout)
            for src, res, m in zip(plan.sources, run.sources, run.models, strict=False)
        ),
        (scenario.province, run.phase, run.models[-1].layout),
    ]


def check_invariants(scenario: Scenario, seed: int, rep: int) -> list[str]:
    """The invariants of every part of a merged replication (:mod:`sim.invariants`), and the
    conservation of people across the date: everyone present in a source province on the date
    is handed over once, and each leader handed over is then in a post, waiting as surplus,
    retired early, retired as surplus, or retiring that day (their statutory date)."""
    from sim.invariants import check_invariants as check

    plan = _plan_for(scenario)
    run = run_parts(scenario, seed, rep, plan, keep_log=True)
    errors: list[str] = []
    if plan.alone is not None:
        assert plan.alone_params is not None
        return [f"alone: {e}" for e in check(run.result, plan.alone_params.layout.post_rank)]
    for s, (res, prm) in enumerate(zip(run.sources, plan.source_params, strict=True)):
        errors += [f"source {s}: {e}" for e in check(res, prm.layout.post_rank)]
    assert run.phase is not None and plan.phase_params is not None and run.handoff is not None
    errors += [f"merged: {e}" for e in check(run.phase, plan.phase_params.layout.post_rank)]
    t = plan.when
    present = 0
    for m in run.models[:-1]:
        n = m.n
        rank = m.rank[:n]
        present += int(np.count_nonzero((rank > 0) | ((rank == POOL) & (m.gone_t[:n] > t))))
    handed = len(run.handoff.people.rank) - run.handoff.newcomers
    if handed != present:
        errors.append(f"{present} people present on the merger date, {handed} handed over")
    led = dict(zip(LEDGER, run.phase.merger.tolist(), strict=True))
    leaders = int(np.count_nonzero(run.handoff.people.post >= 0))
    if led["holders"] != leaders:
        errors.append(f"{leaders} leaders handed over, {led['holders']} in post on the date")
    if run.handoff.newcomers:
        new_posts = run.handoff.people.post[-run.handoff.newcomers :]
        if not np.isin(new_posts, plan.newcomer_posts).all():  # type: ignore[arg-type]
            errors.append("a newcomer holds a post outside the newcomer blocks' free posts")
    parts = (
        led["in_post"]
        + led["waiting"]
        + led["early_retired"]
        + led["retired_surplus"]
        + led["retiring"]
    )
    if parts != leaders or led["retired_surplus"] < 0:
        errors.append(f"leaders not conserved across the merger: {led}")
    return errors


def _plan_for(scenario: Scenario) -> MergerPlan:
    """The scenario's plan, compiled once while the same scenario object comes back (the
    runners' cache of parameters, :func:`sim.runner.params_for`, holds it)."""
    from sim.runner import params_for

    plan = params_for(scenario).merger
    assert plan is not None
    return plan


__all__ = [
    "LEDGER",
    "LEDGER_MEANING",
    "Handoff",
    "MergedRun",
    "MergerDesk",
    "MergerPlan",
    "UnionLayout",
    "check_invariants",
    "compile_plan",
    "run_parts",
    "run_replication",
    "union_layout",
]
