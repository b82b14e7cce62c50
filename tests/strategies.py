"""Hypothesis strategies and checks for the property-based campaigns.

Shared by ``tests/functional/test_campaigns.py`` (a few dozen examples each, in the suite) and
``scripts/campaigns.py`` (thousands, with a tally): both use the strategies and the check
functions defined here, so there is one implementation of what "passes" means.

- :func:`valid_scenarios` draws valid scenarios derived from the bundled ones (smaller and
  shorter, so that one replication takes a fraction of a second), written out as YAML and read
  back through the real loader. :func:`check_valid_case` runs one replication with its event
  log and returns every violated invariant or implausible result.
- :func:`malformed_scenario_texts` draws scenario files that must be refused, each built so that
  it is certainly invalid (a wrong type, an out-of-range value, an unknown key, a YAML syntax
  error, ...). :func:`check_rejected_scenario` returns what is wrong with how it was refused
  (not refused, another exception than ``ScenarioError``, an unclear message).
- :func:`malformed_rosters` draws roster files (docs/ROSTER.md) broken in one certain way;
  :func:`check_rejected_roster` is the counterpart of :func:`check_rejected_scenario`.
- :func:`check_cli_rejects` runs ``cadresim run`` on a file and checks the exit code 2 and the
  absence of a traceback.

Every check returns a list of problems: empty means the example passed.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import functools
import io
import math
import re
import string
import traceback
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hypothesis import strategies as st

from sim.invariants import check_invariants
from sim.model import RepResult, run_model
from sim.population import Layout, build_layout
from sim.roster import QUAL_COLUMNS, RosterError, load_roster
from sim.scenario import (
    LEADER_RANKS,
    RANK_CODE,
    RANKS,
    YOUNG_LAW_TOP,
    YOUNG_MIN_AGE_MAX,
    AgeDist,
    Assumption,
    FieldError,
    Grant,
    Scenario,
    ScenarioError,
    check_age_laws,
    get_setting,
    json_schema,
    load_scenario,
    load_scenario_text,
)
from sim.yamlpos import load_yaml_with_positions

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
#: The bundled provinces the generic generators vary. A merged province (a ``merger`` block)
#: is tied to its sources' structures, so it has its own generator (:func:`valid_mergers`).
MERGED: tuple[str, ...] = tuple(
    sorted(p.stem for p in SCENARIOS.glob("*.yaml") if "\nmerger:" in p.read_text("utf-8"))
)
BUNDLED: tuple[str, ...] = tuple(
    sorted(p.stem for p in SCENARIOS.glob("*.yaml") if p.stem not in MERGED)
)
#: The scenario the roster campaigns map their rosters onto.
ROSTER_SCENARIO = SCENARIOS / "quang_binh.yaml"
#: File name given to scenario texts, so that messages can be checked for it.
SCENARIO_FILE = "campaign.yaml"
GRANTS: tuple[str, ...] = typing.get_args(Grant)
EPS = 1e-9

_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _TagDumper(_Dumper):  # type: ignore[misc, valid-type]
    """A safe dumper that can also write the tagged nodes of :class:`Tagged`."""


@dataclass(frozen=True)
class Tagged:
    """A YAML node with an explicit tag (``!!python/object/apply:os.system``, ``!include``)."""

    tag: str
    value: Any


def _represent_tagged(dumper: Any, data: Tagged) -> Any:
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


_TagDumper.add_representer(Tagged, _represent_tagged)


def dump(data: Any) -> str:
    """YAML text of ``data``: block style, one line a scalar, keys in their order."""
    return yaml.dump(data, Dumper=_TagDumper, allow_unicode=True, sort_keys=False, width=1_000_000)


@functools.cache
def _bundled(name: str) -> dict[str, Any]:
    text = (SCENARIOS / f"{name}.yaml").read_text(encoding="utf-8")
    data, _ = load_yaml_with_positions(text, name)
    return data


def bundled_dict(name: str) -> dict[str, Any]:
    """A fresh copy of the parsed YAML of a bundled scenario."""
    return copy.deepcopy(_bundled(name))


# --------------------------------------------------------------------------- #
# Valid scenarios
# --------------------------------------------------------------------------- #

Draw = Callable[[st.SearchStrategy[Any]], Any]


def _share(draw: Draw) -> float:
    return draw(st.floats(0.0, 1.0))


def _subset(draw: Draw, items: tuple[str, ...] | list[str], min_size: int = 1) -> list[str]:
    """A non-empty (by default) subset of ``items``, in their order."""
    chosen = draw(st.sets(st.sampled_from(list(items)), min_size=min_size, max_size=len(items)))
    return [x for x in items if x in chosen]


def _age(draw: Draw) -> dict[str, float]:
    """Any age law the schema allows (mean and min 18-70). A law with almost no weight on the
    working ages is refused (sim.scenario.check_age_laws): its SD is then widened to 30."""
    law = {
        "mean": draw(st.floats(18.0, 70.0)),
        "sd": draw(st.floats(1e-3, 30.0)),
        "min": draw(st.floats(18.0, 70.0)),
    }
    try:
        check_age_laws((("age", AgeDist.model_validate(law)),), None, 30.0)
    except FieldError:
        law["sd"] = 30.0
    return law


def _qualifications(draw: Draw) -> dict[str, float]:
    mid = _share(draw)
    basic = _share(draw)
    return {
        "theory_intermediate": mid,
        "theory_advanced": draw(st.floats(0.0, mid)),
        "language_b1": _share(draw),
        "it_basic": basic,
        "it_advanced": draw(st.floats(0.0, basic)),
        "degree": _share(draw),
        "knowledge_update": _share(draw),
        "ethnic_minority": _share(draw),
        "international": _share(draw),
        "local": _share(draw),
    }


def _date_between(draw: Draw, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=draw(st.integers(0, (hi - lo).days)))


def _last_day(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _l1_posts(blocks: list[dict[str, Any]]) -> tuple[int, int]:
    """L1 posts of provincial and of district blocks."""
    prov = sum(b["heads"] + b["deputies"] for b in blocks if not b.get("district", False))
    dist = sum(b["heads"] + b["deputies"] for b in blocks if b.get("district", False))
    return prov, dist


def _vary_structure(draw: Draw, d: dict[str, Any]) -> list[dict[str, Any]]:
    structure = d["structure"]
    blocks = structure["blocks"]
    keep = draw(
        st.lists(
            st.integers(0, len(blocks) - 1), min_size=1, max_size=min(5, len(blocks)), unique=True
        )
    )
    new = [blocks[i] for i in sorted(keep)]
    for b in new:
        units = draw(st.integers(1, 3))
        b["units"] = units
        b["heads"] = draw(st.integers(0, units))
        b["deputies"] = draw(st.integers(0, 4))
        b["l2_divisions_per_unit"] = draw(st.integers(0, 3))
        b["l2_deputies_per_division"] = draw(st.integers(0, 2))
        if draw(st.booleans()):
            b["women_staff_share"] = [_share(draw) for _ in range(units)]
        else:
            b["women_staff_share"] = _share(draw)
    if sum(b["heads"] + b["deputies"] for b in new) == 0:
        new[0]["heads"] = 1
    structure["blocks"] = new
    if draw(st.booleans()):
        structure["l1_total"] = sum(b["heads"] + b["deputies"] for b in new)
    else:
        structure.pop("l1_total", None)
    structure["pool_per_l2_deputy"] = draw(st.floats(0.0, 4.0))
    return new


def young_min_age_max(group: dict[str, Any]) -> float:
    """The oldest valid ``young_min_age`` of a population group: below 40, and with a
    ``young_age`` law (kept from the base scenario) below what the law draws
    (sim.scenario.check_age_laws)."""
    return YOUNG_LAW_TOP - 0.1 if group.get("young_age") else YOUNG_MIN_AGE_MAX


def _vary_population(draw: Draw, d: dict[str, Any], blocks: list[dict[str, Any]]) -> None:
    pop = d["population"]
    prov, dist = _l1_posts(blocks)
    # Built cell by cell (young women and young men in each area), so the counts always fit.
    wp, wd = draw(st.integers(0, prov)), draw(st.integers(0, dist))
    ywp, ywd = draw(st.integers(0, wp)), draw(st.integers(0, wd))
    ymp, ymd = draw(st.integers(0, prov - wp)), draw(st.integers(0, dist - wd))
    l1 = pop["l1"]
    l1["women"] = {"provincial": wp, "district": wd}
    l1["young"] = {"provincial": ywp + ymp, "district": ywd + ymd}
    l1["young_women"] = ywp + ywd
    l1["young_min_age"] = draw(st.floats(18.0, young_min_age_max(l1)))
    l1["age_heads"] = _age(draw)
    l1["age_deputies"] = _age(draw)
    for tier in ("l2", "pool"):
        pop[tier] = {
            "women_share": _share(draw),
            "young_share": _share(draw),
            "young_min_age": draw(st.floats(18.0, YOUNG_MIN_AGE_MAX)),
            "age": _age(draw),
        }
    if draw(st.booleans()):
        pop["qualifications"] = {t: _qualifications(draw) for t in ("l1", "l2", "pool")}


def _vary_dynamics(draw: Draw, d: dict[str, Any]) -> None:
    dyn = d["dynamics"]
    dyn["exit_hazard"] = {t: _share(draw) for t in ("l1", "l2", "pool")}
    dyn["death_illness_hazard"] = draw(st.floats(0.0, 0.2))
    dyn["reappointment_probability"] = _share(draw)
    dyn["max_consecutive_terms"] = {
        r: draw(st.integers(1, 3)) for r in _subset(draw, LEADER_RANKS, min_size=0)
    }
    dyn["selection_delay_months"] = draw(st.floats(0.0, 36.0))
    dyn["selection_delay_shape"] = draw(st.floats(0.05, 50.0))
    dyn["evaluation_noise_sd"] = draw(st.floats(0.0, 3.0))
    dyn["same_unit_bonus"] = draw(st.floats(0.0, 3.0))
    dyn["pool_min_months"] = draw(st.floats(0.0, 240.0))
    dyn["knowledge_update_months"] = draw(st.floats(0.5, 240.0))
    dyn["removal"] = {
        "yearly_rate": draw(st.floats(0.0, 0.9)),
        "merit_slope": draw(st.floats(-5.0, 5.0)),
    }
    if draw(st.integers(0, 2)) == 0:  # any ladder: sources at the same rank or below
        dyn["promotion_sources"] = {
            r: _subset(draw, RANKS[: RANK_CODE[r] + 1]) for r in LEADER_RANKS
        }
    rec = dyn["recruitment"]
    rec["month"] = draw(st.integers(1, 12))
    rec["women_share"] = _share(draw)
    rec["young_share"] = _share(draw)
    rec["young_min_age"] = draw(st.floats(18.0, young_min_age_max(rec)))
    rec["age"] = _age(draw)
    if draw(st.booleans()):
        rec["qualifications"] = _qualifications(draw)


_COURSE_TEMPLATE = {
    "id": "course",
    "name": {"en": "A course", "vi": "Một khóa học"},
    "grants": "theory_intermediate",
    "months": 6,
    "seats": 10,
    "intake_per_year": 10,
}


def _vary_policy(draw: Draw, d: dict[str, Any], blocks: list[dict[str, Any]]) -> None:
    pol = d["policy"]
    start, end = d["start"], d["end"]
    ids = [b["id"] for b in blocks]
    pol["appointment_share"] = {
        "women": _share(draw),
        "young": _share(draw),
        "reading": draw(st.sampled_from(["expected", "floor", "none"])),
        "tiers": _subset(draw, ("l1", "l2")),
    }
    pol["evaluation_bias"] = draw(st.floats(-3.0, 3.0))
    pol["vacancy_reservation"] = {
        "enabled": draw(st.booleans()),
        "max_hold_months": draw(st.floats(0.0, 120.0)),
        "recheck_months": draw(st.floats(0.1, 12.0)),
        "after": draw(st.sampled_from(["open", "relax"])),
    }
    pol["women_staff_rule"] = {
        "enabled": draw(st.booleans()),
        "threshold": _share(draw),
        "tiers": _subset(draw, ("l1", "l2"), min_size=0),
    }
    pol["long_service"] = {
        "enabled": draw(st.booleans()),
        "share": _share(draw),
        "head_months": draw(st.integers(0, 480)),
        "deputy_months": draw(st.integers(0, 480)),
        "reading": draw(st.sampled_from(["expected", "floor", "none"])),
    }
    pol["removal_multiplier"] = draw(st.floats(0.0, 10.0))

    training = pol.setdefault("training", {})
    training["enabled"] = draw(st.booleans())
    training["month"] = draw(st.integers(1, 12))
    training["priority"] = draw(
        st.sampled_from(["standard_first", "merit_first", "youngest_first"])
    )
    courses = training.get("courses") or [dict(_COURSE_TEMPLATE)]
    courses = [courses[i] for i in sorted(draw(st.sets(st.integers(0, len(courses) - 1))))]
    for c in courses:
        c["months"] = draw(st.floats(0.25, 24.0))
        c["seats"] = draw(st.integers(1, 50))
        c["intake_per_year"] = draw(st.integers(0, 100))
        c["tiers"] = _subset(draw, ("pool", "l2", "l1"))
        c["grants"] = draw(st.sampled_from(GRANTS))
        priority = draw(st.sampled_from([None, "standard_first", "merit_first", "youngest_first"]))
        if priority is None:
            c.pop("priority", None)
        else:
            c["priority"] = priority
    training["courses"] = courses

    standards = pol.setdefault("standards", {})
    standards["enforcement"] = draw(st.sampled_from(["none", "block", "train_after"]))
    standards["train_within_months"] = draw(st.floats(1.0, 120.0))
    for r in LEADER_RANKS:
        standards[r] = _subset(draw, GRANTS, min_size=0)[:3]

    sp = pol.setdefault("succession_pool", {})
    sp.update(
        enabled=draw(st.booleans()),
        ranks=_subset(draw, LEADER_RANKS),
        per_post=draw(st.integers(1, 3)),
        posts_per_person=draw(st.integers(1, 3)),
        women_floor=_share(draw),
        young_floor=_share(draw),
        min_service_months=draw(st.floats(0.0, 240.0)),
        replan_years=sorted(draw(st.sets(st.integers(start.year - 1, end.year + 1), max_size=3))),
        review_month=draw(st.integers(1, 12)),
        appoint_from_pool=draw(st.booleans()),
    )

    pol["rotation"] = {
        "enabled": draw(st.booleans()),
        "month": draw(st.integers(1, 12)),
        "ranks": _subset(draw, LEADER_RANKS),
        "share_per_year": _share(draw),
        "min_service_months": draw(st.floats(0.0, 480.0)),
        "min_stay_months": draw(st.floats(0.0, 120.0)),
        "pool_members_only": draw(st.booleans()),
        "across": draw(st.sampled_from(["unit", "side", "area"])),
        "young_to_districts": draw(st.integers(0, 5)),
        "young_max_age": draw(st.floats(18.0, 60.0)),
        "nonlocal_district_heads": draw(st.booleans()),
    }

    rs: dict[str, Any] = {"enabled": draw(st.integers(0, 2)) == 0}
    rs["date"] = _date_between(draw, start, end)
    rs["abolish_blocks"] = _subset(draw, ids, min_size=0)
    merged = _subset(draw, ids, min_size=0)
    units = {b["id"]: b["units"] for b in blocks}
    rs["merge"] = [{"block": b, "into_units": draw(st.integers(1, units[b]))} for b in merged]
    rs["deputy_cap"] = draw(st.one_of(st.none(), st.integers(0, 5)))
    rs["grace_months"] = draw(st.floats(0.0, 120.0))
    rs["surplus"] = draw(st.sampled_from(["reassign_or_wait", "reassign_or_retire"]))
    bands = []
    for _ in range(draw(st.integers(0, 3))):
        lo = draw(st.floats(0.0, 19.0))
        bands.append(
            {"min_years": lo, "max_years": draw(st.floats(lo + 0.5, 20.0)), "uptake": _share(draw)}
        )
    rs["early_retirement"] = bands
    pol["restructuring"] = rs
    # When the levers start (none: at the start).
    pol["levers_from"] = draw(st.one_of(st.none(), st.just(_date_between(draw, start, end))))


def _vary_congress(draw: Draw, d: dict[str, Any]) -> list[int]:
    """Vary, drop or add the congress; return the congress years."""
    start, end = d["start"], d["end"]
    present = d.get("congress") is not None
    if present and draw(st.integers(0, 3)) == 0:
        d.pop("congress")
        return []
    if not present and draw(st.integers(0, 2)) != 0:
        d.pop("congress", None)
        return []
    days = draw(st.sets(st.integers(0, (end - start).days), min_size=1, max_size=3))
    dates: list[dt.date] = []
    for day in sorted(days):
        when = start + dt.timedelta(days=day)
        if not dates or when.year > dates[-1].year:  # one congress a year, in order
            dates.append(when)
    d["congress"] = {
        "dates": dates,
        "size": draw(st.integers(1, 60)),
        "candidate_ranks": _subset(draw, LEADER_RANKS),
        "women_floor": _share(draw),
        "young_floor": _share(draw),
        "enforce_floors": draw(st.booleans()),
        "max_incumbent_share": _share(draw),
        "incumbent_min_service_months": draw(st.integers(0, 120)),
        "new_member_min_service_months": draw(st.integers(0, 120)),
        "head_bonus": draw(st.floats(0.0, 3.0)),
        "list_surplus": draw(st.floats(0.0, 1.0)),
        "compliance": _share(draw),
        "vote_noise": draw(st.floats(0.0, 10.0)),
        "incumbent_bonus": draw(st.floats(0.0, 10.0)),
    }
    return [x.year for x in dates]


def _repair_targets(
    draw: Draw, d: dict[str, Any], blocks: list[dict[str, Any]], congress_years: list[int]
) -> None:
    """Make the bundled targets fit the smaller scenario; drop only what cannot fit."""
    start, end = d["start"], d["end"]
    ids = {b["id"] for b in blocks}
    sp = d["policy"]["succession_pool"]
    planned = set(sp["ranks"])
    out = []
    for t in d.get("targets", []):
        kind = t["kind"]
        if kind == "committee":
            if not congress_years:
                continue
            by = draw(st.sampled_from(congress_years))
        else:
            by = draw(st.integers(start.year, end.year))
        base = t.get("baseline")
        if base is not None:
            by = max(by, start.year + 1)
            # A baseline year may not begin after the levers start.
            levers = d["policy"].get("levers_from") or start
            base["year"] = draw(st.integers(start.year, min(by - 1, levers.year)))
        t["by"] = by
        if kind == "flow":
            t["from_year"] = draw(st.integers(start.year, by))
        for holder in (t.get("who"), t if kind == "pool" else None):
            if holder is not None and holder.get("blocks") is not None:
                kept = [b for b in holder["blocks"] if b in ids]
                if kept:
                    holder["blocks"] = kept
                else:
                    holder.pop("blocks")
        if kind == "pool":
            planned |= set(t["ranks"])
        if base is None and kind != "women_staff_rule" and t.get("upper") is None:
            t["value"] = _share(draw)
        out.append(t)
    if len(out) > 1:
        keep = draw(st.sets(st.integers(0, len(out) - 1), min_size=1))
        out = [out[i] for i in sorted(keep)]
    d["targets"] = out
    sp["ranks"] = [r for r in LEADER_RANKS if r in planned]


@st.composite
def valid_scenario_dicts(draw: Draw) -> tuple[str, dict[str, Any]]:
    """``(bundled name, data)``: a bundled scenario, smaller, shorter and with other settings.

    Every value stays within what the schema and the cross-checks allow, so the data is meant
    to load; :func:`valid_scenarios` checks that it does.
    """
    name = draw(st.sampled_from(BUNDLED))
    d = bundled_dict(name)
    start = d.get("start", dt.date(2021, 1, 1))
    start = dt.date(start.year, draw(st.one_of(st.just(1), st.integers(1, 12))), 1)
    years = draw(st.integers(2, 6))
    end = _last_day(start.year + years - 1, draw(st.one_of(st.just(12), st.integers(1, 12))))
    d["start"], d["end"] = start, end
    blocks = _vary_structure(draw, d)
    _vary_population(draw, d, blocks)
    _vary_dynamics(draw, d)
    _vary_policy(draw, d, blocks)
    congress_years = _vary_congress(draw, d)
    _repair_targets(draw, d, blocks, congress_years)
    _repair_assumptions(d)
    if draw(st.booleans()):
        d.pop("variants", None)
    return name, d


def _repair_assumptions(d: dict[str, Any]) -> None:
    """Drop the assumptions whose setting the variations moved out of its plausible range or
    removed, as a user who changes an assumed number in the file must (the loader refuses a
    value outside its own range)."""
    kept = []
    for a in d.get("assumptions") or []:
        try:
            fits = Assumption.model_validate(a).problem_with(get_setting(d, a["path"])) is None
        except KeyError:
            fits = False
        if fits:
            kept.append(a)
    if kept:
        d["assumptions"] = kept
    else:
        d.pop("assumptions", None)


@dataclass
class ValidCase:
    """A generated scenario: its YAML text and what the loader made of it."""

    base: str
    text: str
    seed: int
    scenario: Scenario | None
    error: str | None = None

    def describe(self) -> str:
        return f"derived from {self.base}, seed {self.seed}:\n{self.text}"


@st.composite
def valid_scenarios(draw: Draw) -> ValidCase:
    """Valid scenarios, as a user could write them: dumped to YAML and read by the loader."""
    name, data = draw(valid_scenario_dicts())
    text = dump(data)
    seed = draw(st.integers(0, 2**32 - 1))
    try:
        return ValidCase(name, text, seed, load_scenario_text(text, SCENARIO_FILE))
    except ScenarioError as exc:  # reported by check_valid_case as a failure
        return ValidCase(name, text, seed, None, str(exc))


def _share_problems(name: str, values: np.ndarray) -> list[str]:
    a = np.asarray(values, dtype=float)
    bad = ~np.isnan(a) & ((a < -EPS) | (a > 1 + EPS))
    return [f"{name}: shares outside [0, 1]: {a[bad][:5].tolist()}"] if bad.any() else []


def result_problems(res: RepResult, sc: Scenario, layout: Layout) -> list[str]:
    """Plausibility of a replication's results (beyond the replayed invariants)."""
    out: list[str] = []
    n_years = sc.end.year - sc.start.year + 1
    nt = len(sc.targets)
    out += _share_problems("target_value", res.target_value)
    out += _share_problems("trajectory", res.trajectory)
    if res.trajectory.shape != (nt, n_years):
        out.append(f"trajectory has shape {res.trajectory.shape}, not {(nt, n_years)}")
    met_nan = res.target_met & np.isnan(res.target_value)
    if met_nan.any():
        out.append("a target without a value is counted as met")
    for name in ("appointments", "exits", "headcount", "committee", "rotations", "training"):
        arr = np.asarray(getattr(res, name))
        if arr.size and (arr < 0).any():
            out.append(f"{name}: negative counts")
    for name in ("vacancy_months", "reserved_months"):
        arr = np.asarray(getattr(res, name), dtype=float)
        if np.isnan(arr).any() or (arr < -EPS).any():
            out.append(f"{name}: negative or NaN months")
    tier_of_rank = np.array([0, 1, 1, 2, 2])
    posts = np.bincount(tier_of_rank[layout.post_rank], minlength=3)
    hc = res.headcount
    for tier, label in ((1, "L2"), (2, "L1")):
        if (hc[:, tier, 0] > posts[tier]).any():
            out.append(f"{label} headcount {hc[:, tier, 0].max()} exceeds its {posts[tier]} posts")
        if (res.vacancy_months[:, tier] > 12.0 * posts[tier] + 1e-6).any():
            out.append(f"{label} vacancy-months exceed 12 a post in a year")
    if (hc[:, :, 1] > hc[:, :, 0]).any() or (hc[:, :, 2] > hc[:, :, 0]).any():
        out.append("more women or young than holders in the headcount")
    if (res.vacancy_months[:, 0] > EPS).any():
        out.append("vacancy-months counted for the pool, which has no posts")
    if (res.reserved_months > res.vacancy_months + 1e-6).any():
        out.append("more reserved months than vacant months")
    ap = res.appointments
    if (ap[:, :, 1] > ap[:, :, 0]).any() or (ap[:, :, 2] > ap[:, :, 0]).any():
        out.append("more women or young appointed than appointments")
    if (ap[:, :, 3] > np.minimum(ap[:, :, 1], ap[:, :, 2])).any():
        out.append("more young women appointed than women or young")
    if sc.congress is not None:
        com = res.committee
        if len(com) > len(sc.congress.dates):
            out.append(f"{len(com)} committees for {len(sc.congress.dates)} congresses")
        if len(com) and (com[:, 0] > sc.congress.size).any():
            out.append("a committee larger than its size")
        if len(com) and (com[:, 1:] > com[:, :1]).any():
            out.append("a committee with more women, young or new members than members")
    pool = res.pool
    if not sc.policy.succession_pool.enabled:
        if not np.isnan(pool).all():
            out.append("succession-pool statistics without a succession pool")
    else:
        if (pool[:, 0] < 0).any():
            out.append("a negative succession pool")
        out += _share_problems("succession pool shares", pool[:, [1, 2, 3, 5]])
    if res.n_events < 0:
        out.append("a negative number of events")
    return out


