"""The ``cadresim`` command line: run, validate and describe scenarios."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim import __version__, api, merging
from sim import robustness as rb
from sim.dictionary import for_metadata
from sim.model import Model
from sim.outputs import (
    atomic_write,
    event_log_frames,
    metadata,
    os_reason,
    write_outputs,
    write_table,
)
from sim.population import build_layout
from sim.results import NOT_APPLICABLE, widest_half_width
from sim.roster import RosterError, load_roster, roster_frame
from sim.runner import BackendError, Runner, WorkerError, make_runner
from sim.scenario import (
    Scenario,
    ScenarioError,
    bundled_scenarios_dir,
    json_schema,
    load_scenario,
    resolve_scenario_path,
    schema_markdown,
)
from sim.store import ResultStore, StoreError, identity
from sim.sweep import (
    DesignError,
    check_design,
    grid_design,
    lhs_design,
    parse_grid,
    parse_range,
    run_sweep,
)

#: Bad input, or a study that cannot go on (a full disk, a folder without write permission, a
#: worker process killed): the message says what to fix, and what is stored for --resume.
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
DEFAULT_WORKERS = max(1, min(os.cpu_count() or 1, 8))

app = typer.Typer(
    name="cadresim",
    help="Succession-planning simulator for provincial leaders (cán bộ lãnh đạo, quản lý).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Wide enough for the targets table when the output is a file or a pipe.
out_console = Console(width=None if sys.stdout.isatty() else 140, emoji=False)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 140, emoji=False)


#: Options shared by the commands that run replications.
DaskOption = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="Run on Dask: 'local' starts a LocalCluster of --workers processes; "
        "tcp://host:port uses a running scheduler (needs the research extras).",
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
YesOption = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Go ahead without asking when the estimated time is over an hour.",
    ),
]
#: A study estimated to take longer than this asks before it starts (see _confirm_long).
LONG_SECONDS = 3600.0
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace a finished study in --out (without it, a folder holding one is refused).",
    ),
]


def _progress_bar(quiet: bool, rate: bool = False) -> Progress:
    """A progress bar on stderr with the count done and the time remaining."""
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn()]
    if rate:
        columns.append(TextColumn("{task.fields[rate]}"))
    columns.append(TimeRemainingColumn())
    return Progress(*columns, console=err_console, disable=quiet)


def _runner(workers: int, reps: int, dask: str | None) -> Runner:
    """Dask if asked; otherwise local processes, or this process when there are too few
    replications to be worth starting workers."""
    return make_runner(workers if (dask or reps >= 2 * workers) else 1, dask)


def _open_store(
    out: Path | None,
    resume: bool,
    kind: str,
    sc: Scenario,
    seed: int,
    design: dict[str, Any] | None = None,
    force: bool = False,
) -> ResultStore | None:
    """The result store in ``out`` for a sweep or a sensitivity analysis (None without
    ``--out``; ``run`` opens its own through :class:`sim.api.Study`); with ``--resume``, the
    stored study it continues. Exits with a clear message when it cannot be used."""
    if out is None:
        if resume:
            raise _fail("--resume needs --out, the folder of the study to continue")
        return None
    try:
        store = ResultStore.open(
            out,
            identity(kind, sc, seed, design=design),
            [t.id for t in sc.targets],
            resume=resume,
            force=force,
        )
    except StoreError as exc:
        raise _fail(str(exc)) from None
    _say_replaced(store, out)
    if resume:
        err_console.print(
            f"resuming: {store.count()} replications already stored in {out}",
            highlight=False,
            markup=False,
        )
    return store


def _estimate_seconds(
    sc: Scenario, seed: int, runs: int, workers: int, roster: Any = None
) -> float:
    """The time ``runs`` replications should take on ``workers``: one replication (the
    first of the study: its numbers do not depend on being timed) times the count, shared
    by the workers (at the 1.8x two processes reach on two cores, see bench_core)."""
    from sim.runner import run_replication

    t0 = time.perf_counter()
    run_replication(sc, seed, 0, roster=roster)
    one = time.perf_counter() - t0
    speedup = 1.0 if workers <= 1 else 0.9 * workers
    return one * runs / speedup


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


def _confirm_long(
    sc: Scenario, seed: int, runs: int, workers: int, yes: bool, roster: Any = None
) -> None:
    """Before a study of ``runs`` replications estimated to take over an hour: ask (in a
    terminal) unless --yes; in a non-interactive shell, say the estimate and go on. Studies
    too small to take an hour on the slowest bundled scenario are not timed at all."""
    if yes or runs < 2_000:
        return
    seconds = _estimate_seconds(sc, seed, runs, workers, roster)
    if seconds <= LONG_SECONDS:
        return
    what = f"{runs:,} replications on {workers} worker(s): about {_duration(seconds)}"
    if not sys.stdin.isatty():
        err_console.print(
            f"note: {what} (estimated from one replication); going on, as this shell is not "
            "interactive (add --yes to skip this note)",
            highlight=False,
            markup=False,
        )
        return
    if not typer.confirm(f"{what} (estimated from one replication). Go on?", default=False):
        raise _fail("not started (add --yes to start without asking)", 1)


def _say_replaced(store: ResultStore | None, out: Path | None) -> None:
    """With --force, say which finished study in ``out`` this one replaces."""
    if store is not None and store.replaced:
        err_console.print(
            f"--force: replacing {store.replaced} in {out}", highlight=False, markup=False
        )


def _refuse_finished(out: Path | None, force: bool) -> None:
    """A command writing tables without a store (compare, solve, robustness) never overwrites
    a finished study's folder unasked: with ``metadata.json`` in ``out``, it needs --force."""
    if out is None or not (out / "metadata.json").exists():
        return
    try:
        meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
        what = f"a finished {meta.get('command', 'study')} of {meta.get('scenario')}"
        what += f" (seed {meta.get('seed')})"
    except (OSError, ValueError, AttributeError):
        what = "a study (its metadata.json)"
    if not force:
        raise _fail(f"{out} holds {what}; add --force to replace it, or choose another folder")
    err_console.print(f"--force: replacing {what} in {out}", highlight=False, markup=False)


def _flush(store: ResultStore | None, out: Path | None) -> str | None:
    """Write what ``store`` still buffers; the message to show if it cannot (a full disk)."""
    if store is None:
        return None
    try:
        store.flush()
    except OSError as exc:
        return _write_failure(exc, out)
    return None


def _write_failure(exc: OSError, out: Path | None) -> str:
    """A failed write as the user reads it: the folder, the reason ("No space left on device",
    "Permission denied") and the file being written."""
    where = out if out is not None else Path(exc.filename or ".").parent
    file = f" (writing {exc.filename})" if exc.filename else ""
    return f"cannot write results to {where}: {os_reason(exc)}{file}"


def _kept(store: ResultStore | None, out: Path | None, reps: int | None = None) -> str:
    """What a study that failed leaves to continue from, to end its message (call it after
    :func:`_flush`): the replications written to ``out`` (of the first ``reps`` of a plain
    run), or that nothing was kept without ``--out``."""
    if store is None:
        return (
            "; the replications finished are not kept: with --out DIR they are stored as they "
            "finish, and --resume continues"
        )
    if reps is None:
        n = f"{store.written_count()}"
    else:
        n = f"{sum(1 for r in store.written(0) if r < reps)} of {reps}"
    return f"; {n} replications are stored in {out}: continue with the same command and --resume"


@contextlib.contextmanager
def _writing_tables(out: Path, stored: str) -> Iterator[None]:
    """Around the writing of a study's tables at its end. Each file is written whole or not at
    all (:func:`~sim.outputs.atomic_write`) and ``metadata.json`` last, so a failure (a full
    disk) or an interrupt (Ctrl-C, SIGTERM) leaves a folder that ``--resume`` completes; this
    says so, with what failed. ``stored``: what the chunks hold, e.g. "the 400 replications"."""

    def after(fixed: str) -> str:
        return (
            f"; no table is half written, and {stored} are stored in {out}: {fixed}the same "
            "command with --resume writes the tables (stored replications are not run again)"
        )

    try:
        with _sigterm_as_interrupt():
            yield
    except OSError as exc:
        raise _fail(_write_failure(exc, out) + after("once this is fixed, ")) from None
    except KeyboardInterrupt:
        raise _fail("interrupted while writing the tables" + after(""), EXIT_INTERRUPTED) from None


