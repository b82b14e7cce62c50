"""Exploratory modelling (XLRM): which province decisions hold up across the states of the world.

A study (:class:`Study`) declares separately

- the *uncertainties* (X): what nobody in the province controls (exit hazards, age laws,
  evaluation bias, staff shares, the scenario's assumed numbers), each with its range;
- the *levers* (L): what the province decides (appointment shares, quota readings,
  reservation, rotation, ...), each with its range or its values.

Each is a dotted setting path, as in ``--set``, given on the command line
(``path=a:b``, ``path=a:b:step``, ``path=v1,v2,...``, ``path=word1,word2``; see
:func:`parse_param`), or read from the scenario's ``assumptions`` (:meth:`Study.from_assumptions`).

The design (:func:`design`) is the cross product of a lever design (grid, Latin hypercube or
Sobol sequence over the levers) and a design of states (Latin hypercube, Sobol sequence or grid
over the uncertainties), so that every lever setting meets the same states of the world; both
are reproducible by the seed (scipy.stats.qmc). Every point is checked before any runs
(:func:`check`). The points run as a sweep (:func:`sim.sweep.run_sweep`): the same seed and
replications at every point (common random numbers), streamed to a result store and resumed
from it, on any runner (local pool, Dask).

The outcomes (the M of XLRM: the targets' P(met)) are reduced to tidy tables
(:class:`Exploration`): P(met) per point and target, the joint P of each deadline, the mean
flows and costs over the horizon, the robustness of each lever setting across the states
(mean, worst case, 10th percentile, maximum regret; :func:`robustness`) and scenario
discovery: the regions of the uncertainties where a target is not met, as PRIM boxes
(:func:`prim_boxes`, EMA Workbench's implementation) and CART leaves (:func:`cart_boxes`).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.runner import Runner
from sim.scenario import Assumption, Scenario, ScenarioError, apply_overrides, get_setting
from sim.store import ResultStore, identity
from sim.sweep import DesignError, Param, parse_grid, parse_range, run_sweep

#: Designs of the lever settings and of the states of the world.
SAMPLERS = ("grid", "lhs", "sobol")
#: Columns of the tables that no parameter may be named.
RESERVED = frozenset(
    {"point", "lever_id", "state_id", "target", "by", "p_met", "ci_low", "ci_high", "rep"}
)
#: How the joint P of a deadline's targets is named where targets are listed (robustness,
#: scenario discovery).
JOINT_TARGET = "all targets by {by}"
#: The columns of the box tables (:func:`prim_boxes`, :func:`cart_boxes`).
BOX_COLUMNS = (
    "box",
    "coverage",
    "density",
    "mass",
    "n",
    "k",
    "res_dim",
    "dimension",
    "low",
    "high",
    "data_low",
    "data_high",
    "categories",
    "qp_low",
    "qp_high",
)


class DiscoveryError(ValueError):
    """Scenario discovery that cannot be done on the data given (the message says why)."""


# --------------------------------------------------------------------------- #
# The study
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Moved:
    """An uncertainty that moves assumed settings of the scenario (its ``assumptions``).

    With ``position``, the uncertainty's value is a position in [0, 1]: every member at that
    fraction of the way from its low end to its high end (a group moving together). Without
    it, the value is the member's own number: the setting's value for a ``range``, the amount
    added for a ``shift``, the factor for a ``scale`` (one member).
    """

    members: tuple[Assumption, ...]
    position: bool


def _kind(p: Param) -> str:
    """``choices``, ``values`` (grid values) or ``range``."""
    if p.choices:
        return "choices"
    if p.values:
        return "values"
    return "range"


def spec(p: Param) -> str:
    """The command-line form of ``p`` (what :func:`parse_param` reads back)."""
    kind = _kind(p)
    if kind == "choices":
        return f"{p.path}={','.join(p.choices)}"
    if kind == "values":
        return f"{p.path}={','.join(f'{v:g}' for v in p.values)}"
    return f"{p.path}={p.low:g}:{p.high:g}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_param(text: str) -> Param:
    """A lever or an uncertainty from the command line: ``path=a:b`` (a range, sampled),
    ``path=a:b:step`` or ``path=v1,v2,...`` (values, for a grid or picked from by a sampled
    design) or ``path=word1,word2,...`` (words, e.g. ``policy.appointment_share.reading=
    expected,floor`` or ``...enabled=true,false``). Whole-number ends or values give a
    whole-number parameter.

    Raises:
        DesignError: a malformed spec (the message quotes it, so names its path).
    """
    path, sep, rhs = text.partition("=")
    if not sep or not path.strip() or not rhs.strip():
        raise DesignError(
            f"{text}: expected path=a:b (a range), path=a:b:step or path=v1,v2,... (values)"
        )
    if ":" in rhs:
        return parse_range(text) if rhs.count(":") == 1 else parse_grid(text)
    words = [w.strip() for w in rhs.split(",") if w.strip()]
    numbers = [_is_number(w) for w in words]
    if all(numbers):
        return parse_grid(text)
    if any(numbers):
        raise DesignError(f"{text}: give numbers or words, not both")
    if len(set(words)) != len(words):
        raise DesignError(f"{text}: a value is given twice")
    return Param(path.strip(), choices=tuple(words))


def _check_param(p: Param, role: str) -> None:
    """A parameter built in code must be usable: exactly one of a range, values or words."""
    has_range = not (math.isnan(p.low) and math.isnan(p.high))
    if sum((has_range, bool(p.values), bool(p.choices))) != 1:
        raise DesignError(f"{role} {p.path}: give exactly one of a range, values or words")
    if has_range and not (math.isfinite(p.low) and math.isfinite(p.high) and p.low < p.high):
        raise DesignError(f"{role} {p.path}: a range needs finite ends, low < high")
    if p.path in RESERVED or not p.path.strip():
        raise DesignError(f"{role} {p.path!r}: not a usable name (reserved for a column)")


@dataclass(frozen=True)
class Study:
    """What an exploratory study varies and how: uncertainties and levers, each a
    :class:`~sim.sweep.Param` (a dotted setting path with a range, values or words), and the
    designs over each. ``moves`` names the uncertainties that move assumed settings of the
    scenario (:meth:`from_assumptions`); ``notes`` says what was left out, and why.

    Raises:
        DesignError: a parameter given twice (or both as lever and uncertainty), nothing to
            vary, an unknown design, or a design size that cannot be used.
    """

    uncertainties: tuple[Param, ...] = ()
    levers: tuple[Param, ...] = ()
    lever_design: str = "grid"
    n_levers: int = 4
    state_design: str = "lhs"
    n_states: int = 16
    moves: Mapping[str, Moved] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "uncertainties", tuple(self.uncertainties))
        object.__setattr__(self, "levers", tuple(self.levers))
        if not self.uncertainties and not self.levers:
            raise DesignError("nothing to explore: give uncertainties, levers or both")
        for role, params in (("uncertainty", self.uncertainties), ("lever", self.levers)):
            for p in params:
                _check_param(p, role)
        lever_paths = [p.path for p in self.levers]
        state_paths = [p.path for p in self.uncertainties]
        both = sorted(set(lever_paths) & set(state_paths))
        if both:
            raise DesignError(f"{', '.join(both)}: both a lever and an uncertainty")
        for role, paths in (("lever", lever_paths), ("uncertainty", state_paths)):
            twice = sorted({x for x in paths if paths.count(x) > 1})
            if twice:
                raise DesignError(f"{role} {', '.join(twice)}: given more than once")
        for name, how, n in (
            ("lever design", self.lever_design, self.n_levers),
            ("design of states", self.state_design, self.n_states),
        ):
            if how not in SAMPLERS:
                raise DesignError(f"{name} {how!r}: one of {', '.join(SAMPLERS)}")
            if how != "grid" and n < 1:
                raise DesignError(f"{name}: needs at least 1 point (got {n})")
        unknown = sorted(set(self.moves) - set(state_paths))
        if unknown:
            raise DesignError(f"moves {', '.join(unknown)}: not an uncertainty of the study")

    @classmethod
    def from_specs(
        cls, uncertainties: Sequence[str] = (), levers: Sequence[str] = (), **options: Any
    ) -> Study:
        """A study from command-line specs (:func:`parse_param`); ``options`` sets
        ``lever_design``, ``n_levers``, ``state_design``, ``n_states``."""
        return cls(
            tuple(parse_param(u) for u in uncertainties),
            tuple(parse_param(v) for v in levers),
            **options,
        )

    @classmethod
    def from_assumptions(
        cls,
        scenario: Scenario,
        levers: Sequence[Param | str] = (),
        only: Sequence[str] = (),
        grouped: bool = True,
        extra: Sequence[Param | str] = (),
        **options: Any,
    ) -> Study:
        """The scenario's assumed numbers (its ``assumptions``) as the uncertainties.

        With ``grouped`` (the default), a group is one uncertainty named by the group, a
        position in [0, 1] that moves every member from its low end (0) to its high end (1)
        together, as ``cadresim robustness`` moves them; otherwise each assumption is one.
        An assumption on its own of the ``range`` form is sampled on its setting's scale
        (named by its path, whole numbers for a whole-number setting); one of the ``shift``
        or ``scale`` form is the amount added or the factor (named ``path+shift`` or
        ``path*scale``), applied to each share and clipped to [0, 1]. An assumed setting
        that is also a lever is left to the lever (said in ``notes``). ``only`` keeps some
        assumptions or groups (as in :func:`sim.robustness.moves`); ``extra`` adds
        uncertainties given as specs; ``options`` are the designs (as for :meth:`from_specs`).

        Raises:
            DesignError: the scenario has no assumptions, or a name in ``only`` is unknown.
        """
        from sim.robustness import moves as assumption_moves

        lever_params = tuple(parse_param(v) if isinstance(v, str) else v for v in levers)
        lever_paths = {p.path for p in lever_params}
        data = scenario.model_dump(mode="json")
        params: list[Param] = []
        moved: dict[str, Moved] = {}
        notes: list[str] = []
        for move in assumption_moves(scenario, only):
            members = tuple(a for a in move.members if a.path not in lever_paths)
            for a in move.members:
                if a.path in lever_paths:
                    notes.append(f"assumption {a.path} is a lever of the study: left to it")
            groups = [members] if grouped and len(members) > 1 else [(a,) for a in members]
            for group in groups:
                if len(group) > 1:
                    params.append(Param(move.label, low=0.0, high=1.0))
                    moved[move.label] = Moved(group, position=True)
                    continue
                a = group[0]
                low, high = sorted(a.ends())
                if a.form == "range":
                    whole = isinstance(get_setting(data, a.path), int)
                    params.append(Param(a.path, low=low, high=high, integer=whole))
                else:
                    name = f"{a.path}{'+shift' if a.form == 'shift' else '*scale'}"
                    params.append(Param(name, low=low, high=high))
                    moved[name] = Moved(group, position=False)
        params.extend(parse_param(u) if isinstance(u, str) else u for u in extra)
        return cls(tuple(params), lever_params, moves=moved, notes=tuple(notes), **options)

    def describe(self) -> dict[str, Any]:
        """The study as plain data (for metadata): specs, designs, what each move moves."""
        return {
            "uncertainties": [spec(p) for p in self.uncertainties],
            "levers": [spec(p) for p in self.levers],
            "lever_design": self.lever_design,
            "n_levers": self.n_levers,
            "state_design": self.state_design,
            "n_states": self.n_states,
            "moves": {
                name: {
                    "value": "position in [0, 1]" if m.position else "own number",
                    "settings": [f"{a.path} ({a.form} {list(a.ends())})" for a in m.members],
                }
                for name, m in self.moves.items()
            },
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- #
# Designs
# --------------------------------------------------------------------------- #


def unit_sample(method: str, d: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points in the unit hypercube of dimension ``d``: a Latin hypercube (``lhs``) or
    a scrambled Sobol sequence (``sobol``; ``n`` a power of two, so that the sequence keeps
    its balance), both from scipy.stats.qmc.

    Raises:
        DesignError: an unknown method, or a Sobol size that is not a power of two.
    """
    if n < 1:
        raise DesignError(f"a design needs at least 1 point (got {n})")
    if method == "lhs":
        return np.asarray(qmc.LatinHypercube(d=d, rng=rng).random(n))
    if method == "sobol":
        if n & (n - 1):
            below = 1 << (n.bit_length() - 1)
            raise DesignError(
                f"a Sobol design needs a power of two points (got {n}): use {below} or {2 * below}"
            )
        return np.asarray(qmc.Sobol(d=d, scramble=True, rng=rng).random_base2(n.bit_length() - 1))
    raise DesignError(f"design {method!r}: lhs or sobol (or grid)")


