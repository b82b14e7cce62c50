"""Ctrl-C on a real run keeps every finished replication and exits with 130."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_keeps_finished_replications(tmp_path: Path, workers: int) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            "--reps",
            "5000",
            "--workers",
            str(workers),
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A terminal's Ctrl-C reaches the whole foreground process group, workers included.
        preexec_fn=lambda: (os.setpgrp(), signal.signal(signal.SIGINT, signal.SIG_DFL)),
    )
    # Wait until some replications have finished: the first chunk streamed to the folder.
    deadline = time.monotonic() + 120
    while not list((out / "chunks").glob("chunk-*.parquet")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no replication finished in time"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert "interrupted after" in stderr
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["complete"] is False
    assert 0 < meta["replications_done"] < 5000
    reps = (out / "replications.csv").read_text(encoding="utf-8").splitlines()
    assert len(reps) > 1
    assert f"{meta['replications_done']} stored in {out}, continue with --resume" in stderr


@pytest.mark.slow
@pytest.mark.parametrize("start_method", ["fork", "forkserver", "spawn"])
def test_pool_workers_end_when_their_parent_is_killed(tmp_path: Path, start_method: str) -> None:
    """A script using the API is killed (SIGKILL: no clean-up): its worker processes must not
    go on computing for nobody, however they were started (under forkserver, as in the app,
    they are children of the fork server, which lives on while they do)."""
    script = tmp_path / "study.py"
    script.write_text(
        "from sim import runner\n"
        "from sim.scenario import load_scenario, resolve_scenario_path\n"
        "if __name__ == '__main__':\n"
        f"    runner.use_start_method({start_method!r})\n"
        "    sc = load_scenario(resolve_scenario_path('quang_binh'))\n"
        "    for r in runner.ProcessPoolRunner(2).results(sc, 1, range(5000)):\n"
        "        print(r.rep, flush=True)\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # a replication has finished: the workers are running
    started = _descendants(proc.pid)  # workers (and a fork server, a resource tracker)
    assert len(_pool_workers(started)) == 2, started
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 15
    alive = started
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in started if _running(pid)]
    assert not alive, f"processes {alive} outlived the study that started them"


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc: each thread lists the children it started)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children + [d for c in children for d in _descendants(c)]


def _pool_workers(pids: list[int]) -> list[int]:
    """The pool's worker processes among ``pids``: those that started no process of their own
    (a fork server starts the workers), other than multiprocessing's resource tracker."""
    workers = []
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            if _descendants(pid):
                continue
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(pid)
    return workers


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left


def test_an_abandoned_pool_run_leaves_no_thread_running() -> None:
    """A pool run stopped early (an error in the caller, a full disk, Ctrl-C) stops its
    manager thread before it returns. Python 3.11 wakes any manager thread still running at
    interpreter exit without the lock that thread closes its pipe under: a CLI run that
    stopped on an error printed a "Bad file descriptor" traceback after its message."""
    import threading

    from sim.runner import ProcessPoolRunner
    from sim.scenario import load_scenario, resolve_scenario_path

    sc = load_scenario(resolve_scenario_path("quang_binh"))
    before = set(threading.enumerate())
    results = ProcessPoolRunner(2, batch=1).results(sc, 1, range(40))
    next(results)
    started = [t for t in threading.enumerate() if t not in before]
    assert started, "the pool started no manager thread"
    results.close()  # the caller stops reading, as the CLI does on a write error
    assert not [t.name for t in started if t.is_alive()]