def _digits(step: float) -> int:
    """Decimals that mean something for values searched or sampled to ``step`` (one more than
    the step's own, so that neighbouring values stay distinct): 0.01 -> 3, 1 -> 1, 10 -> 0."""
    if not step > 0:
        return 3
    return max(0, min(6, 1 - math.floor(math.log10(step))))


def _write_results(out: Path, tables: dict[str, Any], meta: dict[str, Any]) -> None:
    """The tables of a command without a store (compare, solve) as CSV and Parquet, then
    ``metadata.json`` (last: it says the folder is complete); each file whole or not at all."""
    meta = {**meta, "columns": for_metadata(tables)}
    text = json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n"
    try:
        for name, frame in tables.items():
            write_table(out, name, frame)
        atomic_write(out / "metadata.json", lambda f: Path(f).write_text(text, "utf-8"))
    except OSError as exc:
        raise _fail(f"cannot write the results to {out}: {os_reason(exc)}", 1) from None
    out_console.print(
        f"results written to {out}/ ({', '.join(tables)} as CSV and Parquet; metadata.json)",
        markup=False,
        highlight=False,
    )


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    # Messages quote user input (paths, overrides, YAML values): escape it so that text like
    # "[/x]" is shown as is, and never wrap, so that file:line:col stays on one line.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (``kill``, a batch scheduler's time limit) like Ctrl-C in this process, so
    that what is done is written before exiting. Worker processes forked meanwhile keep the
    default action (they are stopped, not asked)."""
    main = os.getpid()

    def handler(signum: int, frame: Any) -> None:
        if os.getpid() != main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. called from a test harness thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _event_log(sc: Scenario, seed: int, people: Any) -> dict[str, Any]:
    """The event log of replication 0 as tables; for a merged province, each source's events
    to the merger date and the merged province's from it, with a ``province`` column."""
    if sc.merger is None or people is not None:
        model = Model(sc, seed, 0, keep_log=True, roster=people)
        return event_log_frames(model.run(), model.layout)
    import pandas as pd

    from sim import merger

    parts = merger.logged_parts(sc, seed, 0)
    if len(parts) == 1:  # no merger: the first source alone, logged as a plain run
        _name, res, layout = parts[0]
        return event_log_frames(res, layout)
    out: dict[str, list[Any]] = {}
    for name, res, layout in parts:
        for table, frame in event_log_frames(res, layout).items():
            out.setdefault(table, []).append(frame.assign(province=name)[["province", *frame]])
    return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}


def _roster_start(sc: Scenario) -> Scenario:
    """A merged province read from a roster starts on its roster date (the merger and the
    years before it skipped): say so, and what it leaves out."""
    if sc.merger is None:
        return sc
    from sim import merging

    for note in merging.roster_notes(sc):
        err_console.print(f"[yellow]{escape(sc.province)}:[/] {escape(note)}", highlight=False)
    return merging.roster_scenario(sc)


def _load(scenario: str | None, overrides: list[str], variant: str | None) -> tuple[Scenario, Path]:
    path = resolve_scenario_path(scenario)
    sc = load_scenario(path)
    if variant:
        sc = sc.variant(variant)
    if overrides:
        sc = sc.with_overrides(overrides)
    return sc, path


def _fmt(x: float, pct: bool = True) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.1f}%" if pct else f"{x:.3g}"


def _goal(r: Any) -> str:
    """The goal of a target as an adviser reads it: '>= 10.0%', '>= 10.0%-15.0%',
    '>= 2021 +5.0 pp' or '>= 2021 x 1.05'."""

    def number(x: float) -> str:
        return f"{100 * x:.1f}"

    if r.baseline_reading != "absolute":
        year = int(r.baseline_year)
        if r.baseline_reading == "points":

            def change(x: float) -> str:
                return f"{'+' if x >= 0 else '-'}{number(abs(x))} pp"
        else:

            def change(x: float) -> str:
                return f"x {1 + x:.2f}"

        goal = f"{r.op} {year} {change(r.value)}"
        if not _isnan(r.upper):
            goal += f" to {change(r.upper)}"
        return goal
    if not _isnan(r.upper):
        return f"{r.op} {number(r.value)}-{number(r.upper)}%"
    return f"{r.op} {_fmt(r.value)}"


def _isnan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _target_notes(targets: Any) -> list[str]:
    """Lines printed under the targets table: for "all comply" targets the share of those
    that comply, and for each-year flow targets the years without any appointment."""
    notes = []
    for r in targets.itertuples():
        if r.status.startswith("not measured"):
            notes.append(f"{r.target}: {r.status}")
        if r.status != "modelled":
            continue
        if r.complying_of != NOT_APPLICABLE:
            who = r.complying_of
            notes.append(
                f"{r.target}: {_fmt(r.p_met)} chance that all {who} comply; typically "
                f"{_fmt(r.complying_median)} of {who} comply ({_fmt(r.complying_p5)} - "
                f"{_fmt(r.complying_p95)}, 5-95% of replications)"
            )
        if r.empty_year_rule != NOT_APPLICABLE:
            rule = (
                "each counts as not met"
                if r.empty_year_rule == "fail"
                else "left out (empty_year: skip)"
            )
            if _isnan(r.empty_years_share) or r.empty_years_share == 0:
                notes.append(f"{r.target}: every year of its window had appointments")
            else:
                notes.append(
                    f"{r.target}: a year without any appointment to its posts in "
                    f"{_fmt(r.empty_years_share)} of replications ({r.empty_years_mean:.2f} such "
                    f"years a replication on average); {rule}"
                )
    return notes


def _print_targets(summary, console: Console, robust=None, robust_note=None, sc=None) -> None:  # type: ignore[no-untyped-def]
    """The targets table; ``robust`` (target id -> (robust, assumption that moves it most))
    adds a column saying whether each answer is robust to the scenario's assumptions, and
    ``robust_note`` says where that column comes from (or why it is absent)."""
    if summary.targets.empty:
        console.print(
            "This scenario has no targets: nothing to estimate. Flows, stocks and costs are in "
            "the output tables (--out).",
            highlight=False,
        )
        return
    table = Table(
        title=f"Targets: probability met ({summary.n_reps} replications)", title_justify="left"
    )
    ranges = bool(summary.targets["p_upper_met"].notna().any())
    columns = [
        ("target", "left"),
        ("by", "right"),
        ("goal", "right"),
        ("P(met)", "right"),
        ("95% interval", "right"),
    ]
    if ranges:
        columns.append(("P(upper end)", "right"))
    columns += [("median metric", "right"), ("5-95%", "right")]
    if robust is not None:
        columns.append(("robust?", "left"))
    for col, just in columns:
        table.add_column(col, justify=just, no_wrap=col != "target")  # type: ignore[arg-type]
    for r in summary.targets.itertuples():
        if r.status != "modelled":
            label = escape(r.status.split(":", 1)[0])  # not modelled, or not measured here
            table.add_row(r.target, "", "", f"[dim]{label}[/]", *[""] * (len(columns) - 4))
            continue
        # Every metric is a share (the women-staff rule's is the share of complying units).
        cells = [
            r.target,
            str(r.by),
            _goal(r),
            _fmt(r.p_met),
            f"{_fmt(r.ci_low)} - {_fmt(r.ci_high)}",
        ]
        if ranges:
            cells.append(_fmt(r.p_upper_met))
        cells += [_fmt(r.metric_median), f"{_fmt(r.metric_p5)} - {_fmt(r.metric_p95)}"]
        if robust is not None:
            cells.append(_robust_cell(robust.get(r.target)))
        table.add_row(*cells)
    console.print(table)
    notes = _target_notes(summary.targets)
    if sc is not None:
        notes += merging.result_notes(sc)
    for note in notes:
        console.print(escape(note), highlight=False, soft_wrap=True)
    if robust_note is not None:
        console.print(robust_note, highlight=False, markup=False, soft_wrap=True)
    joint = Table(title="All targets of a deadline met together", title_justify="left")
    for col in ("by", "targets", "P(all met)", "95% interval"):
        joint.add_column(col)
    for r in summary.joint.itertuples():
        joint.add_row(
            str(r.by), r.targets, _fmt(r.p_all_met), f"{_fmt(r.ci_low)} - {_fmt(r.ci_high)}"
        )
    console.print(joint)