def _from_unit(p: Param, u: np.ndarray) -> pd.Series:
    """Unit-interval draws ``u`` on the scale of ``p``: a range (whole numbers equally likely
    for a whole-number one), or one of its values or words, each equally likely."""
    kind = _kind(p)
    if kind != "range":
        levels = p.choices if kind == "choices" else p.values
        pick = np.minimum((u * len(levels)).astype(np.int64), len(levels) - 1)
        if kind == "choices":
            return pd.Series([levels[i] for i in pick], dtype=object)
        out = np.asarray(levels)[pick]
        return pd.Series(out.astype(np.int64) if p.integer else out.astype(float))
    if p.integer:
        low, high = round(p.low), round(p.high)
        x = np.minimum(np.floor(low + u * (high - low + 1)), high).astype(np.int64)
        return pd.Series(x)
    return pd.Series(p.low + u * (p.high - p.low))


def _levels(p: Param) -> list[Any]:
    kind = _kind(p)
    if kind == "range":
        raise DesignError(
            f"{p.path}: a grid needs values (path=a:b:step or path=v1,v2,...), not a range "
            f"{p.low:g}:{p.high:g}; or sample it (lhs, sobol)"
        )
    if kind == "choices":
        return list(p.choices)
    return [int(v) for v in p.values] if p.integer else [float(v) for v in p.values]


