"""Merged provinces as scenarios: their source provinces, and the targets across the merger.

A scenario with a ``merger`` block (:class:`sim.scenario.Merger`) names the provinces merged
into it on a date (Resolution 60-NQ/TW and Resolution 202/2025/QH15: 63 provinces became 34
on 1 July 2025). This module is the scenario side of it, run when the file is validated:

- :func:`resolve_sources`: each source province as a scenario of its own: a bundled scenario,
  or, for a partner without a source document, a bundled scenario's structure scaled to the
  partner's public counts (:func:`build_partner`);
- :func:`merger_targets`: the targets the merged scenario reports: its own (or a source's,
  carried to the merged blocks when the file says so) and, prefixed with the source's id,
  each source's targets that fall due before the merger (measured on that province up to the
  merger date);
- :func:`back_target`: a merged province's target read on one source province's blocks (the
  "no merger" path keeps the old province and measures the same things on it).

The simulation side (the replication across the merger date) is :mod:`sim.merger`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from sim.scenario import Merger, PartnerScale, Scenario, Target


class MergerError(ValueError):
    """A merger that cannot be set up; ``loc`` is the field below ``merger`` at fault."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


@functools.lru_cache(maxsize=64)
def _load(path: str, mtime: float) -> Scenario:
    from sim.scenario import load_scenario

    return load_scenario(path)


def load_source(name: str) -> Scenario:
    """A source scenario by bundled name or path (cached while the file is unchanged)."""
    from sim.scenario import resolve_scenario_path

    path = resolve_scenario_path(name)
    try:
        mtime = os.path.getmtime(path)
    except OSError:
        mtime = -1.0
    return _load(str(Path(path)), mtime)


def _first_problem(exc: Exception) -> str:
    from sim.scenario import ScenarioError

    if isinstance(exc, ScenarioError):
        return "; ".join(str(i) for i in exc.issues[:3])
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
    return str(exc)


def resolve_sources(merger: Merger, start: dt.date, end: dt.date) -> tuple[Scenario, ...]:
    """Each source province as a validated scenario over ``start`` to ``end``.

    Raises:
        MergerError: a source that cannot be loaded or built, or does not fit the merger.
    """
    from sim.scenario import ScenarioError, apply_overrides

    ids = [s.id for s in merger.sources]
    for k, sid in enumerate(ids):
        if ids.index(sid) != k:
            raise MergerError(("sources", k, "id"), f"source id {sid!r} is used twice")
    out = []
    for k, src in enumerate(merger.sources):
        try:
            base = load_source(src.scenario)
        except ScenarioError as exc:
            raise MergerError(
                ("sources", k, "scenario"),
                f"source {src.id}: cannot load scenario {src.scenario!r}: {_first_problem(exc)}",
            ) from None
        if base.merger is not None:
            raise MergerError(
                ("sources", k, "scenario"),
                f"source {src.id}: {src.scenario} is itself a merged province",
            )
        try:
            sc = base.variant(src.variant) if src.variant else base
            if src.scale is not None:
                sc = build_partner(sc, src.id, src.scale, src.name)
            if src.set:
                sc = apply_overrides(sc, src.set, source=f"merger.sources.{src.id}.set")
            if sc.start != start:
                raise MergerError(
                    ("sources", k, "scenario"),
                    f"source {src.id} starts on {sc.start}, the merged province on {start}: "
                    "the provinces must start together",
                )
            if not (start < merger.date <= sc.end):
                raise MergerError(
                    ("date",),
                    f"the merger date {merger.date} must fall after the start {start} and by "
                    f"the end of source {src.id} ({sc.end})",
                )
            if sc.end != end or sc.province != src.id:
                sc = apply_overrides(sc, {"end": end.isoformat(), "province": src.id})
        except (ScenarioError, ValidationError, ValueError) as exc:
            if isinstance(exc, MergerError):
                raise
            raise MergerError(("sources", k), f"source {src.id}: {_first_problem(exc)}") from None
        out.append(sc)
    return tuple(out)


