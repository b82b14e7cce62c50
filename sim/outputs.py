"""The files a study writes: its tables as CSV and Parquet, its metadata, its event log.

Every file is written whole or not at all (:func:`atomic_write`); ``metadata.json`` is written
last, so a folder that has it (with ``"complete": true``) holds a finished study.

The output folder of ``cadresim run --out DIR`` (its data dictionary; the columns of each
table are described in docs/API.md, "Reading results", and the README, "How to read the
output"):

- ``targets``, ``joint``, ``trajectories``, ``flows``, ``costs``, ``committee``, ``pool``,
  ``replications``: the tables of :class:`sim.results.Summary` (``Summary.tables()``, in that
  order), each as ``NAME.csv`` and ``NAME.parquet`` (:func:`write_outputs`).
- ``metadata.json``: what reproduces the study (:func:`metadata`): package version, scenario
  and its hash, variant, seed, replications asked for and done, whether the study is
  complete, overrides, workers, the whole resolved scenario; ``run`` adds the elapsed
  seconds, the replications it resumed with, the roster and the robustness settings.
- ``events_appointments``, ``events_exits`` (with ``--log``): the event log of replication 0
  (:func:`event_log_frames`).
- ``robustness`` (when the run computed or found it): one row a target, assumption and end.
- ``run.json`` and ``chunks/``: the replications streamed as they finish, for ``--resume``
  (:mod:`sim.store`).

The other commands write their own tables the same way (``sweep_points``, ``sweep_design``,
``sweep_replications``; ``sensitivity_indices``, ``sensitivity_samples``;
``robustness_summary``), each with its ``metadata.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import __version__
from sim.model import RepResult
from sim.results import Summary
from sim.scenario import Scenario


def atomic_write(path: Path, write: Any) -> None:
    """Write ``path`` through a synced temporary file in the same folder, then rename it into
    place: readers (and a killed process) see the old file or the new one, never half of one.
    ``write(tmp_path)`` writes the content. The file gets the usual permissions (umask).

    A failure raises :class:`OSError` (of the errno's subclass, e.g. PermissionError) whose
    ``filename`` is ``path`` and whose ``strerror`` is the reason (e.g. "No space left on
    device"), whatever library raised it (pyarrow's messages name neither)."""
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename != str(path):
            raise OSError(exc.errno, os_reason(exc), str(path)) from exc
        raise


def os_reason(exc: OSError) -> str:
    """What went wrong in a failed system call, as the system says it ("No space left on
    device", "Permission denied"), without the wrapping some libraries add."""
    if exc.errno:
        return os.strerror(exc.errno)
    return exc.strerror or str(exc)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_table(out: Path, name: str, frame: pd.DataFrame) -> list[Path]:
    """One table as ``out/NAME.csv`` and ``out/NAME.parquet`` (the folder is created if
    needed), each written whole or not at all; return the two paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv, parquet = out / f"{name}.csv", out / f"{name}.parquet"
    atomic_write(csv, lambda p: frame.to_csv(p, index=False))
    atomic_write(parquet, lambda p: frame.to_parquet(p, index=False))
    return [csv, parquet]


def write_outputs(summary: Summary, out: Path, metadata: dict[str, Any]) -> list[Path]:
    """Write every table as CSV and Parquet, and the metadata as JSON; return the paths."""
    from sim.dictionary import for_metadata

    out.mkdir(parents=True, exist_ok=True)
    written = []
    tables = summary.tables()
    for name, df in tables.items():
        written += write_table(out, name, df)
    # What every column means (sim/dictionary.py), beside the tables; tables the caller wrote
    # itself (the event log, robustness) may already be described there.
    metadata = {**metadata, "columns": {**metadata.get("columns", {}), **for_metadata(tables)}}
    meta = out / "metadata.json"
    atomic_write(
        meta,
        lambda p: Path(p).write_text(
            json.dumps(metadata, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        ),
    )
    written.append(meta)
    return written


def metadata(
    scenario: Scenario,
    seed: int,
    reps_requested: int,
    reps_done: int,
    overrides: list[str],
    workers: int,
    source: str | None,
    variant: str | None = None,
    complete: bool | None = None,
    command: str = "run",
) -> dict[str, Any]:
    """What is needed to reproduce a run. ``complete`` (default: every replication asked for
    is done) says the study ended normally; a study stopped early by a precision rule is
    complete, an interrupted one is not (and its folder can only be resumed)."""
    return {
        "package": "cadresim",
        "version": __version__,
        "command": command,
        "scenario": scenario.province,
        "scenario_file": source,
        "scenario_hash": scenario.digest(),
        "variant": variant,
        "seed": seed,
        "replications_requested": reps_requested,
        "replications_done": reps_done,
        "complete": reps_done == reps_requested if complete is None else complete,
        "overrides": overrides,
        "workers": workers,
        "scenario_resolved": scenario.model_dump(mode="json"),
    }


def event_log_frames(result: RepResult, layout: Any) -> dict[str, pd.DataFrame]:
    """The event log of one replication (run with ``keep_log=True``) as readable tables."""
    from sim.model import CAUSES as causes  # local: keeps the import surface small
    from sim.scenario import RANKS

    if result.log is None:
        raise ValueError("this replication was run without its event log")
    log = result.log
    birth = log["birth"]
    female = log["female"]

    def when(t: np.ndarray) -> pd.Series:
        years = (t // 12).astype(int)
        months = (t % 12).astype(int) + 1
        return pd.Series([f"{y:04d}-{m:02d}" for y, m in zip(years, months, strict=True)])

    a = log["appointments"]
    appts = pd.DataFrame(
        {
            "month": when(a["t"]),
            "t": a["t"],
            "post": a["post"],
            "unit": layout.post_unit[a["post"]],
            "block": [layout.block_ids[b] for b in layout.post_block[a["post"]]],
            "rank": [RANKS[r] for r in a["rank"]],
            "from_rank": [RANKS[r] if r >= 0 else "" for r in a["from_rank"]],
            "person": a["person"],
            "female": a["female"],
            "young": a["young"],
            "age": np.round((a["t"] - birth[a["person"]]) / 12.0, 1),
            "first_time": a["first"],
            "service_left_years": np.round(a["service_left"] / 12.0, 1),
            "vacant_months": np.round(a["t"] - a["opened"], 2),
            "reserved_months": np.round(
                np.where(a["reserved_from"] >= 0, a["t"] - a["reserved_from"], 0.0), 2
            ),
        }
    )
    e = log["exits"]
    e = e[e["post"] >= 0]
    exits = pd.DataFrame(
        {
            "month": when(e["t"]),
            "t": e["t"],
            "post": e["post"],
            "rank": [RANKS[r] for r in e["rank"]],
            "person": e["person"],
            "female": female[e["person"]],
            "age": np.round((e["t"] - birth[e["person"]]) / 12.0, 1),
            "cause": [causes[c] for c in e["cause"]],
        }
    )
    return {"events_appointments": appts, "events_exits": exits}
