"""The public API the browser app (and notebooks) use: levers, studies, comparisons, searches.

Everything here is a thin, tested layer over the engine; the app holds no simulation logic.

- :data:`LEVERS` names the controls an adviser can move, each bound to a scenario setting;
  :func:`apply_levers` turns their values into a new validated scenario.
- :class:`Study` is the one study loop (the orchestrator), configured by
  :class:`StudySettings`: batches of replications, sequential stopping to a precision, results
  streamed to a folder and resumed from it, progress as :class:`StudyProgress` snapshots (an
  iterator, or a callback), and a stop that keeps what is done. The command line's ``run``,
  :func:`run_study` and the app all run their studies through it.
- :func:`run_study` is its short form: replications with a progress callback and a stop
  check, keeping what is done if stopped.
- :func:`population_summary` describes the starting population (counts, shares, ages).
- :func:`compare` runs two policies on the same seeds and reports the paired difference in
  P(met) for every target.
- :func:`required_share` finds the smallest appointment share for which P(target met) reaches
  a level, by bisection under common random numbers.
- :func:`robustness` varies each assumption of the scenario (each group as a whole) one at a
  time to the ends of its range and says whether each P(met) stays on one side of 50%;
  :func:`stored_robustness` finds the precomputed table of a bundled scenario
  (:mod:`sim.robustness`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim import rules
from sim.model import Model
from sim.results import Collector, Summary, widest_half_width

# Re-exported: the robustness of answers to the scenario's assumptions (sim.robustness).
from sim.robustness import Robustness  # noqa: F401
from sim.robustness import moves as assumption_moves  # noqa: F401
from sim.robustness import run as robustness  # noqa: F401
from sim.robustness import stored as stored_robustness  # noqa: F401
from sim.roster import Roster
from sim.runner import Runner, make_runner
from sim.scenario import Scenario
from sim.store import ResultStore, identity


@dataclass(frozen=True)
class Lever:
    """A control of the app, bound to a dotted scenario setting."""

    name: str
    path: str
    kind: str  # "share", "bool", "choice", "number", "int"
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    choices: tuple[str, ...] = ()


LEVERS: tuple[Lever, ...] = (
    Lever("women_share", "policy.appointment_share.women", "share", 0.0, 0.6, 0.01),
    Lever("young_share", "policy.appointment_share.young", "share", 0.0, 0.6, 0.01),
    Lever(
        "reading",
        "policy.appointment_share.reading",
        "choice",
        choices=("expected", "floor", "none"),
    ),
    Lever("reservation", "policy.vacancy_reservation.enabled", "bool"),
    Lever("max_hold", "policy.vacancy_reservation.max_hold_months", "number", 0, 60, 1),
    Lever("bias", "policy.evaluation_bias", "number", -1.0, 1.0, 0.05),
    Lever("rotation", "policy.rotation.enabled", "bool"),
    Lever("rotation_share", "policy.rotation.share_per_year", "share", 0.0, 0.5, 0.01),
    Lever("pool", "policy.succession_pool.enabled", "bool"),
    Lever("pool_women_floor", "policy.succession_pool.women_floor", "share", 0.0, 0.6, 0.01),
    Lever("pool_young_floor", "policy.succession_pool.young_floor", "share", 0.0, 0.6, 0.01),
    Lever("restructuring", "policy.restructuring.enabled", "bool"),
    Lever("removal", "policy.removal_multiplier", "number", 0.0, 5.0, 0.1),
)
LEVER = {lv.name: lv for lv in LEVERS}


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """The current value of every lever in ``scenario``."""
    data = scenario.model_dump(mode="json")
    return {lv.name: _get(data, lv.path) for lv in LEVERS}


#: The columns of a targets table entered in the app (:func:`targets_from_rows`).
TARGET_ROW_FIELDS = ("group", "tier", "measure", "share", "year")
_TIER_RANKS = {"L1": ["l1_head", "l1_deputy"], "L2": ["l2_head", "l2_deputy"]}
_GROUP_WORDS = {"women": ("nữ", "women"), "young": ("cán bộ dưới 40 tuổi", "under-40s")}


def _target_from_row(row: dict[str, Any], start: int, end: int) -> tuple[dict[str, Any], str]:
    """One target (as scenario data) from a row of the app's targets table, or the problem
    with the row ("" when none)."""
    group, tier, measure = row.get("group"), row.get("tier"), row.get("measure")
    if group not in _GROUP_WORDS:
        return {}, "group must be women or young"
    if tier not in _TIER_RANKS:
        return {}, "tier must be L1 or L2"
    if measure not in ("stock", "flow"):
        return {}, "measure must be stock (share of holders) or flow (share of appointments)"
    try:
        share = float(row.get("share"))  # type: ignore[arg-type]
        year = int(row.get("year"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return {}, "share and year must be numbers"
    if math.isnan(share) or not 0 < share <= 100:
        return {}, f"share {share:g}% must be above 0 and at most 100"
    if not start <= year <= end:
        return {}, f"year {year} must be within the simulated years {start}-{end}"
    vi_group, en_group = _GROUP_WORDS[group]
    if measure == "stock":
        vi = f"{vi_group.capitalize()} chiếm ít nhất {share:g}% cán bộ {tier} (cuối năm {year})"
        en = f"{en_group.capitalize()} are at least {share:g}% of {tier} leaders (end {year})"
    else:
        vi = f"Ít nhất {share:g}% số bổ nhiệm {tier} là {vi_group} ({start}–{year})"
        en = f"At least {share:g}% of {tier} appointments go to {en_group} ({start}-{year})"
    target: dict[str, Any] = {
        "id": f"MY-{group[0].upper()}-{tier}-{measure[0].upper()}-{year}",
        "source": "entered in the app",
        "text": {"vi": vi, "en": en},
        "kind": measure,
        "who": {"ranks": _TIER_RANKS[tier]},
        "group": group,
        "op": ">=",
        "value": share / 100,
        "by": year,
    }
    if measure == "flow":
        target["from_year"] = start
    return target, ""


def targets_from_rows(
    scenario: Scenario, rows: list[dict[str, Any]]
) -> tuple[Scenario | None, dict[int, str]]:
    """``scenario`` with its targets replaced by the rows of a table an adviser filled in
    (group women/young, tier L1/L2, measure stock/flow, share in %, year), validated; or the
    problem of each bad row (row index -> message). Empty rows are skipped."""
    start, end = scenario.start.year, scenario.end.year
    targets: list[dict[str, Any]] = []
    where: list[int] = []
    problems: dict[int, str] = {}
    seen: dict[str, int] = {}
    for k, row in enumerate(rows):
        if all(row.get(f) in (None, "") or row.get(f) != row.get(f) for f in TARGET_ROW_FIELDS):
            continue  # an empty row (None, "" or NaN everywhere)
        target, problem = _target_from_row(row, start, end)
        if problem:
            problems[k] = problem
            continue
        if target["id"] in seen:
            problems[k] = f"the same target as row {seen[target['id']] + 1}"
            continue
        seen[target["id"]] = k
        targets.append(target)
        where.append(k)
    if problems:
        return None, problems
    if not targets:
        return None, {0: "no target: fill in at least one row"}
    data = scenario.model_dump(mode="json")
    data["targets"] = targets
    try:
        return Scenario.model_validate(data), {}
    except Exception as exc:  # pydantic's ValidationError: name the row of each problem
        out: dict[int, str] = {}
        for err in getattr(exc, "errors", lambda: [])():
            loc = err.get("loc", ())
            if len(loc) >= 2 and loc[0] == "targets" and isinstance(loc[1], int):
                out[where[loc[1]]] = str(err.get("msg", exc))
        return None, out or {0: str(exc)}


def training_seats(scenario: Scenario) -> dict[str, int]:
    """Seats of each training course (a lever per course)."""
    return {c.id: c.seats for c in scenario.policy.training.courses}


def apply_levers(
    scenario: Scenario,
    values: dict[str, Any],
    seats: dict[str, int] | None = None,
    horizon_end_year: int | None = None,
) -> Scenario:
    """A new validated scenario with the levers (and course seats, and horizon) set.

    Raises:
        ScenarioError: if a value is impossible (the message names the setting).
    """
    current = lever_values(scenario)
    overrides: dict[str, Any] = {
        LEVER[k].path: v for k, v in values.items() if k in LEVER and v != current[k]
    }
    for course, n in (seats or {}).items():
        overrides[f"policy.training.courses.{course}.seats"] = int(n)
    if horizon_end_year is not None and horizon_end_year != scenario.end.year:
        overrides["end"] = f"{horizon_end_year}-12-31"
    return scenario.with_overrides(overrides) if overrides else scenario


@dataclass(frozen=True)
class StudySettings:
    """How a Monte Carlo study of a scenario runs: every setting of the study loop.

    A study is fixed by the scenario, ``seed``, the replications and ``roster``; the other
    settings change how it runs (and how many replications it keeps, under sequential
    stopping), never a replication's numbers.
    """

    #: Master seed: replication ``k`` is a pure function of (scenario, roster, seed, k).
    seed: int = 2021
    #: Replications ``0 .. reps - 1`` (with a ``precision``, the most that run).
    reps: int = 200
    #: Worker processes (1: this process); see :attr:`processes`.
    workers: int = 1
    #: A Dask backend: ``"local"`` (a LocalCluster of ``workers`` processes) or a scheduler
    #: address; None for local processes.
    dask: str | None = None
    #: A runner to use instead of the one ``workers`` and ``dask`` choose (e.g. a Dask runner
    #: entered with ``with``, shared by several studies); the caller closes it.
    runner: Runner | None = field(default=None, compare=False)
    #: A real starting population instead of a synthetic one (:mod:`sim.roster`).
    roster: Roster | None = field(default=None, compare=False)
    #: Sequential stopping: run batches of replications 0, 1, 2, ... until the widest 95%
    #: interval of P(met) has a half-width at most this (None: run every replication).
    precision: float | None = None
    #: Replications a batch (see :attr:`batch_size`).
    batch: int | None = None
    #: A folder where each replication is stored as it finishes (:mod:`sim.store`), so that a
    #: stopped or killed study can be resumed. The tables are not written here: see
    #: :func:`sim.outputs.write_outputs`.
    out: Path | None = None
    #: Continue the study stored in ``out``: its replications are read back, not run again.
    resume: bool = False
    #: Replace a finished study stored in ``out`` (without it, one is refused: StoreError).
    force: bool = False

    def __post_init__(self) -> None:
        if self.out is not None and not isinstance(self.out, Path):
            object.__setattr__(self, "out", Path(self.out))
        if self.reps < 1:
            raise ValueError(f"reps must be at least 1 (got {self.reps})")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1 (got {self.workers})")
        if self.batch is not None and self.batch < 1:
            raise ValueError(f"batch must be at least 1 (got {self.batch})")
        if self.precision is not None and not 0 < self.precision < 1:
            raise ValueError(f"precision must lie in (0, 1) (got {self.precision})")
        if self.resume and self.out is None:
            raise ValueError("resume needs out, the folder of the study to continue")

    @property
    def processes(self) -> int:
        """The workers the study runs on: ``workers``, or 1 when there are fewer than two
        replications a worker (not worth starting processes) and no Dask backend."""
        return self.workers if self.dask or self.reps >= 2 * self.workers else 1

    @property
    def batch_size(self) -> int:
        """Replications a batch: ``batch`` if given; else every replication at once, or with
        a ``precision`` max(50, 10 x :attr:`processes`) (the precision is checked between
        batches). Batches never change a result."""
        if self.batch is not None:
            return self.batch
        return self.reps if self.precision is None else max(50, 10 * self.processes)


@dataclass(frozen=True)
class StudyProgress:
    """Where a running :class:`Study` stands, after each replication it takes."""

    #: Replications taken so far (those read back from the store included).
    done: int
    #: Replications asked for (``settings.reps``; with a precision, the most that run).
    total: int
    #: Replications computed by this study (not read back): for a rate.
    ran: int
    #: The study itself: ``study.summary`` is the estimate so far.
    study: Study


@dataclass(eq=False)
class Study:
    """A Monte Carlo study: the one study loop (the orchestrator), and what it computed.

    :meth:`start` opens it (and its store); :meth:`steps` runs it, yielding a
    :class:`StudyProgress` after each replication; :meth:`run` runs it with a progress
    callback and a stop check. Results are added to :attr:`collector` as they arrive, so what
    is done is kept whatever ends the study (a stop, an exception, Ctrl-C).
    """

    scenario: Scenario
    settings: StudySettings
    collector: Collector
    #: The store of ``settings.out`` (None without one).
    store: ResultStore | None = None
    #: Replications (below ``reps``) already stored when a resumed study started.
    resumed_with: int = 0
    #: Replications computed by this study (not read back from the store).
    ran: int = 0
    #: Whether the study was ended early: a stop check, or its steps closed before the end.
    stopped: bool = False
    _stored: frozenset[int] = field(default=frozenset(), repr=False)

    @classmethod
    def start(
        cls, scenario: Scenario, settings: StudySettings, into: Collector | None = None
    ) -> Study:
        """A study of ``scenario`` ready to run; nothing runs yet. With ``settings.out`` the
        store is opened here (with ``settings.resume``, the stored study it continues).
        ``into`` is a collector the caller made (without a store), to add the results to.

        Raises:
            StoreError: the folder cannot be used as asked (sim.store).
            ValueError: ``into`` together with ``settings.out``.
        """
        if settings.out is None:
            collector = into if into is not None else Collector(scenario, settings.reps)
            return cls(scenario, settings, collector)
        if into is not None:
            raise ValueError("a study with a store (out) makes its own collector: drop into")
        store = ResultStore.open(
            settings.out,
            identity("run", scenario, settings.seed, settings.roster),
            [t.id for t in scenario.targets],
            resume=settings.resume,
            force=settings.force,
        )
        stored = frozenset(r for r in store.done(0) if r < settings.reps)
        # With a store, each replication is written to it as it is added, and the collector
        # keeps only counts and sums: memory stays flat however long the study.
        collector = Collector(scenario, settings.reps, store=store)
        return cls(scenario, settings, collector, store, len(stored), _stored=stored)

    @property
    def seed(self) -> int:
        return self.settings.seed

    @property
    def reps(self) -> int:
        return self.settings.reps

    @property
    def done(self) -> int:
        """Replications taken so far."""
        return self.collector.count

    @property
    def summary(self) -> Summary:
        """Every table, from the replications taken so far (computed at each access)."""
        return self.collector.summary()

    def steps(self) -> Generator[StudyProgress, None, None]:
        """Run the study, yielding where it stands after each replication (and after the
        stored replications of a batch are read back).

        Batches of replications 0, 1, 2, ... run on the settings' runner; with a precision,
        the next batch runs only while the widest interval is wider (reproducible: the rule
        sees only the results, so the replications kept are the first ones of the seed).
        Stored replications are read back, and those the collector already holds (a study
        stopped and run again continues) are kept; neither is run again. Closing the iterator
        early (or an exception in the loop that reads it) stops the runner at once (a process
        pool's workers included) and sets :attr:`stopped`; what is done is kept and the
        store's buffer written. At the normal end the store's buffer is written too, and a failure
        to write raises ``OSError``; on an early end it is left in the store for the caller
        to flush (and report), so that it never hides the exception that ended the study.
        """
        s = self.settings
        self.stopped = False
        own = s.runner is None
        runner = make_runner(s.processes, s.dask) if s.runner is None else s.runner
        size = s.batch_size
        try:
            with contextlib.ExitStack() as stack:
                if own:
                    stack.enter_context(runner)
                first = 0
                while first < s.reps and (
                    s.precision is None or widest_half_width(self.collector) > s.precision
                ):
                    batch = range(first, min(first + size, s.reps))
                    taken: set[int] = set()
                    if self.collector.count:
                        done = self.collector.done
                        taken = set(done[(done >= batch.start) & (done < batch.stop)].tolist())
                    have = {r for r in batch if r in self._stored and r not in taken}
                    if have:
                        assert self.store is not None
                        self.collector.extend(self.store.load(0, reps=have))
                        yield self._progress()
                    missing = [r for r in batch if r not in have and r not in taken]
                    results = runner.results(self.scenario, s.seed, missing, roster=s.roster)
                    try:
                        for res in results:
                            self.collector.add(res)  # and to the store
                            self.ran += 1
                            yield self._progress()
                    finally:
                        close = getattr(results, "close", None)
                        if close is not None:
                            close()  # stops a process pool at once if we leave early
                    first = batch.stop
        except GeneratorExit:
            self.stopped = True
            self._flush_quietly()
            raise
        except BaseException:
            self._flush_quietly()
            raise
        if self.store is not None:
            self.store.flush()

    def run(
        self,
        progress: Callable[[StudyProgress], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Study:
        """Run the study to its end: ``progress(snapshot)`` after each replication, then
        ``stop()``; when it returns true the study ends (:attr:`stopped`), keeping what is
        done. Whatever ``progress`` or ``stop`` raise propagates (what is done stays in
        :attr:`collector`). Returns the study.

        Raises:
            BackendError: the runner failed (a WorkerError when a worker process died).
            OSError: the store could not write a chunk (a full disk).
            StoreError: a stored chunk could not be read back.
        """
        steps = self.steps()
        try:
            for snapshot in steps:
                if progress is not None:
                    progress(snapshot)
                if stop is not None and stop():
                    break
        finally:
            steps.close()
        if self.stopped and self.store is not None:
            self.store.flush()  # stopped: what is buffered is good, keep it
        return self

    def _progress(self) -> StudyProgress:
        return StudyProgress(self.collector.count, self.settings.reps, self.ran, self)

    def _flush_quietly(self) -> None:
        if self.store is None:
            return
        with contextlib.suppress(OSError):
            self.store.flush()


def run_study(
    scenario: Scenario,
    seed: int,
    reps: int,
    workers: int = 1,
    roster: Roster | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop: Callable[[], bool] | None = None,
    into: Collector | None = None,
    runner: Runner | None = None,
) -> Study:
    """Run ``reps`` replications; ``progress(done, reps)`` after each, ``stop()`` to end early
    (what is done is kept). ``into`` is a collector the caller holds, so that what is done
    survives even an exception raised by the progress callback (a page that reloads).
    ``runner`` (e.g. a Dask runner entered with ``with``) replaces the local one that
    ``workers`` would choose. The short form of :class:`Study` with :class:`StudySettings`."""
    settings = StudySettings(seed=seed, reps=reps, workers=workers, runner=runner, roster=roster)
    tick = None
    if progress is not None:

        def tick(p: StudyProgress) -> None:
            progress(p.done, p.total)

    return Study.start(scenario, settings, into=into).run(tick, stop)


def _starting_models(scenario: Scenario, seed: int, roster: Roster | None) -> list[Model]:
    """The models a replication starts from: the scenario's own, or (a merged province
    without a roster) each source province's, on its own random streams as in a merged run."""
    if scenario.merger is None or roster is not None:
        return [Model(scenario, seed, 0, roster=roster)]
    sources = scenario.merger_sources
    if not scenario.merger.enabled:
        sources = sources[:1]
    return [Model(src, seed, 0, branch=s) for s, src in enumerate(sources)]