def build_partner(base: Scenario, pid: str, scale: PartnerScale, name: Any = None) -> Scenario:
    """A province without a source document: ``base``'s structure and assumptions scaled to
    ``scale`` (its L1 posts, district units, women and under-40 shares), without targets.

    Blocks keep their order and ids. District blocks take the partner's district count (heads
    and deputies in proportion); the other blocks are scaled by one factor so that the L1 posts
    add up, the difference of rounding put on the block with the most deputies. The stock of
    women and under-40s is split between provincial and district posts as in ``base``.
    """
    from sim.scenario import Scenario

    data = base.model_dump(mode="json")
    blocks = data["structure"]["blocks"]
    total = scale.l1_posts

    def l1(b: dict[str, Any]) -> int:
        return int(b["heads"]) + int(b["deputies"])

    def resize(b: dict[str, Any], units: int, f: float) -> None:
        b["units"] = units
        b["heads"] = min(units, max(1, round(b["heads"] * f))) if b["heads"] else 0
        b["deputies"] = max(0, round(b["deputies"] * f))
        share = b.get("women_staff_share")
        if isinstance(share, list):
            b["women_staff_share"] = [share[i % len(share)] for i in range(units)]

    district = [b for b in blocks if b.get("district")]
    provincial = [b for b in blocks if not b.get("district")]
    if scale.district_units is not None and district:
        for b in district:
            f = scale.district_units / b["units"]
            resize(b, scale.district_units, f)
        rest = total - sum(l1(b) for b in district)
        scaled = provincial
    else:
        rest = total
        scaled = blocks
    base_rest = sum(l1(b) for b in scaled)
    if rest <= 0 or base_rest == 0:
        raise ValueError(
            f"scale: {total} L1 posts leave none for the provincial blocks once the districts "
            f"hold {total - rest}"
        )
    f = rest / base_rest
    for b in scaled:
        resize(b, max(1, round(b["units"] * f)), f)
    diff = total - sum(l1(b) for b in blocks)
    for b in sorted(provincial or blocks, key=lambda b: -b["deputies"]):
        if diff == 0:
            break
        step = max(diff, -b["deputies"])
        b["deputies"] += step
        diff -= step
    if diff:
        raise ValueError(f"scale: cannot lay out {total} L1 posts on {base.province}'s blocks")
    data["structure"]["l1_total"] = total
    prov = sum(l1(b) for b in blocks if not b.get("district"))
    dist = total - prov
    pop = data["population"]["l1"]
    bw = pop["women"]
    by = pop["young"]

    def split(count: int, prov_base: int, dist_base: int) -> dict[str, int]:
        share = prov_base / (prov_base + dist_base) if prov_base + dist_base else prov / total
        p = min(prov, round(count * share))
        d = min(dist, count - p)
        p = min(prov, count - d)
        return {"provincial": p, "district": d}

    women = split(round(scale.women_share * total), bw["provincial"], bw["district"])
    young = split(round(scale.young_share * total), by["provincial"], by["district"])
    n_young = young["provincial"] + young["district"]
    base_young = by["provincial"] + by["district"]
    yw = round(pop["young_women"] * n_young / base_young) if base_young else 0
    # Keep the young women placeable (the scenario's own check, solved for the count).
    wp, wd, yp, yd = women["provincial"], women["district"], young["provincial"], young["district"]
    lowest = max(0, -wp, yd - (dist - wd), -yp)
    highest = min(n_young, yd + wp, wd + yp, (prov - wp) + yd, wp + wd)
    pop["women"], pop["young"] = women, young
    pop["young_women"] = int(min(max(yw, lowest), max(lowest, highest)))
    data.update(
        province=pid,
        targets=[],
        not_modelled=[],
        variants={},
        assumptions=[],
        exploration=None,
        merger=None,
    )
    if name is not None:
        data["name"] = name.model_dump() if hasattr(name, "model_dump") else name
    return Scenario.model_validate(data)


# --------------------------------------------------------------------------- targets


def _block_map(merger: Merger) -> dict[str, dict[str, str]]:
    """Source id -> source block -> merged block."""
    out: dict[str, dict[str, str]] = {s.id: {} for s in merger.sources}
    for bm in merger.blocks:
        for sid, blocks in bm.sources.items():
            for b in blocks:
                out.setdefault(sid, {})[b] = bm.block
    return out


def _with_blocks(target: Any, blocks: list[str] | None, **update: Any) -> Any:
    who = getattr(target, "who", None)
    if who is not None:
        update["who"] = who.model_copy(update={"blocks": blocks})
    elif hasattr(target, "blocks"):
        update["blocks"] = blocks
    return target.model_copy(update=update)


def _target_blocks(target: Any) -> list[str] | None:
    who = getattr(target, "who", None)
    if who is not None:
        return who.blocks
    return getattr(target, "blocks", None)