@app.command()
def run(
    scenario: Annotated[
        str | None,
        typer.Argument(help="A bundled scenario name (e.g. quang_binh) or a path to a YAML file."),
    ] = None,
    reps: Annotated[
        int, typer.Option("--reps", "-n", min=1, max=1_000_000, help="Number of replications.")
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Master seed.")] = 2021,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            max=256,
            help="Worker processes (1 = sequential); default: every core.",
        ),
    ] = DEFAULT_WORKERS,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a setting by dotted path, e.g. policy.appointment_share.women=0.2",
        ),
    ] = None,
    variant: Annotated[
        str | None, typer.Option("--variant", help="A named variant of the scenario (e.g. bau).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for CSV, Parquet and metadata files.")
    ] = None,
    quiet: QuietOption = False,
    log: Annotated[
        bool, typer.Option("--log", help="Also write the event log of replication 0 (needs --out).")
    ] = False,
    dask: DaskOption = None,
    precision: Annotated[
        float | None,
        typer.Option(
            "--precision",
            min=0.001,
            max=0.5,
            help="Add replications (in batches, --reps at most) until every P(met) interval's "
            "half-width is below this, e.g. 0.02.",
        ),
    ] = None,
    roster: Annotated[
        Path | None,
        typer.Option(
            "--roster",
            help="Start from a real (anonymised) roster, CSV or Excel, instead of a synthetic "
            "population (see docs/ROSTER.md).",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted run stored in --out: keep its finished replications "
            "and run only the missing ones (same scenario, settings and seed).",
        ),
    ] = False,
    robustness: Annotated[
        bool,
        typer.Option(
            "--robustness",
            help="Also compute whether each answer is robust to the scenario's assumptions "
            "(2 x the number of assumptions or groups extra studies, same seed and --reps); "
            "without it, the precomputed table of a bundled scenario at its own settings is "
            "shown.",
        ),
    ] = False,
    force: ForceOption = False,
    yes: YesOption = False,
) -> None:
    """Run a Monte Carlo study of a scenario and report P(target met).

    With --out, replications are streamed to OUT/chunks/ as they finish, so that an
    interrupted or killed run continues where it stopped with --resume."""
    overrides = list(set_ or [])
    try:
        sc, path = _load(scenario, overrides, variant)
    except ScenarioError as exc:
        raise _fail(f"invalid scenario\n{exc}") from None
    people = None
    if roster is not None:
        sc = _roster_start(sc)
        try:
            people = load_roster(roster, sc, build_layout(sc))
        except RosterError as exc:
            raise _fail(str(exc)) from None
    if resume and out is None:
        raise _fail("--resume needs --out, the folder of the study to continue")
    if log and out is None:
        raise _fail("--log writes the event log into the --out folder: add --out DIR")
    settings = api.StudySettings(
        seed=seed,
        reps=reps,
        workers=workers,
        dask=dask,
        roster=people,
        precision=precision,
        out=out,
        resume=resume,
        force=force,
    )
    workers = settings.processes  # 1 when too few replications to be worth starting processes
    _confirm_long(sc, seed, reps, workers, yes, people)
    try:
        # Opens the result store in --out (with --resume, the stored study it continues);
        # nothing runs yet.
        study = api.Study.start(sc, settings)
    except StoreError as exc:
        raise _fail(str(exc)) from None
    _say_replaced(study.store, out)
    if resume:
        err_console.print(
            f"resuming: {study.resumed_with} of {reps} replications already stored in {out}",
            highlight=False,
            markup=False,
        )
    store, collector = study.store, study.collector
    started = time.perf_counter()
    interrupted = False
    failed: str | None = None
    progress = _progress_bar(quiet, rate=True)
    try:
        with progress, _sigterm_as_interrupt(), contextlib.closing(study.steps()) as steps:
            task = progress.add_task(f"{sc.province}", total=reps, rate="")
            for step in steps:
                el = time.perf_counter() - started
                rate = f"{step.ran / el:.1f} rep/s" if el > 0 and step.ran else ""
                progress.update(task, completed=step.done, rate=rate)
            if precision is not None:
                progress.update(task, total=study.done)
    except WorkerError as exc:  # a worker process was killed: what is stored is good
        failed = str(exc)
    except BackendError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        interrupted = True
    except StoreError as exc:  # a stored chunk that cannot be read back
        failed = str(exc)
    except OSError as exc:  # the store could not write a chunk (a full disk, say)
        failed = _write_failure(exc, out)
    finally:
        unwritten = _flush(store, out)  # always: what is buffered is good, keep it
        failed = failed or unwritten
    if failed:
        raise _fail(failed + _kept(store, out, reps))
    if interrupted:
        kept = f"; {store.count()} stored in {out}, continue with --resume" if store else ""
        err_console.print(
            f"[yellow]interrupted after {study.done} of {reps} replications{escape(kept)}[/]",
            soft_wrap=True,
        )
    elapsed = time.perf_counter() - started
    if study.done == 0:
        raise _fail("no replication finished", EXIT_INTERRUPTED if interrupted else 1)
    try:
        summary = collector.summary()
    except StoreError as exc:
        raise _fail(str(exc)) from None
    out_console.print(f"[bold]{escape(sc.name.en)}[/]  ({escape(sc.name.vi)})")
    out_console.print(
        f"scenario {path} | hash {sc.digest()} | seed {seed} | "
        f"{summary.n_reps} replications in {elapsed:.1f} s with {workers} worker(s)"
        + (f" | variant {variant}" if variant else "")
        + (f" | roster {roster} ({len(people.ids)} people)" if people is not None else "")
        + (f" | overrides {' '.join(overrides)}" if overrides else ""),
        highlight=False,
        markup=False,
    )
    if precision is not None:
        widest = widest_half_width(collector)
        verdict = "reached" if widest <= precision else f"not reached at the cap of {reps}"
        out_console.print(
            f"precision {precision:.3f}: {verdict} (widest half-width {widest:.3f} after "
            f"{summary.n_reps} replications)",
            highlight=False,
        )
    robust, robust_note = None, None
    if people is not None:
        robust_note = (
            "robustness: not shown with --roster (the assumptions vary a synthetic population)"
        )
    elif not interrupted:
        robust, robust_note = _run_robustness(sc, seed, reps, workers, dask, quiet, robustness)
    _print_targets(
        summary,
        out_console,
        robust.verdicts() if robust is not None else None,
        robust_note,
        sc,
    )
    if out is not None:
        # A run stopped by --precision before --reps is finished too; only an interrupted one
        # is not (and a new run into this folder will ask for --resume).
        meta = metadata(
            sc,
            seed,
            reps,
            summary.n_reps,
            overrides,
            workers,
            str(path),
            variant,
            complete=not interrupted,
        )
        meta["elapsed_seconds"] = round(elapsed, 3)
        meta["chunks"] = "chunks/ (one row a replication; see sim/store.py)"
        meta["resumed_with"] = study.resumed_with
        if people is not None:
            meta["roster"] = {"file": str(roster), "people": len(people.ids)}
        with _writing_tables(out, f"the {summary.n_reps} replications"):
            if log:  # before the tables: metadata.json, written last, says the run is done
                frames = _event_log(sc, seed, people)
                for name, df in frames.items():
                    write_table(out, name, df)
                meta["columns"] = for_metadata(frames)
            if robust is not None:
                meta["robustness"] = {"seed": robust.seed, "replications": robust.reps}
                frame = rb.stored_frame(robust)
                write_table(out, "robustness", frame)
                meta["columns"] = {**meta.get("columns", {}), **for_metadata({"robustness": frame})}
            write_outputs(summary, out, meta)
        out_console.print(
            f"results written to {out}/ ({', '.join(summary.tables())}"
            + (", robustness" if robust is not None else "")
            + " as CSV and Parquet; metadata.json)",
            markup=False,
        )
    if interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)


# --------------------------------------------------------------------------- robustness


def _robust_cell(verdict: tuple[bool, str] | None) -> str:
    if verdict is None:
        return "-"
    robust, most = verdict
    return "robust" if robust else f"rests on: {most}"