def unmeasured_targets(scenario: Scenario) -> list[str]:
    """The targets a run of ``scenario`` cannot measure (their P(met) means nothing): with a
    merger switched off (the "no merger" path, the first source province alone), the merged
    province's targets it has no blocks or congress for, and the other sources' pre-merger
    targets. Empty for any other scenario."""
    from sim import merging

    return list(merging.unmeasured(scenario))


def population_summary(
    scenario: Scenario, seed: int = 2021, roster: Roster | None = None
) -> dict[str, pd.DataFrame]:
    """The starting population: counts and shares by tier, and an age pyramid (5-year bands).

    A merged province (without a roster) starts as its source provinces, each with its own
    people: their populations together (with the merger switched off, the first source's)."""
    models = _starting_models(scenario, seed, roster)
    rank = np.concatenate([m.rank[: m.n] for m in models])
    female = np.concatenate([m.female[: m.n] for m in models])
    age = np.concatenate([(m.t0 - m.birth[: m.n]) / 12.0 for m in models])
    tiers = {"L1": rank >= 3, "L2": (rank == 1) | (rank == 2), "pool": rank == 0}
    young = age * 12.0 < rules.YOUNG_AGE_MONTHS
    rows = []
    for name, sel in tiers.items():
        k = int(sel.sum())
        rows.append(
            {
                "tier": name,
                "people": k,
                "women": int((sel & female).sum()),
                "under_40": int((sel & young).sum()),
                "women_share": float((sel & female).sum() / k) if k else math.nan,
                "under_40_share": float((sel & young).sum() / k) if k else math.nan,
                "mean_age": float(age[sel].mean()) if k else math.nan,
            }
        )
    bands = np.arange(20, 70, 5)
    pyr = []
    leaders = rank >= 1
    for lo in bands:
        sel = leaders & (age >= lo) & (age < lo + 5)
        pyr.append(
            {
                "age": f"{lo}-{lo + 4}",
                "men": int((sel & ~female).sum()),
                "women": int((sel & female).sum()),
            }
        )
    return {"tiers": pd.DataFrame(rows), "pyramid": pd.DataFrame(pyr)}


