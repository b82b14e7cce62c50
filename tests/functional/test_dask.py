"""The Dask backend: a LocalCluster gives the same replications as every other runner."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BUNDLED
from test_cli import invoke

pytest.importorskip("distributed")

from sim.runner import DaskRunner, ProcessPoolRunner, SequentialRunner
from sim.scenario import load_scenario


@pytest.mark.parametrize("name", [None, "scenarios/quang_tri_2025.yaml"])
def test_dask_local_cluster_equals_the_other_runners(name: str | None) -> None:
    sc = load_scenario(name or BUNDLED)  # a province, and a merged province
    reps = range(10 if name is None else 4)
    seq = {r.rep: r for r in SequentialRunner().results(sc, 17, reps)}
    pool = {r.rep: r for r in ProcessPoolRunner(2).results(sc, 17, reps)}
    dask = {r.rep: r for r in DaskRunner("local", 2).results(sc, 17, reps)}
    assert seq.keys() == pool.keys() == dask.keys()
    for k in seq:
        for other in (pool[k], dask[k]):
            assert np.array_equal(seq[k].target_value, other.target_value, equal_nan=True)
            assert np.array_equal(seq[k].appointments, other.appointments)
            assert np.array_equal(seq[k].exits, other.exits)
            assert np.array_equal(seq[k].trajectory, other.trajectory, equal_nan=True)


def test_cli_on_dask_and_an_unreachable_scheduler() -> None:
    r = invoke(["run", "--reps", "6", "-w", "2", "--dask", "local", "-q"])
    assert r.exit_code == 0, r.stdout
    plain = invoke(["run", "--reps", "6", "-w", "1", "-q"])
    table = r.stdout[r.stdout.index("Targets") :]
    assert table == plain.stdout[plain.stdout.index("Targets") :]
    bad = invoke(["run", "--reps", "4", "--dask", "tcp://127.0.0.1:1", "-q"])
    assert bad.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in bad.stderr


def test_one_cluster_serves_a_whole_sweep_and_solve_on_dask() -> None:
    """Inside ``with runner:`` the LocalCluster is started once and kept for every call; the
    commands that run many studies (sweep, compare, solve, sensitivity) accept --dask."""
    sc = load_scenario(BUNDLED)
    runner = DaskRunner("local", 2)
    with runner:
        first = list(runner.results(sc, 3, range(4)))
        client = runner._client
        second = list(runner.results(sc, 3, range(4, 8)))
        assert runner._client is client  # the same cluster for both calls
    assert runner._client is None  # closed at the end of the block
    seq = {r.rep: r for r in SequentialRunner().results(sc, 3, range(8))}
    for r in first + second:
        assert np.array_equal(seq[r.rep].target_value, r.target_value, equal_nan=True)
    grid = ["policy.appointment_share.women=0.1,0.3"]
    on_dask = invoke(["sweep", "--grid", *grid, "--reps", "4", "--dask", "local", "-q"])
    local = invoke(["sweep", "--grid", *grid, "--reps", "4", "-w", "1", "-q"])
    assert on_dask.exit_code == 0, on_dask.stderr
    cut = on_dask.stdout.index("replications in")
    assert on_dask.stdout[:cut] == local.stdout[: local.stdout.index("replications in")]
    args = ["compare", "--set-b", "policy.appointment_share.women=0.3", "--reps", "4", "-q"]
    assert invoke([*args, "--dask", "local"]).stdout == invoke([*args, "-w", "1"]).stdout


@pytest.mark.slow
def test_run_on_a_separately_started_scheduler_and_workers(tmp_path) -> None:
    """The multi-machine set-up of the README, on loopback: `dask scheduler` and `dask worker`
    started as their own processes, and `cadresim run --dask tcp://...` sent to them."""
    import shutil
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    dask_cli = Path(sys.executable).parent / "dask"
    if not dask_cli.exists():
        dask_cli = Path(shutil.which("dask") or "dask")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    log = tmp_path / "dask.log"
    with log.open("w") as sink:
        procs = [
            subprocess.Popen(
                [
                    str(dask_cli),
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-dashboard",
                ],
                stdout=sink,
                stderr=sink,
            )
        ]
        try:
            time.sleep(2)
            procs.append(
                subprocess.Popen(
                    [
                        str(dask_cli),
                        "worker",
                        address,
                        "--nworkers",
                        "2",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                    ],
                    stdout=sink,
                    stderr=sink,
                )
            )
            from distributed import Client

            with Client(address, timeout="30s") as client:
                client.wait_for_workers(2, timeout=60)
            remote = invoke(["run", "--reps", "6", "--dask", address, "-q"])
            assert remote.exit_code == 0, remote.stderr + log.read_text()
            local = invoke(["run", "--reps", "6", "-w", "1", "-q"])
            cut = remote.stdout.index("Targets")
            assert remote.stdout[cut:] == local.stdout[local.stdout.index("Targets") :]
        finally:
            for p in reversed(procs):
                p.terminate()
            for p in procs:
                p.wait(timeout=30)


def test_an_exploratory_study_on_dask_equals_the_local_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """cadresim explore runs on any backend: the same tables on a Dask LocalCluster as in
    this process."""
    import pandas as pd

    args = ["explore", "--lever", "policy.appointment_share.women=0.1,0.3", "--only", "exits"]
    args += ["--n-states", "2", "--reps", "2", "-q"]
    on_dask = invoke([*args, "--dask", "local", "-w", "2", "--out", str(tmp_path / "d")])
    local = invoke([*args, "-w", "1", "--out", str(tmp_path / "l")])
    assert on_dask.exit_code == 0 and local.exit_code == 0, on_dask.stderr + local.stderr
    for name in ("explore_points", "explore_joint", "explore_robustness", "explore_flows_costs"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "d" / f"{name}.parquet"),
            pd.read_parquet(tmp_path / "l" / f"{name}.parquet"),
        )