def check_valid_case(case: ValidCase) -> list[str]:
    """Run one replication of a generated scenario; return every problem found."""
    if case.scenario is None:
        return [f"the loader refused a generated scenario: {case.error}"]
    sc = case.scenario
    try:
        layout = build_layout(sc)
        res = run_model(sc, case.seed, 0, keep_log=True)
        problems = check_invariants(res, layout.post_rank)
        problems += result_problems(res, sc, layout)
    except Exception as exc:  # a crash is a failure to report, with where it happened
        return [f"the run raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}"]
    return problems


# --------------------------------------------------------------------------- #
# Malformed scenarios
# --------------------------------------------------------------------------- #


@dataclass
class Malformed:
    """A file that must be refused: its text (or raw bytes) and how it was broken."""

    kind: str
    text: str | None = None
    data: bytes | None = None
    suffix: str = ".yaml"
    note: str = ""

    def content(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.text is not None
        return self.text.encode("utf-8")

    def describe(self) -> str:
        body = self.text if self.text is not None else repr(self.content()[:2000])
        if len(body) > 4000:
            body = body[:4000] + f"\n... ({len(body)} characters)"
        return f"{self.kind} ({self.note}):\n{body}"


SCHEMA = json_schema()
DEFS = SCHEMA.get("$defs", {})
Path_ = tuple[str | int, ...]


def _deref(s: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in s:
        s = DEFS[s["$ref"].split("/")[-1]]
    return s


def _matches(s: dict[str, Any], node: Any) -> bool:
    s = _deref(s)
    kind = s.get("type")
    if "enum" in s or "const" in s:
        return isinstance(node, str) or (
            not isinstance(node, bool) and isinstance(node, int) and "const" in s
        )
    if isinstance(node, bool):
        return kind == "boolean"
    if isinstance(node, int):
        return kind in ("integer", "number")
    if isinstance(node, float):
        return kind == "number"
    if isinstance(node, str):
        return kind == "string"
    if isinstance(node, dt.date):
        return kind == "string" and s.get("format") == "date"
    if isinstance(node, list):
        return kind == "array"
    if isinstance(node, dict):
        return kind == "object" or "properties" in s
    return node is None and kind == "null"


def _pick(s: dict[str, Any] | None, node: Any) -> dict[str, Any] | None:
    """The branch of schema ``s`` that describes ``node`` (refs, unions and tags resolved)."""
    if s is None:
        return None
    s = _deref(s)
    if "discriminator" in s and isinstance(node, dict):
        ref = s["discriminator"]["mapping"].get(node.get(s["discriminator"]["propertyName"]))
        return _deref({"$ref": ref}) if ref else None
    for key in ("anyOf", "oneOf"):
        if key in s:
            for branch in s[key]:
                if _matches(branch, node):
                    return _deref(branch)
            return None
    return s


def schema_at(data: Any, path: Path_, resolve: bool = True) -> dict[str, Any] | None:
    """The schema of the node at ``path`` of ``data`` (None where there is none); with
    ``resolve=False``, as declared (a union is not narrowed to the branch of the node)."""
    s: dict[str, Any] | None = SCHEMA
    node = data
    for part in path:
        s = _pick(s, node)
        if s is None:
            return None
        if isinstance(node, dict):
            props = s.get("properties", {})
            if part in props:
                s = props[part]
            elif isinstance(s.get("additionalProperties"), dict):
                s = s["additionalProperties"]
            else:
                return None
        elif isinstance(node, list):
            s = s.get("items")
        node = node[part]
    return _pick(s, node) if resolve else (_deref(s) if s is not None else None)


def _walk(data: Any, path: Path_ = ()) -> list[tuple[Path_, Any]]:
    """Every node below the root with its path, except inside ``variants`` (free-form)."""
    out: list[tuple[Path_, Any]] = []
    if isinstance(data, dict):
        items: list[tuple[str | int, Any]] = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data))
    else:
        return out
    for key, value in items:
        if path == () and key == "variants":
            continue
        out.append(((*path, key), value))
        out += _walk(value, (*path, key))
    return out


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: Path_, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _leaves(data: Any, test: Callable[[Path_, Any], bool]) -> list[Path_]:
    return [p for p, v in _walk(data) if not isinstance(v, dict | list) and test(p, v)]