def _shown_path(path: Path) -> str:
    """``path`` relative to the working folder when it is under it, else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _run_robustness(
    sc: Scenario, seed: int, reps: int, workers: int, dask: str | None, quiet: bool, live: bool
) -> tuple[rb.Robustness | None, str]:
    """The robustness of a run's answers: computed (``live``), else the precomputed table of
    exactly this scenario if there is one; with the line that says where it comes from, or
    how to get it (printed under the targets table)."""
    if not sc.assumptions:
        return None, "robustness: this scenario declares no assumptions (no 'assumptions:' list)"
    if not live:
        found = rb.stored(sc)
        if found is None:
            return None, (
                "robustness: no precomputed table for these settings; add --robustness to "
                f"compute it ({2 * len(rb.moves(sc))} extra studies of {reps} replications)"
            )
        return found, (
            f"robustness: precomputed table ({found.reps} replications a point, seed "
            f"{found.seed}; see {_shown_path(rb.STORED_DIR)})"
        )
    try:
        with _progress_bar(quiet) as bar, _runner(workers, reps, dask) as runner:
            task = bar.add_task("robustness", total=None)
            found = rb.run(
                sc,
                seed,
                reps,
                runner=runner,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        return found, (
            f"robustness: computed for this run ({found.reps} replications a point, seed "
            f"{found.seed})"
        )
    except DesignError as exc:
        raise _fail(f"cannot vary the assumptions\n{exc}") from None
    except BackendError as exc:
        raise _fail(str(exc)) from None


@app.command("robustness")
def robustness_cmd(
    scenario: Annotated[
        str | None, typer.Argument(help="A bundled scenario name or a path to a YAML file.")
    ] = None,
    reps: Annotated[
        int, typer.Option("--reps", "-n", min=1, max=100_000, help="Replications a point.")
    ] = 100,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Master seed.")] = 2021,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=256)] = DEFAULT_WORKERS,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting by dotted path.")
    ] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="A named variant.")] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Vary only this group of assumptions, or this assumption (its path); repeatable.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for the table and metadata.")
    ] = None,
    quiet: QuietOption = False,
    dask: DaskOption = None,
    force: ForceOption = False,
) -> None:
    """How far each P(met) rests on the scenario's assumptions: each assumption (each group
    as a whole) moved one at a time to the low and the high end of its range, on the same
    seed and replications (common random numbers)."""
    overrides = list(set_ or [])
    try:
        sc, path = _load(scenario, overrides, variant)
    except ScenarioError as exc:
        raise _fail(f"invalid scenario\n{exc}") from None
    try:
        plan = rb.design(sc, list(only or []))
        rb.check(sc, plan)
    except DesignError as exc:
        raise _fail(str(exc)) from None
    _refuse_finished(out, force)
    started = time.perf_counter()
    runner = _runner(workers, reps, dask)
    try:
        with _progress_bar(quiet) as bar, _sigterm_as_interrupt(), runner:
            task = bar.add_task(f"{sc.province}: {len(plan)} points", total=len(plan) * reps)
            result = rb.run(
                sc,
                seed,
                reps,
                list(only or []),
                runner=runner,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except BackendError as exc:
        raise _fail(str(exc)) from None
    except DesignError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _fail("interrupted", EXIT_INTERRUPTED) from None
    elapsed = time.perf_counter() - started
    summary = result.summary
    n_moves = len(plan) // 2
    table = Table(
        title=f"Robustness: P(met) with each of {n_moves} assumptions or groups at the low and "
        f"high end of its range ({reps} replications a point, seed {seed})",
        title_justify="left",
    )
    for col in ("target", "by", "P(met)", "lowest", "highest", "robust?", "moved most by"):
        table.add_column(col, justify="left" if col in ("target", "robust?") else "right")
    table.columns[-1].justify = "left"
    for r in summary.itertuples():
        table.add_row(
            r.target,
            str(r.by),
            _fmt(r.p_met),
            _fmt(r.p_lowest),
            _fmt(r.p_highest),
            _robust_cell((bool(r.robust), str(r.moved_most))),
            r.top or "-",
        )
    out_console.print(table)
    out_console.print(
        f"robust: P(met) stays on one side of 50% over every end; {len(plan) * reps} "
        f"replications in {elapsed:.1f} s",
        highlight=False,
        markup=False,
    )
    if out is not None:
        meta = metadata(
            sc, seed, reps, reps, overrides, workers, str(path), variant, command="robustness"
        )
        meta["robustness"] = {
            "only": list(only or []),
            "points": len(plan),
            "assumptions": [m.label for m in rb.moves(sc, list(only or []))],
        }
        tables = {"robustness": rb.stored_frame(result), "robustness_summary": summary}
        meta["columns"] = for_metadata(tables)
        text = json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n"
        try:  # metadata.json last: it says the folder is complete
            for name, df in tables.items():
                write_table(out, name, df)
            atomic_write(out / "metadata.json", lambda f: Path(f).write_text(text, "utf-8"))
        except OSError as exc:
            raise _fail(_write_failure(exc, out)) from None
        out_console.print(
            f"results written to {out}/ (robustness, robustness_summary as CSV and Parquet; "
            "metadata.json)",
            markup=False,
        )


@app.command()
def sweep(
    scenario: Annotated[
        str | None, typer.Argument(help="A bundled scenario name or a path to a YAML file.")
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", help="A grid over a setting: path=LOW:HIGH:STEP or path=V1,V2,..."),
    ] = None,
    lhs: Annotated[
        list[str] | None,
        typer.Option("--lhs", help="A range sampled by Latin hypercube: path=a:b (with --n)."),
    ] = None,
    n: Annotated[int, typer.Option("--n", min=1, help="Latin-hypercube points.")] = 10,
    reps: Annotated[int, typer.Option("--reps", "-n", min=1, help="Replications a point.")] = 100,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Master seed.")] = 2021,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=256)] = DEFAULT_WORKERS,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting by dotted path.")
    ] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="A named variant.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for the tables and metadata.")
    ] = None,
    quiet: QuietOption = False,
    dask: DaskOption = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted sweep stored in --out (same design, scenario and "
            "seed): finished replications are kept, only the missing ones run.",
        ),
    ] = False,
    force: ForceOption = False,
    yes: YesOption = False,
) -> None:
    """Run a parameter sweep (full grid or Latin hypercube) under common random numbers.

    With --out, replications are streamed to OUT/chunks/ as they finish; an interrupted or
    killed sweep continues with --resume."""
    try:
        sc, path = _load(scenario, list(set_ or []), variant)
    except ScenarioError as exc:
        raise _fail(f"invalid scenario\n{exc}") from None
    if not grid and not lhs:
        raise _fail(
            "no design: give --grid path=a:b:step (or path=v1,v2,...) for a full grid, or "
            "--lhs path=a:b with --n N for a Latin hypercube; e.g. "
            "--grid policy.appointment_share.women=0.1:0.3:0.05"
        )
    if grid and lhs:
        raise _fail("give either --grid or --lhs, not both (a design is one or the other)")
    try:
        if grid:
            design = grid_design([parse_grid(g) for g in grid])
        else:
            design = lhs_design([parse_range(x) for x in lhs or []], n, seed)
        check_design(sc, design)
    except DesignError as exc:
        raise _fail(f"bad sweep design\n{exc}") from None
    design_id = {str(k): v for k, v in design.to_dict(orient="list").items()}
    total = len(design) * reps
    _confirm_long(sc, seed, total, workers, yes)
    store = _open_store(out, resume, "sweep", sc, seed, design=design_id, force=force)
    runner = _runner(workers, reps, dask)
    progress = _progress_bar(quiet)
    started = time.perf_counter()
    failed: str | None = None
    code = EXIT_BAD_INPUT
    try:
        with progress, _sigterm_as_interrupt(), runner:
            task = progress.add_task(f"{sc.province}: {len(design)} points", total=total)
            result = run_sweep(
                sc,
                design,
                seed,
                reps,
                runner,
                progress=lambda k: progress.advance(task, k),
                store=store,
            )
    except BackendError as exc:  # WorkerError too: a worker process was killed
        failed, code = str(exc), EXIT_BAD_INPUT
    except KeyboardInterrupt:
        failed, code = "interrupted", EXIT_INTERRUPTED
    except StoreError as exc:
        failed, code = str(exc), EXIT_BAD_INPUT
    except OSError as exc:
        failed, code = _write_failure(exc, out), EXIT_BAD_INPUT
    finally:
        unwritten = _flush(store, out)  # always: what is buffered is good, keep it
        failed = failed or unwritten
    if failed:
        if code == EXIT_INTERRUPTED and store is not None:
            kept = f"; {store.written_count()} replications stored in {out}, continue with --resume"
        else:
            kept = _kept(store, out)
        raise _fail(failed + kept, code)
    elapsed = time.perf_counter() - started
    params = [c for c in design.columns if c != "point"]
    wide = result.points.pivot_table(index=["point", *params], columns="target", values="p_met")
    table = Table(
        title=f"P(met) at {len(design)} points, {reps} replications each (seed {seed})",
        title_justify="left",
    )
    for col in ["point", *params, *wide.columns]:
        table.add_column(str(col), justify="right", no_wrap=True)
    for idx, row in wide.iterrows():
        # A sampled value to 4 significant digits (the design files keep every digit).
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in idx]
        cells += [_fmt(v) for v in row.to_numpy()]
        table.add_row(*cells)
    out_console.print(table)
    out_console.print(f"{total} replications in {elapsed:.1f} s", highlight=False)
    if out is not None:
        meta = metadata(
            sc, seed, reps, reps, list(set_ or []), workers, str(path), variant, command="sweep"
        )
        meta["design"] = {
            "kind": "grid" if grid else "lhs",
            "specs": grid or lhs,
            "points": len(design),
        }
        with _writing_tables(out, f"the {total} replications"):
            out.mkdir(parents=True, exist_ok=True)
            write_sweep(result, design, out, meta)
        out_console.print(
            f"results written to {out}/ (sweep_points, sweep_design, sweep_replications as "
            "CSV and Parquet; metadata.json)",
            markup=False,
        )


def write_sweep(result: Any, design: Any, out: Path, meta: dict[str, Any]) -> None:
    """Write a sweep's tables (CSV and Parquet) and metadata atomically."""
    from sim.explore import horizon_totals

    tables = {
        "sweep_points": result.points,
        "sweep_joint": result.joint,  # the joint P of each deadline's targets, per point
        "sweep_flows_costs": horizon_totals(result.flows, result.costs),
        "sweep_design": design,
        "sweep_replications": result.replications,
    }
    for name, df in tables.items():
        write_table(out, name, df)
    meta = {**meta, "columns": for_metadata(tables)}
    text = json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n"
    atomic_write(out / "metadata.json", lambda p: Path(p).write_text(text, encoding="utf-8"))


