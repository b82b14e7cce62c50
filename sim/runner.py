"""Execution strategies: run replications sequentially or on a local process pool."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

from sim import kernels
from sim.model import Model, RepResult
from sim.params import Params, compile_params
from sim.population import Layout
from sim.roster import Roster
from sim.scenario import Scenario


@dataclass(frozen=True)
class RepTask:
    """What a worker needs to run a batch of replications."""

    seed: int
    reps: tuple[int, ...]


def run_replication(
    scenario: Scenario,
    seed: int,
    rep: int,
    layout: Layout | None = None,
    keep_log: bool = False,
    roster: Roster | None = None,
    params: Params | None = None,
) -> RepResult:
    """Run one replication: a pure function of (scenario, roster, seed, rep).

    ``params`` (or ``layout``) compiled once for the scenario saves compiling them again.
    A merged province runs its sources and then itself (:mod:`sim.merger`); from a roster, it
    starts on the roster's date as a province of its own.
    """
    if scenario.merger is not None and roster is None:
        from sim import merger

        plan = params.merger if params is not None and params.merger is not None else None
        if plan is None or plan.scenario is not scenario:
            plan = merger.compile_plan(scenario)
        return merger.run_replication(scenario, seed, rep, plan, keep_log=keep_log)
    model = Model(
        scenario, seed, rep, keep_log=keep_log, layout=layout, params=params, roster=roster
    )
    return model.run()


_COMPILED: tuple[Scenario, Params] | None = None


def params_for(scenario: Scenario) -> Params:
    """The scenario's parameter bundle, compiled once and kept while the same scenario object
    comes back (a worker gets its scenario once and runs many batches of it)."""
    global _COMPILED
    if _COMPILED is None or _COMPILED[0] is not scenario:
        _COMPILED = (scenario, compile_params(scenario))
    return _COMPILED[1]


def batches(seed: int, reps: list[int], workers: int, size: int | None = None) -> list[RepTask]:
    """Split replications into the workers' batches, in order.

    Batches of up to 25 (fewer when there are few replications, so that every worker gets
    several) keep the cost of sending work and results small. The first batches are small and
    grow (one replication a worker, then two, four, ... up to the size), so that the first
    results, and a first estimate, come as soon as possible and the estimate is refreshed
    often while it is rough. Batching never changes a result: each replication is fixed by
    (seed, index).
    """
    size = size or max(1, min(25, len(reps) // (workers * 4) or 1))
    cuts = []
    at, step = 0, 1
    while at < len(reps):
        for _ in range(workers):
            if at >= len(reps):
                break
            cuts.append(at)
            at += min(step, size)
        step *= 2
    return [
        RepTask(seed, tuple(reps[a:b])) for a, b in zip(cuts, [*cuts[1:], len(reps)], strict=True)
    ]


def run_batch(scenario: Scenario, task: RepTask, roster: Roster | None = None) -> list[RepResult]:
    """Run a batch of replications of one scenario (the worker's unit of work)."""
    params = params_for(scenario)
    return [
        run_replication(scenario, task.seed, r, roster=roster, params=params) for r in task.reps
    ]


class Runner(Protocol):
    """Runs replications and yields their results as they finish (in any order).

    A runner is also a context manager: inside ``with runner:``, resources it starts (a Dask
    cluster or client) are kept for every ``results`` call and released at the end; outside
    one, each call starts and releases its own.
    """

    def results(
        self, scenario: Scenario, seed: int, reps: Iterable[int], roster: Roster | None = None
    ) -> Iterator[RepResult]: ...

    def __enter__(self) -> Runner: ...

    def __exit__(self, *exc: object) -> None: ...


class _Reusable:
    """The context-manager half of :class:`Runner` for runners with nothing to keep."""

    def __enter__(self) -> Runner:
        return self  # type: ignore[return-value]

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release what the runner holds (nothing here)."""


class SequentialRunner(_Reusable):
    """Runs every replication in this process, in order."""

    def results(
        self, scenario: Scenario, seed: int, reps: Iterable[int], roster: Roster | None = None
    ) -> Iterator[RepResult]:
        params = params_for(scenario)
        for r in reps:
            yield run_replication(scenario, seed, r, roster=roster, params=params)


# Worker-side state: the scenario is sent once per worker, not once per batch.
_WORKER_SCENARIO: Scenario | None = None
_WORKER_ROSTER: Roster | None = None


def _init_worker(scenario: Scenario, roster: Roster | None = None, owner: Any = None) -> None:
    global _WORKER_SCENARIO, _WORKER_ROSTER
    _WORKER_SCENARIO = scenario
    _WORKER_ROSTER = roster
    _exit_with_owner(owner)


def _exit_with_owner(owner: Any = None, interval: float = 1.0) -> None:
    """End this worker when the process that started the pool is gone (killed, say).

    A forked worker holds both ends of the pool's pipes, so it would never see them close and
    would wait, or finish its queued batches, for nobody. A daemon thread checks once a second
    that its parent is still there. A worker the pool did not fork itself (spawn, or forked by a
    fork server, which is its parent and lives on while its workers do) also watches ``owner``,
    the reading end of a pipe whose only writing end the pool's owner holds: it reads the end
    of the pipe when the owner is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            if owner is None:
                time.sleep(interval)
            elif owner.poll(interval):  # nothing is ever sent: the owner is gone
                break
        os._exit(1)

    threading.Thread(target=watch, name="cadresim-owner-watch", daemon=True).start()


def _worker_batch(task: RepTask) -> list[RepResult]:
    assert _WORKER_SCENARIO is not None, "worker not initialised"
    return run_batch(_WORKER_SCENARIO, task, _WORKER_ROSTER)


#: The start method a process host chose for its pools (:func:`use_start_method`); None: the
#: platform's default.
_HOST_START_METHOD: str | None = None

#: What the fork server imports once, before it forks any worker (``forkserver`` only): the
#: model, with every compiled kernel loaded, so that each pool's workers start warm.
FORKSERVER_PRELOAD = ["sim.preload"]


def use_start_method(method: str | None) -> str:
    """Start every later process pool of this process with ``method`` (None: the default).

    A threaded host should choose ``forkserver``: a server (the Streamlit app) runs many threads,
    and a worker forked from such a process inherits every lock another thread held at that
    moment, unreleased. The fork server is a single-threaded process started once (with the
    model imported and its kernels loaded), and each pool's workers are forked from it. Where
    ``forkserver`` is not available (Windows), ``spawn`` is used. Returns the method in use.
    """
    global _HOST_START_METHOD
    available = mp.get_all_start_methods()
    if method is not None and method not in available:
        if method != "forkserver":
            raise ValueError(f"start method {method!r} is not available here: {available}")
        method = "spawn"
    _HOST_START_METHOD = method
    return default_start_method()


def default_start_method() -> str:
    """The host's choice (:func:`use_start_method`), else ``fork`` where it is safe and cheap
    (Linux, a single-threaded process such as the CLI), ``spawn`` elsewhere."""
    if _HOST_START_METHOD is not None:
        return _HOST_START_METHOD
    if sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods():
        return "fork"
    return "spawn"


class ProcessPoolRunner(_Reusable):
    """Runs batches of replications on a pool of local worker processes (one pool a call:
    the scenario is bound to the workers when they start)."""

    def __init__(
        self, workers: int | None = None, batch: int | None = None, start_method: str | None = None
    ) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.batch = batch
        self.start_method = start_method or default_start_method()

    def results(
        self, scenario: Scenario, seed: int, reps: Iterable[int], roster: Roster | None = None
    ) -> Iterator[RepResult]:
        reps = list(reps)
        if not reps:
            return
        tasks = batches(seed, reps, self.workers, self.batch)
        if self.start_method == "fork":
            kernels.warm()  # once a process: forked workers inherit the loaded kernels
        ctx = mp.get_context(self.start_method)
        if self.start_method == "forkserver":
            ctx.set_forkserver_preload(FORKSERVER_PRELOAD)  # read when the server starts
        # Workers that are not forked from this process learn of its end by a pipe (the
        # writing end stays here; forked workers would inherit it, and watch their parent).
        owner_r, owner_w = (None, None) if self.start_method == "fork" else ctx.Pipe(duplex=False)
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(scenario, roster, owner_r),
        )
        finished = False
        workers: dict[int, Any] = {}
        try:
            pending: set[Future[list[RepResult]]] = {pool.submit(_worker_batch, t) for t in tasks}
            while pending:
                workers.update(getattr(pool, "_processes", None) or {})
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    if isinstance(fut.exception(), BrokenProcessPool):
                        broken = True
                        continue
                    yield from fut.result()
                if broken:
                    # Every batch is settled now: hand over those that did finish, then say
                    # what happened (a raw BrokenProcessPool names nothing the user can act on).
                    for fut in pending:
                        if fut.done() and fut.exception() is None:
                            yield from fut.result()
                    workers.update(getattr(pool, "_processes", None) or {})
                    raise WorkerError(_died(workers.values()))
            finished = True
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:  # interrupted or failed: do not wait for batches nobody will read
                _stop_pool(pool)
            for end in (owner_r, owner_w):
                if end is not None:
                    end.close()


