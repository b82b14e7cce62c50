"""Ctrl-C on a real run keeps every finished replication and exits with 130."""

from __future__ import annotations

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