@app.command()
def compare(
    scenario: Annotated[
        str | None, typer.Argument(help="Scenario A: a bundled name or a YAML file.")
    ] = None,
    other: Annotated[
        str | None,
        typer.Option("--with", help="Scenario B (default: A with the --set-b changes)."),
    ] = None,
    set_a: Annotated[
        list[str] | None, typer.Option("--set-a", help="A change to A: path=value.")
    ] = None,
    set_b: Annotated[
        list[str] | None, typer.Option("--set-b", help="A change to B: path=value.")
    ] = None,
    reps: Annotated[int, typer.Option("--reps", "-n", min=2, help="Replications.")] = 200,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Master seed.")] = 2021,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=256)] = DEFAULT_WORKERS,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for compare.csv/.parquet and metadata.json."),
    ] = None,
    dask: DaskOption = None,
    quiet: QuietOption = False,
    force: ForceOption = False,
) -> None:
    """Two policies on the same seeds: paired differences in P(met), with intervals, and the
    variance reduction common random numbers bring against independent streams."""
    try:
        a, path_a = _load(scenario, list(set_a or []), None)
        b, path_b = (a, path_a) if other is None else _load(other, [], None)
        if set_b:
            b = b.with_overrides(list(set_b))
    except ScenarioError as exc:
        raise _fail(f"invalid scenario\n{exc}") from None
    if other is None and not set_b:
        raise _fail("nothing to compare: give --with SCENARIO or --set-b path=value")
    if [t.id for t in a.targets] != [t.id for t in b.targets]:
        raise _fail("A and B must have the same targets to be compared")
    _refuse_finished(out, force)
    said_a = f"{a.name.en} ({_shown_path(path_a)})" + (f" with {' '.join(set_a)}" if set_a else "")
    said_b = ("A" if other is None else f"{b.name.en} ({_shown_path(path_b)})") + (
        f" with {' '.join(set_b)}" if set_b else ""
    )
    out_console.print(f"A: {said_a}\nB: {said_b}", highlight=False, markup=False)
    runner = _runner(workers, reps, dask)
    try:
        with _progress_bar(quiet) as bar, runner:
            task = bar.add_task("A, then B", total=2 * reps)
            table = api.compare(
                a,
                b,
                seed,
                reps,
                runner=runner,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except BackendError as exc:
        raise _fail(str(exc)) from None
    shown = Table(
        title=f"B - A on the same {reps} replications (seed {seed})", title_justify="left"
    )
    for col in (
        "target",
        "by",
        "P(met) A",
        "P(met) B",
        "B - A",
        "95% interval",
        "variance reduction",
    ):
        shown.add_column(col, justify="right", no_wrap=True)
    for r in table.itertuples():
        shown.add_row(
            r.target,
            str(r.by),
            _fmt(r.p_met_a),
            _fmt(r.p_met_b),
            _fmt(r.difference),
            f"{_fmt(r.ci_low)} - {_fmt(r.ci_high)}",
            _fmt(r.variance_reduction),
        )
    out_console.print(shown)
    out_console.print(
        "B - A: the paired difference in P(met), on the same replications; its interval "
        "excludes 0 when the difference is more than chance.\n"
        "variance reduction = 1 - Var(B - A, paired) / (Var A + Var B): what running both on the "
        "same seeds saves against independent runs (75% = the interval is half as wide). "
        "Near 0: the policies barely share their randomness for that target. Negative: B and A "
        "move against each other there, and pairing widened the interval. A dash: the target "
        "is met in every replication of both, or in none.",
        highlight=False,
        markup=False,
    )
    if out is not None:
        meta = metadata(a, seed, reps, reps, list(set_a or []), workers, str(path_a), None)
        meta["command"] = "compare"
        meta["a"] = {"says": said_a, "scenario_hash": a.digest(), "set": list(set_a or [])}
        meta["b"] = {
            "says": said_b,
            "scenario_file": str(path_b),
            "scenario_hash": b.digest(),
            "set": list(set_b or []),
        }
        meta.pop("scenario_resolved", None)
        _write_results(out, {"compare": table}, meta)


@app.command()
def solve(
    scenario: Annotated[
        str | None, typer.Argument(help="A bundled scenario name or a path to a YAML file.")
    ] = None,
    target: Annotated[str, typer.Option("--target", help="The target's id.")] = "",
    lever: Annotated[
        str, typer.Option("--lever", help="The setting to search, by dotted path.")
    ] = "policy.appointment_share.women",
    prob: Annotated[float, typer.Option("--prob", min=0.01, max=0.99)] = 0.8,
    low: Annotated[float, typer.Option("--low", help="Lowest value tried.")] = 0.0,
    high: Annotated[float, typer.Option("--high", help="Highest value tried.")] = 0.6,
    tolerance: Annotated[float, typer.Option("--tolerance", min=1e-6)] = 0.01,
    reps: Annotated[int, typer.Option("--reps", "-n", min=2, help="Replications a value.")] = 100,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Master seed.")] = 2021,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=256)] = DEFAULT_WORKERS,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting by dotted path.")
    ] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="A named variant.")] = None,
    dask: DaskOption = None,
    quiet: QuietOption = False,
    max_width: Annotated[
        float,
        typer.Option(
            "--max-width",
            min=0.01,
            max=1.0,
            help="Warn when the 95% interval of P(met) at the answer is wider than this.",
        ),
    ] = 0.2,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for solve_steps.csv/.parquet and metadata.json."),
    ] = None,
    force: ForceOption = False,
) -> None:
    """The smallest value of a lever at which P(target met) reaches --prob (a monotone search
    under common random numbers)."""
    _refuse_finished(out, force)
    try:
        sc, path = _load(scenario, list(set_ or []), variant)
        runner = _runner(workers, reps, dask)
        with _progress_bar(quiet) as bar, runner:
            task = bar.add_task(f"{lever} for {target}", total=None)
            found = api.solve(
                sc,
                target,
                lever,
                prob,
                seed,
                reps,
                low,
                high,
                tolerance,
                runner=runner,
                progress=lambda done, most: bar.update(task, completed=done, total=most),
            )
            bar.update(task, total=len(found.steps) * reps)  # the search may end early
    except BackendError as exc:
        raise _fail(str(exc)) from None
    except ScenarioError as exc:
        raise _fail(f"invalid setting\n{exc}") from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    from sim.results import proportion_interval

    steps = pd.DataFrame(
        [
            (k, round(value, 6), p, *proportion_interval(round(p * reps), reps), p >= prob)
            for k, (value, p) in enumerate(found.steps)  # values as sim.api.solve set them
        ],
        columns=["order", "value", "p_met", "ci_low", "ci_high", "reaches"],
    )
    digits = _digits(tolerance)
    for r in steps.sort_values("value").itertuples():
        out_console.print(
            f"  {lever} = {r.value:.{digits}f}: P({target} met) = {_fmt(r.p_met)} "
            f"({_fmt(r.ci_low)} - {_fmt(r.ci_high)})",
            highlight=False,
            markup=False,
        )
    if out is not None:
        meta = metadata(sc, seed, reps, reps, list(set_ or []), workers, str(path), variant)
        meta["command"] = "solve"
        meta["solve"] = {
            "target": target,
            "lever": lever,
            "prob": prob,
            "range": [low, high],
            "tolerance": tolerance,
            "value": found.value,
            "p_at_value": found.p_at_value,
            "p_interval": list(found.p_interval),
            "bracket": list(found.bracket),
            "monotone": found.monotone,
        }
        meta.pop("scenario_resolved", None)
        _write_results(out, {"solve_steps": steps}, meta)
    width = found.p_interval[1] - found.p_interval[0]
    if width > max_width:
        err_console.print(
            f"[yellow]warning:[/] the 95% interval of P({escape(target)} met) at the answer is "
            f"{_fmt(found.p_interval[0])} - {_fmt(found.p_interval[1])}, {width * 100:.0f} points "
            f"wide (more than --max-width {max_width * 100:.0f}): {reps} replications a value "
            "cannot place the answer; add --reps (the width shrinks as 1/sqrt(reps)).",
            soft_wrap=True,
            highlight=False,
        )
    if found.value is None:
        out_console.print(
            f"not reached at any value tried: {lever} = {high:.{digits}f} gives P({target} met) = "
            f"{_fmt(found.p_at_value)} (95% interval {_fmt(found.p_interval[0])} - "
            f"{_fmt(found.p_interval[1])}), below {_fmt(prob)}",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(1)
    if not found.monotone:
        err_console.print(
            f"[yellow]note:[/] P({escape(target)} met) fell somewhere as {escape(lever)} rose "
            "(see the values above): the value found is a crossing of the level, not "
            "necessarily the smallest one.",
            soft_wrap=True,
        )
    below = found.bracket[0]
    out_console.print(
        f"{lever} = {found.value:.{digits}f} gives P({target} met) = {_fmt(found.p_at_value)} "
        f"(95% interval {_fmt(found.p_interval[0])} - {_fmt(found.p_interval[1])}) >= "
        f"{_fmt(prob)}"
        + (
            f"; {below:.{digits}f} does not"
            if not math.isnan(below)
            else "; so does the lowest value"
        ),
        highlight=False,
        markup=False,
    )


@app.command()
def sensitivity(
    scenario: Annotated[
        str | None, typer.Argument(help="A bundled scenario name or a path to a YAML file.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="A setting's range: path=a:b.")
    ] = None,
    target: Annotated[str, typer.Option("--target", help="The target's id.")] = "",
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="sobol, morris, fast, delta or pawn (SALib; delta and pawn on a Latin hypercube).",
        ),
    ] = "sobol",
    n: Annotated[
        int | None,
        typer.Option(
            "--n",
            min=2,
            help="Sample size: Sobol base samples (N(D+2) points, default 16), Morris "
            "trajectories (N(D+1), 16), FAST points a parameter (N*D, at least 65), delta and "
            "PAWN points (64).",
        ),
    ] = None,
    output: Annotated[
        str, typer.Option("--output", help="p_met (P(target met)) or metric (its mean).")
    ] = "p_met",
    reps: Annotated[int, typer.Option("--reps", "-n", min=2, help="Replications a point.")] = 50,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Master seed.")] = 2021,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=256)] = DEFAULT_WORKERS,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting by dotted path.")
    ] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="A named variant.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the tables.")] = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Also draw the ranked indices as an SVG file (bar chart)."),
    ] = None,
    dask: DaskOption = None,
    quiet: QuietOption = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted analysis stored in --out (same command): finished "
            "replications are kept, only the missing ones run.",
        ),
    ] = False,
    force: ForceOption = False,
    yes: YesOption = False,
) -> None:
    """Global sensitivity of a target to settings (SALib: Sobol indices or Morris screening).

    With --out, replications are streamed to OUT/chunks/ as they finish; an interrupted or
    killed analysis continues with --resume."""
    try:
        sc, path = _load(scenario, list(set_ or []), variant)
    except ScenarioError as exc:
        raise _fail(f"invalid scenario\n{exc}") from None
    if output not in ("p_met", "metric"):
        raise _fail("--output is p_met or metric")
    if chart is not None:  # checked before the run, not after it
        if chart.is_dir():
            raise _fail(f"--chart {chart} is a folder: give the SVG file to write")
        above = next((p for p in chart.parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise _fail(f"cannot write the chart {chart}: {above} is not a folder", 1)
    design = {"method": method, "n": n, "params": list(param or [])}
    try:
        from sim.sensitivity import DEFAULT_N, METHODS, points

        if method == "sobol" and n is not None and n & (n - 1):
            low = 1 << (n.bit_length() - 1)
            err_console.print(
                f"note: Sobol's sample is balanced only when --n is a power of 2 (got {n}; "
                f"{low} or {2 * low} would be)",
                highlight=False,
                markup=False,
            )
        if method in METHODS:
            size = points(method, n or DEFAULT_N[method], len(param or []) or 1)
            _confirm_long(sc, seed, size * reps, workers, yes)
    except ImportError:
        pass  # said below, where the analysis needs SALib
    store = _open_store(out, resume, "sensitivity", sc, seed, design=design, force=force)
    try:
        from sim.sensitivity import analyse

        params = [parse_range(p) for p in param or []]
        progress = _progress_bar(quiet)
        runner = _runner(workers, reps, dask)
        with progress, _sigterm_as_interrupt(), runner:
            task = progress.add_task(f"{method} on {target}: points", total=None)

            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = analyse(
                sc,
                params,
                target,
                method,
                n,
                reps,
                seed,
                output,
                progress=tick,
                runner=runner,
                store=store,
            )
    except WorkerError as exc:  # a worker process was killed: what is stored is good
        unwritten = _flush(store, out)
        raise _fail(
            str(exc) + (f"; {unwritten}" if unwritten else "") + _kept(store, out)
        ) from None
    except BackendError as exc:
        raise _fail(str(exc)) from None
    except DesignError as exc:
        raise _fail(str(exc)) from None
    except (KeyboardInterrupt, OSError) as exc:
        interrupted = not isinstance(exc, OSError)
        why = _write_failure(exc, out) if isinstance(exc, OSError) else "interrupted"
        kept = ""
        if store is not None:
            unwritten = _flush(store, out)
            kept = (
                f"; {unwritten}"
                if unwritten and unwritten != why
                else (
                    f"; {store.written_count()} replications stored in {out}, continue with "
                    "--resume"
                )
            )
        raise _fail(why + kept, EXIT_INTERRUPTED if interrupted else EXIT_BAD_INPUT) from None
    except ScenarioError as exc:
        raise _fail(f"invalid setting\n{exc}") from None
    except ImportError:
        raise _fail("sensitivity needs SALib: pip install -e '.[research]'") from None
    table = Table(
        title=f"{method} sensitivity of {'P(' + target + ' met)' if output == 'p_met' else target}"
        f" ({len(result.samples)} points x {reps} replications), most influential first",
        title_justify="left",
    )
    for col in result.indices.columns:
        table.add_column(col, justify="right" if col != "parameter" else "left", no_wrap=True)
    checks = result.checks.set_index("parameter") if len(result.checks) else None
    if checks is not None:
        table.add_column("converged?", justify="left", no_wrap=True)
    for row in result.indices.to_dict("records"):
        cells = [v if isinstance(v, str) else f"{v:.3f}" for v in row.values()]
        if checks is not None:
            ok = checks["converged"].get(row["parameter"])
            cells.append("-" if ok is None or _isnan(ok) else "yes" if bool(ok) else "no")
        table.add_row(*cells)
    out_console.print(table)
    out_console.print(f"convergence: {result.verdict}", highlight=False, markup=False)
    if out is not None:
        meta = metadata(
            sc,
            seed,
            reps,
            reps,
            list(set_ or []),
            workers,
            str(path),
            variant,
            command="sensitivity",
        )
        meta["sensitivity"] = {
            "method": method,
            "n": n,
            "params": list(param or []),
            "verdict": result.verdict,
            "target": target,
            "output": output,
            "points": len(result.samples),
        }
        tables = {
            "sensitivity_indices": result.indices,
            "sensitivity_samples": result.samples,
            "sensitivity_convergence": result.convergence,
            "sensitivity_checks": result.checks,
        }
        meta["columns"] = for_metadata(tables)
        text = json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n"
        with _writing_tables(out, f"the {len(result.samples) * reps} replications"):
            for name, df in tables.items():
                write_table(out, name, df)
            atomic_write(out / "metadata.json", lambda f: Path(f).write_text(text, "utf-8"))
        out_console.print(
            f"results written to {out}/ ({', '.join(tables)} as CSV and Parquet; metadata.json)",
            markup=False,
        )
    if chart is not None:
        from sim.charts import sensitivity_svg

        svg = sensitivity_svg(result.indices, method, str(table.title))
        try:  # a temporary file in the same folder, then a rename: never half a chart
            chart.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(chart, lambda f: Path(f).write_text(svg, "utf-8"))
        except OSError as exc:
            raise _fail(f"cannot write the chart {chart}: {exc.strerror or exc}", 1) from None
        out_console.print(f"chart written to {chart}", markup=False, highlight=False)


@app.command()
def explore(
    scenario: Annotated[
        str | None, typer.Argument(help="A bundled scenario name or a path to a YAML file.")
    ] = None,
    lever: Annotated[
        list[str] | None,
        typer.Option(
            "--lever",
            help="What the province decides: path=LOW:HIGH, path=LOW:HIGH:STEP, path=V1,V2 or "
            "path=word1,word2 (repeatable; default: the scenario's exploration block).",
        ),
    ] = None,
    uncertainty: Annotated[
        list[str] | None,
        typer.Option(
            "--uncertainty",
            help="What nobody controls, beyond the assumptions: path=a:b (repeatable; "
            "default: the scenario's exploration block).",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Use only this group of assumptions (or this assumption's path) as an "
            "uncertainty; repeatable (default: the exploration block's, else all).",
        ),
    ] = None,
    assumptions: Annotated[
        bool,
        typer.Option(
            "--assumptions/--no-assumptions",
            help="Whether the scenario's assumptions are uncertainties of the study.",
        ),
    ] = True,
    lever_design: Annotated[
        str, typer.Option("--lever-design", help="grid, lhs or sobol over the levers.")
    ] = "grid",
    n_levers: Annotated[
        int, typer.Option("--n-levers", min=1, help="Lever settings of an lhs or sobol design.")
    ] = 4,
    state_design: Annotated[
        str,
        typer.Option("--state-design", help="lhs, sobol or grid over the uncertainties."),
    ] = "lhs",
    n_states: Annotated[
        int,
        typer.Option("--n-states", min=1, help="States of the world (sobol: a power of two)."),
    ] = 16,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            min=0.01,
            max=1.0,
            help="A point 'fails' a target when its P(met) is below this (scenario discovery).",
        ),
    ] = 0.5,
    include_levers: Annotated[
        bool,
        typer.Option(
            "--include-levers",
            help="Let the discovery boxes restrict levers too, not only uncertainties.",
        ),
    ] = False,
    target: Annotated[
        list[str] | None,
        typer.Option("--target", help="Report only these targets (repeatable; all are written)."),
    ] = None,
    reps: Annotated[int, typer.Option("--reps", "-n", min=1, help="Replications a point.")] = 20,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Master seed.")] = 2021,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=256)] = DEFAULT_WORKERS,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting by dotted path.")
    ] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="A named variant.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for the tables (explore_*.parquet/.csv)."),
    ] = None,
    quiet: QuietOption = False,
    dask: DaskOption = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue an interrupted study stored in --out (the same command): finished "
            "replications are kept, only the missing ones run.",
        ),
    ] = False,
    force: ForceOption = False,
    yes: YesOption = False,
) -> None:
    """Exploratory modelling (XLRM): every lever setting against the same states of the world
    (the uncertainties), on common random numbers; the robustness of each setting (worst case,
    10th percentile, regret) and the regions of the uncertainties where a target fails (PRIM
    boxes, CART).

    With --out, replications are streamed to OUT/chunks/ as they finish; an interrupted or
    killed study continues with --resume."""
    from sim import explore as ex

    try:
        sc, path = _load(scenario, list(set_ or []), variant)
    except ScenarioError as exc:
        raise _fail(f"invalid scenario\n{exc}") from None
    block = sc.exploration
    levers = list(lever or (block.levers if block else []))
    extra = list(uncertainty or (block.uncertainties if block else []))
    picked = list(only or (block.assumptions or [] if block else []))
    use_all = not only and (block is None or block.assumptions is None)
    options: dict[str, Any] = {
        "lever_design": lever_design,
        "n_levers": n_levers,
        "state_design": state_design,
        "n_states": n_states,
    }
    try:
        if assumptions and sc.assumptions and (use_all or picked):
            study = ex.Study.from_assumptions(
                sc, levers=levers, only=picked, extra=extra, **options
            )
        else:
            study = ex.Study.from_specs(uncertainties=extra, levers=levers, **options)
        plan = ex.design(study, seed)
        ex.check(sc, plan, ex.settings(sc, study, plan))
    except DesignError as exc:
        raise _fail(f"bad exploration design\n{exc}") from None
    n_settings, n_states_run = plan["lever_id"].nunique(), plan["state_id"].nunique()
    out_console.print(
        f"[bold]{escape(sc.name.en)}[/]: {n_settings} lever setting(s) x {n_states_run} "
        f"state(s) of the world = {len(plan)} points, {reps} replications each (seed {seed})",
        highlight=False,
    )
    for role, params in (("lever", study.levers), ("uncertainty", study.uncertainties)):
        for p in params:
            out_console.print(f"  {role}: {ex.spec(p)}", highlight=False, markup=False)
    for note in study.notes:
        out_console.print(f"  note: {note}", highlight=False, markup=False)
    total = len(plan) * reps
    _confirm_long(sc, seed, total, workers, yes)
    store = None
    if out is not None:
        try:
            store = ResultStore.open(
                out,
                ex.store_identity(sc, study, seed),
                [t.id for t in sc.targets],
                resume=resume,
                force=force,
            )
        except StoreError as exc:
            raise _fail(str(exc)) from None
        _say_replaced(store, out)
        if resume:
            err_console.print(
                f"resuming: {store.count()} replications already stored in {out}",
                highlight=False,
                markup=False,
            )
    elif resume:
        raise _fail("--resume needs --out, the folder of the study to continue")
    runner = _runner(workers, reps, dask)
    progress = _progress_bar(quiet)
    started = time.perf_counter()
    failed: str | None = None
    code = EXIT_BAD_INPUT
    read_back = store.count() if store is not None else 0
    try:
        with progress, _sigterm_as_interrupt(), runner:
            task = progress.add_task(f"{sc.province}: {len(plan)} points", total=total)
            result = ex.explore(
                sc,
                study,
                seed,
                reps,
                runner=runner,
                progress=lambda k: progress.advance(task, k),
                store=store,
                threshold=threshold,
                include_levers=include_levers,
            )
    except WorkerError as exc:
        failed = str(exc)
    except BackendError as exc:
        raise _fail(str(exc)) from None
    except DesignError as exc:
        raise _fail(f"bad exploration design\n{exc}") from None
    except KeyboardInterrupt:
        failed, code = "interrupted", EXIT_INTERRUPTED
    except StoreError as exc:
        failed = str(exc)
    except OSError as exc:
        failed = _write_failure(exc, out)
    except ImportError as exc:
        raise _fail(
            f"explore needs the research extras ({exc.name}): pip install -e '.[research]'"
        ) from None
    finally:
        unwritten = _flush(store, out)
    if failed or unwritten:
        raise _fail((failed or unwritten or "") + _kept(store, out), code)
    elapsed = time.perf_counter() - started
    _print_exploration(result, list(target or []))
    out_console.print(
        f"{total} replications in {elapsed:.1f} s"
        + (f" ({read_back} of them read back from {out})" if read_back else ""),
        highlight=False,
    )
    if out is not None:
        meta = metadata(
            sc, seed, reps, reps, list(set_ or []), workers, str(path), variant, command="explore"
        )
        meta["explore"] = result.metadata
        meta["elapsed_seconds"] = round(elapsed, 3)
        tables = {f"explore_{name}": df for name, df in result.tables().items()}
        names = [p.path for p in (*study.levers, *study.uncertainties)]
        meta["columns"] = for_metadata(tables, names)
        text = json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n"
        with _writing_tables(out, f"the {total} replications"):
            for name, df in tables.items():
                write_table(out, name, df)
            atomic_write(out / "metadata.json", lambda f: Path(f).write_text(text, "utf-8"))
        out_console.print(
            f"results written to {out}/ ({', '.join(tables)} as CSV and Parquet; metadata.json)",
            markup=False,
            highlight=False,
        )


