"""Faults: a killed worker process, an unwritable output folder, a full disk (while streaming
replications and while writing the tables), an interrupted final write. Each must end with a
clear message (no traceback) and lose or corrupt nothing: what is stored stays readable, and
``--resume`` completes the study with the numbers of an uninterrupted run.

(A killed or terminated study resumed is tested in ``test_store.py``; Ctrl-C in
``test_interrupt.py``.)"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim.api
import sim.cli
import sim.outputs
import sim.store
from sim.cli import app
from sim.runner import BackendError, ProcessPoolRunner, SequentialRunner, WorkerError
from sim.scenario import load_scenario, resolve_scenario_path
from sim.store import ResultStore

TABLES = ("targets", "joint", "trajectories", "flows", "costs", "committee", "pool", "replications")
#: The in-process runs: small, sequential, and streamed in chunks of 4 replications.
SMALL = ("run", "quang_binh", "--reps", "24", "--workers", "1", "--seed", "5", "--quiet")
#: The real runs: as a user would start one.
LARGE = ("run", "quang_binh", "--reps", "400", "--workers", "2", "--quiet")


def invoke(args: Iterable[str]) -> Any:
    """Run the app in process; no exception other than a normal exit may escape, and no
    traceback may be printed."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"cadresim raised {result.exception!r}") from result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Result stores write a chunk every 4 replications (never on time), so that a short run
    writes several."""
    original = ResultStore.open

    def open_small(*args: Any, **kwargs: Any) -> ResultStore:
        return original(*args, **{**kwargs, "chunk_reps": 4, "chunk_seconds": 1e9})

    monkeypatch.setattr(ResultStore, "open", open_small)


@pytest.fixture(scope="module")
def fresh_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tables of the small run, uninterrupted."""
    out = tmp_path_factory.mktemp("fresh_small")
    r = invoke([*SMALL, "--out", str(out)])
    assert r.exit_code == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def fresh_large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tables of the large run, uninterrupted (a real process)."""
    out = tmp_path_factory.mktemp("fresh_large")
    proc = _cadresim(*LARGE, "--out", str(out))
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return out


def _tables_equal(a: Path, b: Path, names: Iterable[str] = TABLES) -> None:
    for name in names:
        assert (a / f"{name}.csv").read_bytes() == (b / f"{name}.csv").read_bytes(), name


def _stored_reps(out: Path) -> list[int]:
    """The replications in the chunks (each chunk must be a whole, readable table)."""
    chunks = sorted((out / "chunks").glob("chunk-*.parquet"))
    if not chunks:
        return []
    return sorted(pd.concat(pd.read_parquet(f) for f in chunks)["rep"].tolist())


def _no_temporary_files(out: Path) -> None:
    assert not [p for p in out.rglob("*.tmp")], "a temporary file was left behind"


def _one_paragraph(err: str) -> None:
    text = err.strip()
    assert text.startswith("error:") and "\n\n" not in text and "Traceback" not in text, err


def _cadresim(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "CADRESIM_DEBUG"}
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: nothing outlives a failed test
        env=env,
    )


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (of any of its threads), from /proc."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_for_chunk(out: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not list((out / "chunks").glob("chunk-*.parquet")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no chunk written"
        time.sleep(0.2)


def _chunk_from(seq: int) -> Any:
    return lambda p: p.name.startswith("chunk-") and int(p.stem.split("-")[1]) >= seq


def _full_disk_at(match: Any, exc: BaseException | None = None) -> Any:
    """An ``atomic_write`` whose write of a file that ``match(path)`` accepts puts half of a
    file on disk and then fails as a full disk does (or raises ``exc``)."""
    real = sim.outputs.atomic_write

    def write(path: Path, content: Any) -> None:
        if not match(Path(path)):
            return real(path, content)

        def half(tmp: str) -> None:
            Path(tmp).write_bytes(b"PAR1 half a file")
            raise exc or OSError(errno.ENOSPC, "No space left on device")

        return real(path, half)

    return write


# -- a killed worker process ---------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_worker_is_a_clear_error_of_the_pool_runner() -> None:
    sc = load_scenario(resolve_scenario_path("quang_binh"))
    before = set(_children(os.getpid()))
    got = []
    results = ProcessPoolRunner(2).results(sc, 3, range(200))
    with pytest.raises(WorkerError) as caught:
        for res in results:
            got.append(res)
            if len(got) == 1:
                workers = [p for p in _children(os.getpid()) if p not in before]
                assert len(workers) == 2
                os.kill(workers[0], signal.SIGKILL)
    message = str(caught.value)
    assert "a worker process died" in message and "SIGKILL" in message, message
    assert isinstance(caught.value, BackendError)  # what callers of any backend catch
    assert caught.value.__cause__ is None  # no raw BrokenProcessPool chained to it
    # What was yielded before is good, and the pool is gone.
    assert 0 < len(got) < 200
    for res in got[:3]:
        [same] = SequentialRunner().results(sc, 3, [res.rep])
        assert np.array_equal(same.target_value, res.target_value, equal_nan=True)
        assert same.n_events == res.n_events
    deadline = time.monotonic() + 10
    while any(_running(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(p) for p in workers), "a worker outlived the failed pool"


@pytest.mark.slow
def test_a_killed_worker_stops_the_run_clearly_and_resume_completes_it(
    tmp_path: Path, fresh_large: Path
) -> None:
    out = tmp_path / "out"
    proc = _cadresim(*LARGE, "--out", str(out))
    _wait_for_chunk(out, proc)
    workers = _children(proc.pid)
    assert len(workers) == 2, workers
    os.kill(workers[0], signal.SIGKILL)  # the out-of-memory killer, or a user's kill -9
    _stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    _one_paragraph(err)
    assert "a worker process died" in err and "SIGKILL" in err
    stored = _stored_reps(out)  # every chunk whole and readable
    assert 0 < len(stored) < 400 and len(stored) == len(set(stored))
    assert f"{len(stored)} of 400 replications are stored in {out}" in err
    assert "--resume" in err
    assert not (out / "metadata.json").exists()
    _no_temporary_files(out)

    resumed = _cadresim(*LARGE, "--out", str(out), "--resume")
    _stdout, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert f"resuming: {len(stored)} of 400 replications already stored" in err
    _tables_equal(out, fresh_large)
    assert _stored_reps(out) == list(range(400))


class _DyingRunner(SequentialRunner):
    """Runs replications in this process; a worker "dies" after ``after`` of them."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.ran = 0

    def results(self, scenario: Any, seed: int, reps: Any, roster: Any = None) -> Iterator[Any]:
        for res in super().results(scenario, seed, reps, roster):
            if self.ran == self.after:
                raise WorkerError("a worker process died while running replications (test)")
            self.ran += 1
            yield res