def _fmt(path: Path_) -> str:
    return ".".join(str(p) for p in path)


_LETTERS = string.ascii_letters + " ,;/?!'()-"
_NOT_A_NUMBER = st.one_of(
    st.sampled_from(["twelve", "N/A", "", "lots", "12 months", "½", "one point five", "e"]),
    st.text(alphabet=_LETTERS, min_size=1, max_size=12),
)
_BAD_DATES = st.sampled_from(
    ["2021-02-30", "2021-13-01", "2021-00-10", "yesterday", "", "next congress", "30/02/2021"]
)
_BAD_ENUM = st.one_of(
    st.sampled_from(["sometimes", "L1", "Expected", "NONE", "women ", "l1-head", "", "?"]),
    st.text(alphabet=string.ascii_letters + "_ ", min_size=1, max_size=10),
)
_UNICODE_JUNK = st.text(
    alphabet=st.characters(exclude_categories=["Nd", "Cs"]), min_size=1, max_size=12
)


def _kind_wrong_type(draw: Draw, d: dict[str, Any]) -> str:
    how = draw(st.sampled_from(["mapping", "list", "text"]))
    if how == "text":
        paths = _leaves(d, lambda p, v: _is_number(v))
        path = draw(st.sampled_from(paths))
        value: Any = draw(_NOT_A_NUMBER)
    else:
        path = draw(st.sampled_from(_leaves(d, lambda p, v: True)))
        value = {"unexpected": [1, 2]} if how == "mapping" else ["a", {"b": 1}]
    _set(d, path, value)
    return f"{_fmt(path)} = {value!r}"