def sample(params: Sequence[Param], method: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """A design over ``params`` (one column each, named by its path): every combination of
    their values (``grid``; ``n`` is not used) or ``n`` points of a Latin hypercube (``lhs``)
    or a Sobol sequence (``sobol``). Without parameters, one empty point."""
    if not params:
        return pd.DataFrame(index=pd.RangeIndex(1))
    if method == "grid":
        rows = list(itertools.product(*(_levels(p) for p in params)))
        frame = pd.DataFrame(rows, columns=[p.path for p in params])
        for p in params:
            if p.choices:
                frame[p.path] = frame[p.path].astype(object)
        return frame
    u = unit_sample(method, len(params), n, rng)
    return pd.DataFrame({p.path: _from_unit(p, u[:, j]) for j, p in enumerate(params)})


def design(study: Study, seed: int) -> pd.DataFrame:
    """Every lever setting crossed with every state of the world, one row a point:
    ``point``, ``lever_id``, ``state_id``, then the levers' and the uncertainties' values.
    Point ``lever_id * states + state_id``: the states are the same for every lever setting.
    The two designs draw from independent streams of ``seed``, so the states do not depend on
    the lever design, and the whole design is a pure function of (study, seed)."""
    lever_rng, state_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    levers = sample(study.levers, study.lever_design, study.n_levers, lever_rng)
    states = sample(study.uncertainties, study.state_design, study.n_states, state_rng)
    n_l, n_s = len(levers), len(states)
    left = levers.iloc[np.repeat(np.arange(n_l), n_s)].reset_index(drop=True)
    right = states.iloc[np.tile(np.arange(n_s), n_l)].reset_index(drop=True)
    frame = pd.concat([left, right], axis=1)
    frame.insert(0, "state_id", np.tile(np.arange(n_s, dtype=np.int64), n_l))
    frame.insert(0, "lever_id", np.repeat(np.arange(n_l, dtype=np.int64), n_s))
    frame.insert(0, "point", np.arange(n_l * n_s, dtype=np.int64))
    return frame


def _python(x: Any) -> Any:
    """A numpy scalar as the Python number it holds (settings and JSON want those)."""
    return x.item() if isinstance(x, np.generic) else x


def _member_value(a: Assumption, current: Any, x: float) -> Any:
    """The value of assumed setting ``a`` when its form's number is ``x`` (the setting's
    value, the shift added or the factor), from its ``current`` value."""
    if a.form == "range":
        return round(x) if isinstance(current, int) else float(x)

    def move(v: float) -> float:
        moved = v + x if a.form == "shift" else v * x
        return round(min(1.0, max(0.0, moved)), 6)

    return [move(v) for v in current] if isinstance(current, list) else move(current)


def settings(base: Scenario, study: Study, plan: pd.DataFrame) -> pd.DataFrame:
    """The sweep design of ``plan`` (:func:`design`): ``point`` and one column a setting
    path, with the setting's value at each point (a move's members get theirs from its
    value; a list of shares is a list)."""
    data = base.model_dump(mode="json")
    columns: dict[str, list[Any]] = {"point": [int(p) for p in plan["point"]]}
    for p in (*study.levers, *study.uncertainties):
        move = study.moves.get(p.path)
        if move is None:
            columns[p.path] = [_python(x) for x in plan[p.path]]
            continue
        for a in move.members:
            current = get_setting(data, a.path)
            low, high = a.ends()
            values = []
            for v in plan[p.path]:
                x = low + float(v) * (high - low) if move.position else float(v)
                values.append(_member_value(a, current, x))
            columns[a.path] = values
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    frame["point"] = frame["point"].astype(np.int64)
    return frame


def check(base: Scenario, plan: pd.DataFrame, sweep_design: pd.DataFrame) -> None:
    """Every point is a valid scenario, checked before anything runs.

    Raises:
        DesignError: naming each bad point (its lever setting and state) and, through the
            scenario's message, the setting and why (the first 10).
    """
    params = [c for c in sweep_design.columns if c != "point"]
    problems = []
    for (_, row), (_, where) in zip(sweep_design.iterrows(), plan.iterrows(), strict=True):
        try:
            apply_overrides(base, {p: _python(row[p]) for p in params}, source="explore")
        except ScenarioError as exc:
            why = "; ".join(f"{i.path}: {i.message}" if i.path else i.message for i in exc.issues)
            problems.append(
                f"point {int(where['point'])} (lever setting {int(where['lever_id'])}, "
                f"state {int(where['state_id'])}): {why}"
            )
    if problems:
        more = f"\n... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise DesignError("\n".join(problems[:10]) + more)


def store_design(base: Scenario, study: Study, seed: int) -> dict[str, list[Any]]:
    """What fixes the replications of a study's points, as plain lists (the ``design`` of
    :func:`sim.store.identity`): a resumed study must have the same settings at every point."""
    plan = design(study, seed)
    return {str(k): list(v) for k, v in settings(base, study, plan).to_dict(orient="list").items()}


def store_identity(base: Scenario, study: Study, seed: int) -> dict[str, Any]:
    """The identity of a study's result store (:meth:`sim.store.ResultStore.open`), kind
    ``explore``."""
    return identity("explore", base, seed, design=store_design(base, study, seed))


# --------------------------------------------------------------------------- #
# Robustness
# --------------------------------------------------------------------------- #

ROBUSTNESS_COLUMNS = (
    "target",
    "by",
    "lever_id",
    "states",
    "p_mean",
    "p_worst",
    "p10",
    "p_best",
    "worst_state",
    "max_regret",
    "mean_regret",
    "rank_regret",
    "rank_worst",
)


def robustness(
    outcomes: pd.DataFrame, levers: Sequence[str] = (), value: str = "p_met"
) -> pd.DataFrame:
    """How each lever setting does across the states, per target.

    ``outcomes`` has one row a lever setting, state and target: ``lever_id``, ``state_id``,
    ``target``, ``value`` (default ``p_met``), optionally ``by`` and the lever columns named
    in ``levers`` (carried to the result). Per target and lever setting: ``p_mean``,
    ``p_worst`` (the lowest over the states), ``p10`` (the 10th percentile, numpy's linear
    interpolation), ``p_best``, ``worst_state`` (the state of the worst case, the first if
    tied), ``max_regret`` and ``mean_regret`` (regret in a state: the best value of any lever
    setting in that state minus this one's), ``rank_regret`` (1 = the smallest maximum
    regret; ties broken by the higher worst case, then the higher mean, then ``lever_id``)
    and ``rank_worst`` (1 = the highest worst case; ties by the higher 10th percentile, the
    higher mean, then ``lever_id``).

    Raises:
        DesignError: a column is missing, or a lever setting lacks a state another has
            (regret needs every lever setting in every state).
    """
    need = {"lever_id", "state_id", "target", value, *levers}
    missing = sorted(need - set(outcomes.columns))
    if missing:
        raise DesignError(f"robustness needs the columns {', '.join(missing)}")
    frame = outcomes.copy()
    if "by" not in frame.columns:
        frame["by"] = np.nan
    for target, rows in frame.groupby("target", sort=False):
        counts = rows.groupby("lever_id")["state_id"].nunique()
        if len(rows) != len(rows.drop_duplicates(["lever_id", "state_id"])) or (
            counts.nunique() > 1 or rows["state_id"].nunique() != counts.iloc[0]
        ):
            raise DesignError(
                f"{target}: every lever setting needs one row in every state (regret compares "
                "lever settings state by state)"
            )
    frame = frame.sort_values(["target", "lever_id", "state_id"], kind="stable")
    best = frame.groupby(["target", "state_id"])[value].transform("max")
    frame["_regret"] = best - frame[value]
    rows_out = []
    for (target, lever_id), rows in frame.groupby(["target", "lever_id"], sort=False):
        x = rows[value].to_numpy(dtype=float)
        worst = int(np.argmin(x))
        rows_out.append(
            {
                "target": target,
                "by": rows["by"].iloc[0],
                "lever_id": int(lever_id),
                **{lv: rows[lv].iloc[0] for lv in levers},
                "states": len(x),
                "p_mean": float(x.mean()),
                "p_worst": float(x[worst]),
                "p10": float(np.quantile(x, 0.1)),
                "p_best": float(x.max()),
                "worst_state": int(rows["state_id"].iloc[worst]),
                "max_regret": float(rows["_regret"].max()),
                "mean_regret": float(rows["_regret"].mean()),
            }
        )
    table = pd.DataFrame(rows_out)
    table["rank_regret"] = _rank(table, ["max_regret", "p_worst", "p_mean"], [True, False, False])
    table["rank_worst"] = _rank(table, ["p_worst", "p10", "p_mean"], [False, False, False])
    order = [*ROBUSTNESS_COLUMNS[:3], *levers, *ROBUSTNESS_COLUMNS[3:]]
    return table[order].sort_values(["target", "rank_regret"], kind="stable", ignore_index=True)


def _rank(table: pd.DataFrame, keys: list[str], ascending: list[bool]) -> pd.Series:
    """Rank 1, 2, ... within each target by ``keys`` (then ``lever_id``), no ties. Values
    equal to 12 decimals are taken as tied (1.0 - 0.6 and 0.6 - 0.2 differ in binary)."""
    table = table.assign(**{k: table[k].round(12) for k in keys})
    ordered = table.sort_values(
        ["target", *keys, "lever_id"], ascending=[True, *ascending, True], kind="stable"
    )
    ranks = ordered.groupby("target", sort=False).cumcount() + 1
    return ranks.reindex(table.index).astype(np.int64)


# --------------------------------------------------------------------------- #
# Scenario discovery
# --------------------------------------------------------------------------- #


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence EMA Workbench's warnings (optional back-ends missing at import, pandas
    deprecations inside it) and its log records below WARNING, for the time of a call."""
    import logging

    logger = logging.getLogger("EMA")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _cases(x: pd.DataFrame, fail: Any, min_cases: int, label: str) -> np.ndarray:
    """``fail`` as a 0/1 array after the checks every discovery method needs."""
    y = np.asarray(fail)
    if y.ndim != 1 or len(y) != len(x):
        raise DiscoveryError(f"{len(y)} outcomes for {len(x)} cases: one outcome a case")
    if x.shape[1] == 0:
        raise DiscoveryError("no dimension to search: give uncertainties (or levers)")
    if x.isna().to_numpy().any():
        bad = ", ".join(str(c) for c in x.columns[x.isna().any()])
        raise DiscoveryError(f"missing values in {bad}")
    y = y.astype(bool).astype(np.int64)
    if len(y) < min_cases:
        raise DiscoveryError(
            f"{label}: {len(y)} cases are too few for scenario discovery (at least "
            f"{min_cases}): add states or lever settings to the design"
        )
    if not y.any():
        raise DiscoveryError(f"{label} never fails in the design: nothing to discover")
    if y.all():
        raise DiscoveryError(
            f"{label} fails at every point of the design: no region separates failure from success"
        )
    return y


def _box_rows(
    x: pd.DataFrame, lims: pd.DataFrame, init: pd.DataFrame, qp: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One row a restricted dimension of a box (limits as found, the data's range)."""
    rows = []
    for dim in x.columns:
        lo, hi = lims.loc[0, dim], lims.loc[1, dim]
        bounds: dict[str, Any]
        if isinstance(lo, set):
            if lo == init.loc[0, dim]:
                continue
            bounds = {"low": math.nan, "high": math.nan, "data_low": math.nan}
            bounds |= {"data_high": math.nan, "categories": ",".join(sorted(map(str, lo)))}
        else:
            if lo == init.loc[0, dim] and hi == init.loc[1, dim]:
                continue
            bounds = {
                "low": float(lo),
                "high": float(hi),
                "data_low": float(init.loc[0, dim]),
                "data_high": float(init.loc[1, dim]),
                "categories": "",
            }
        q = list(qp.get(dim, [-1, -1]))
        rows.append(
            {
                "dimension": str(dim),
                **bounds,
                "qp_low": float(q[0]) if q[0] is not None and q[0] >= 0 else math.nan,
                "qp_high": float(q[1]) if q[1] is not None and q[1] >= 0 else math.nan,
            }
        )
    return rows


