"""Replications streamed to Parquet as they finish, so that an interrupted study can resume.

A results folder holds:

- ``run.json``: what the study is (kind, package version, scenario hash, seed, roster hash,
  sweep design). Written once, atomically, when the study starts; a resumed study must match
  it, so stored replications are never mixed with another study's.
- ``chunks/*.parquet``: the replications, one row each, written in chunks as they finish
  (every ``chunk_reps`` replications or ``chunk_seconds`` seconds, whichever comes first).
  Each chunk is written to a temporary file, synced and renamed, so a killed process leaves
  whole chunks or none. Columns: ``point``, ``rep``, ``n_events``, one column a target for
  each of ``value``, ``met``, ``threshold``, ``met_upper`` and ``empty_years`` (e.g.
  ``value[HG-W1-30]``), and
  the yearly tables of :class:`~sim.model.RepResult` as fixed-size lists. The file's metadata
  (key ``cadresim``) holds the study's identity, as in ``run.json``, and the tables' shapes.
  A chunk can be read with ``pandas.read_parquet`` while a study runs.

The chunk layout has a format number (:data:`FORMAT`, in ``run.json`` and in every chunk);
stored replications of another format are refused with a message, never read with missing
or misplaced columns.

A replication is a pure function of (scenario, roster, seed, replication index), so a resumed
study that runs only the missing indices gives exactly the numbers of an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import fields as dc_fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim import __version__
from sim.model import RepResult
from sim.outputs import atomic_write
from sim.results import PER_REP, STREAMED
from sim.roster import Roster
from sim.scenario import Scenario

#: The chunk layout. 2: adds ``empty_years[<target>]`` (years without appointments of each-year
#: flow targets).
FORMAT = 2
RUN_FILE = "run.json"
CHUNKS = "chunks"
#: The per-target arrays of a replication, stored one column a target.
TARGET_FIELDS = {
    "target_value": "value",
    "target_met": "met",
    "target_threshold": "threshold",
    "target_met_upper": "met_upper",
    "target_empty_years": "empty_years",
}
#: The yearly tables of a replication (every other array the collector takes), stored as
#: flattened fixed-size lists.
TABLE_FIELDS = tuple(
    name for name in (*PER_REP, *STREAMED) if name not in TARGET_FIELDS and name != "n_events"
)


class StoreError(RuntimeError):
    """A results folder that cannot be used as asked (the message names the folder and why)."""


def roster_digest(roster: Roster | None) -> str | None:
    """A stable hash of an imported roster's content (None without a roster)."""
    if roster is None:
        return None
    h = hashlib.sha256()
    for f in dc_fields(roster.people):
        h.update(f.name.encode())
        h.update(np.ascontiguousarray(getattr(roster.people, f.name)).tobytes())
    for name in sorted(roster.quals):
        h.update(name.encode())
        h.update(np.ascontiguousarray(roster.quals[name]).tobytes())
    h.update("\n".join(roster.ids).encode("utf-8"))
    return h.hexdigest()[:16]