def carry_target(target: Target, sid: str, merger: Merger) -> Target | None:
    """A source province's target measured on the merged province: its blocks become the
    merged blocks they are joined into (abolished ones dropped); None when nothing is left."""
    blocks = _target_blocks(target)
    if blocks is not None:
        mapping = _block_map(merger)[sid]
        merged = sorted({mapping[b] for b in blocks if b in mapping})
        if not merged:
            return None
        blocks = merged
    update: dict[str, Any] = {"source_province": sid}
    if target.kind == "flow":  # the merged province's appointments count from the merger
        update["from_year"] = max(target.from_year, merger.date.year)
    return _with_blocks(target, blocks, **update)


def back_target(target: Target, sid: str, merger: Merger) -> Target | None:
    """A merged province's target read on source ``sid`` alone (the "no merger" path): its
    merged blocks become the source's blocks joined into them. None when the source has none
    of them."""
    blocks = _target_blocks(target)
    if blocks is not None:
        mapping = _block_map(merger)[sid]
        own = sorted(b for b, m in mapping.items() if m in blocks)
        if not own:
            return None
        blocks = own
    return _with_blocks(target, blocks)


def before_merger(target: Target, source: Scenario, date: dt.date) -> bool:
    """Whether ``target`` of ``source`` falls due before the merger (it is measured on the
    source province: stock and pool targets of the merger year on the merger date, flows up
    to it, committees elected before it)."""
    if target.kind == "committee":
        dates = source.congress.dates if source.congress is not None else []
        return any(d.year == target.by and d < date for d in dates)
    return target.by <= date.year


def merger_targets(
    own: list[Target], merger: Merger, sources: tuple[Scenario, ...]
) -> list[Target]:
    """The targets a merged scenario reports (see the module's docstring)."""
    own = [t for t in own if t.source_province is None and not t.pre_merger]
    after: list[Target] = list(own)
    if merger.targets_after != "merged":
        sid = merger.targets_after
        src = sources[[s.id for s in merger.sources].index(sid)]
        carried = []
        for t in src.targets:
            if before_merger(t, src, merger.date):
                continue
            c = carry_target(t, sid, merger)
            if c is not None:
                carried.append(c)

        def key(t: Target) -> tuple[str, str, int]:
            return (t.kind, str(getattr(t, "group", "")), t.by)

        same = {key(t) for t in carried}
        after = [t for t in own if key(t) not in same]
        after += carried
    before: list[Target] = []
    for spec, src in zip(merger.sources, sources, strict=True):
        for t in src.targets:
            if before_merger(t, src, merger.date):
                before.append(
                    t.model_copy(
                        update={
                            "id": f"{spec.id}:{t.id}",
                            "source_province": spec.id,
                            "pre_merger": True,
                        }
                    )
                )
    return after + before


def check_blocks(merger: Merger, sources: tuple[Scenario, ...], block_ids: set[str]) -> None:
    """Every block of every source province is joined into a merged block or abolished, once;
    every merged block named exists.

    Raises:
        MergerError: the first problem, at its place in the ``merger`` block.
    """
    ids = [s.id for s in merger.sources]
    seen: dict[tuple[str, str], str] = {}
    for k, bm in enumerate(merger.blocks):
        if bm.block not in block_ids:
            raise MergerError(
                ("blocks", k, "block"), f"{bm.block} is not a block of the merged structure"
            )
        for sid, blocks in bm.sources.items():
            if sid not in ids:
                raise MergerError(("blocks", k, "sources", sid), f"unknown source {sid!r}")
            src = sources[ids.index(sid)]
            have = {b.id for b in src.structure.blocks}
            for b in blocks:
                if b not in have:
                    raise MergerError(("blocks", k, "sources", sid), f"{sid} has no block {b!r}")
                if (sid, b) in seen:
                    raise MergerError(
                        ("blocks", k, "sources", sid),
                        f"{sid}.{b} is joined into {seen[(sid, b)]} already",
                    )
                seen[(sid, b)] = bm.block
    for sid, blocks in merger.abolish.items():
        if sid not in ids:
            raise MergerError(("abolish", sid), f"unknown source {sid!r}")
        for b in blocks:
            if (sid, b) in seen:
                raise MergerError(
                    ("abolish", sid),
                    f"{sid}.{b} is both abolished and joined into {seen[(sid, b)]}",
                )
            seen[(sid, b)] = ""
    for sid, src in zip(ids, sources, strict=True):
        missing = [b.id for b in src.structure.blocks if (sid, b.id) not in seen]
        if missing:
            raise MergerError(
                ("blocks",),
                f"{sid}'s block(s) {', '.join(missing)} are neither joined into a merged block "
                "nor abolished (merger.abolish)",
            )
    for k, b in enumerate(merger.newcomer_blocks):
        if b not in block_ids:
            raise MergerError(("newcomer_blocks", k), f"{b} is not a block of the merged structure")
    if merger.targets_after not in ("merged", *ids):
        raise MergerError(
            ("targets_after",),
            f"targets_after is 'merged' or a source id ({', '.join(ids)}), not "
            f"{merger.targets_after!r}",
        )