def prim_boxes(
    x: pd.DataFrame,
    fail: Any,
    density: float = 0.8,
    mass_min: float = 0.05,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    max_boxes: int = 3,
    min_coverage: float = 0.5,
    min_cases: int = 10,
    label: str = "the target",
) -> pd.DataFrame:
    """PRIM boxes for the cases where ``fail`` is true (EMA Workbench's
    :class:`~ema_workbench.analysis.prim.Prim`, binary mode, lenient objective).

    ``x`` holds one row a case and one column a dimension (numbers, or words for a
    categorical one). Boxes are found one after another (each on the cases outside the boxes
    before it), up to ``max_boxes``, while PRIM finds one whose density reaches ``density``.
    From each peeling trajectory the box kept is the densest whose coverage is at least
    ``min_coverage`` of the failing cases still uncovered (ties: the larger coverage, then
    the fewer restricted dimensions). The search is deterministic (same data, same boxes).

    Returns one row a box and restricted dimension (:data:`BOX_COLUMNS`): ``box`` (1, 2,
    ...), ``coverage`` (share of all failing cases inside the box), ``density`` (share of the
    box's cases that fail), ``mass`` (share of all cases inside), ``n`` and ``k`` (cases and
    failing cases inside), ``res_dim`` (restricted dimensions), ``dimension``, ``low`` and
    ``high`` (the box's bounds, inclusive), ``data_low``, ``data_high`` (the data's range),
    ``categories`` (the words kept, for a categorical dimension) and ``qp_low``/``qp_high``
    (quasi-p-values of each bound, Bryant and Lempert 2010; NaN where not applicable). An
    empty table when PRIM finds no box dense enough.

    Raises:
        DiscoveryError: too few cases, no failing case, every case failing, missing values
            or mismatched lengths (the message says which).
    """
    y = _cases(x, fail, min_cases, label)
    with _quiet():
        from ema_workbench.analysis import prim as ema_prim

        data = x.reset_index(drop=True).copy()
        for c in data.columns:
            if not pd.api.types.is_numeric_dtype(data[c]):
                data[c] = data[c].astype(str).astype(object)
            elif pd.api.types.is_bool_dtype(data[c]):
                data[c] = data[c].astype(np.int64)
        finder = ema_prim.Prim(
            data,
            y,
            threshold=density,
            peel_alpha=peel_alpha,
            paste_alpha=paste_alpha,
            mass_min=mass_min,
        )
        rows: list[dict[str, Any]] = []
        for number in range(1, max_boxes + 1):
            box = finder.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory.reset_index(drop=True)
            floor = min_coverage * float(traj["coverage"].iloc[0])
            ok = traj[(traj["coverage"] >= floor - 1e-12) & (traj["res_dim"] > 0)]
            if ok.empty or float(traj["mean"].iloc[-1]) < density:
                break
            pick = ok.sort_values(
                ["density", "coverage", "res_dim"], ascending=[False, False, True], kind="stable"
            ).index[0]
            box.select(int(pick))
            stats = traj.iloc[int(pick)]
            lims = box.box_lims[int(pick)]
            dims = _box_rows(data, lims, finder.box_init, box.qp[int(pick)])
            if not dims:
                break
            head = {
                "box": number,
                "coverage": float(stats["coverage"]),
                "density": float(stats["density"]),
                "mass": float(stats["mass"]),
                "n": int(stats["n"]),
                "k": int(stats["k"]),
                "res_dim": len(dims),
            }
            rows.extend({**head, **d} for d in dims)
    return pd.DataFrame(rows, columns=list(BOX_COLUMNS))