def identity(
    kind: str,
    scenario: Scenario,
    seed: int,
    roster: Roster | None = None,
    design: dict[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """What a stored study must match to be resumed: everything that fixes a replication's
    numbers (not the replication count, which a resumed study may raise)."""
    return {
        "format": FORMAT,
        "kind": kind,
        "version": __version__,
        "scenario": scenario.province,
        "scenario_hash": scenario.digest(),
        "seed": seed,
        "roster_hash": roster_digest(roster),
        "design": design,
    }


def _describe(ident: dict[str, Any]) -> str:
    return (
        f"{ident.get('kind')} of {ident.get('scenario')} (hash {ident.get('scenario_hash')}, "
        f"seed {ident.get('seed')}, cadresim {ident.get('version')})"
    )


class ResultStore:
    """Stored replications of one study, by design point (0 for a plain run).

    Open it with :meth:`open`; :meth:`add` buffers a replication and writes a chunk when the
    buffer is full or old enough; :meth:`flush` writes what is buffered (call it when the study
    ends or is interrupted). A replication already stored is never stored again.
    """

    def __init__(
        self,
        folder: Path,
        ident: dict[str, Any],
        target_ids: list[str],
        chunk_reps: int = 200,
        chunk_seconds: float = 5.0,
    ) -> None:
        self.folder = Path(folder)
        self.ident = ident
        self.target_ids = list(target_ids)
        self.chunk_reps = chunk_reps
        self.chunk_seconds = chunk_seconds
        self._buffer: dict[int, list[RepResult]] = {}
        self._buffered = 0
        self._last_flush = time.monotonic()
        self._done: dict[int, set[int]] = {}
        self._seq = 0
        #: What a finished study this one replaced was (opened with ``force``), else None.
        self.replaced: str | None = None
        #: The design points each chunk holds (so that reading one point opens only its chunks).
        self._points: dict[Path, list[int]] = {}
        #: The smallest and largest replication index in each chunk (to skip chunks on reading).
        self._rep_range: dict[Path, tuple[int, int]] = {}

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        folder: Path,
        ident: dict[str, Any],
        target_ids: list[str],
        resume: bool = False,
        force: bool = False,
        **kwargs: Any,
    ) -> ResultStore:
        """Open ``folder`` for a study.

        With ``resume``, the folder must hold a study with the same identity, whose stored
        replications are kept (a folder with no study in it starts a new one). Without it, a
        folder holding a study is refused, so that nothing computed is thrown away unasked: an
        unfinished one can be resumed, a finished one is replaced only with ``force`` (and
        :attr:`replaced` then says what was replaced).
        """
        folder = Path(folder)
        run_file = folder / RUN_FILE
        chunks = folder / CHUNKS
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stored = json.loads(run_file.read_text(encoding="utf-8")) if run_file.exists() else None
        except OSError as exc:
            raise StoreError(
                f"cannot write to output folder {folder}: {exc.strerror or exc}"
            ) from None
        except ValueError as exc:
            raise StoreError(
                f"{run_file} is not a study description ({exc}); delete it, or choose "
                "another folder"
            ) from None
        store = cls(folder, ident, target_ids, **kwargs)
        if stored is not None and resume and stored.get("format") != FORMAT:
            raise StoreError(_old_format(folder, stored.get("format")))
        if stored is not None and resume:
            diff = [k for k in ident if k != "version" and stored.get(k) != ident[k]]
            if stored.get("version") != ident["version"]:
                diff.append("version")
            if diff:
                verb = "differs" if len(diff) == 1 else "differ"
                raise StoreError(
                    f"{folder} holds a different study ({', '.join(diff)} {verb}): "
                    f"stored {_describe(stored)}, asked {_describe(ident)}; "
                    "resume with the same scenario, settings and seed, or use another folder"
                )
            store._scan()
            return store
        if stored is not None and not resume:
            finished = _finished(folder)
            stored_any = chunks.exists() and not finished  # a finished study is replaced
            n = sum(len(v) for v in store._scan().values()) if stored_any else 0
            if not finished and n:
                raise StoreError(
                    f"{folder} holds an unfinished {_describe(stored)} with {n} replications "
                    "stored; add --resume to continue it, or choose another folder"
                )
            if finished:
                done = _finished_count(folder)
                what = f"a finished {_describe(stored)}" + (
                    f" with {done} replications" if done is not None else ""
                )
                if not force:
                    raise StoreError(
                        f"{folder} holds {what}; add --force to replace it, or choose another "
                        "folder"
                    )
                store.replaced = what
        # A new study: clear what an earlier finished one left. Its metadata goes first: it
        # says "complete", which would let a later run replace this study's chunks unasked.
        try:
            (folder / "metadata.json").unlink(missing_ok=True)
            if chunks.exists():
                for f in chunks.iterdir():
                    f.unlink()
            chunks.mkdir(exist_ok=True)
            atomic_write(
                run_file,
                lambda p: Path(p).write_text(json.dumps(ident, indent=2) + "\n", encoding="utf-8"),
            )
        except OSError as exc:
            raise StoreError(
                f"cannot write to output folder {folder}: {exc.strerror or exc}"
            ) from None
        store._done, store._points, store._rep_range = {}, {}, {}
        return store

    def _scan(self) -> dict[int, set[int]]:
        """Index the stored chunks: which replications of which point are done."""
        done: dict[int, set[int]] = {}
        chunks = self.folder / CHUNKS
        chunks.mkdir(exist_ok=True)
        for f in sorted(chunks.glob("*.tmp")):  # an interrupted write: never renamed, so unused
            f.unlink(missing_ok=True)
        for f in self._chunk_files():
            try:
                t = pq.read_table(f, columns=["point", "rep"])
            except (OSError, pa.ArrowException) as exc:
                raise StoreError(
                    f"stored chunk {f} is unreadable ({exc}); delete it and resume: its "
                    "replications will be run again"
                ) from None
            meta = json.loads((t.schema.metadata or {}).get(b"cadresim", b"{}"))
            fmt = meta.get("study", {}).get("format")
            if fmt != FORMAT:
                raise StoreError(_old_format(self.folder, fmt, f))
            points = t.column("point").to_numpy()
            for p, r in zip(points, t.column("rep").to_numpy(), strict=True):
                done.setdefault(int(p), set()).add(int(r))
            self._points[f] = sorted({int(p) for p in points})
            reps = t.column("rep").to_numpy()
            if len(reps):
                self._rep_range[f] = (int(reps.min()), int(reps.max()))
            self._seq = max(self._seq, int(f.stem.rsplit("-", 1)[-1]) + 1)
        self._done = done
        return done

    def _chunk_files(self) -> list[Path]:
        return sorted((self.folder / CHUNKS).glob("chunk-*.parquet"))

    # -- reading ---------------------------------------------------------------------------

    def done(self, point: int = 0) -> set[int]:
        """Replication indices stored (or buffered) for ``point``."""
        return set(self._done.get(point, set()))

    def count(self) -> int:
        """Replications stored or buffered, over every point."""
        return sum(len(v) for v in self._done.values())

    def written_count(self) -> int:
        """Replications written to the chunks, over every point (not those still buffered)."""
        return self.count() - self._buffered

    def written(self, point: int = 0) -> set[int]:
        """Replication indices of ``point`` written to the chunks (not those still buffered,
        which a failed write, a full disk say, has not stored)."""
        buffered = {r.rep for r in self._buffer.get(point, [])}
        return self.done(point) - buffered

    def _points_of(self, f: Path) -> list[int]:
        if f not in self._points:
            meta = json.loads(pq.read_schema(f).metadata[b"cadresim"])
            self._points[f] = list(meta["points"])
        return self._points[f]

    def load(self, point: int = 0, reps: set[int] | None = None) -> Iterator[RepResult]:
        """The stored replications of ``point`` (those in ``reps`` if given), each once."""
        seen: set[int] = set()
        lowest, highest = (min(reps), max(reps)) if reps else (0, -1)
        for f in self._chunk_files():
            if point not in self._points_of(f):
                continue
            if reps is not None:
                low, high = self._rep_range.get(f, (lowest, highest))
                if not reps or high < lowest or low > highest:
                    continue
            pf = pq.ParquetFile(f)
            meta = json.loads(pf.schema_arrow.metadata[b"cadresim"])
            table = pf.read()
            for res in _decode(table, meta, point, reps):
                if res.rep in seen:
                    continue
                seen.add(res.rep)
                yield res
        for res in self._buffer.get(point, []):
            if res.rep not in seen and (reps is None or res.rep in reps):
                seen.add(res.rep)
                yield res

    def arrays(
        self, reps: np.ndarray, names: Iterable[str], point: int = 0
    ) -> dict[str, np.ndarray]:
        """Fields ``names`` of :class:`~sim.model.RepResult` (e.g. ``target_met``,
        ``trajectory``) for the replications ``reps`` of ``point``, each stacked as
        ``(len(reps), ...)`` in the order of ``reps`` (ascending indices), from the chunks and
        the buffer. Only the columns asked for are read, a chunk at a time, so this costs the
        memory of the arrays returned (what an in-memory collector keeps all along).

        Raises:
            StoreError: a replication asked for is not stored, or a chunk is unreadable.
        """
        reps = np.asarray(reps, dtype=np.int64)
        if len(reps) > 1 and not (np.diff(reps) > 0).all():
            raise ValueError("reps must be strictly increasing")
        names = list(names)
        out: dict[str, np.ndarray] = {}
        filled = np.zeros(len(reps), dtype=bool)

        def put(rep: np.ndarray, values: dict[str, np.ndarray]) -> None:
            if len(reps) == 0:
                return
            pos = np.searchsorted(reps, rep)
            hit = np.flatnonzero((pos < len(reps)) & (reps[np.minimum(pos, len(reps) - 1)] == rep))
            hit = hit[~filled[pos[hit]]]
            _, first = np.unique(pos[hit], return_index=True)  # each replication once
            hit = hit[first]
            at = pos[hit]
            for name in names:
                value = values[name]
                if name not in out:
                    out[name] = np.zeros((len(reps), *value.shape[1:]), dtype=value.dtype)
                out[name][at] = value[hit]
            filled[at] = True

        for f in self._chunk_files():
            if point not in self._points_of(f):
                continue
            try:
                pf = pq.ParquetFile(f)
                meta = json.loads(pf.schema_arrow.metadata[b"cadresim"])
                columns = ["point", "rep", *_columns(names, meta, pf.schema_arrow.names)]
                table = pf.read(columns=columns)
            except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
                raise StoreError(
                    f"stored chunk {f} is unreadable ({exc}); delete it and resume: its "
                    "replications will be run again"
                ) from None
            keep = table.column("point").to_numpy() == point
            if not keep.any():
                continue
            values = _columns_as_arrays(table, names, meta)
            put(
                table.column("rep").to_numpy()[keep],
                {name: value[keep] for name, value in values.items()},
            )
            del table, values
        buffered = self._buffer.get(point, [])
        if buffered:
            put(
                np.array([r.rep for r in buffered], dtype=np.int64),
                {
                    name: np.stack([np.asarray(getattr(r, name)) for r in buffered])
                    for name in names
                },
            )
        if not filled.all():
            missing = reps[~filled]
            shown = ", ".join(str(r) for r in missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise StoreError(
                f"{self.folder} does not hold replications {shown} of point {point} "
                f"({len(missing)} missing): were chunks deleted while the study ran?"
            )
        for name in names:  # nothing asked for, or no replication: empty, shaped arrays
            out.setdefault(name, np.zeros((0,)))
        return out

    # -- writing ---------------------------------------------------------------------------

    def add(self, res: RepResult, point: int = 0) -> None:
        """Buffer one replication; write a chunk when the buffer is full or old enough."""
        done = self._done.setdefault(point, set())
        if res.rep in done:
            return
        done.add(res.rep)
        self._buffer.setdefault(point, []).append(res)
        self._buffered += 1
        if (
            self._buffered >= self.chunk_reps
            or time.monotonic() - self._last_flush >= self.chunk_seconds
        ):
            self.flush()

    def flush(self) -> None:
        """Write the buffered replications as one chunk (atomically)."""
        if not self._buffered:
            self._last_flush = time.monotonic()
            return
        table = _encode(self._buffer, self.target_ids, self.ident)
        path = self.folder / CHUNKS / f"chunk-{self._seq:06d}.parquet"
        atomic_write(path, lambda p: pq.write_table(table, p))
        self._points[path] = sorted(self._buffer)
        reps = [r.rep for rs in self._buffer.values() for r in rs]
        self._rep_range[path] = (min(reps), max(reps))
        self._seq += 1
        self._buffer = {}
        self._buffered = 0
        self._last_flush = time.monotonic()


def _old_format(folder: Path, fmt: Any, chunk: Path | None = None) -> str:
    """Why stored replications of another chunk format are not used."""
    where = f"stored chunk {chunk}" if chunk is not None else str(folder)
    return (
        f"{where} holds replications in chunk format {fmt}, written by another version of "
        f"cadresim; this version reads format {FORMAT} only (format 2 added the years without "
        "appointments of each-year flow targets), so they cannot be resumed or read: run the "
        "study again into another folder, or delete the folder's chunks/ and run.json"
    )


def _finished_count(folder: Path) -> int | None:
    """The replications a finished study in ``folder`` kept (None when it does not say)."""
    try:
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    done = meta.get("replications_done")
    return int(done) if isinstance(done, int) else None


def _finished(folder: Path) -> bool:
    """Whether the study in ``folder`` wrote its final metadata as complete."""
    try:
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(meta.get("complete"))


def _encode(
    buffer: dict[int, list[RepResult]], target_ids: list[str], ident: dict[str, Any]
) -> pa.Table:
    """Buffered replications as one table; its metadata holds the study's identity (so that a
    chunk describes itself) and the shapes and dtypes of the tables."""
    rows = [(p, r) for p, rs in sorted(buffer.items()) for r in sorted(rs, key=lambda x: x.rep)]
    first = rows[0][1]
    cols: dict[str, pa.Array] = {
        "point": pa.array([p for p, _ in rows], pa.int64()),
        "rep": pa.array([r.rep for _, r in rows], pa.int64()),
        "n_events": pa.array([int(r.n_events) for _, r in rows], pa.int64()),
    }
    for name, short in TARGET_FIELDS.items():
        stacked = np.stack([getattr(r, name) for _, r in rows])
        for k, tid in enumerate(target_ids):
            cols[f"{short}[{tid}]"] = pa.array(stacked[:, k])
    shapes = {}
    for name in TABLE_FIELDS:
        value = np.asarray(getattr(first, name))
        shapes[name] = {"shape": list(value.shape), "dtype": value.dtype.str}
        size = value.size
        if size == 0:
            continue
        flat = np.concatenate([np.asarray(getattr(r, name)).reshape(-1) for _, r in rows])
        cols[name] = pa.FixedSizeListArray.from_arrays(pa.array(flat), size)
    meta = {"study": ident, "points": sorted(buffer), "tables": shapes, "targets": target_ids}
    return pa.table(cols).replace_schema_metadata({"cadresim": json.dumps(meta)})


def _columns(names: list[str], meta: dict[str, Any], present: list[str]) -> list[str]:
    """The chunk columns holding the fields ``names``."""
    cols: list[str] = []
    for name in names:
        if name in TARGET_FIELDS:
            cols += [f"{TARGET_FIELDS[name]}[{tid}]" for tid in meta["targets"]]
        elif name == "n_events" or name in present:
            cols.append(name)
        elif name not in meta["tables"]:
            raise KeyError(f"no field {name!r} in the chunk")
    return cols


def _columns_as_arrays(
    table: pa.Table, names: list[str], meta: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Fields ``names`` of every row of a chunk, as arrays of shape (rows, ...)."""
    n = table.num_rows
    arrays: dict[str, np.ndarray] = {}
    for name in names:
        if name in TARGET_FIELDS:
            short = TARGET_FIELDS[name]
            arrays[name] = (
                np.column_stack(
                    [
                        table.column(f"{short}[{tid}]").to_numpy(zero_copy_only=False)
                        for tid in meta["targets"]
                    ]
                )
                if meta["targets"]
                else np.zeros((n, 0))
            )
        elif name == "n_events":
            arrays[name] = table.column(name).to_numpy()
        else:
            spec = meta["tables"][name]
            shape, dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
            if name not in table.column_names:  # an empty table: not stored
                arrays[name] = np.zeros((n, *shape), dtype=dtype)
                continue
            flat = table.column(name).combine_chunks().flatten().to_numpy(zero_copy_only=False)
            arrays[name] = flat.astype(dtype, copy=False).reshape((n, *shape))
    return arrays


def _decode(
    table: pa.Table, meta: dict[str, Any], point: int, reps: set[int] | None = None
) -> Iterator[RepResult]:
    """The replications of ``point`` in a chunk (those in ``reps`` if given)."""
    points = table.column("point").to_numpy()
    wanted = points == point
    if reps is not None:
        wanted &= np.isin(table.column("rep").to_numpy(), np.fromiter(reps, np.int64, len(reps)))
    keep = np.flatnonzero(wanted)
    if len(keep) == 0:
        return
    table = table.take(pa.array(keep))
    arrays = _columns_as_arrays(table, [*TARGET_FIELDS, *meta["tables"]], meta)
    rep_of = table.column("rep").to_numpy()
    n_events = table.column("n_events").to_numpy()
    for i in range(table.num_rows):
        yield RepResult(
            rep=int(rep_of[i]),
            n_events=int(n_events[i]),
            **{name: arrays[name][i].copy() for name in (*TARGET_FIELDS, *TABLE_FIELDS)},
        )