def _print_exploration(result: Any, only: list[str]) -> None:
    """Per target: the most robust lever settings (least maximum regret), and the regions of
    the uncertainties where it fails (the first PRIM box)."""
    rob = result.robustness
    levers = [spec.partition("=")[0] for spec in result.metadata["study"]["levers"]]
    targets = list(dict.fromkeys(rob["target"]))
    if only:
        unknown = sorted(set(only) - set(targets))
        if unknown:
            err_console.print(
                f"[yellow]note:[/] no target {escape(', '.join(unknown))} in the results",
                highlight=False,
            )
        targets = [t for t in targets if t in only]
    for t in targets:
        rows = rob[rob["target"] == t].sort_values("rank_regret").head(5)
        table = Table(
            title=f"{t}: the most robust lever settings (least maximum regret over "
            f"{int(rows['states'].iloc[0])} states)",
            title_justify="left",
        )
        for col in (*levers, "mean P", "worst P", "P10", "max regret"):
            table.add_column(col, justify="right", no_wrap=True)
        for d in rows.to_dict("records"):  # records: setting paths are not identifiers
            cells = [_bound(d[c]) for c in levers]
            cells += [_fmt(d[c]) for c in ("p_mean", "p_worst", "p10", "max_regret")]
            table.add_row(*cells)
        out_console.print(table)
        boxes = result.prim[result.prim["target"] == t]
        if len(boxes):
            first = boxes[boxes["box"] == boxes["box"].min()]
            b = first.iloc[0]
            where = "; ".join(
                f"{r.dimension} in [{_bound(r.low)}, {_bound(r.high)}]"
                if not isinstance(r.categories, str) or not r.categories
                else f"{r.dimension} in {{{r.categories}}}"
                for r in first.itertuples()
            )
            out_console.print(
                f"  fails (P(met) < threshold) mostly where {where}: coverage "
                f"{_fmt(b['coverage'])} of the failing points, density {_fmt(b['density'])}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        else:
            notes = result.discovery_notes
            why = notes[(notes["target"] == t) & (notes["method"] == "prim")]["reason"]
            if len(why):
                out_console.print(f"  no PRIM box: {why.iloc[0]}", highlight=False, markup=False)


def _bound(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


@app.command("roster")
def roster_cmd(
    scenario: Annotated[
        str | None,
        typer.Argument(help="A bundled scenario name or a path to a YAML file."),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The roster to write: .csv or .xlsx.")
    ] = Path("roster.csv"),
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, help="Master seed.")] = 2021,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting by dotted path.")
    ] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="A named variant.")] = None,
    check: Annotated[
        Path | None,
        typer.Option("--check", help="Check this roster against the scenario instead."),
    ] = None,
) -> None:
    """Write the synthetic starting population of a scenario as a roster (a template to fill
    with real, anonymised people), or check a roster with --check."""
    try:
        sc, _path = _load(scenario, list(set_ or []), variant)
    except ScenarioError as exc:
        raise _fail(f"invalid scenario\n{exc}") from None
    sc = _roster_start(sc)
    if check is not None:
        try:
            found = load_roster(check, sc, build_layout(sc))
        except RosterError as exc:
            raise _fail(str(exc)) from None
        holders = int((found.people.post >= 0).sum())
        out_console.print(
            f"[green]valid roster:[/] {escape(str(check))}: {len(found.ids)} people, "
            f"{holders} of {build_layout(sc).n_posts} posts held, "
            f"{len(found.ids) - holders} in the specialist pool",
            highlight=False,
        )
        return
    frame = roster_frame(Model(sc, seed, 0))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".xlsx":
            frame.to_excel(out, index=False)
        elif out.suffix.lower() == ".csv":
            frame.to_csv(out, index=False)
        else:
            raise _fail(f"{out}: write a .csv or .xlsx file")
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or exc}", 1) from None
    out_console.print(f"wrote {len(frame)} people to {out}", highlight=False)