def test_a_killed_worker_stops_a_sweep_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None
) -> None:
    monkeypatch.setattr(sim.cli, "_runner", lambda *a: _DyingRunner(10))
    args = ("sweep", "quang_binh", "--grid", "policy.appointment_share.women=0.1,0.3")
    args += ("--reps", "8", "--workers", "1", "--quiet", "--out", str(tmp_path))
    r = invoke(args)
    assert r.exit_code == 2
    _one_paragraph(r.stderr)
    assert "a worker process died" in r.stderr
    assert f"10 replications are stored in {tmp_path}" in r.stderr and "--resume" in r.stderr
    assert len(_stored_reps(tmp_path)) == 10


# -- an unwritable output folder -----------------------------------------------------------


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    """An existing folder nobody can write to. Permissions bind ordinary users; root ignores
    them, so as root the folder is made immutable (chattr +i), or a read-only file system is
    mounted on it; the test is skipped only when neither can be done."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    if not os.access(folder, os.W_OK):
        yield folder
        folder.chmod(0o700)
        return
    folder.chmod(0o700)
    undo: list[str] | None = None
    if shutil.which("chattr") and _quiet(["chattr", "+i", str(folder)]):
        undo = ["chattr", "-i", str(folder)]
    elif shutil.which("mount") and _quiet(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "cadresim-test", str(folder)]
    ):
        undo = ["umount", str(folder)]
    if undo is None:
        pytest.skip("running as root, and cannot make a folder read-only (no chattr, no mount)")
    try:
        yield folder
    finally:
        subprocess.run(undo, check=True)


def _quiet(cmd: list[str]) -> bool:
    return subprocess.run(cmd, capture_output=True).returncode == 0


@pytest.mark.parametrize(
    "command",
    [
        ("run", "quang_binh", "--reps", "400", "--workers", "2"),
        ("sweep", "quang_binh", "--grid", "policy.appointment_share.women=0.1,0.3", "--reps", "50"),
    ],
)
def test_an_unwritable_output_folder_is_refused_before_any_run(
    unwritable: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    def no_run(*_: object) -> None:
        raise AssertionError("replications were started")

    monkeypatch.setattr(sim.cli, "_runner", no_run)  # sweep
    monkeypatch.setattr(sim.api, "make_runner", no_run)  # run (its study makes its runner)
    r = invoke([*command, "--quiet", "--out", str(unwritable)])
    assert r.exit_code == 2
    _one_paragraph(r.stderr)
    assert f"cannot write to output folder {unwritable}: " in r.stderr
    reason = r.stderr.split(f"{unwritable}: ", 1)[1]
    assert any(
        why in reason
        for why in ("Permission denied", "Operation not permitted", "Read-only file system")
    ), reason
    assert not list(unwritable.iterdir())


# -- a full disk ---------------------------------------------------------------------------


def test_a_full_disk_while_streaming_keeps_every_stored_chunk_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None, fresh_small: Path
) -> None:
    out = tmp_path / "out"
    with monkeypatch.context() as full:
        # The disk fills while the third chunk (replications 8-11) is written.
        full.setattr(sim.store, "atomic_write", _full_disk_at(_chunk_from(2)))
        r = invoke([*SMALL, "--out", str(out)])
    assert r.exit_code == 2
    _one_paragraph(r.stderr)
    assert f"cannot write results to {out}: No space left on device" in r.stderr
    assert f"(writing {out / 'chunks' / 'chunk-000002.parquet'})" in r.stderr
    assert f"8 of 24 replications are stored in {out}" in r.stderr and "--resume" in r.stderr
    assert _stored_reps(out) == list(range(8))  # the chunks written before: whole, readable
    _no_temporary_files(out)
    assert not (out / "metadata.json").exists()

    again = invoke([*SMALL, "--out", str(out)])  # nothing stored is thrown away unasked
    assert again.exit_code == 2 and "add --resume" in again.stderr
    resumed = invoke([*SMALL, "--out", str(out), "--resume"])
    assert resumed.exit_code == 0, resumed.stderr
    assert "resuming: 8 of 24 replications already stored" in resumed.stderr
    _tables_equal(out, fresh_small)
    assert _stored_reps(out) == list(range(24))


@pytest.mark.parametrize(
    ("fault", "code", "said"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), 2, "No space left on device"),
        (KeyboardInterrupt(), 130, "interrupted while writing the tables"),
    ],
    ids=["full disk", "interrupted"],
)
def test_a_failed_final_write_leaves_whole_tables_and_resume_writes_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_chunks: None,
    fresh_small: Path,
    fault: BaseException,
    code: int,
    said: str,
) -> None:
    out = tmp_path / "out"
    with monkeypatch.context() as full:
        full.setattr(
            sim.outputs,
            "atomic_write",
            _full_disk_at(lambda p: p.name == "trajectories.parquet", fault),
        )
        r = invoke([*SMALL, "--out", str(out)])
    assert r.exit_code == code
    _one_paragraph(r.stderr)
    assert said in r.stderr
    if code == 2:
        assert f"cannot write results to {out}" in r.stderr
        assert f"(writing {out / 'trajectories.parquet'})" in r.stderr
    assert "no table is half written" in r.stderr and "--resume" in r.stderr
    assert f"the 24 replications are stored in {out}" in r.stderr
    _no_temporary_files(out)
    # The tables written before the fault are whole; the rest are absent, metadata.json too
    # (written last: the folder is an unfinished study, that only --resume continues).
    assert not (out / "trajectories.parquet").exists() and not (out / "metadata.json").exists()
    _tables_equal(out, fresh_small, ("targets", "joint", "trajectories"))
    for name in ("targets", "joint"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / f"{name}.parquet"),
            pd.read_parquet(fresh_small / f"{name}.parquet"),
        )
    assert _stored_reps(out) == list(range(24))

    again = invoke([*SMALL, "--out", str(out)])
    assert again.exit_code == 2 and "add --resume" in again.stderr
    resumed = invoke([*SMALL, "--out", str(out), "--resume"])
    assert resumed.exit_code == 0, resumed.stderr
    assert "resuming: 24 of 24 replications already stored" in resumed.stderr
    _tables_equal(out, fresh_small)


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return _quiet(["mount", "-t", "tmpfs", "-o", f"size={size}", "cadresim-test", str(folder)])


@pytest.mark.slow
def test_a_real_full_disk_keeps_every_stored_chunk_and_resumes(
    tmp_path: Path, fresh_large: Path
) -> None:
    """A real small file system (tmpfs, as root): the run fills it."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount_tmpfs(disk, "128k"):
        pytest.skip("mounting a small tmpfs needs root (and a mount command)")
    try:
        out = disk / "out"
        proc = _cadresim(*LARGE, "--out", str(out))
        _stdout, err = proc.communicate(timeout=600)
        assert proc.returncode == 2, err
        _one_paragraph(err)
        assert f"cannot write results to {out}: No space left on device" in err
        assert "--resume" in err
        stored = _stored_reps(out)  # every chunk whole and readable
        assert len(stored) == len(set(stored)) and len(stored) < 400
        assert f"{len(stored)} of 400 replications are stored in {out}" in err
        _no_temporary_files(out)

        assert _quiet(["mount", "-o", "remount,size=16m", str(disk)])  # space freed
        resumed = _cadresim(*LARGE, "--out", str(out), "--resume")
        _stdout, err = resumed.communicate(timeout=600)
        assert resumed.returncode == 0, err
        assert f"resuming: {len(stored)} of 400 replications already stored" in err
        _tables_equal(out, fresh_large)
    finally:
        subprocess.run(["umount", str(disk)], check=True)