def _died(processes: Iterable[Any]) -> str:
    """What to tell the user when a worker process of the pool ended without returning its
    batch (killed, out of memory, or crashed): which one, and how, when it can be told."""
    processes = list(processes)
    # The pool's own thread reaps the workers as it stops them: give it a moment, so that
    # every exit status is known (a worker reaped there reads as still running until then).
    deadline = time.monotonic() + 2.0
    while any(p.exitcode is None for p in processes) and time.monotonic() < deadline:
        time.sleep(0.02)
    how = []
    for proc in processes:
        code = proc.exitcode
        # The pool ends the remaining workers with SIGTERM once one has died: not the cause.
        if code is None or code == 0 or code == -signal.SIGTERM:
            continue
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            how.append(f"process {proc.pid} ended by {name}")
        else:
            how.append(f"process {proc.pid} exited with status {code}")
    detail = f" ({'; '.join(how)})" if how else ""
    return (
        f"a worker process died while running replications{detail}: it was killed (by a "
        "user, a batch scheduler or the out-of-memory killer) or it crashed"
    )


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued batches and stop the workers now (Python 3.11 has no public call for it).

    The pool's manager thread is let finish too. Python 3.11 wakes every manager thread
    still running at interpreter exit without the lock the thread closes its pipe under,
    so a run that stops on an error and then exits could print a traceback ("Bad file
    descriptor") after its one-paragraph message.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
    if manager is not None:
        manager.join(timeout=10)


def make_runner(workers: int = 1, dask: str | None = None) -> Runner:
    """The sequential runner for one worker, a process pool otherwise; a Dask cluster when
    ``dask`` is ``"local"`` or a scheduler address."""
    if dask:
        return DaskRunner(dask, workers)
    if workers <= 1:
        return SequentialRunner()
    return ProcessPoolRunner(workers)


def run_many(
    scenario: Scenario,
    seed: int,
    reps: int,
    runner: Runner | None = None,
    progress: Callable[[int], None] | None = None,
    roster: Roster | None = None,
) -> Generator[RepResult, None, None]:
    """Yield the results of replications ``0 .. reps - 1`` as they finish."""
    runner = runner or SequentialRunner()
    for res in runner.results(scenario, seed, range(reps), roster=roster):
        if progress is not None:
            progress(1)
        yield res


class BackendError(RuntimeError):
    """A backend that cannot be used (e.g. an unreachable Dask scheduler)."""


class WorkerError(BackendError):
    """A worker process ended without returning its replications (killed, out of memory, or
    crashed). The replications already yielded are good; the others must be run again (with a
    result store, ``--resume`` runs only those)."""


class DaskRunner(_Reusable):
    """Runs batches of replications on a Dask distributed cluster.

    ``address`` is ``"local"`` (start a LocalCluster of ``workers`` single-threaded worker
    processes on this machine) or a scheduler address such as ``tcp://10.0.0.5:8786`` (a
    running cluster; every worker needs this package installed). Inside ``with runner:`` the
    cluster and client are kept for every call (a sweep starts its cluster once); outside one,
    each call starts and closes its own. The scenario is sent to the workers once a call;
    results come back as batches finish, in any order, and are identical to the other
    runners' (the seed tree fixes each replication).
    """

    def __init__(self, address: str = "local", workers: int = 2, batch: int | None = None):
        self.address = address
        self.workers = workers
        self.batch = batch
        self._client: Any = None
        self._cluster: Any = None
        self._depth = 0

    def __enter__(self) -> DaskRunner:
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.close()

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise BackendError(
                "the Dask backend needs the research extras: pip install 'cadresim[research]'"
            ) from exc
        if self.address == "local":
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=50,
            )
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(self.address, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise BackendError(
                    f"cannot reach the Dask scheduler at {self.address}: {exc}"
                ) from None
        return self._client

    def close(self) -> None:
        """Close the client and, for ``"local"``, the cluster this runner started."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def results(
        self, scenario: Scenario, seed: int, reps: Iterable[int], roster: Roster | None = None
    ) -> Iterator[RepResult]:
        reps = list(reps)
        if not reps:
            return
        client = self._connect()  # raises BackendError if distributed is not installed
        from distributed import as_completed

        futures = []
        try:
            n_workers = max(1, len(client.scheduler_info().get("workers", {})) or self.workers)
            tasks = batches(seed, reps, n_workers, self.batch)
            # A fresh key each call: a key shared with a finished call may be being released.
            [sc_future] = client.scatter([scenario], broadcast=True, hash=False)
            futures = [client.submit(run_batch, sc_future, t, roster, pure=False) for t in tasks]
            for fut in as_completed(futures):
                yield from fut.result()
        finally:
            if self._depth == 0:
                self.close()
            elif futures:  # left early inside a with-block: drop what nobody will read
                client.cancel(futures)