def _bounded_leaves(d: dict[str, Any]) -> list[tuple[Path_, dict[str, Any]]]:
    out = []
    for path in _leaves(d, lambda p, v: _is_number(v)):
        s = schema_at(d, path)
        if s and any(
            k in s for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        ):
            out.append((path, s))
    return out


def _outside(draw: Draw, s: dict[str, Any], below: bool) -> float | int:
    integer = s.get("type") == "integer"
    if below:
        if "minimum" in s:
            lo, gap = s["minimum"], draw(st.floats(1e-3, 1e6))
        else:
            lo, gap = s["exclusiveMinimum"], draw(st.floats(0.0, 1e6))
        return math.floor(lo - max(gap, 1.0)) if integer else lo - gap
    if "maximum" in s:
        hi, gap = s["maximum"], draw(st.floats(1e-3, 1e6))
    else:
        hi, gap = s["exclusiveMaximum"], draw(st.floats(0.0, 1e6))
    return math.ceil(hi + max(gap, 1.0)) if integer else hi + gap


def _kind_out_of_range(draw: Draw, d: dict[str, Any], shares_only: bool = False) -> str:
    leaves = _bounded_leaves(d)
    if shares_only:
        leaves = [(p, s) for p, s in leaves if s.get("minimum") == 0 and s.get("maximum") == 1]
    path, s = draw(st.sampled_from(leaves))
    sides = []
    if "minimum" in s or "exclusiveMinimum" in s:
        sides.append(True)
    if "maximum" in s or "exclusiveMaximum" in s:
        sides.append(False)
    value = _outside(draw, s, draw(st.sampled_from(sides)))
    _set(d, path, value)
    return f"{_fmt(path)} = {value!r}"


def _kind_negative(draw: Draw, d: dict[str, Any]) -> str:
    leaves = [
        (p, s)
        for p, s in _bounded_leaves(d)
        if s.get("minimum", -1) >= 0 or s.get("exclusiveMinimum", -1) >= 0
    ]
    path, s = draw(st.sampled_from(leaves))
    value: float | int = -draw(st.integers(1, 10**6))
    if s.get("type") != "integer" and draw(st.booleans()):
        value = -draw(st.floats(1e-6, 1e6))
    _set(d, path, value)
    return f"{_fmt(path)} = {value!r}"


def _kind_non_finite(draw: Draw, d: dict[str, Any]) -> str:
    path = draw(st.sampled_from(_leaves(d, lambda p, v: _is_number(v))))
    value = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    _set(d, path, value)
    return f"{_fmt(path)} = {value!r}"


def _kind_huge(draw: Draw, d: dict[str, Any]) -> str:
    blocks = d["structure"]["blocks"]
    k = draw(st.integers(0, len(blocks) - 1))
    big = 10 ** draw(st.integers(6, 40))
    options = [
        (("structure", "blocks", k, "units"), big),
        (("structure", "blocks", k, "deputies"), big),
        (("structure", "blocks", k, "heads"), big),
        (("structure", "blocks", k, "l2_divisions_per_unit"), big),
        (("structure", "pool_per_l2_deputy"), float(big) * draw(st.floats(1.0, 1e260))),
        (("population", "l1", "women", "provincial"), big),
        (("population", "l1", "young", "district"), big),
    ]
    if blocks[k]["l2_divisions_per_unit"] > 0:
        options.append((("structure", "blocks", k, "l2_deputies_per_division"), big))
    bounded = [p for p, s in _bounded_leaves(d) if "maximum" in s or "exclusiveMaximum" in s]
    options += [(p, big) for p in bounded]
    path, value = draw(st.sampled_from(options))
    _set(d, path, value)
    return f"{_fmt(path)} = {value!r}"


def _mappings(d: dict[str, Any]) -> list[Path_]:
    return [()] + [p for p, v in _walk(d) if isinstance(v, dict)]


def _kind_unknown_key(draw: Draw, d: dict[str, Any]) -> str:
    path = draw(st.sampled_from(_mappings(d)))
    node = _get(d, path)
    s = schema_at(d, path) or {}
    known = set(s.get("properties", {})) | set(LEADER_RANKS) | set(node)
    key = draw(st.from_regex(r"[a-z][a-z_]{2,14}", fullmatch=True).filter(lambda k: k not in known))
    node[key] = draw(st.one_of(st.integers(), st.text(max_size=5), st.booleans()))
    return f"{_fmt((*path, key))} added"


def _typo(draw: Draw, key: str) -> str:
    i = draw(st.integers(0, len(key)))
    how = draw(st.sampled_from(["insert", "delete", "swap", "case"]))
    if how == "delete" and len(key) > 1:
        return key[: max(i - 1, 0)] + key[max(i, 1) :]
    if how == "swap" and len(key) > 1:
        j = min(i, len(key) - 2)
        return key[:j] + key[j + 1] + key[j] + key[j + 2 :]
    if how == "case":
        return key.upper() if key != key.upper() else key.lower() + "x"
    return key[:i] + draw(st.sampled_from("aeiouxz_")) + key[i:]


def _kind_typo_key(draw: Draw, d: dict[str, Any]) -> str:
    paths = [p for p in _mappings(d) if _get(d, p)]
    path = draw(st.sampled_from(paths))
    node = _get(d, path)
    s = schema_at(d, path) or {}
    old = draw(st.sampled_from(sorted(node)))
    known = set(s.get("properties", {})) | set(LEADER_RANKS) | set(node)
    new = _typo(draw, old)
    if new in known:
        new = old + "_x"
    node[new] = node.pop(old)
    return f"{_fmt((*path, old))} renamed {new!r}"


def _kind_missing_required(draw: Draw, d: dict[str, Any]) -> str:
    choices = []
    for path in _mappings(d):
        s = schema_at(d, path) or {}
        node = _get(d, path)
        choices += [(path, k) for k in s.get("required", []) if k in node]
    path, key = draw(st.sampled_from(choices))
    del _get(d, path)[key]
    return f"{_fmt((*path, key))} removed"


def _kind_wrong_enum(draw: Draw, d: dict[str, Any]) -> str:
    choices = []
    for path in _leaves(d, lambda p, v: isinstance(v, str | int) and not isinstance(v, bool)):
        s = schema_at(d, path) or {}
        allowed = s.get("enum", [s["const"]] if "const" in s else None)
        if allowed is not None:
            choices.append((path, allowed))
    path, allowed = draw(st.sampled_from(choices))
    value = draw(_BAD_ENUM.filter(lambda v: v not in allowed))
    _set(d, path, value)
    return f"{_fmt(path)} = {value!r}"


def _kind_string_for_list(draw: Draw, d: dict[str, Any]) -> str:
    choices = []
    for path, v in _walk(d):
        if isinstance(v, list):
            s = schema_at(d, path, resolve=False)  # not a union: a text would not be read
            if s is not None and s.get("type") == "array":
                choices.append(path)
    path = draw(st.sampled_from(choices))
    items = _get(d, path)
    value = str(items[0]) if items and not isinstance(items[0], dict | list) else "all"
    _set(d, path, value)
    return f"{_fmt(path)} = {value!r}"


def _kind_bad_date(draw: Draw, d: dict[str, Any]) -> str:
    paths = _leaves(d, lambda p, v: isinstance(v, dt.date))
    path = draw(st.sampled_from(paths))
    value = draw(_BAD_DATES)
    _set(d, path, value)
    return f"{_fmt(path)} = {value!r}"


def _kind_unicode_junk(draw: Draw, d: dict[str, Any]) -> str:
    choices = []
    for path in _leaves(d, lambda p, v: not isinstance(v, bool)):
        value = _get(d, path)
        s = schema_at(d, path) or {}
        allowed = s.get("enum", [s["const"]] if "const" in s else None)
        if _is_number(value) or allowed is not None:
            choices.append((path, allowed or []))
    path, allowed = draw(st.sampled_from(choices))
    value = draw(_UNICODE_JUNK.filter(lambda v: v not in allowed))
    _set(d, path, value)
    return f"{_fmt(path)} = {value!r}"


def _kind_invisible_key(draw: Draw, d: dict[str, Any]) -> str:
    paths = [p for p in _mappings(d) if _get(d, p)]
    path = draw(st.sampled_from(paths))
    node = _get(d, path)
    old = draw(st.sampled_from(sorted(node)))
    i = draw(st.integers(0, len(old)))
    new = (
        old[:i]
        + draw(st.sampled_from(["\u200b", "\u00a0", "\ufeff", "\u2060", "\u00ad"]))
        + old[i:]
    )
    node[new] = node.pop(old)
    return f"{_fmt((*path, old))} renamed {new!r}"


_TAGS = [
    Tagged("tag:yaml.org,2002:python/object/apply:os.system", ["echo pwned"]),
    Tagged("tag:yaml.org,2002:python/name:os.system", ""),
    Tagged("tag:yaml.org,2002:python/object:sim.scenario.Scenario", {"province": "x"}),
    Tagged("tag:yaml.org,2002:python/tuple", [1, 2]),
    Tagged("!include", "other.yaml"),
    Tagged("!env", "HOME"),
]


def _kind_python_tag(draw: Draw, d: dict[str, Any]) -> str:
    path = draw(st.sampled_from(_leaves(d, lambda p, v: True)))
    tag = draw(st.sampled_from(_TAGS))
    _set(d, path, tag)
    return f"{_fmt(path)} = {tag.tag}"


def _simple_target(kind: str, by: int, **extra: Any) -> dict[str, Any]:
    t: dict[str, Any] = {
        "id": f"CAMPAIGN-{kind}",
        "source": "campaign",
        "text": {"en": "a target", "vi": "một chỉ tiêu"},
        "kind": kind,
        "op": ">=",
        "value": 0.1,
        "by": by,
    }
    if kind in ("stock", "flow"):
        t["who"] = {"ranks": ["l1_head", "l1_deputy"]}
        t["group"] = "women"
    if kind == "flow":
        t["from_year"] = by
    if kind == "committee":
        t["group"] = "women"
    if kind == "pool":
        t["ranks"] = ["l1_head"]
        t["group"] = "women"
    t.update(extra)
    return t