def cart_boxes(
    x: pd.DataFrame,
    fail: Any,
    mass_min: float = 0.05,
    density: float = 0.5,
    min_cases: int = 10,
    seed: int = 0,
    label: str = "the target",
) -> pd.DataFrame:
    """CART leaves where the cases mostly fail: a classification tree (scikit-learn's, with
    a fixed ``seed`` so that ties between splits are broken the same way every time; a word
    dimension enters as one indicator a value). Each leaf is read back as a box by following
    its path from the root: a number's splits bound it, an indicator's split keeps or drops
    its value. Leaves hold at least ``mass_min`` of the cases; those with a density above
    ``density`` (default: more than half of their cases fail) are returned, largest coverage
    first, in the columns of :func:`prim_boxes` (no quasi-p-values). Same errors as
    :func:`prim_boxes`.

    (EMA Workbench's CART reads leaves into boxes too, but drops the "is this value" side of
    a split on a word dimension, and fails on a tree with one dimension or no split.)"""
    y = _cases(x, fail, min_cases, label)
    with _quiet():
        from sklearn.tree import DecisionTreeClassifier

        data = x.reset_index(drop=True).copy()
        words = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
        for c in data.columns:
            if c in words:
                data[c] = data[c].astype(str)
            elif pd.api.types.is_bool_dtype(data[c]):
                data[c] = data[c].astype(np.int64)
        # Features: the numbers as they are, then one indicator per value of each word.
        features: list[tuple[str, Any]] = [(c, None) for c in data.columns if c not in words]
        for c in words:
            features += [(c, v) for v in sorted(data[c].unique())]
        matrix = np.column_stack(
            [
                data[c].to_numpy(dtype=float) if v is None else (data[c] == v).to_numpy(float)
                for c, v in features
            ]
        )
        leaf = max(1, int(mass_min * len(y)))
        clf = DecisionTreeClassifier(min_samples_leaf=leaf, random_state=seed)
        clf.fit(matrix, y)
    tree = clf.tree_
    if tree.node_count < 2:  # no split: one leaf, no region to tell apart
        return pd.DataFrame(columns=list(BOX_COLUMNS))
    total, n_all = int(y.sum()), len(y)
    parent_of = _parents(tree)
    found = []
    for node in range(tree.node_count):
        if tree.children_left[node] != -1:
            continue  # not a leaf
        inside = np.ones(n_all, dtype=bool)
        bounds: dict[str, list[float]] = {}
        kept: dict[str, set[str]] = {}
        for parent, went_left in _path(parent_of, node):
            column, value = features[tree.feature[parent]]
            threshold = float(tree.threshold[parent])
            if value is None:
                lo, hi = bounds.setdefault(column, [-math.inf, math.inf])
                bounds[column] = [lo, min(hi, threshold)] if went_left else [max(lo, threshold), hi]
            else:  # an indicator: left is "not this value", right is "this value"
                values = kept.setdefault(column, set(data[column].unique()))
                kept[column] = values - {value} if went_left else values & {value}
        rows = []
        for column, (lo, hi) in bounds.items():
            col = data[column].to_numpy(dtype=float)
            inside &= (col > lo) & (col <= hi)
            seen = col[np.isfinite(col)]
            rows.append(
                {
                    "dimension": str(column),
                    "low": float(max(lo, seen.min())),
                    "high": float(min(hi, seen.max())),
                    "data_low": float(seen.min()),
                    "data_high": float(seen.max()),
                    "categories": "",
                }
            )
        for column, values in kept.items():
            inside &= data[column].isin(values).to_numpy()
            if values == set(data[column].unique()):
                continue
            rows.append(
                {
                    "dimension": str(column),
                    "low": math.nan,
                    "high": math.nan,
                    "data_low": math.nan,
                    "data_high": math.nan,
                    "categories": ",".join(sorted(values)),
                }
            )
        n, k = int(inside.sum()), int(y[inside].sum())
        if not n or not k / n > density or not rows:
            continue
        found.append(
            ({"coverage": k / total, "density": k / n, "mass": n / n_all, "n": n, "k": k}, rows)
        )
    found.sort(key=lambda f: (-f[0]["coverage"], -f[0]["density"]))
    out: list[dict[str, Any]] = []
    for number, (st, dims) in enumerate(found, start=1):
        head = {"box": number, **st, "res_dim": len(dims)}
        out.extend({**head, **d, "qp_low": math.nan, "qp_high": math.nan} for d in dims)
    return pd.DataFrame(out, columns=list(BOX_COLUMNS))