def _variant_lines(sc: Scenario) -> list[str]:
    """One line a variant: its name for --variant, what it is (the page's English name), and
    the settings it changes."""
    from sim import i18n

    names = i18n.section("variants")
    lines = []
    width = max((len(v) for v in sc.variants), default=0)
    for v, settings in sc.variants.items():
        what = names[v][1] if v in names else "(no description in sim/catalogue.yaml)"
        shown = [f"{k}={_short(val)}" for k, val in list(settings.items())[:3]]
        if len(settings) > 3:
            shown.append(f"and {len(settings) - 3} more")
        lines.append(f"--variant {v:<{width}}  {what} [{', '.join(shown)}]")
    return lines


def _short(value: Any, room: int = 24) -> str:
    """A setting's value for one line: a long list or mapping cut with an ellipsis."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= room else text[: room - 1] + "…"


@app.command()
def validate(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario names or YAML files.")],
) -> None:
    """Check scenario files and report every problem with its place in the file; list each
    valid scenario's variants (what each is and the settings it changes)."""
    bad = 0
    for name in scenarios:
        path = resolve_scenario_path(name)
        try:
            sc = load_scenario(path)
            for v in sc.variants:
                sc.variant(v)
        except ScenarioError as exc:
            bad += 1
            err_console.print(
                f"[bold red]invalid:[/] {escape(str(path))}", highlight=False, soft_wrap=True
            )
            for issue in exc.issues:
                err_console.print(f"  {issue}", highlight=False, markup=False, soft_wrap=True)
            continue
        out_console.print(
            f"[green]valid:[/] {escape(str(path))} ({sc.province}, "
            f"{len(sc.targets)} targets, {len(sc.variants)} variants, "
            f"hash {sc.digest()})",
            highlight=False,
            soft_wrap=True,
        )
        for line in [*merging.describe(sc), *_variant_lines(sc)]:
            out_console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="A readable reference page.")
    ] = False,
) -> None:
    """Print the JSON Schema of scenario files (or a reference page with --markdown)."""
    text = (
        schema_markdown() if markdown else json.dumps(json_schema(), indent=2, ensure_ascii=False)
    )
    if out is None:
        sys.stdout.write(text + "\n")
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or exc}") from None