def _targets_of(d: dict[str, Any], kind: str, by: int) -> list[dict[str, Any]]:
    """The targets of a kind, adding one if there is none."""
    found = [t for t in d.setdefault("targets", []) if t.get("kind") == kind]
    if not found:
        d["targets"].append(_simple_target(kind, by))
        found = d["targets"][-1:]
    return found


def _kind_dates(draw: Draw, d: dict[str, Any]) -> str:
    start, end = d["start"], d["end"]
    how = draw(
        st.sampled_from(
            [
                "end_before_start",
                "start_not_first",
                "congress_order",
                "restructuring_outside",
                "target_outside",
                "from_year_after_by",
                "baseline_not_before",
                "congress_outside",
            ]
        )
    )
    if how == "end_before_start":
        d["end"] = start - dt.timedelta(days=draw(st.integers(0, 5000)))
    elif how == "start_not_first":
        d["start"] = dt.date(start.year, start.month, draw(st.integers(2, 28)))
    elif how == "congress_order":
        later = dt.date(start.year + 1, 1, 1)
        dates = draw(st.sampled_from([[later, start], [start, start], [later, later]]))
        d["congress"] = {"dates": dates, "size": 10}
    elif how == "congress_outside":
        when = draw(st.sampled_from([end + dt.timedelta(days=1), start - dt.timedelta(days=1)]))
        d["congress"] = {"dates": [when], "size": 10}
    elif how == "restructuring_outside":
        rs = d["policy"].setdefault("restructuring", {})
        rs["enabled"] = True
        rs["date"] = draw(
            st.sampled_from(
                [end + dt.timedelta(days=draw(st.integers(1, 999))), start - dt.timedelta(days=1)]
            )
        )
    elif how == "target_outside":
        t = draw(st.sampled_from(_targets_of(d, "stock", start.year)))
        t["by"] = draw(
            st.sampled_from(
                [min(end.year + draw(st.integers(1, 50)), 2100), max(start.year - 1, 1990)]
            )
        )
    elif how == "from_year_after_by":
        t = draw(st.sampled_from(_targets_of(d, "flow", start.year)))
        t["from_year"] = t["by"] + draw(st.integers(1, 10))
    else:
        t = _targets_of(d, "stock", end.year)[0]
        t["baseline"] = {"year": t["by"] + draw(st.integers(0, 3))}
        t["value"] = 0.05
        t.pop("upper", None)
    return how


def _kind_unknown_reference(draw: Draw, d: dict[str, Any]) -> str:
    start = d["start"]
    how = draw(
        st.sampled_from(
            [
                "who_block",
                "abolish_block",
                "merge_block",
                "pool_target_block",
                "pool_target_rank",
                "committee_without_congress",
                "flow_group",
            ]
        )
    )
    unknown = draw(st.sampled_from(["no_such_block", "districts_x", "Dept", ""]))
    rs = d["policy"].setdefault("restructuring", {})
    if how == "who_block":
        t = draw(st.sampled_from(_targets_of(d, "stock", start.year)))
        t["who"]["blocks"] = [*(t["who"].get("blocks") or []), unknown]
    elif how == "abolish_block":
        rs["abolish_blocks"] = [*rs.get("abolish_blocks", []), unknown]
    elif how == "merge_block":
        rs["merge"] = [*rs.get("merge", []), {"block": unknown, "into_units": 1}]
    elif how == "pool_target_block":
        d["policy"].setdefault("succession_pool", {})["ranks"] = ["l1_head"]
        d.setdefault("targets", []).append(
            _simple_target("pool", start.year, id="CAMPAIGN-pool-2", blocks=[unknown])
        )
    elif how == "pool_target_rank":
        d["policy"].setdefault("succession_pool", {})["ranks"] = ["l1_head"]
        d.setdefault("targets", []).append(
            _simple_target("pool", start.year, id="CAMPAIGN-pool-3", ranks=["l2_deputy"])
        )
    elif how == "committee_without_congress":
        d.pop("congress", None)
        d.setdefault("targets", []).append(_simple_target("committee", start.year))
    else:
        t = draw(st.sampled_from(_targets_of(d, "flow", start.year)))
        t["group"] = draw(st.sampled_from(["at_standard", "rotated", "degree", "local"]))
    return how


def _kind_duplicate_id(draw: Draw, d: dict[str, Any]) -> str:
    how = draw(st.sampled_from(["target", "block", "course"]))
    if how == "target":
        t = draw(st.sampled_from(_targets_of(d, "stock", d["start"].year)))
        d["targets"].append(copy.deepcopy(t))
    elif how == "block":
        blocks = d["structure"]["blocks"]
        b = draw(st.sampled_from(blocks))
        blocks.append(copy.deepcopy(b))
        d["structure"].pop("l1_total", None)
    else:
        training = d["policy"].setdefault("training", {})
        courses = training.setdefault("courses", [])
        if not courses:
            courses.append(dict(_COURSE_TEMPLATE))
        courses.append(copy.deepcopy(draw(st.sampled_from(courses))))
    return how


def _kind_inconsistent(draw: Draw, d: dict[str, Any]) -> str:
    blocks = d["structure"]["blocks"]
    prov, dist = _l1_posts(blocks)
    l1 = d["population"]["l1"]
    b = draw(st.sampled_from(blocks))
    options = [
        "heads_over_units",
        "l1_total",
        "staff_share_length",
        "women_over_posts",
        "young_women_over",
        "qual_nesting",
        "band_order",
        "merge_too_many",
        "no_l1_posts",
        "promotion_above",
        "promotion_missing",
        "range_upper",
        "share_value",
        "baseline_value",
        "pool_long_service",
    ]
    if prov >= 1 and dist >= 1:
        options.append("young_women_unplaceable")
    how = draw(st.sampled_from(options))
    start = d["start"]
    if how == "heads_over_units":
        b["heads"] = b["units"] + draw(st.integers(1, 5))
    elif how == "l1_total":
        d["structure"]["l1_total"] = prov + dist + draw(st.integers(1, 50))
    elif how == "staff_share_length":
        b["women_staff_share"] = [0.5] * draw(st.sampled_from([0, b["units"] + 1, b["units"] + 7]))
    elif how == "women_over_posts":
        area = draw(st.sampled_from(["provincial", "district"]))
        l1["women"][area] = (prov if area == "provincial" else dist) + draw(st.integers(1, 9))
    elif how == "young_women_over":
        women = l1["women"]["provincial"] + l1["women"]["district"]
        young = l1["young"]["provincial"] + l1["young"]["district"]
        l1["young_women"] = min(women, young) + draw(st.integers(1, 9))
    elif how == "young_women_unplaceable":
        l1["women"] = {"provincial": 0, "district": 1}
        l1["young"] = {"provincial": 1, "district": 0}
        l1["young_women"] = 1
    elif how == "qual_nesting":
        where = draw(
            st.sampled_from(
                [
                    ("population", "qualifications", "l1"),
                    ("population", "qualifications", "pool"),
                    ("dynamics", "recruitment", "qualifications"),
                ]
            )
        )
        node = d
        for part in where:
            node = node.setdefault(part, {})
        low = draw(st.floats(0.0, 0.9))
        high, lower = draw(
            st.sampled_from(
                [("theory_advanced", "theory_intermediate"), ("it_advanced", "it_basic")]
            )
        )
        node[lower] = low
        node[high] = low + draw(st.floats(0.01, 1.0 - low))
    elif how == "band_order":
        rs = d["policy"].setdefault("restructuring", {})
        lo = draw(st.floats(1.0, 20.0))
        rs["early_retirement"] = [
            {"min_years": lo, "max_years": draw(st.floats(0.5, lo)), "uptake": 0.1}
        ]
    elif how == "merge_too_many":
        rs = d["policy"].setdefault("restructuring", {})
        rs["merge"] = [{"block": b["id"], "into_units": b["units"] + draw(st.integers(1, 5))}]
    elif how == "no_l1_posts":
        for blk in blocks:
            blk["heads"] = blk["deputies"] = 0
    elif how == "promotion_above":
        rank = draw(st.sampled_from(LEADER_RANKS[:-1]))
        above = draw(st.sampled_from(RANKS[RANK_CODE[rank] + 1 :]))
        sources = {r: [RANKS[RANK_CODE[r] - 1]] for r in LEADER_RANKS}
        sources[rank] = [above]
        d["dynamics"]["promotion_sources"] = sources
    elif how == "promotion_missing":
        sources = {r: [RANKS[RANK_CODE[r] - 1]] for r in LEADER_RANKS}
        del sources[draw(st.sampled_from(LEADER_RANKS))]
        d["dynamics"]["promotion_sources"] = sources
    elif how == "range_upper":
        value = draw(st.floats(0.1, 1.0))
        d.setdefault("targets", []).append(
            _simple_target(
                "stock",
                start.year,
                id="CAMPAIGN-range",
                value=value,
                upper=value - draw(st.floats(0.0, 0.1)),
                op=draw(st.sampled_from([">=", "<="])),
            )
        )
    elif how == "share_value":
        value = draw(
            st.sampled_from([1.0 + draw(st.floats(1e-6, 100.0)), -draw(st.floats(1e-6, 1.0))])
        )
        d.setdefault("targets", []).append(
            _simple_target(
                draw(st.sampled_from(["stock", "flow", "pool"])),
                start.year,
                id="CAMPAIGN-share",
                value=value,
            )
        )
        d["policy"].setdefault("succession_pool", {})["ranks"] = list(LEADER_RANKS)
    elif how == "baseline_value":
        d.setdefault("targets", []).append(
            _simple_target(
                "stock",
                start.year + 1,
                id="CAMPAIGN-baseline",
                baseline={"year": start.year},
                value=draw(st.sampled_from([1.5, -1.5, 7.0])),
            )
        )
    else:
        d["policy"].setdefault("succession_pool", {})["ranks"] = list(LEADER_RANKS)
        d.setdefault("targets", []).append(
            _simple_target("pool", start.year, id="CAMPAIGN-pool-ls", group="long_service")
        )
    return how