def _parents(tree: Any) -> dict[int, tuple[int, bool]]:
    """For each node of a fitted scikit-learn tree but the root: its parent, and whether it
    is the parent's left child."""
    parent_of = {}
    for node in range(tree.node_count):
        for child, left in ((tree.children_left[node], True), (tree.children_right[node], False)):
            if child != -1:
                parent_of[int(child)] = (node, left)
    return parent_of


def _path(parent_of: dict[int, tuple[int, bool]], leaf: int) -> list[tuple[int, bool]]:
    """The splits from the root down to ``leaf``: (node, whether the path goes to its left
    child), root first."""
    path = []
    while leaf in parent_of:
        node, left = parent_of[leaf]
        path.append((node, left))
        leaf = node
    return path[::-1]


# --------------------------------------------------------------------------- #
# Running a study
# --------------------------------------------------------------------------- #


@dataclass
class Exploration:
    """A finished exploratory study: its tables (tidy) and what it was."""

    design: pd.DataFrame  # point, lever_id, state_id, levers, uncertainties
    settings: pd.DataFrame  # point and the value of every setting the study sets
    points: pd.DataFrame  # one row a point and target
    joint: pd.DataFrame  # one row a point and deadline
    flows_costs: pd.DataFrame  # one row a point
    robustness: pd.DataFrame  # one row a target (or deadline) and lever setting
    prim: pd.DataFrame  # one row a target, box and restricted dimension
    cart: pd.DataFrame  # one row a target, leaf and restricted dimension
    discovery_notes: pd.DataFrame  # target, method, why no box was searched
    replications: pd.DataFrame  # one row a point, replication and target
    metadata: dict[str, Any]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by its file name (``explore_<name>.parquet`` in the command line)."""
        return {
            "design": self.design,
            "points": self.points,
            "joint": self.joint,
            "flows_costs": self.flows_costs,
            "robustness": self.robustness,
            "prim": self.prim,
            "cart": self.cart,
            "discovery_notes": self.discovery_notes,
            "replications": self.replications,
        }


def horizon_totals(flows: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Per point, the horizon's mean flows and costs from the yearly tables of
    :class:`sim.sweep.SweepResult`: for each tier (``l1``, ``l2``) ``appointments_<tier>``
    (mean appointments a replication over the horizon), ``women_share_<tier>``,
    ``young_share_<tier>``, ``young_women_share_<tier>`` (shares of those appointments),
    ``stock_women_share_<tier>_end``, ``stock_young_share_<tier>_end`` and
    ``holders_<tier>_end`` (at the end of the last year); then every column of the costs
    table summed over the years (mean a replication over the horizon: vacancy- and
    reserved-months, exits by cause, rotations, training)."""
    out = pd.DataFrame({"point": sorted(set(flows.get("point", [])) | set(costs.get("point", [])))})
    if len(flows):
        for tier, rows in flows.groupby("tier", sort=False):
            rows = rows.sort_values(["point", "year"])
            apps = rows.groupby("point")["appointments_mean"].sum()
            part = pd.DataFrame({f"appointments_{tier}": apps})
            for share in ("women_share", "young_share", "young_women_share"):
                weighted = (rows[share].fillna(0.0) * rows["appointments_mean"]).groupby(
                    rows["point"]
                )
                part[f"{share}_{tier}"] = (weighted.sum() / apps).where(apps > 0)
            last = rows.groupby("point").tail(1).set_index("point")
            part[f"stock_women_share_{tier}_end"] = last["stock_women_share"]
            part[f"stock_young_share_{tier}_end"] = last["stock_young_share"]
            part[f"holders_{tier}_end"] = last["holders_mean"]
            out = out.merge(part, left_on="point", right_index=True, how="left")
    if len(costs):
        sums = costs.drop(columns="year").groupby("point").sum(min_count=1)
        out = out.merge(sums, left_on="point", right_index=True, how="left")
    return out


