"""Real rosters: start a run from a province's own (anonymised) leaders instead of a synthetic
population, and write a synthetic roster from a scenario.

A roster is a CSV or Excel file with one row per person (columns in :data:`COLUMNS`, documented
in ``docs/ROSTER.md``). Leaders are placed in the posts of their unit and rank in the order of
the file; posts nobody holds start vacant. Every row is checked and every problem reported
with its row number (the spreadsheet's: the header is row 1); a roster with any problem is
refused whole, so nothing is ever half-imported.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import rules
from sim.population import POOL, Layout, People
from sim.scenario import RANK_CODE, RANKS, Scenario

#: The columns of a roster: (name, required, meaning).
COLUMNS: tuple[tuple[str, bool, str], ...] = (
    ("person_id", True, "Anonymised identifier, unique in the file."),
    ("rank", True, "l1_head, l1_deputy, l2_head, l2_deputy or pool (specialist)."),
    ("block", False, "Block id of the scenario (required for leaders)."),
    ("unit", False, "Unit number inside the block, 1 for the first (required for leaders)."),
    ("sex", True, "F or M (nữ or nam)."),
    ("birth_month", True, "Month of birth, YYYY-MM."),
    ("in_post_since", True, "Month the current post (or, for the pool, the pool) began, YYYY-MM."),
    ("theory", False, "Political theory: none, intermediate (trung cấp) or advanced (cao cấp)."),
    ("it", False, "IT level: none, basic or advanced."),
    ("language_b1", False, "Foreign language at level 3 (B1) or higher: yes or no."),
    ("degree", False, "University degree: yes or no."),
    ("knowledge_update", False, "Month of the last knowledge update, YYYY-MM, or empty."),
    ("ethnic_minority", False, "yes or no."),
    ("international", False, "Able to work in an international environment: yes or no."),
    ("local", False, "Local origin: yes or no."),
)
REQUIRED = tuple(name for name, req, _ in COLUMNS if req)
QUAL_COLUMNS = (
    "theory",
    "it",
    "language_b1",
    "degree",
    "knowledge_update",
    "ethnic_minority",
    "international",
    "local",
)
EARLIEST_BIRTH = 1940

_YES = {"yes", "y", "true", "1", "có", "co", "x"}
_NO = {"no", "n", "false", "0", "không", "khong", ""}
_SEX = {"f": True, "female": True, "nữ": True, "nu": True, "m": False, "male": False, "nam": False}
_THEORY = {"none": 0, "": 0, "intermediate": 1, "trung cấp": 1, "advanced": 2, "cao cấp": 2}
_IT = {"none": 0, "": 0, "basic": 1, "cơ bản": 1, "advanced": 2, "nâng cao": 2}


class RosterError(ValueError):
    """A roster that cannot be imported, with every problem found."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        shown = problems[:50]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > 50 else ""
        super().__init__(
            f"{file}: the roster was not imported ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}):\n  " + "\n  ".join(shown) + more
        )


@dataclass(frozen=True)
class Roster:
    """A checked roster, mapped onto a scenario's posts."""

    file: str
    people: People
    quals: dict[str, np.ndarray]  # QUAL_COLUMNS present in the file, one entry a person
    ids: tuple[str, ...]