_DICT_KINDS: dict[str, Callable[[Draw, dict[str, Any]], str]] = {
    "wrong_type": _kind_wrong_type,
    "out_of_range": _kind_out_of_range,
    "share_out_of_range": lambda draw, d: _kind_out_of_range(draw, d, shares_only=True),
    "negative_number": _kind_negative,
    "non_finite": _kind_non_finite,
    "huge_number": _kind_huge,
    "unknown_key": _kind_unknown_key,
    "typo_key": _kind_typo_key,
    "missing_required": _kind_missing_required,
    "unknown_enum": _kind_wrong_enum,
    "string_for_list": _kind_string_for_list,
    "bad_date": _kind_bad_date,
    "unicode_junk": _kind_unicode_junk,
    "invisible_char_in_key": _kind_invisible_key,
    "python_tag": _kind_python_tag,
    "dates_out_of_order": _kind_dates,
    "unknown_reference": _kind_unknown_reference,
    "duplicate_id": _kind_duplicate_id,
    "inconsistent": _kind_inconsistent,
}

_SYNTAX_LINES = [
    "key: value: more",
    "@reserved: 1",
    "`backtick: 1",
    "- a list item among keys",
    "]",
    "}",
    "{unclosed: 1",
    "[unclosed, list",
    "  badly: indented",
    "!!: 1",
    "&: 1",
    "*nosuchanchor",
]
_SYNTAX_ENDINGS = [
    'extra: "never closed\n',
    "extra: 'never closed\n",
    "extra: [1, 2\n",
    "extra: {a: 1\n",
]
_NON_PRINTABLE = [
    chr(c)
    for c in [*range(0, 9), 11, 12, *range(14, 32), 127, *range(0x80, 0x85), *range(0x86, 0xA0)]
] + ["\ufffe", "\uffff"]
_EMPTY = [
    "",
    "\n",
    "   \n\n",
    "# just a comment\n",
    "---\n",
    "---\n...\n",
    "~\n",
    "null\n",
    "\ufeff",
]
_NOT_MAPPING = [
    "- a\n- b\n",
    "42\n",
    "just some text\n",
    "[1, 2, 3]\n",
    '"quoted"\n',
    "true\n",
    "2021-01-01\n",
    "3.5\n",
    "!!binary aGVsbG8=\n",
]


def _top_level_lines(text: str) -> list[int]:
    """Indices of the lines that start a top-level key (insertion points at the top level)."""
    lines = text.split("\n")
    return [i for i, line in enumerate(lines) if re.match(r"[A-Za-z_]", line)]