def _joint_as_targets(joint: pd.DataFrame) -> pd.DataFrame:
    """The joint P of each deadline as rows of a targets table (target ``all targets by
    <year>``, its P as ``p_met``)."""
    return joint.assign(
        target=[JOINT_TARGET.format(by=int(b)) for b in joint["by"]], p_met=joint["p_all_met"]
    ).drop(columns=["targets", "p_all_met"])


def discover(
    plan: pd.DataFrame,
    outcomes: pd.DataFrame,
    dims: Sequence[str],
    threshold: float = 0.5,
    cart: bool = True,
    **prim_options: Any,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Scenario discovery for every target of ``outcomes`` (``point``, ``target``,
    ``p_met``): a case is a point, it fails when P(met) < ``threshold``, and its dimensions
    are the ``dims`` columns of ``plan`` (:func:`design`). Returns the PRIM boxes and the
    CART leaves (columns ``target`` and :data:`BOX_COLUMNS`) and the notes on targets
    without a search or a box (``target``, ``method``, ``reason``)."""
    x_all = plan.set_index("point")[list(dims)]
    prim_parts: list[pd.DataFrame] = []
    cart_parts: list[pd.DataFrame] = []
    notes: list[dict[str, str]] = []
    for target, rows in outcomes.groupby("target", sort=False):
        rows = rows.sort_values("point")
        x = x_all.loc[rows["point"].to_numpy()].reset_index(drop=True)
        fail = rows["p_met"].to_numpy(dtype=float) < threshold
        label = str(target)
        methods: list[tuple[str, Callable[..., pd.DataFrame], dict[str, Any]]] = [
            ("prim", prim_boxes, prim_options)
        ]
        if cart:
            keep = {k: v for k, v in prim_options.items() if k in ("mass_min", "min_cases")}
            methods.append(("cart", cart_boxes, keep))
        for method, find, options in methods:
            try:
                boxes = find(x, fail, label=label, **options)
            except DiscoveryError as exc:
                notes.append({"target": label, "method": method, "reason": str(exc)})
                continue
            if boxes.empty:
                why = (
                    f"no box of density {prim_options.get('density', 0.8):g} or more"
                    if method == "prim"
                    else "no leaf where most cases fail"
                )
                notes.append({"target": label, "method": method, "reason": f"{label}: {why}"})
                continue
            boxes.insert(0, "target", label)
            (prim_parts if method == "prim" else cart_parts).append(boxes)
    empty = pd.DataFrame(columns=["target", *BOX_COLUMNS])
    return (
        pd.concat(prim_parts, ignore_index=True) if prim_parts else empty,
        pd.concat(cart_parts, ignore_index=True) if cart_parts else empty.copy(),
        pd.DataFrame(notes, columns=["target", "method", "reason"]),
    )


def explore(
    base: Scenario,
    study: Study,
    seed: int = 2021,
    reps: int = 50,
    runner: Runner | None = None,
    progress: Callable[[int], None] | None = None,
    store: ResultStore | None = None,
    threshold: float = 0.5,
    include_levers: bool = False,
    cart: bool = True,
    discovery: bool = True,
    **prim_options: Any,
) -> Exploration:
    """Run ``study`` on ``base``: ``reps`` replications of every point on the same ``seed``
    (common random numbers), then its tables (:class:`Exploration`).

    ``runner`` runs the replications (any backend, default sequential); with a ``store``
    (opened with :func:`store_identity`) they are streamed to it and the stored ones are
    read back instead of run (a resumed study). ``progress(k)`` as ``k`` more replications
    are done. Scenario discovery looks, per target and per deadline's joint P, for the
    regions where P(met) < ``threshold`` over the uncertainties (and the levers with
    ``include_levers``); ``prim_options`` go to :func:`prim_boxes`, ``cart`` adds CART
    leaves, and ``discovery=False`` skips it (empty tables). A target discovery cannot
    search (too few points, never failing) is listed in ``discovery_notes`` with the reason.

    Raises:
        DesignError: a bad design, a point invalid for its setting (every point is checked
            before any runs), or a threshold outside (0, 1].
    """
    if not 0.0 < threshold <= 1.0:
        raise DesignError(f"threshold {threshold:g}: a probability in (0, 1]")
    plan = design(study, seed)
    sweep_design = settings(base, study, plan)
    check(base, plan, sweep_design)
    swept = run_sweep(base, sweep_design, seed, reps, runner, progress=progress, store=store)
    lever_cols = [p.path for p in study.levers]
    state_cols = [p.path for p in study.uncertainties]
    ids = plan[["point", "lever_id", "state_id"]]
    columns = ["point", "target", "by", "p_met", "ci_low", "ci_high"]
    columns += ["metric_median", "metric_p5", "metric_p95"]
    points = plan.merge(swept.points[columns], on="point", how="inner")
    joint = ids.merge(swept.joint, on="point", how="inner")
    flows_costs = ids.merge(horizon_totals(swept.flows, swept.costs), on="point", how="left")
    by_target = pd.concat(
        [
            points[["lever_id", "state_id", *lever_cols, "target", "by", "p_met", "point"]],
            _joint_as_targets(joint.merge(plan[["point", *lever_cols]], on="point"))[
                ["lever_id", "state_id", *lever_cols, "target", "by", "p_met", "point"]
            ],
        ],
        ignore_index=True,
    )
    table = robustness(by_target, lever_cols)
    dims = [*state_cols, *(lever_cols if include_levers else [])]
    if not dims:
        dims = lever_cols
    prim, cart_table, notes = discover(
        plan,
        by_target if discovery else by_target.iloc[:0],
        dims,
        threshold=threshold,
        cart=cart,
        **prim_options,
    )
    replications = ids.merge(swept.replications, on="point", how="inner")
    metadata = {
        "kind": "explore",
        "scenario": base.province,
        "scenario_hash": base.digest(),
        "seed": seed,
        "replications": reps,
        "points": len(plan),
        "lever_settings": int(plan["lever_id"].nunique()),
        "states": int(plan["state_id"].nunique()),
        "study": study.describe(),
        "discovery": {
            "fails_when": f"P(met) < {threshold:g}",
            "dimensions": dims,
            "options": {k: _python(v) for k, v in prim_options.items()},
            "cart": cart,
            "done": discovery,
        },
    }
    return Exploration(
        plan,
        sweep_design,
        points,
        joint,
        flows_costs,
        table,
        prim,
        cart_table,
        notes,
        replications,
        metadata,
    )