def compare(
    a: Scenario,
    b: Scenario,
    seed: int,
    reps: int,
    workers: int = 1,
    level: float = 0.95,
    runner: Runner | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """P(met) of every target under policies A and B on the same seeds (common random
    numbers), with the paired difference B - A and its interval (normal approximation on the
    per-replication differences), and the variance reduction against independent streams
    (1 - Var(paired difference) / (Var(A) + Var(B)); 0 means no gain, 1 a noiseless one).
    ``progress(done, 2 * reps)`` follows both studies.

    Raises:
        ValueError: if A and B do not have the same targets (in the same order).
    """
    ids_a, ids_b = [t.id for t in a.targets], [t.id for t in b.targets]
    if ids_a != ids_b:
        raise ValueError(
            f"A and B must have the same targets to be compared (A: {', '.join(ids_a)}; "
            f"B: {', '.join(ids_b)})"
        )
    sa = run_study(
        a, seed, reps, workers, runner=runner, progress=progress and _shifted(progress, 0, 2 * reps)
    )
    sb = run_study(
        b,
        seed,
        reps,
        workers,
        runner=runner,
        progress=progress and _shifted(progress, reps, 2 * reps),
    )
    table = paired_difference(sa.collector, sb.collector, seed, seed, level)
    names = {"p_met_base": "p_met_a", "p_met_now": "p_met_b"}
    names |= {"only_base": "only_a", "only_now": "only_b"}
    return table.drop(columns=["paired", "reps"], errors="ignore").rename(columns=names)


#: The columns of :func:`paired_difference` (also when no target is shared).
PAIRED_COLUMNS = (
    "target",
    "by",
    "p_met_base",
    "p_met_now",
    "difference",
    "ci_low",
    "ci_high",
    "only_base",
    "only_now",
    "variance_reduction",
    "paired",
    "reps",
)


def paired_difference(
    base: Collector, now: Collector, base_seed: int, now_seed: int, level: float = 0.95
) -> pd.DataFrame:
    """P(met) of every target two studies share, under ``base`` and ``now`` (run with master
    seeds ``base_seed`` and ``now_seed``), with the difference now - base and its interval.

    The replications both studies finished are compared one by one when the two used the same
    master seed (common random numbers: the interval is that of the per-replication
    differences, normal approximation); with different seeds the two estimates are
    independent and their variances add. ``paired`` says which. The variance reduction is
    1 - Var(paired difference) / (Var(base) + Var(now)) (0: no gain, 1: noiseless).
    """
    z = stats.norm.ppf(0.5 + level / 2)
    ids_base = [t.id for t in base.scenario.targets]
    ids_now = [t.id for t in now.scenario.targets]
    by = {t.id: t.by for t in now.scenario.targets}
    same_seed = base_seed == now_seed
    common = np.intersect1d(base.done, now.done) if same_seed else None
    rows = []
    for tid in [t for t in ids_now if t in ids_base]:
        kb, kn = ids_base.index(tid), ids_now.index(tid)
        if common is not None:
            xb_bool = base.arrays["target_met"][common, kb]
            xn_bool = now.arrays["target_met"][common, kn]
        else:
            xb_bool = base.arrays["target_met"][base.done, kb]
            xn_bool = now.arrays["target_met"][now.done, kn]
        xb, xn = xb_bool.astype(float), xn_bool.astype(float)
        nb, nn = len(xb), len(xn)
        if common is not None:
            d = xn - xb
            n = len(d)
            var_paired = d.var(ddof=1) / n if n > 1 else math.nan
            var_indep = (xb.var(ddof=1) + xn.var(ddof=1)) / n if n > 1 else math.nan
            var = var_paired
            reduction = (
                float(1.0 - var_paired / var_indep) if var_indep and var_indep > 0 else math.nan
            )
            only_base = int((xb_bool & ~xn_bool).sum())
            only_now = int((~xb_bool & xn_bool).sum())
        else:
            var = xb.var(ddof=1) / nb + xn.var(ddof=1) / nn if nb > 1 and nn > 1 else math.nan
            reduction, only_base, only_now = math.nan, -1, -1
        diff = float(xn.mean() - xb.mean()) if nb and nn else math.nan
        se = math.sqrt(var) if not math.isnan(var) else math.nan
        rows.append(
            {
                "target": tid,
                "by": by[tid],
                "p_met_base": float(xb.mean()) if nb else math.nan,
                "p_met_now": float(xn.mean()) if nn else math.nan,
                "difference": diff,
                "ci_low": diff - z * se,
                "ci_high": diff + z * se,
                "only_base": only_base,
                "only_now": only_now,
                "variance_reduction": reduction,
                "paired": common is not None,
                "reps": len(common) if common is not None else min(nb, nn),
            }
        )
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


@dataclass(frozen=True)
class Solution:
    """The result of :func:`solve`: the smallest lever value reaching the probability."""

    target: str
    path: str
    level: float
    value: float | None  # None: not reached at any value tried
    p_at_value: float  # P(met) at ``value`` (at ``high`` when not reached)
    p_interval: tuple[float, float]  # Wilson 95% interval of P(met) at that value
    bracket: tuple[float, float]  # the last value that failed and the value found
    steps: tuple[tuple[float, float], ...]  # (value, P(met)) tried, in order
    assumed: tuple[str, ...] = ()  # settings changed so that the lever acts ("path=value")

    @property
    def share(self) -> float | None:  # the name the app uses
        return self.value

    @property
    def p_at_share(self) -> float:
        return self.p_at_value

    @property
    def monotone(self) -> bool:
        """Whether P(met) never fell as the lever rose, over the values tried. When it did,
        the value found is a crossing of the level, not necessarily the smallest one."""
        p = [pm for _, pm in sorted(self.steps)]
        return all(b >= a for a, b in itertools.pairwise(p))


def inert_share(scenario: Scenario, path: str) -> bool:
    """Whether ``path`` is an appointment share that has no effect, because the scenario's
    quota reading is ``none`` (no quota)."""
    return (
        path in ("policy.appointment_share.women", "policy.appointment_share.young")
        and scenario.policy.appointment_share.reading == "none"
    )


def solve(
    scenario: Scenario,
    target_id: str,
    path: str,
    level: float = 0.8,
    seed: int = 2021,
    reps: int = 100,
    low: float = 0.0,
    high: float = 0.6,
    tolerance: float = 0.01,
    workers: int = 1,
    runner: Runner | None = None,
    progress: Callable[[int, int], None] | None = None,
    scan: int = 6,
) -> Solution:
    """The smallest value of the setting ``path`` in [low, high] at which P(``target_id`` met)
    reaches ``level``: a bisection, every value run on the same seeds (common random numbers
    keep P(met) monotone in practice when the lever helps the target). The uncertainty is the
    interval of P(met) at the value found and the bracket left by the search.

    P(met) need not rise with the lever (a range target is overshot; a target measured
    against 2021 moves with it). So when even ``high`` falls short, ``scan`` evenly spaced
    values below it are tried before the target is declared out of reach, and the search
    continues from the first that reaches the level. :attr:`Solution.monotone` says whether
    P(met) fell anywhere over the values tried.
    ``progress(done, total)`` counts replications against the most the search can need.

    Raises:
        ValueError: for an unknown target, an empty range, or an appointment share while the
            quota reading is ``none`` (the share would have no effect).
        ScenarioError: if a value tried is impossible for the setting.
    """
    from sim.results import proportion_interval

    ids = [t.id for t in scenario.targets]
    if target_id not in ids:
        raise ValueError(f"no target {target_id!r} (targets: {', '.join(ids)})")
    if not high > low:
        raise ValueError(f"the range needs low < high (got {low}, {high})")
    if inert_share(scenario, path):
        raise ValueError(
            f"{path} has no effect while policy.appointment_share.reading is 'none' (no "
            "quota): set a reading first, e.g. policy.appointment_share.reading=expected"
        )
    k = ids.index(target_id)
    steps: list[tuple[float, float]] = []
    met_at: dict[float, int] = {}
    most = reps * (2 + scan + max(0, math.ceil(math.log2((high - low) / tolerance))))

    def p_met(value: float) -> float:
        sc = scenario.with_overrides({path: round(value, 6)})
        tick = progress and _shifted(progress, reps * len(steps), most)
        study = run_study(sc, seed, reps, workers, runner=runner, progress=tick)
        met = study.collector.arrays["target_met"][study.collector.done, k]
        met_at[value] = int(met.sum())
        p = float(met.mean())
        steps.append((value, p))
        return p

    value, p, below = lowest_reaching(p_met, low, high, level, tolerance, scan)
    at = high if value is None else value
    ci = proportion_interval(met_at[at], reps)
    bracket = (high, math.nan) if value is None else (below, value)
    return Solution(target_id, path, level, value, p, ci, bracket, tuple(steps))


def lowest_reaching(
    p_met: Callable[[float], float],
    low: float,
    high: float,
    level: float,
    tolerance: float,
    scan: int = 6,
) -> tuple[float | None, float, float]:
    """The search behind :func:`solve`: the lowest ``x`` in [low, high] with
    ``p_met(x) >= level``, to within ``tolerance``, as (value, p_met(value), the last value
    below it that fell short, or NaN). When ``high`` falls short, ``scan`` evenly spaced values
    from ``low`` up are tried first; if none reaches the level the value is None (and p is
    ``p_met(high)``). Then a bisection between the last value that fell short and the first
    that reached."""
    p_high = p_met(high)
    if p_high < level:
        inside = [low + (high - low) * j / scan for j in range(scan)] if scan > 0 else []
        previous, upper, p_upper = math.nan, None, math.nan
        for v in inside:
            p = p_met(v)
            if p >= level:
                upper, p_upper = v, p
                break
            previous = v
        if upper is None:
            return None, p_high, math.nan
        if math.isnan(previous):
            return upper, p_upper, math.nan
        low, high, p_best = previous, upper, p_upper
    else:
        p_low = p_met(low)
        if p_low >= level:
            return low, p_low, math.nan
        p_best = p_high
    while high - low > tolerance:
        mid = (low + high) / 2
        p = p_met(mid)
        if p >= level:
            high, p_best = mid, p
        else:
            low = mid
    return high, p_best, low


def required_share(
    scenario: Scenario,
    target_id: str,
    group: str = "women",
    level: float = 0.8,
    seed: int = 2021,
    reps: int = 100,
    low: float = 0.0,
    high: float = 0.6,
    tolerance: float = 0.01,
    workers: int = 1,
    runner: Runner | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Solution:
    """:func:`solve` on the yearly appointment share of ``group`` (women or young).

    Where the scenario has no quota (reading ``none``), the share would do nothing: the search
    then uses the ``expected`` reading with the other group's share at 0, so that a share of
    0 is the scenario's own policy, and says so in :attr:`Solution.assumed`."""
    if group not in ("women", "young"):
        raise ValueError("group must be women or young")
    path = f"policy.appointment_share.{group}"
    assumed: tuple[str, ...] = ()
    if inert_share(scenario, path):
        other = "young" if group == "women" else "women"
        changes = {
            "policy.appointment_share.reading": "expected",
            f"policy.appointment_share.{other}": 0.0,
        }
        scenario = scenario.with_overrides(changes)
        assumed = tuple(f"{k}={v}" for k, v in changes.items())
    found = solve(
        scenario,
        target_id,
        path,
        level,
        seed,
        reps,
        low,
        high,
        tolerance,
        workers,
        runner,
        progress,
    )
    return dataclasses.replace(found, assumed=assumed)


def _shifted(
    progress: Callable[[int, int], None], before: int, total: int
) -> Callable[[int, int], None]:
    """A study's ``progress(done, reps)`` reported as part of a larger job."""
    return lambda done, _reps: progress(before + done, total)


def moves_between_ranks(
    scenario: Scenario, seed: int, reps: int = 5, roster: Roster | None = None
) -> pd.DataFrame:
    """Mean number of moves over the horizon between ranks (promotions, rotations, "(moved)";
    reassignments when posts are cut, "(reassigned)") and out of the leadership (exits by
    cause), from the event logs of the first ``reps`` replications: one row a (source,
    target) pair, for a flow chart. A merged province's moves are those
    of its source provinces to the merger date and of the merged province after it."""
    counts: dict[tuple[str, str], float] = {}
    logs = _event_logs(scenario, seed, roster)
    for rep in range(reps):
        for log in logs(rep):
            _count_moves(log, counts)
    rows = [{"source": s, "target": t, "moves": c / reps} for (s, t), c in sorted(counts.items())]
    return pd.DataFrame(rows)


def _event_logs(
    scenario: Scenario, seed: int, roster: Roster | None
) -> Callable[[int], list[dict[str, Any]]]:
    """The event logs of replication ``rep``: its model's, or a merged province's parts (each
    source province to the merger date, then the merged province)."""
    if scenario.merger is None or roster is not None:

        def one(rep: int) -> list[dict[str, Any]]:
            log = Model(scenario, seed, rep, keep_log=True, roster=roster).run().log
            assert log is not None
            return [log]

        return one
    from sim import merger

    plan = merger.compile_plan(scenario)

    def parts(rep: int) -> list[dict[str, Any]]:
        done = merger.logged_parts(scenario, seed, rep, plan)
        return [res.log for _name, res, _layout in done if res.log is not None]

    return parts


def _count_moves(log: dict[str, Any], counts: dict[tuple[str, str], float]) -> None:
    """Add one event log's moves between ranks, and its exits by cause, to ``counts``."""
    from sim.codes import REASSIGN
    from sim.model import CAUSES
    from sim.scenario import RANKS

    a = log["appointments"]
    for src, dst, kind in zip(
        a["from_rank"].tolist(), a["rank"].tolist(), a["move"].tolist(), strict=True
    ):
        # A move at the same rank: a rotation (or a posting to a district), or a leader
        # reassigned to another post when posts were cut (a restructuring, a merger).
        suffix = " (reassigned)" if kind == REASSIGN else " (moved)" if kind else ""
        target = RANKS[dst] + suffix
        key = (RANKS[src], target)
        counts[key] = counts.get(key, 0.0) + 1.0
    e = log["exits"]
    for r, cause in zip(e["rank"].tolist(), e["cause"].tolist(), strict=True):
        if r >= 0:
            key = (RANKS[r], f"left: {CAUSES[cause]}")
            counts[key] = counts.get(key, 0.0) + 1.0