def _month(value: Any) -> tuple[int, int] | None:
    """(year, month) of a YYYY-MM (or YYYY-MM-DD, or a spreadsheet date) cell; None if empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.year, value.month
    text = str(value).strip()
    if not text:
        return None
    parts = text.replace("/", "-").split("-")
    if not 2 <= len(parts) <= 3 or not (parts[0].isdecimal() and parts[1].isdecimal()):
        raise ValueError(f"{text!r} is not a month (YYYY-MM)")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} has no month {month}")
    if len(parts) == 3:  # a full date (YYYY-MM-DD, perhaps with a time): the day must exist
        day = parts[2].replace("T", " ").split(" ")[0]
        if not day.isdecimal():
            raise ValueError(f"{text!r} is not a month (YYYY-MM) or a date (YYYY-MM-DD)")
        last = calendar.monthrange(year if 1 <= year <= 9999 else 2000, month)[1]
        if not 1 <= int(day) <= last:
            raise ValueError(f"{text!r} has no day {int(day)}")
    return year, month


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Excel roster as text cells."""
    if path.is_dir():
        raise IsADirectoryError(str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return pd.read_excel(path, dtype=object)
    if suffix in (".csv", ".txt"):
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raise ValueError(f"{path}: a roster is a .csv or .xlsx file")


def load_roster(path: str | Path, scenario: Scenario, layout: Layout) -> Roster:
    """Read, check and map a roster onto the scenario's posts (see the module docstring).

    Raises:
        RosterError: listing every bad row, or saying why the file cannot be read (missing,
            a folder, not UTF-8, not a CSV or Excel file, unreadable); nothing is imported.
    """
    path = Path(path)
    if not path.is_dir() and path.suffix.lower() not in (".csv", ".txt", ".xlsx", ".xlsm", ".xls"):
        raise RosterError(str(path), ["a roster is a .csv or .xlsx file"])
    try:
        table = read_table(path)
    except FileNotFoundError as exc:
        raise RosterError(str(path), ["no such file"]) from exc
    except IsADirectoryError as exc:
        raise RosterError(str(path), ["is a folder, not a file"]) from exc
    except UnicodeDecodeError as exc:
        raise RosterError(str(path), ["not a UTF-8 text file (save the CSV as UTF-8)"]) from exc
    except OSError as exc:
        raise RosterError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from exc
    except Exception as exc:  # a corrupt spreadsheet or CSV: report it, never a traceback
        kind = "Excel" if path.suffix.lower().startswith(".xls") else "CSV"
        raise RosterError(str(path), [f"not a readable {kind} file ({exc})"]) from exc
    table.columns = [str(c).strip().lower() for c in table.columns]
    problems: list[str] = []
    names = list(table.columns)
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        problems.append(f"column(s) given more than once: {', '.join(repeated)}")
    missing = [c for c in REQUIRED if c not in table.columns]
    unknown = [c for c in table.columns if c not in {name for name, _, _ in COLUMNS}]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(
            f"unknown column(s): {', '.join(unknown)} (see docs/ROSTER.md for the columns)"
        )
    if len(table) == 0:
        problems.append("the roster has no rows")
    if problems:
        raise RosterError(str(path), problems)

    start = scenario.start_month
    blocks = {b.id: k for k, b in enumerate(scenario.structure.blocks)}
    first_unit = {}
    u0 = 0
    for b in scenario.structure.blocks:
        first_unit[b.id] = u0
        u0 += b.units
    free: dict[tuple[int, int], list[int]] = {}
    for p in range(layout.n_posts):
        free.setdefault((int(layout.post_unit[p]), int(layout.post_rank[p])), []).append(p)
    for posts in free.values():
        posts.reverse()  # pop() hands them out in layout order

    present = [c for c in QUAL_COLUMNS if c in table.columns]
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    latest_birth = scenario.start.year - 18
    for k, rec in enumerate(table.to_dict("records")):
        row_no = k + 2  # the header is row 1
        bad: list[str] = []

        def err(msg: str, _row: int = row_no, _bad: list[str] = bad) -> None:
            _bad.append(f"row {_row}: {msg}")

        pid = _text(rec.get("person_id"))
        if not pid:
            err("person_id is empty")
        elif pid in seen:
            err(f"person_id {pid} already used in row {seen[pid]}")
        else:
            seen[pid] = row_no
        rank_name = _text(rec.get("rank")).lower()
        if rank_name not in RANK_CODE:
            err(f"rank {rank_name!r} is not one of {', '.join(RANKS)}")
        sex = _text(rec.get("sex")).lower()
        if sex not in _SEX:
            err(f"sex {sex!r} is not F or M")
        birth = since = None
        try:
            birth = _month(rec.get("birth_month"))
            if birth is None:
                err("birth_month is empty")
            elif birth[0] < EARLIEST_BIRTH:
                err(f"birth month {birth[0]}-{birth[1]:02d} is before {EARLIEST_BIRTH}")
            elif birth[0] > latest_birth:
                err(
                    f"birth month {birth[0]}-{birth[1]:02d}: under 18 on the start date "
                    f"{scenario.start}"
                )
        except ValueError as e:
            err(f"birth_month: {e}")
            birth = None
        try:
            since = _month(rec.get("in_post_since"))
            if since is None:
                err("in_post_since is empty")
            elif rules.month_index(*since) > start:
                err(
                    f"in_post_since {since[0]}-{since[1]:02d} is after the start date "
                    f"{scenario.start}"
                )
            elif birth is not None and since[0] - birth[0] < 18:
                err(f"in_post_since {since[0]}-{since[1]:02d} is before the person was 18")
        except ValueError as e:
            err(f"in_post_since: {e}")
            since = None
        female = _SEX.get(sex, False)
        if birth is not None and sex in _SEX and EARLIEST_BIRTH <= birth[0] <= latest_birth:
            retire = rules.retirement_month(female, *birth)
            if retire <= start:
                y, m = rules.month_to_year_month(retire)
                err(f"retired in {y}-{m:02d}, before the start date {scenario.start}")
        post = -1
        unit = -1
        if rank_name in RANK_CODE and RANK_CODE[rank_name] != POOL:
            block = _text(rec.get("block"))
            unit_text = _text(rec.get("unit"))
            if block not in blocks:
                err(f"block {block!r} is not a block of scenario {scenario.province}")
            elif not unit_text.isdecimal():
                err(f"unit {unit_text!r} is not a unit number (1, 2, ...)")
            else:
                b = scenario.structure.blocks[blocks[block]]
                if not 1 <= int(unit_text) <= b.units:
                    err(f"unit {unit_text} is not in block {block}, which has {b.units} units")
                else:
                    unit = first_unit[block] + int(unit_text) - 1
                    posts = free.get((unit, RANK_CODE[rank_name]), [])
                    if posts:
                        post = posts.pop()
                    else:
                        have = len(
                            [
                                p
                                for p in range(layout.n_posts)
                                if layout.post_unit[p] == unit
                                and layout.post_rank[p] == RANK_CODE[rank_name]
                            ]
                        )
                        err(
                            f"block {block} unit {unit_text} has {have} {rank_name} post(s), "
                            "all taken by earlier rows"
                        )
        elif rank_name == "pool":
            # A specialist's block and unit are optional; when given, they must exist.
            block = _text(rec.get("block"))
            unit_text = _text(rec.get("unit"))
            if block and block not in blocks:
                err(f"block {block!r} is not a block of scenario {scenario.province}")
            elif unit_text and not block:
                err(f"unit {unit_text!r} is given without a block")
            elif unit_text and not unit_text.isdecimal():
                err(f"unit {unit_text!r} is not a unit number (1, 2, ...)")
            elif unit_text:
                b = scenario.structure.blocks[blocks[block]]
                if not 1 <= int(unit_text) <= b.units:
                    err(f"unit {unit_text} is not in block {block}, which has {b.units} units")
                else:
                    unit = first_unit[block] + int(unit_text) - 1
            else:
                unit = k % layout.n_units  # spread over the units (for the same-unit bonus)
        quals: dict[str, Any] = {}
        for col in present:
            cell = rec.get(col)
            text = _text(cell).lower()
            if col == "theory":
                if text not in _THEORY:
                    err(f"theory {text!r} is not none, intermediate or advanced")
                quals[col] = _THEORY.get(text, 0)
            elif col == "it":
                if text not in _IT:
                    err(f"it {text!r} is not none, basic or advanced")
                quals[col] = _IT.get(text, 0)
            elif col == "knowledge_update":
                try:
                    when = _month(cell)
                except ValueError as e:
                    err(f"knowledge_update: {e}")
                    when = None
                if when is not None and rules.month_index(*when) > start:
                    err(f"knowledge_update {when[0]}-{when[1]:02d} is after the start date")
                quals[col] = -math.inf if when is None else float(rules.month_index(*when))
            else:
                if text not in _YES and text not in _NO:
                    err(f"{col} {text!r} is not yes or no")
                quals[col] = text in _YES
        problems.extend(bad)
        if not bad:
            assert birth is not None and since is not None
            rows.append(
                {
                    "id": pid,
                    "female": female,
                    "birth": float(rules.month_index(*birth)),
                    "post": post,
                    "rank": RANK_CODE[rank_name],
                    "unit": unit,
                    "since": float(rules.month_index(*since)),
                    **quals,
                }
            )
    if problems:
        raise RosterError(str(path), problems)
    frame = pd.DataFrame(rows)
    # Posts first, then the pool (the order the model expects).
    frame = pd.concat([frame[frame["post"] >= 0], frame[frame["post"] < 0]], ignore_index=True)
    people = People(
        female=frame["female"].to_numpy(bool),
        birth=frame["birth"].to_numpy(float),
        post=frame["post"].to_numpy(np.int32),
        rank=frame["rank"].to_numpy(np.int8),
        unit=frame["unit"].to_numpy(np.int32),
        since=frame["since"].to_numpy(float),
    )
    quals = {c: frame[c].to_numpy() for c in present}
    return Roster(str(path), people, quals, tuple(frame["id"]))


def roster_frame(model: Any) -> pd.DataFrame:
    """The starting population of a model (before it runs) as a roster table."""
    m = model
    sc = m.sc
    lay = m.layout
    blocks = sc.structure.blocks
    first_unit = np.cumsum([0] + [b.units for b in blocks])
    rows = []
    theory = {0: "none", 1: "intermediate", 2: "advanced"}
    it = {0: "none", 1: "basic", 2: "advanced"}
    for i in range(m.n):
        r = int(m.rank[i])
        if r < 0:
            continue
        u = int(m.unit[i])
        b = int(lay.unit_block[u])
        by, bm = rules.month_to_year_month(m.birth[i])
        p = m.post[i]
        since = (
            m.term_end[i] - rules.TERM_MONTHS
            if p >= 0
            else m.elig_from[i] - (sc.dynamics.pool_min_months)
        )
        sy, sm = rules.month_to_year_month(since)
        q = m.qual
        upd = q.update_t[i]
        if math.isfinite(upd):
            uy, um = rules.month_to_year_month(upd)
            update = f"{uy}-{um:02d}"
        else:
            update = ""
        rows.append(
            {
                "person_id": f"P{i + 1:05d}",
                "rank": RANKS[r],
                "block": blocks[b].id,
                "unit": u - int(first_unit[b]) + 1,
                "sex": "F" if m.female[i] else "M",
                "birth_month": f"{by}-{bm:02d}",
                "in_post_since": f"{sy}-{sm:02d}",
                "theory": theory[int(q.theory[i])],
                "it": it[int(q.it[i])],
                "language_b1": "yes" if q.language_b1[i] else "no",
                "degree": "yes" if q.degree[i] else "no",
                "knowledge_update": update,
                "ethnic_minority": "yes" if q.ethnic_minority[i] else "no",
                "international": "yes" if q.international[i] else "no",
                "local": "yes" if q.local[i] else "no",
            }
        )
    return pd.DataFrame(rows, columns=[name for name, _, _ in COLUMNS])


def columns_markdown() -> str:
    """The roster columns as a Markdown table (for docs/ROSTER.md)."""
    lines = ["| column | required | meaning |", "|---|---|---|"]
    for name, req, meaning in COLUMNS:
        lines.append(f"| `{name}` | {'yes' if req else 'no'} | {meaning} |")
    return "\n".join(lines)