def _text_kind(draw: Draw, kind: str, d: dict[str, Any]) -> Malformed:
    if kind == "empty_document":
        return Malformed(kind, draw(st.sampled_from(_EMPTY)))
    if kind == "not_a_mapping":
        text = draw(st.one_of(st.sampled_from(_NOT_MAPPING), st.just(dump([d]))))
        return Malformed(kind, text)
    if kind == "deep_nesting":
        key = draw(st.sampled_from([k for k in d if k != "variants"]))
        depth = draw(st.integers(20, 5000))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        rest = {k: v for k, v in d.items() if k != key}
        return Malformed(
            kind,
            dump(rest) + f"{key}: {opener * depth}{closer * depth}\n",
            note=f"{key}, depth {depth}",
        )
    if kind == "alias_bomb":
        rest = {k: v for k, v in d.items() if k != "targets"}
        levels = draw(st.integers(3, 12))
        parts = ["&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        parts += [f"&l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
        return Malformed(
            kind, dump(rest) + f"targets: [{', '.join(parts)}]\n", note=f"{levels} levels"
        )
    text = dump(d)
    lines = text.split("\n")
    if kind == "syntax_error":
        if draw(st.booleans()):
            return Malformed(kind, text + draw(st.sampled_from(_SYNTAX_ENDINGS)), note="at the end")
        at = draw(st.sampled_from(_top_level_lines(text)[1:]))
        bad = draw(st.sampled_from(_SYNTAX_LINES))
        if bad.startswith("  "):
            # Indented under a key with a plain scalar value: a continuation cannot hold ": ".
            scalars = [i for i, line in enumerate(lines) if re.match(r"[a-z_]+: \S", line)]
            at = draw(st.sampled_from(scalars)) + 1
        lines.insert(at, bad)
        return Malformed(kind, "\n".join(lines), note=f"line {at + 1}: {bad}")
    if kind == "tab_indent":
        keyed = [i for i, line in enumerate(lines) if re.match(r" +(- )?[A-Za-z_]+:( |$)", line)]
        i = draw(st.sampled_from(keyed))
        stripped = lines[i].lstrip(" ")
        lines[i] = "\t" * draw(st.integers(1, 3)) + stripped
        return Malformed(kind, "\n".join(lines), note=f"line {i + 1}")
    if kind == "control_chars":
        at = draw(st.integers(0, len(text)))
        junk = (
            draw(st.text(max_size=5))
            + draw(st.sampled_from(_NON_PRINTABLE))
            + draw(st.text(max_size=5))
        )
        return Malformed(kind, text[:at] + junk + text[at:], note=f"at {at}: {junk!r}")
    if kind == "binary_file":
        raw = text.encode("utf-8")
        how = draw(st.sampled_from(["junk", "latin1", "utf16", "random"]))
        if how == "junk":
            at = draw(st.integers(0, len(raw)))
            # Bytes that never occur in UTF-8, whatever comes before or after them.
            junk = draw(st.binary(max_size=20)) + bytes(
                [draw(st.sampled_from([0xFF, 0xFE, 0xC0, 0xC1, 0xF8]))]
            )
            data = raw[:at] + junk + raw[at:]
        elif how == "latin1":
            data = (
                (text + "# Quảng Bình\n")
                .encode("utf-8")
                .decode("utf-8")
                .encode("cp1252", errors="replace")
            )
            data = data.replace(b"?", b"\xe9")  # at least one byte that is not UTF-8
        elif how == "utf16":
            data = text.encode("utf-16")
        else:
            data = draw(st.binary(min_size=1, max_size=200)) + b"\xff"
        return Malformed(kind, data=data, note=how)
    if kind == "truncated":
        end = text.index("\npolicy:") if "\npolicy:" in text else len(text) // 2
        cut = draw(st.integers(0, end))
        return Malformed(kind, text[:cut], note=f"cut at {cut} of {len(text)}")
    if kind == "duplicate_key":
        keyed = [i for i, line in enumerate(lines) if re.match(r" *[a-z_]+: \S", line)]
        i = draw(st.sampled_from(keyed))
        lines.insert(i + 1, lines[i])
        return Malformed(kind, "\n".join(lines), note=f"line {i + 1} twice")
    if kind == "bad_merge_key":
        value = draw(st.sampled_from(["5", "[1, 2]", "text", "*nosuch"]))
        return Malformed(kind, text + f"<<: {value}\n", note=value)
    if kind == "huge_int_text":
        keyed = [
            i
            for i, line in enumerate(lines)
            if re.match(r" *(units|heads|deputies|size|seats|month): \d+$", line)
        ]
        i = draw(st.sampled_from(keyed))
        digits = draw(st.integers(4400, 20000))
        lines[i] = re.sub(r"\d+$", "9" * digits, lines[i])
        return Malformed(kind, "\n".join(lines), note=f"line {i + 1}: {digits} digits")
    if kind == "bad_date_text":
        keyed = [
            i
            for i, line in enumerate(lines)
            if re.match(r"(start: |end: | +date: | +- )\d{4}-\d\d-\d\d$", line)
        ]
        i = draw(st.sampled_from(keyed))
        bad = draw(st.sampled_from(["2021-02-30", "2021-13-01", "2021-00-01", "2023-02-29"]))
        lines[i] = re.sub(r"\d{4}-\d\d-\d\d$", bad, lines[i])
        return Malformed(kind, "\n".join(lines), note=f"line {i + 1}: {bad}")
    raise AssertionError(kind)


_TEXT_KINDS = (
    "empty_document",
    "not_a_mapping",
    "deep_nesting",
    "alias_bomb",
    "syntax_error",
    "tab_indent",
    "control_chars",
    "binary_file",
    "truncated",
    "duplicate_key",
    "bad_merge_key",
    "huge_int_text",
    "bad_date_text",
)
MALFORMED_SCENARIO_KINDS: tuple[str, ...] = (*_DICT_KINDS, *_TEXT_KINDS)


@st.composite
def malformed_scenario_texts(
    draw: Draw, kinds: tuple[str, ...] = MALFORMED_SCENARIO_KINDS
) -> Malformed:
    """Scenario files that must be refused, each broken in one way that is certainly invalid."""
    kind = draw(st.sampled_from(kinds))
    _, d = draw(valid_scenario_dicts())
    if kind in _DICT_KINDS:
        note = _DICT_KINDS[kind](draw, d)
        return Malformed(kind, dump(d), note=note)
    return _text_kind(draw, kind, d)


#: Problems of a whole file, reported with its name only (sim/yamlpos.py cannot tell the line
#: where Python's recursion limit was reached).
WHOLE_FILE_PROBLEMS = ("nested too deeply",)
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")


def _message_problems(message: str, file: str) -> list[str]:
    out = []
    if not message.strip():
        out.append("the message is empty")
    if _TRACEBACK.search(message):
        out.append(f"the message holds a traceback:\n{message}")
    if file not in message:
        out.append(f"the message does not name the file {file}:\n{message}")
    return out


def check_rejected_scenario(case: Malformed, workdir: Path) -> list[str]:
    """Load a malformed scenario (as text, or from a file for raw bytes); it must be refused
    with a ``ScenarioError`` whose every issue names the file and says where and what."""
    try:
        if case.data is not None:
            path = workdir / f"campaign{case.suffix}"
            path.write_bytes(case.data)
            file = str(path)
            load_scenario(path)
        else:
            assert case.text is not None
            file = SCENARIO_FILE
            load_scenario_text(case.text, file)
    except ScenarioError as err:
        problems = _message_problems(str(err), file)
        if not err.issues:
            problems.append("a ScenarioError without issues")
        for issue in err.issues:
            if not issue.message.strip():
                problems.append(f"an issue without a message: {issue}")
            if file not in str(issue):
                problems.append(f"an issue that does not name the file: {issue}")
            whole = any(m in issue.message for m in WHOLE_FILE_PROBLEMS)
            if issue.line is None and not issue.path and not whole:
                problems.append(f"an issue that says neither the line nor the setting: {issue}")
        return problems
    except Exception as exc:
        return [
            f"raised {type(exc).__name__} instead of ScenarioError: {exc}\n{traceback.format_exc()}"
        ]
    return ["the scenario was accepted"]


# --------------------------------------------------------------------------- #
# Rosters
# --------------------------------------------------------------------------- #


@functools.cache
def roster_scenario() -> tuple[Scenario, Layout]:
    """The scenario (and its layout) the roster campaigns use."""
    sc = load_scenario(ROSTER_SCENARIO)
    return sc, build_layout(sc)


_SEX = {"F": ["F", "f", "female", "nữ", "Nu"], "M": ["M", "m", "male", "nam", "Nam"]}
_THEORY = ["none", "", "intermediate", "trung cấp", "advanced", "cao cấp"]
_IT = ["none", "", "basic", "cơ bản", "advanced", "nâng cao"]
_YESNO = ["yes", "no", "y", "n", "có", "không", "1", "0", "true", "false", "x", ""]


def _month_text(draw: Draw, index: int) -> str:
    year, month = divmod(index, 12)
    style = draw(st.integers(0, 3))
    if style == 1:
        return f"{year}/{month + 1:02d}"
    if style == 2:
        return f"{year}-{month + 1:02d}-{draw(st.integers(1, 28)):02d}"
    return f"{year}-{month + 1:02d}"


@st.composite
def valid_rosters(draw: Draw) -> tuple[list[str], list[dict[str, str]]]:
    """``(columns, rows)`` of a roster that fits :func:`roster_scenario`: leaders in distinct
    posts, specialists in the pool, plausible dates, some optional columns."""
    sc, layout = roster_scenario()
    start = sc.start_month
    first_unit: dict[int, int] = {}
    for u, b in enumerate(layout.unit_block.tolist()):
        first_unit.setdefault(b, u)
    n_posts = layout.n_posts
    posts = draw(st.lists(st.integers(0, n_posts - 1), unique=True, max_size=25))
    n_pool = draw(st.integers(0 if posts else 1, 8))
    optional = _subset(draw, QUAL_COLUMNS, min_size=0)
    pool_place = draw(st.booleans())
    columns = [
        "person_id",
        "rank",
        "block",
        "unit",
        "sex",
        "birth_month",
        "in_post_since",
        *optional,
    ]
    rows = []
    for k in range(len(posts) + n_pool):
        sex = draw(st.sampled_from(["F", "M"]))
        birth = start - 12 * draw(st.integers(19, 50)) - draw(st.integers(0, 11))
        since = draw(st.integers(birth + 12 * 19, start))
        row = {
            "person_id": f"P{k + 1:04d}",
            "sex": draw(st.sampled_from(_SEX[sex])),
            "birth_month": _month_text(draw, birth),
            "in_post_since": _month_text(draw, since),
            "block": "",
            "unit": "",
        }
        if k < len(posts):
            p = posts[k]
            row["rank"] = RANKS[int(layout.post_rank[p])]
            b = int(layout.post_block[p])
            row["block"] = layout.block_ids[b]
            row["unit"] = str(int(layout.post_unit[p]) - first_unit[b] + 1)
        else:
            row["rank"] = "pool"
            if pool_place:
                u = draw(st.integers(0, layout.n_units - 1))
                b = int(layout.unit_block[u])
                row["block"] = layout.block_ids[b]
                row["unit"] = str(u - first_unit[b] + 1)
        for col in optional:
            if col == "theory":
                row[col] = draw(st.sampled_from(_THEORY))
            elif col == "it":
                row[col] = draw(st.sampled_from(_IT))
            elif col == "knowledge_update":
                row[col] = (
                    ""
                    if draw(st.booleans())
                    else _month_text(draw, draw(st.integers(birth + 12 * 18, start)))
                )
            else:
                row[col] = draw(st.sampled_from(_YESNO))
        rows.append(row)
    order = draw(st.permutations(columns))
    return list(order), rows


def roster_csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def roster_xlsx(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    import pandas as pd

    out = io.BytesIO()
    pd.DataFrame([[r.get(c, "") for c in columns] for r in rows], columns=columns).to_excel(
        out, index=False
    )
    return out.getvalue()


_ROSTER_KINDS = (
    "missing_column",
    "unknown_column",
    "duplicate_column",
    "bad_date",
    "impossible_date",
    "bad_sex",
    "bad_rank",
    "bad_block",
    "bad_unit",
    "duplicate_person",
    "empty_person_id",
    "too_many_holders",
    "bad_qualification",
    "blank_row",
    "ragged_row",
    "wrong_encoding",
    "empty_file",
    "binary_junk",
    "broken_excel",
    "wrong_suffix",
    "foreign_headers",
)
MALFORMED_ROSTER_KINDS = _ROSTER_KINDS


def _pick_row(draw: Draw, rows: list[dict[str, str]], rank: str | None = None) -> dict[str, str]:
    """A row of the roster: any, a leader's (``rank="leader"``) or a specialist's
    (``rank="pool"``); one is added if there is none of that kind."""
    found = [r for r in rows if rank is None or (r["rank"] == "pool") == (rank == "pool")]
    if found:
        return draw(st.sampled_from(found))
    # No leader, so the first head post of the first block is free (or no specialist).
    row = {
        "person_id": f"X{len(rows) + 1:04d}",
        "rank": "pool" if rank == "pool" else "l1_head",
        "block": "" if rank == "pool" else roster_scenario()[1].block_ids[0],
        "unit": "" if rank == "pool" else "1",
        "sex": "M",
        "birth_month": "1975-01",
        "in_post_since": "2019-01",
    }
    rows.append(row)
    return row


@st.composite
def malformed_rosters(draw: Draw, kinds: tuple[str, ...] = _ROSTER_KINDS) -> Malformed:
    """Roster files broken in one certain way (see :data:`MALFORMED_ROSTER_KINDS`)."""
    kind = draw(st.sampled_from(kinds))
    columns, rows = draw(valid_rosters())
    sc, layout = roster_scenario()
    note = ""
    suffix = ".csv"
    if kind == "missing_column":
        col = draw(st.sampled_from(["person_id", "rank", "sex", "birth_month", "in_post_since"]))
        columns.remove(col)
        note = col
    elif kind == "unknown_column":
        col = draw(st.sampled_from(["salary", "birth_monht", "name", "ranks", "họ tên", "unit2"]))
        columns.insert(draw(st.integers(0, len(columns))), col)
        note = col
    elif kind == "duplicate_column":
        col = draw(st.sampled_from(columns))
        variant = draw(st.sampled_from([col.upper(), col.title(), f" {col} "]))
        if variant == col:
            variant = col.upper() + " "
        columns.append(variant)
        for r in rows:
            r[variant] = r.get(col, "")
        note = f"{col} and {variant!r}"
    elif kind == "bad_date":
        col = draw(
            st.sampled_from(
                ["birth_month", "in_post_since"]
                + (["knowledge_update"] if "knowledge_update" in columns else [])
            )
        )
        row = _pick_row(draw, rows)
        bad = draw(
            st.sampled_from(
                [
                    "1970-13",
                    "1970-00",
                    "January 1970",
                    "1970",
                    "1970-02-30",
                    "1970-1-1-1",
                    "abc-def",
                    "1970-01-xx",
                    "1970.01",
                    "²970-01",
                    "1970-01-32",
                ]
                + ([""] if col != "knowledge_update" else [])
            )
        )
        row[col] = bad
        note = f"{col} = {bad!r}"
    elif kind == "impossible_date":
        row = _pick_row(draw, rows)
        how = draw(
            st.sampled_from(
                [
                    "before_1940",
                    "under_18",
                    "since_after_start",
                    "since_before_18",
                    "retired",
                    "update_after_start",
                ]
            )
        )
        if how == "before_1940":
            row["birth_month"] = f"{draw(st.integers(1000, 1939))}-01"
        elif how == "under_18":
            row["birth_month"] = f"{draw(st.integers(sc.start.year - 17, sc.start.year + 30))}-06"
        elif how == "since_after_start":
            row["in_post_since"] = f"{draw(st.integers(sc.start.year + 1, 2100))}-01"
        elif how == "since_before_18":
            row["birth_month"] = "1980-01"
            row["in_post_since"] = f"{draw(st.integers(1940, 1997))}-01"
        elif how == "retired":
            row["birth_month"] = f"{draw(st.integers(1940, 1950))}-{draw(st.integers(1, 12)):02d}"
        else:
            if "knowledge_update" not in columns:
                columns.append("knowledge_update")
            row["knowledge_update"] = f"{draw(st.integers(sc.start.year + 1, 2100))}-01"
        note = how
    elif kind == "bad_sex":
        row = _pick_row(draw, rows)
        row["sex"] = draw(st.sampled_from(["X", "", "男", "unknown", "FM", "0", "nữ nam"]))
        note = repr(row["sex"])
    elif kind == "bad_rank":
        row = _pick_row(draw, rows)
        row["rank"] = draw(
            st.sampled_from(["l3_head", "", "L1 HEAD", "chairman", "pool2", "l1-head"])
        )
        note = repr(row["rank"])
    elif kind == "bad_block":
        row = _pick_row(draw, rows, draw(st.sampled_from(["leader", "pool"])))
        row["block"] = draw(st.sampled_from(["nosuch", "Party_Advisory", "districts2", "1"]))
        if row["rank"] == "pool" and not row["unit"]:
            row["unit"] = "1"
        note = f"{row['rank']} block {row['block']!r}"
    elif kind == "bad_unit":
        row = _pick_row(draw, rows, draw(st.sampled_from(["leader", "pool"])))
        if not row["block"]:
            row["block"] = layout.block_ids[0]
        units = sc.structure.block(row["block"]).units
        row["unit"] = draw(
            st.sampled_from(
                ["0", "-1", "1.5", str(units + 1), "①", "²", "one", "1 2", str(10**30)]
                + ([""] if row["rank"] != "pool" else [])
            )
        )
        note = f"{row['rank']} unit {row['unit']!r}"
    elif kind == "duplicate_person":
        row = _pick_row(draw, rows)
        twin = {**row, "rank": "pool", "block": "", "unit": ""}  # a valid row, but the same id
        rows.insert(draw(st.integers(0, len(rows))), twin)
        note = row["person_id"]
    elif kind == "empty_person_id":
        row = _pick_row(draw, rows)
        row["person_id"] = draw(st.sampled_from(["", "   ", "\t"]))
    elif kind == "too_many_holders":
        p = draw(st.integers(0, layout.n_posts - 1))
        unit, rank = int(layout.post_unit[p]), int(layout.post_rank[p])
        n = int(np.count_nonzero((layout.post_unit == unit) & (layout.post_rank == rank)))
        b = int(layout.post_block[p])
        first = int(np.flatnonzero(layout.unit_block == b)[0])
        held = [
            r
            for r in rows
            if r["rank"] == RANKS[rank]
            and r["block"] == layout.block_ids[b]
            and r["unit"] == str(unit - first + 1)
        ]
        for k in range(n + 1 - len(held)):
            rows.append(
                {
                    "person_id": f"EXTRA{k}",
                    "rank": RANKS[rank],
                    "block": layout.block_ids[b],
                    "unit": str(unit - first + 1),
                    "sex": "F",
                    "birth_month": "1980-05",
                    "in_post_since": "2020-01",
                }
            )
        note = f"{n + 1} x {RANKS[rank]} in {layout.block_ids[b]} unit {unit - first + 1}"
    elif kind == "bad_qualification":
        col = draw(st.sampled_from([c for c in QUAL_COLUMNS if c != "knowledge_update"]))
        if col not in columns:
            columns.append(col)
            for r in rows:
                r[col] = "none" if col in ("theory", "it") else "no"
        row = _pick_row(draw, rows)
        row[col] = draw(st.sampled_from(["expert", "maybe", "2", "yes please", "cử nhân"]))
        note = f"{col} = {row[col]!r}"
    elif kind == "blank_row":
        rows.insert(draw(st.integers(0, len(rows))), {})
    elif kind == "ragged_row":
        text = roster_csv(columns, rows)
        lines = text.split("\n")
        i = draw(st.integers(1, len(lines) - 2))
        # Two fields or more too many (with one, pandas would take the first as an index).
        lines[i] += "," * draw(st.integers(2, 5)) + "extra"
        return Malformed(kind, "\n".join(lines), suffix=".csv", note=f"line {i + 1}")
    elif kind == "wrong_encoding":
        _pick_row(draw, rows)["person_id"] = "José-Nguyễn"
        text = roster_csv(columns, rows)
        enc = draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1258"]))
        data = text.encode(enc, errors="replace")
        if enc in ("latin-1", "cp1258"):
            data = data.replace("José".encode(enc), b"Jos\xe9")
        return Malformed(kind, data=data, suffix=".csv", note=enc)
    elif kind == "empty_file":
        data = draw(st.sampled_from([b"", b"\n", b"\n\n\n", b"\xef\xbb\xbf", b"   \n"]))
        return Malformed(
            kind, data=data, suffix=draw(st.sampled_from([".csv", ".xlsx"])), note=repr(data)
        )
    elif kind == "binary_junk":
        data = draw(st.binary(min_size=1, max_size=300)) + b"\xff\xfe\x00"
        return Malformed(kind, data=data, suffix=draw(st.sampled_from([".csv", ".xlsx", ".xls"])))
    elif kind == "broken_excel":
        data = roster_xlsx(columns, rows)
        how = draw(st.sampled_from(["truncated", "csv_named_xlsx", "no_directory"]))
        if how == "truncated":
            data = data[: draw(st.integers(0, len(data) // 2))]
        elif how == "csv_named_xlsx":
            data = roster_csv(columns, rows).encode("utf-8")
        else:  # the end-of-central-directory record of the zip file wiped out
            data = data[:-22] + bytes(22)
        return Malformed(kind, data=data, suffix=".xlsx", note=how)
    elif kind == "wrong_suffix":
        suffix = draw(st.sampled_from([".json", ".pdf", ".ods", "", ".yaml"]))
        return Malformed(kind, roster_csv(columns, rows), suffix=suffix or ".", note=suffix)
    elif kind == "foreign_headers":
        columns = [
            draw(
                st.sampled_from(
                    ["mã", "chức vụ", "đơn vị", "giới tính", "ngày sinh", "id", "Rank2"]
                )
            )
            + str(i)
            for i in range(len(columns))
        ]
    text = roster_csv(columns, rows)
    if kind != "blank_row" and draw(st.integers(0, 9)) == 0:  # some as Excel files
        return Malformed(
            kind, data=roster_xlsx(columns, rows), suffix=".xlsx", note=note + " (xlsx)"
        )
    if draw(st.booleans()):
        text = "\ufeff" + text  # with a byte-order mark, as Excel writes UTF-8 CSV
    return Malformed(kind, text, suffix=suffix, note=note)


def write_case(case: Malformed, workdir: Path, stem: str = "campaign") -> Path:
    path = workdir / f"{stem}{case.suffix if case.suffix != '.' else ''}"
    path.write_bytes(case.content())
    return path


def check_rejected_roster(case: Malformed, workdir: Path) -> list[str]:
    """Load a malformed roster; it must be refused with a ``RosterError`` naming the file."""
    sc, layout = roster_scenario()
    path = write_case(case, workdir, "roster")
    try:
        load_roster(path, sc, layout)
    except RosterError as err:
        problems = _message_problems(str(err), str(path))
        if not err.problems:
            problems.append("a RosterError without problems")
        problems += [f"an empty problem in: {err}" for p in err.problems if not p.strip()]
        return problems
    except Exception as exc:
        return [
            f"raised {type(exc).__name__} instead of RosterError: {exc}\n{traceback.format_exc()}"
        ]
    return ["the roster was accepted"]


def check_valid_roster(
    columns: list[str], rows: list[dict[str, str]], seed: int, workdir: Path
) -> list[str]:
    """A generated valid roster loads, and a replication started from it keeps the invariants."""
    from sim.model import Model

    sc, layout = roster_scenario()
    path = workdir / "valid_roster.csv"
    path.write_text(roster_csv(columns, rows), encoding="utf-8")
    try:
        roster = load_roster(path, sc, layout)
    except RosterError as err:
        return [f"a valid roster was refused: {err}"]
    # Two years are enough to see the posts the roster leaves vacant filled.
    short = sc.with_overrides({"end": "2022-12-31", "congress": None, "targets": []})
    try:
        res = Model(short, seed, 0, keep_log=True, roster=roster).run()
        return check_invariants(res, layout.post_rank) + result_problems(res, short, layout)
    except Exception as exc:
        return [f"the run raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}"]


# --------------------------------------------------------------------------- #
# The command line
# --------------------------------------------------------------------------- #


def check_cli_rejects(args: list[str], file: str) -> list[str]:
    """``cadresim ARGS`` in process: exit code 2, an error naming ``file``, no traceback."""
    from typer.testing import CliRunner

    from sim.cli import app

    result = CliRunner().invoke(app, args)
    problems = []
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        problems.append(f"cadresim {' '.join(args)} raised {type(exc).__name__}: {exc}\n{tb}")
    if result.exit_code != 2:
        problems.append(f"exit code {result.exit_code}, not 2; stderr:\n{result.stderr}")
    for stream in (result.stdout, result.stderr):
        if _TRACEBACK.search(stream):
            problems.append(f"a traceback in the output:\n{stream}")
    if "error" not in result.stderr:
        problems.append(f"no error message on stderr:\n{result.stderr}")
    # Rich may fold a long path; compare without whitespace.
    if "".join(file.split()) not in "".join(result.stderr.split()):
        problems.append(f"the error does not name {file}:\n{result.stderr}")
    return problems


def cli_scenario_args(path: Path) -> list[str]:
    return ["run", str(path), "--reps", "1", "--quiet", "--workers", "1"]


def cli_roster_args(path: Path) -> list[str]:
    return [
        "run",
        str(ROSTER_SCENARIO),
        "--roster",
        str(path),
        "--reps",
        "1",
        "--quiet",
        "--workers",
        "1",
    ]


# --------------------------------------------------------------------------- #
# Merged provinces
# --------------------------------------------------------------------------- #


@dataclass
class MergerCase:
    """A bundled merged province with other merger settings, and a seed."""

    name: str
    changes: dict[str, Any]
    seed: int

    def describe(self) -> str:
        return f"{self.name} with {self.changes}, seed {self.seed}"


@st.composite
def valid_mergers(draw: Draw) -> MergerCase:
    """A bundled merged province with its merger's settings varied within what the schema
    allows: the date, the grace period, what happens to the surplus, early-retirement uptake,
    newcomers, the first committee, whose targets apply."""
    name = draw(st.sampled_from(MERGED))
    sc = load_scenario(SCENARIOS / f"{name}.yaml")
    m = sc.merger
    assert m is not None
    year = draw(st.integers(2022, 2025))
    month = draw(st.integers(1, 12)) if year < 2025 else draw(st.integers(1, 7))
    changes: dict[str, Any] = {
        "merger.date": dt.date(year, month, 1).isoformat(),
        "merger.grace_months": draw(st.sampled_from([0.0, 12.0, 60.0, 120.0])),
        "merger.surplus": draw(st.sampled_from(["reassign_or_wait", "reassign_or_retire"])),
        "merger.early_retirement": [
            {"min_years": 2, "max_years": 5, "uptake": draw(st.floats(0.0, 1.0))},
            {"min_years": 5, "max_years": 10, "uptake": draw(st.floats(0.0, 1.0))},
        ],
        "merger.first_committee.appointed": draw(st.booleans()),
        "merger.first_committee.outsiders": draw(st.integers(0, 5)),
    }
    if draw(st.booleans()):
        changes["merger.newcomer_blocks"] = []
    if draw(st.booleans()):
        changes["merger.targets_after"] = "merged"
    return MergerCase(name, changes, draw(st.integers(0, 2**32 - 1)))


def check_merger_case(case: MergerCase) -> list[str]:
    """Build the varied merged province and run one replication of it with its event logs:
    every part's invariants and the conservation of people across the date
    (:func:`sim.merger.check_invariants`), and the plausibility of its result."""
    from sim import merger

    try:
        base = load_scenario(SCENARIOS / f"{case.name}.yaml")
        sc = base.with_overrides(case.changes)
    except ScenarioError as exc:
        text = str(exc)
        # A date too early for the sources' congresses or targets is refused clearly: fine.
        if "merger" in text or "congress" in text or "targets" in text:
            return []
        return [f"the loader refused a valid merger: {text}"]
    try:
        problems = merger.check_invariants(sc, case.seed, 0)
        plan = merger.compile_plan(sc)
        res = merger.run_replication(sc, case.seed, 0, plan)
        assert plan.union is not None
        problems += result_problems(res, sc, plan.union.layout)
    except Exception as exc:
        return [f"the run raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}"]
    return problems