def roster_scenario(scenario: Scenario) -> Scenario:
    """A merged province started from a roster of its own leaders on ``merger.roster_start``
    (1 January 2026 by default), skipping the simulated past: the merged structure and policy
    without the merger, over the rest of the horizon.

    What cannot be measured from that date is left out, and :func:`roster_notes` says what:
    the sources' pre-merger targets, targets due before it, congresses before it, and targets
    measured against a baseline before it.
    """
    from sim.scenario import Scenario

    m = scenario.merger
    if m is None:
        return scenario
    start = m.roster_start
    data = scenario.model_dump(mode="json")
    dates = []
    if scenario.congress is not None:
        dates = [d for d in scenario.congress.dates if d >= start]
        data["congress"] = (
            None if not dates else {**data["congress"], "dates": [d.isoformat() for d in dates]}
        )
    years = {d.year for d in dates}
    targets = []
    for t, raw in zip(scenario.targets, data["targets"], strict=True):
        if not _from_roster_ok(t, start, years):
            continue
        raw = dict(raw, source_province=None, pre_merger=False)
        if t.kind == "flow":
            raw["from_year"] = max(t.from_year, start.year)
        targets.append(raw)
    data.update(
        start=start.isoformat(),
        merger=None,
        targets=targets,
        assumptions=[a for a in data["assumptions"] if not a["path"].startswith("merger.")],
        exploration=None,
    )
    lf = scenario.policy.levers_from
    if lf is not None and lf < start:
        data["policy"]["levers_from"] = None
    return Scenario.model_validate(data)


def _from_roster_ok(t: Any, start: dt.date, congress_years: set[int]) -> bool:
    if t.pre_merger or t.by < start.year:
        return False
    if t.kind == "committee" and t.by not in congress_years:
        return False
    base = getattr(t, "baseline", None)
    return base is None or base.year >= start.year


def roster_notes(scenario: Scenario) -> list[str]:
    """What a roster start of merged ``scenario`` leaves out (one line each), for the user."""
    m = scenario.merger
    if m is None:
        return []
    start = m.roster_start
    years = {d.year for d in (scenario.congress.dates if scenario.congress else []) if d >= start}
    dropped = [t.id for t in scenario.targets if not _from_roster_ok(t, start, years)]
    notes = [
        f"starts on {start} from the roster: the merger and the years before it are not "
        "simulated (merger.roster_start)"
    ]
    if dropped:
        notes.append(
            f"left out, not measurable from {start}: {', '.join(dropped)} (due before it, "
            "measured on a source province, or against an earlier baseline)"
        )
    return notes


def describe(scenario: Scenario) -> list[str]:
    """A merged scenario in a few lines: the date, the sources (and which are assumed), the
    targets after the merger, the pre-merger targets."""
    m = scenario.merger
    if m is None:
        return []
    parts = []
    for spec, src in zip(m.sources, scenario.merger_sources, strict=True):
        how = (
            f"assumed: {spec.scenario}'s layout scaled to {spec.scale.l1_posts} L1 posts"
            if spec.scale is not None
            else f"scenario {spec.scenario}" + (f", variant {spec.variant}" if spec.variant else "")
        )
        parts.append(f"{src.province} ({how})")
    lines = [
        f"merger on {m.date}{'' if m.enabled else ' (switched off: the first source alone)'}: "
        + " + ".join(parts)
    ]
    pre = sum(1 for t in scenario.targets if t.pre_merger)
    after = "its own" if m.targets_after == "merged" else f"{m.targets_after}'s, carried to it"
    lines.append(
        f"targets after the merger: {after}; {pre} target(s) of the sources measured before it"
    )
    return lines