@app.command("list")
def list_scenarios() -> None:
    """List the bundled scenarios."""
    for p in sorted(bundled_scenarios_dir().glob("*.yaml")):
        try:
            sc = load_scenario(p)
            out_console.print(f"{p.stem:16s} {sc.name.en}", highlight=False, markup=False)
        except ScenarioError:
            hint = escape(f"{p.stem:16s} (invalid: run cadresim validate {p})")
            out_console.print(f"[red]{hint}[/]")


def _version(value: bool) -> None:
    if value:
        out_console.print(f"cadresim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """cadresim: how likely is each leadership target to be met, at what cost."""


def _click_exceptions() -> Any:
    """The module of the click exceptions Typer raises: recent Typer carries its own copy of
    click (``typer._click``), older Typer uses click itself."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older Typer
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def main() -> None:
    """Entry point of the console script: no traceback ever reaches the user.

    Set ``CADRESIM_DEBUG=1`` to see the full traceback of an unexpected error.
    """
    ce = _click_exceptions()
    try:
        # Not standalone: click's usage errors reach this function, to be said in one line like
        # every other error (Typer would draw them in a box, with a usage block above).
        code = app(standalone_mode=False)
    except ce.NoArgsIsHelpError as exc:  # bare `cadresim`: its help
        out_console.print(exc.ctx.get_help() if exc.ctx else "", highlight=False, markup=False)
        sys.exit(0)
    except ce.ClickException as exc:  # a bad option, value or command
        where = f"{exc.ctx.command_path}: " if getattr(exc, "ctx", None) else ""  # type: ignore[attr-defined]
        helper = f" (see {exc.ctx.command_path} --help)" if getattr(exc, "ctx", None) else ""  # type: ignore[attr-defined]
        message = " ".join(exc.format_message().split())
        err_console.print(
            f"[bold red]error:[/] {escape(where + message + helper)}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(exc.exit_code)
    except typer.Abort:  # Ctrl-C at a prompt
        err_console.print("[yellow]interrupted[/]")
        sys.exit(EXIT_INTERRUPTED)
    except ScenarioError as exc:
        err_console.print(
            f"[bold red]error:[/] invalid scenario\n{escape(str(exc))}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if os.environ.get("CADRESIM_DEBUG"):
            raise
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
            "This is a fault in cadresim, not in your input. Rerun with CADRESIM_DEBUG=1 "
            "for the full traceback and report it.",
            highlight=False,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
