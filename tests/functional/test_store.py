"""Replications streamed to Parquet: lossless round trip, safe folders, and resuming a real run
that was killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.model import RepResult
from sim.results import Collector, widest_half_width
from sim.runner import SequentialRunner
from sim.scenario import load_scenario, resolve_scenario_path
from sim.store import TABLE_FIELDS, TARGET_FIELDS, ResultStore, StoreError, identity

TABLES = ("targets", "joint", "trajectories", "flows", "costs", "committee", "pool", "replications")


def _scenario(name: str, variant: str | None = None):
    sc = load_scenario(resolve_scenario_path(name))
    return sc.variant(variant) if variant else sc


def _same(a: RepResult, b: RepResult) -> None:
    assert a.rep == b.rep and a.n_events == b.n_events
    for name in (*TARGET_FIELDS, *TABLE_FIELDS):
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert x.shape == y.shape, name
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        ("quang_binh", None),
        ("cao_bang", None),
        ("nghe_an", None),
        ("ha_giang", "restructuring_2025"),
    ],
)
def test_round_trip_is_lossless(tmp_path: Path, name: str, variant: str | None) -> None:
    sc = _scenario(name, variant)
    results = list(SequentialRunner().results(sc, 7, [3, 0, 2]))
    store = ResultStore.open(tmp_path, identity("run", sc, 7), [t.id for t in sc.targets])
    for r in results[:2]:
        store.add(r)
    store.flush()
    store.add(results[2])  # buffered, not yet written: still read back
    back = {r.rep: r for r in store.load(0)}
    assert sorted(back) == [0, 2, 3]
    for r in results:
        _same(r, back[r.rep])
    # Reopened from disk (after a flush), the same.
    store.flush()
    again = ResultStore.open(tmp_path, identity("run", sc, 7), [], resume=True)
    assert again.done(0) == {0, 2, 3}
    for r in again.load(0):
        _same(r, back[r.rep])


def test_chunks_are_readable_tables(tmp_path: Path) -> None:
    sc = _scenario("quang_binh")
    store = ResultStore.open(tmp_path, identity("run", sc, 1), [t.id for t in sc.targets])
    for r in SequentialRunner().results(sc, 1, range(3)):
        store.add(r, point=4)
    store.flush()
    [chunk] = list((tmp_path / "chunks").glob("*.parquet"))
    df = pd.read_parquet(chunk)
    assert list(df["rep"]) == [0, 1, 2] and set(df["point"]) == {4}
    assert f"value[{sc.targets[0].id}]" in df.columns and f"met[{sc.targets[0].id}]" in df.columns
    meta = json.loads(pq.read_schema(chunk).metadata[b"cadresim"])
    assert meta["study"]["scenario_hash"] == sc.digest() and meta["study"]["seed"] == 1


def test_each_replication_is_stored_once(tmp_path: Path) -> None:
    sc = _scenario("quang_binh")
    [r] = list(SequentialRunner().results(sc, 1, [0]))
    store = ResultStore.open(tmp_path, identity("run", sc, 1), [t.id for t in sc.targets])
    store.add(r)
    store.flush()
    store.add(r)
    store.flush()
    assert len(list((tmp_path / "chunks").glob("*.parquet"))) == 1
    assert store.count() == 1


def test_unfinished_study_is_not_overwritten_and_identity_is_checked(tmp_path: Path) -> None:
    sc = _scenario("quang_binh")
    ident = identity("run", sc, 1)
    store = ResultStore.open(tmp_path, ident, [t.id for t in sc.targets])
    store.add(next(SequentialRunner().results(sc, 1, [0])))
    store.flush()
    with pytest.raises(StoreError, match=r"unfinished .* 1 replications stored; add --resume"):
        ResultStore.open(tmp_path, ident, [])
    with pytest.raises(StoreError, match="seed differs"):
        ResultStore.open(tmp_path, identity("run", sc, 2), [], resume=True)
    other = sc.with_overrides(["policy.appointment_share.women=0.3"])
    with pytest.raises(StoreError, match="scenario_hash differs"):
        ResultStore.open(tmp_path, identity("run", other, 1), [], resume=True)
    # A finished study (its metadata says complete) is replaced only when asked (force),
    # and the store then says what it replaced.
    (tmp_path / "metadata.json").write_text(json.dumps({"complete": True, "replications_done": 1}))
    with pytest.raises(StoreError, match=r"finished run .* with 1 replications; add --force"):
        ResultStore.open(tmp_path, ident, [])
    assert (tmp_path / "metadata.json").exists()
    fresh = ResultStore.open(tmp_path, ident, [], force=True)
    assert fresh.count() == 0 and not list((tmp_path / "chunks").iterdir())
    assert fresh.replaced is not None and "finished run of quang_binh" in fresh.replaced


def test_leftover_temporary_file_is_ignored_and_broken_chunk_is_named(tmp_path: Path) -> None:
    sc = _scenario("quang_binh")
    ident = identity("run", sc, 1)
    store = ResultStore.open(tmp_path, ident, [t.id for t in sc.targets])
    store.add(next(SequentialRunner().results(sc, 1, [0])))
    store.flush()
    # What a process killed while writing leaves: a temporary file, never renamed.
    leftover = tmp_path / "chunks" / ".chunk-000001.parquet.abc.tmp"
    leftover.write_bytes(b"PAR1 half")
    assert ResultStore.open(tmp_path, ident, [], resume=True).done(0) == {0}
    assert not leftover.exists()
    (tmp_path / "chunks" / "chunk-000007.parquet").write_bytes(b"not parquet")
    with pytest.raises(StoreError, match=r"chunk-000007.parquet is unreadable .* delete it"):
        ResultStore.open(tmp_path, ident, [], resume=True)


def test_collector_from_store_equals_collector_from_runs(tmp_path: Path) -> None:
    sc = _scenario("cao_bang")
    results = list(SequentialRunner().results(sc, 3, range(6)))
    store = ResultStore.open(tmp_path, identity("run", sc, 3), [t.id for t in sc.targets])
    for r in reversed(results):
        store.add(r)
    store.flush()
    a = Collector(sc, 6).extend(results).summary()
    b = Collector(sc, 6).extend(store.load(0)).summary()
    for name, df in a.tables().items():
        pd.testing.assert_frame_equal(df, b.tables()[name], obj=name)


# -- the command line: kill a real run, resume it, compare with an uninterrupted one ---------


def _cadresim(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the workers are killed with it
        **kwargs,
    )


def _wait_for_chunk(folder: Path, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not list((folder / "chunks").glob("chunk-*.parquet")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no chunk written"
        time.sleep(0.2)


def _tables_equal(a: Path, b: Path, names: tuple[str, ...]) -> None:
    for name in names:
        assert (a / f"{name}.csv").read_bytes() == (b / f"{name}.csv").read_bytes(), name


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_numbers(tmp_path: Path) -> None:
    killed, fresh = tmp_path / "killed", tmp_path / "fresh"
    args = ("run", "quang_binh", "--reps", "300", "--workers", "2", "--quiet")
    proc = _cadresim(*args, "--out", str(killed))
    _wait_for_chunk(killed, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # no chance to clean up
    proc.communicate(timeout=30)
    run_json = json.loads((killed / "run.json").read_text())
    assert run_json["kind"] == "run" and run_json["seed"] == 2021
    assert not (killed / "metadata.json").exists()  # killed before the summary was written
    n_before = len(pd.concat(pd.read_parquet(f) for f in (killed / "chunks").glob("*.parquet")))
    assert 0 < n_before < 300

    # Without --resume the folder is refused: nothing computed is thrown away unasked.
    again = _cadresim(*args, "--out", str(killed))
    _out, err = again.communicate(timeout=60)
    assert again.returncode == 2 and "add --resume" in err and "Traceback" not in err

    resumed = _cadresim(*args, "--out", str(killed), "--resume")
    _out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"resuming: {n_before} of 300 replications already stored" in err
    whole = _cadresim(*args, "--out", str(fresh))
    whole.communicate(timeout=300)
    assert whole.returncode == 0
    _tables_equal(killed, fresh, TABLES)
    meta = json.loads((killed / "metadata.json").read_text())
    assert meta["complete"] is True and meta["resumed_with"] == n_before
    reps = pd.concat(pd.read_parquet(f) for f in (killed / "chunks").glob("*.parquet"))["rep"]
    assert sorted(reps) == list(range(300))  # every replication stored once


@pytest.mark.slow
def test_terminated_sweep_keeps_its_replications_and_resumes(tmp_path: Path) -> None:
    stopped, fresh = tmp_path / "stopped", tmp_path / "fresh"
    args = (
        "sweep",
        "quang_binh",
        "--grid",
        "policy.appointment_share.women=0.1,0.3",
        "--reps",
        "150",
        "--workers",
        "2",
        "--quiet",
    )
    proc = _cadresim(*args, "--out", str(stopped))
    _wait_for_chunk(stopped, proc)
    os.kill(proc.pid, signal.SIGTERM)  # a scheduler's time limit: finish the chunk, then stop
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "continue with --resume" in err
    reps = pd.concat(pd.read_parquet(f) for f in (stopped / "chunks").glob("*.parquet"))
    assert len(reps) == len(reps.drop_duplicates(["point", "rep"]))
    resumed = _cadresim(*args, "--out", str(stopped), "--resume")
    _out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    whole = _cadresim(*args, "--out", str(fresh))
    whole.communicate(timeout=300)
    _tables_equal(stopped, fresh, ("sweep_points", "sweep_replications", "sweep_design"))


def test_resume_needs_out_and_a_writable_folder(tmp_path: Path) -> None:
    proc = _cadresim("run", "--reps", "2", "--resume", "--quiet")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "--resume needs --out" in err
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = _cadresim("run", "--reps", "2", "--quiet", "--out", str(blocker / "sub"))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "cannot write to output folder" in err
    assert "Traceback" not in err


def test_interrupted_sensitivity_analysis_resumes_to_the_same_indices(tmp_path: Path) -> None:
    pytest.importorskip("SALib")
    from sim.sensitivity import analyse
    from sim.sweep import parse_range

    sc = _scenario("quang_binh")
    params = [
        parse_range("policy.appointment_share.women=0.05:0.4"),
        parse_range("policy.evaluation_bias=-0.5:0.5"),
    ]
    ident = identity("sensitivity", sc, 7, design={"params": ["women", "bias"]})
    args = (sc, params, "QB-AW", "morris", 3, 6, 7)

    def stop_after_four(done: int, total: int) -> None:
        if done == 4:
            raise KeyboardInterrupt

    store = ResultStore.open(tmp_path, ident, [t.id for t in sc.targets])
    with pytest.raises(KeyboardInterrupt):
        analyse(*args, progress=stop_after_four, store=store)
    store.flush()
    kept = ResultStore.open(tmp_path, ident, [], resume=True)
    assert {p for p in range(9) if kept.done(p)} == {0, 1, 2, 3}
    ran = []
    resumed = analyse(*args, store=kept, progress=lambda d, t: ran.append(d))
    fresh = analyse(*args)
    pd.testing.assert_frame_equal(resumed.indices, fresh.indices)
    pd.testing.assert_frame_equal(resumed.samples, fresh.samples)
    assert ran == list(range(1, 10))


# -- a collector backed by the store: flat memory, the same figures ----------------------------


@pytest.mark.parametrize(
    ("name", "variant"),
    [("quang_binh", None), ("cao_bang", None), ("ha_giang", "restructuring_2025")],
)
def test_store_backed_collector_gives_the_in_memory_figures_to_the_last_bit(
    tmp_path: Path, name: str, variant: str | None
) -> None:
    sc = _scenario(name, variant)
    results = list(SequentialRunner().results(sc, 5, range(12)))
    # Out of order, as a pool delivers them; replication 8 never arrives (an interrupted run).
    order = [5, 2, 7, 0, 3, 6, 1, 4, 11, 9, 10]
    store = ResultStore.open(
        tmp_path, identity("run", sc, 5), [t.id for t in sc.targets], chunk_reps=3
    )
    memory = Collector(sc, 12)
    streamed = Collector(sc, 12, store=store)
    for k in order:
        memory.add(results[k])
        streamed.add(results[k])
        # Sequential stopping watches the same intervals either way.
        assert widest_half_width(streamed) == widest_half_width(memory)
    assert not streamed.arrays  # nothing kept a replication: only counts and sums
    assert store.done(0) == set(order)  # the collector stored them
    assert len(list((tmp_path / "chunks").glob("*.parquet"))) == 3  # and 2 are still buffered
    a, b = memory.summary(), streamed.summary()
    assert a.n_reps == b.n_reps == 11 and a.n_events_mean == b.n_events_mean
    for table, df in a.tables().items():
        assert df.equals(b.tables()[table]), table
        pd.testing.assert_frame_equal(df, b.tables()[table], check_exact=True, obj=table)
    # After a flush, and from the folder reopened (a resumed run), still the same.
    store.flush()
    reopened = ResultStore.open(tmp_path, identity("run", sc, 5), [], resume=True)
    again = Collector(sc, 12, store=reopened).extend(reopened.load(0)).summary()
    for table, df in a.tables().items():
        assert df.equals(again.tables()[table]), table


def test_store_backed_collector_names_a_missing_replication(tmp_path: Path) -> None:
    sc = _scenario("quang_binh")
    store = ResultStore.open(tmp_path, identity("run", sc, 1), [t.id for t in sc.targets])
    collector = Collector(sc, 3, store=store).extend(SequentialRunner().results(sc, 1, range(3)))
    store.flush()
    for f in (tmp_path / "chunks").glob("*.parquet"):
        f.unlink()  # deleted behind the study's back
    with pytest.raises(StoreError, match=r"does not hold replications 0, 1, 2 of point 0"):
        collector.summary()


def test_a_new_study_drops_the_finished_one_s_metadata(tmp_path: Path) -> None:
    """Otherwise the old "complete" would let a later run replace the new study's chunks."""
    sc = _scenario("quang_binh")
    (tmp_path / "metadata.json").write_text(json.dumps({"complete": True}))
    ident = identity("run", sc, 2)
    store = ResultStore.open(tmp_path, ident, [t.id for t in sc.targets])
    assert not (tmp_path / "metadata.json").exists()
    store.add(next(SequentialRunner().results(sc, 2, [0])))
    store.flush()
    with pytest.raises(StoreError, match="add --resume"):
        ResultStore.open(tmp_path, ident, [])


def test_statistics_outputs_and_store_import_one_way() -> None:
    """Statistics (sim.results), file writing (sim.outputs) and the store (sim.store) import
    one another one way only, results <- outputs <- store, and each imports alone."""
    import ast

    root = Path(__file__).resolve().parents[2] / "sim"
    names = ("results", "outputs", "store")
    deps = {}
    for name in names:
        tree = ast.parse((root / f"{name}.py").read_text(encoding="utf-8"))
        found = set()
        for node in ast.walk(tree):  # local and TYPE_CHECKING imports count too
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        deps[name] = {n for n in names if f"sim.{n}" in found}
    assert deps == {"results": set(), "outputs": {"results"}, "store": {"outputs", "results"}}
    for name in names:
        proc = subprocess.run(
            [sys.executable, "-c", f"import sim.{name}"], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