def result_notes(scenario: Scenario) -> list[str]:
    """The assumptions a merged scenario's numbers rest on, said next to them (one line each)."""
    m = scenario.merger
    if m is None:
        return []
    if not m.enabled:
        first = scenario.merger_sources[0].province
        return [
            f"no merger: {first} alone on its own path; the merged province's targets are read "
            f"on {first}'s blocks, and targets it cannot measure are left blank"
        ]
    notes = [
        f"merger on {m.date}: targets named source:id are measured on that province up to the "
        f"date (those due in {m.date.year} on the date itself); the others on the merged "
        "province from the date on"
    ]
    for spec in m.sources:
        if spec.scale is not None:
            s = spec.scale
            notes.append(
                f"{spec.id} is assumed ({spec.scenario}'s layout scaled to {s.l1_posts} L1 posts, "
                f"{s.women_share:.0%} women, {s.young_share:.0%} under 40): cadresim robustness "
                f"{scenario.province} shows how much the answers rest on it"
            )
    fc = m.first_committee
    if fc.appointed and scenario.congress is not None:
        notes.append(
            f"the first committee after the merger is appointed, not elected ("
            f"{scenario.congress.size} seats, {fc.outsiders} of them to people outside the "
            "modelled leaders, counted as men aged 40 or more)"
        )
    return notes


def doubled(base: Scenario, merged: bool = True) -> Scenario:
    """``base`` merged with itself on 1 July 2025, side by side (every block's units, heads and
    deputies doubled, the second copy's units after the first's): a province of twice the
    size, whose merger joins and cuts nothing. The metamorphic check of the merger: it must
    behave like ``base`` twice (tests/functional/test_merger.py), and its cost per replication
    against the same province without a merger (``merged=False``: the doubled structure and
    stock from the start) is the merger's own overhead (benchmarks/bench_merger.py). No
    congress, no targets but one stock target per group of the women's and under-40s' share
    of L1 in the last year."""
    from sim.scenario import Scenario

    data = base.model_dump(mode="json")
    for b in data["structure"]["blocks"]:
        b["units"] *= 2
        b["heads"] *= 2
        b["deputies"] *= 2
        if isinstance(b["women_staff_share"], list):
            b["women_staff_share"] = b["women_staff_share"] * 2
    data["structure"]["l1_total"] = None
    ids = [b["id"] for b in data["structure"]["blocks"]]
    last = base.end.year
    data.update(
        province=f"{base.province}_twice",
        targets=[
            {
                "id": f"{g[0].upper()}1",
                "source": "metamorphic check",
                "text": {"en": f"{g} among L1", "vi": g},
                "kind": "stock",
                "who": {"ranks": ["l1_head", "l1_deputy"]},
                "group": g,
                "value": 0.15,
                "by": last,
            }
            for g in ("women", "young")
        ],
        not_modelled=[],
        variants={},
        assumptions=[],
        exploration=None,
        congress=None,
        merger={
            "date": "2025-07-01",
            "sources": [
                {"id": "a", "scenario": base.province},
                {"id": "b", "scenario": base.province},
            ],
            "blocks": [
                {"block": b, "placement": "stack", "sources": {"a": [b], "b": [b]}} for b in ids
            ],
            "first_committee": {"appointed": False},
        },
    )
    if not merged:
        data.update(merger=None, province=f"{base.province}_doubled")
        l1 = data["population"]["l1"]
        for group in ("women", "young"):
            for area in ("provincial", "district"):
                l1[group][area] *= 2
        l1["young_women"] *= 2
    return Scenario.model_validate(data)


def unmeasured(scenario: Scenario) -> dict[str, str]:
    """The targets a run of ``scenario`` cannot measure, with the reason: on the "no merger"
    path (a merger switched off, the first source province alone) the merged province's
    targets it has no blocks or congress for, and the other sources' pre-merger targets.
    Empty for any other scenario (and for a merged run, which measures every target)."""
    m = scenario.merger
    if m is None or m.enabled or not scenario.merger_sources:
        return {}
    first = scenario.merger_sources[0]
    sid = m.sources[0].id
    years = {d.year for d in first.congress.dates} if first.congress is not None else set()
    out = {}
    for t in scenario.targets:
        if t.pre_merger:
            if t.source_province != sid:
                out[t.id] = f"{t.source_province} is not simulated without the merger"
            continue
        if back_target(t, sid, m) is None:
            out[t.id] = f"{sid} has none of the blocks it measures"
        elif t.kind == "committee" and t.by not in years:
            out[t.id] = f"{sid}'s plan has no Party committee congress in {t.by}"
    return out
