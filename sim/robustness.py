"""How far each answer rests on the scenario's assumptions: P(met) with each assumption (or
group of assumptions) moved, one at a time, to the low and to the high end of its range.

A scenario lists its assumed numbers and their plausible ranges in ``assumptions``
(:class:`sim.scenario.Assumption`). The one-at-a-time design (:func:`design`) has a point for
the scenario as it is and two for each assumption or group (its low end, its high end); it
runs as a sweep (:func:`sim.sweep.run_sweep`), every point on the same seed and replications
(common random numbers), so a difference between points comes from the assumption, not from
the random numbers. Per target the answer is P(met) at the scenario's values, its lowest and
highest over the points, and the assumptions that move it most (:func:`summarise`). An answer
is *robust* when that range stays on one side of 50%; otherwise it *rests on an assumption*,
the one that moves it most.

The bundled scenarios ship a precomputed table (``docs/robustness/``, written by
``scripts/robustness_tables.py``), found by the scenario's hash (:func:`stored`), so that an
adviser sees the verdict without running the 2 x (number of assumptions) extra studies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.runner import Runner, make_runner
from sim.scenario import Assumption, Scenario, ScenarioError, apply_overrides, get_setting
from sim.sweep import DesignError, run_sweep

#: Where the precomputed tables of the bundled scenarios are kept (a source checkout).
STORED_DIR = Path(__file__).resolve().parent.parent / "docs" / "robustness"
#: How many of the assumptions that move a target most are named.
TOP = 3
#: The columns of the tidy table, in order.
COLUMNS = (
    "target",
    "by",
    "assumption",
    "end",
    "value",
    "p_met",
    "ci_low",
    "ci_high",
    "p_base",
    "delta",
)


#: Vietnamese names of the bundled scenarios' assumptions and groups (the app shows them next
#: to the English name); a label not listed is shown as written.
LABEL_VI: dict[str, str] = {
    "L1 women and young at the start": "cán bộ nữ, trẻ diện Ban Thường vụ lúc bắt đầu",
    "ages at the start": "tuổi của đội ngũ lúc bắt đầu",
    "appointment shares (Quảng Bình's flows)": "tỷ lệ bổ nhiệm (theo số liệu Quảng Bình)",
    "candidate scoring": "cách chấm điểm ứng viên",
    "congress": "đại hội",
    "congress vote": "bỏ phiếu tại đại hội",
    "congress.compliance": "mức tuân thủ tỷ lệ khi lập danh sách đại hội",
    "course lengths": "thời gian các khóa đào tạo",
    "degrees held": "trình độ chuyên môn đang có",
    "deputies per unit": "số cấp phó mỗi đơn vị",
    "divisions per unit": "số phòng mỗi đơn vị",
    "dynamics.knowledge_update_months": "thời gian bồi dưỡng cập nhật kiến thức",
    "dynamics.reappointment_probability": "khả năng được bổ nhiệm lại",
    "ethnic-minority shares": "tỷ lệ cán bộ người dân tộc thiểu số",
    "exits": "tỷ lệ nghỉ, chuyển công tác",
    "commune newcomers": "cán bộ cấp xã vào diện tỉnh quản lý khi sáp nhập",
    "commune posts": "chức danh cấp xã",
    "early retirement": "nghỉ hưu trước tuổi (Nghị định 178/2024)",
    "former Quảng Trị": "tỉnh Quảng Trị cũ (giả định)",
    "former Tuyên Quang": "tỉnh Tuyên Quang cũ (giả định)",
    "merged structure": "cơ cấu tổ chức sau sáp nhập",
    "international experience": "kinh nghiệm quốc tế",
    "knowledge updates held": "bồi dưỡng cập nhật kiến thức đã có",
    "languages and IT skills held": "ngoại ngữ, tin học đang có",
    "layout of the 56 unitemised posts": "bố trí 56 chức danh chưa rõ đơn vị",
    "local origin": "tỷ lệ cán bộ người địa phương",
    "number of units": "số cơ quan, đơn vị",
    "policy.removal_multiplier": "mức độ thay thế cán bộ yếu kém",
    "policy.rotation.share_per_year": "tỷ lệ luân chuyển mỗi năm",
    "policy.standards.train_within_months": "thời hạn đào tạo cho đạt chuẩn",
    "policy.vacancy_reservation.max_hold_months": "thời gian giữ chỗ tối đa",
    "political theory held": "trình độ lý luận chính trị đang có",
    "removal of weak leaders": "thay thế cán bộ yếu kém",
    "restructuring": "sắp xếp bộ máy",
    "selection delay": "thời gian tuyển chọn",
    "specialist pool": "nguồn chuyên viên",
    "timing of yearly plans": "thời điểm các kế hoạch hằng năm",
    "training capacity": "chỉ tiêu đào tạo",
    "under-40s' ages": "tuổi của cán bộ dưới 40",
    "women below L1": "cán bộ nữ ở các cấp dưới",
    "women leaders' ages": "tuổi của cán bộ nữ lãnh đạo",
    "women-staff shares of units": "tỷ lệ nữ trong biên chế từng đơn vị",
    "young below L1": "cán bộ trẻ ở các cấp dưới",
    "youngest ages": "tuổi của cán bộ trẻ nhất",
}


def label_vi(label: str) -> str:
    """``label`` in Vietnamese, with the English in brackets, when :data:`LABEL_VI` has it."""
    vi = LABEL_VI.get(label)
    return f"{vi} ({label})" if vi else label


@dataclass(frozen=True)
class Move:
    """One assumption or group as it is varied: its name and its members."""

    label: str
    members: tuple[Assumption, ...]


def moves(scenario: Scenario, only: Sequence[str] = ()) -> list[Move]:
    """The assumptions varied one at a time, in the scenario's order: each group as a whole,
    each assumption without a group on its own. ``only`` keeps the named ones: a name is a
    group (varied as a whole) or a path (that assumption alone, even if it is in a group).

    Raises:
        DesignError: the scenario declares no assumptions, or a name in ``only`` is neither
            a group nor a path of one.
    """
    if not scenario.assumptions:
        raise DesignError(
            f"scenario {scenario.province} declares no assumptions: list them, with their "
            "ranges, under 'assumptions:' in the scenario file (see docs/SCENARIO.md)"
        )
    by_label: dict[str, list[Assumption]] = {}
    for a in scenario.assumptions:
        by_label.setdefault(a.label, []).append(a)
    everything = [Move(label, tuple(members)) for label, members in by_label.items()]
    if not only:
        return everything
    paths = {a.path: a for a in scenario.assumptions}
    chosen: list[Move] = []
    unknown = []
    for name in dict.fromkeys(only):  # in the order given, once each
        if name in by_label:
            chosen.append(Move(name, tuple(by_label[name])))
        elif name in paths:
            chosen.append(Move(name, (paths[name],)))
        else:
            unknown.append(name)
    if unknown:
        groups = ", ".join(sorted({a.group for a in scenario.assumptions if a.group}))
        raise DesignError(
            f"--only {', '.join(unknown)}: not an assumption of scenario {scenario.province} "
            f"(groups: {groups or 'none'}; or give the path of an assumption)"
        )
    return chosen


def describe(move: Move, values: dict[str, Any], end: str) -> str:
    """What a point sets, for the tables: ``path = value`` for one setting, else the form of
    each member at that end (e.g. ``shift -0.1``), or a count when there are many."""
    texts = []
    for a in move.members:
        x = a.ends()[0 if end == "low" else 1]
        if a.form == "range":
            texts.append(f"{values[a.path]:g}" if len(move.members) == 1 else f"{a.path}={x:g}")
        else:
            word = "shift" if a.form == "shift" else "x"
            texts.append(f"{word} {x:+g}" if a.form == "shift" else f"{word} {x:g}")
    if len(set(texts)) == 1:
        one = texts[0]
        return one if len(move.members) == 1 else f"{one} ({len(move.members)} settings)"
    if len(texts) <= 3:
        return "; ".join(texts)
    return f"{end} end of {len(move.members)} settings"


def design(scenario: Scenario, only: Sequence[str] = ()) -> pd.DataFrame:
    """The one-at-a-time design: point 0 is the scenario as it is (end ``base``); then, for
    each assumption or group of :func:`moves`, a point at its low end and one at its high end,
    every other assumed setting at its value. Columns: ``point``, ``assumption`` (the group or
    path), ``end`` (base, low, high), ``value`` (what the point sets, as text), then one column
    per assumed setting (its dotted path) holding the setting's value at that point (a number,
    or a list for a list of shares).

    A pure function of the scenario: it runs nothing and checks no end (run_sweep does).
    """
    chosen = moves(scenario, only)
    data = scenario.model_dump(mode="json")
    paths = list(dict.fromkeys(a.path for m in chosen for a in m.members))
    base = {p: get_setting(data, p) for p in paths}
    rows: list[dict[str, Any]] = [
        {"point": 0, "assumption": "", "end": "base", "value": "", **base}
    ]
    for m in chosen:
        for end in ("low", "high"):
            values = dict(base)
            for a in m.members:
                values[a.path] = a.at(base[a.path], end)  # type: ignore[arg-type]
            rows.append(
                {
                    "point": len(rows),
                    "assumption": m.label,
                    "end": end,
                    "value": describe(m, values, end),
                    **values,
                }
            )
    frame = pd.DataFrame(rows)
    for p in paths:  # keep numbers and lists as written (no upcast of whole numbers)
        frame[p] = pd.Series([r[p] for r in rows], dtype=object)
    return frame


def check(scenario: Scenario, plan: pd.DataFrame) -> None:
    """Every end of :func:`design` is a valid scenario, checked before anything runs.

    Raises:
        DesignError: naming each assumption and end that gives an invalid scenario, and why.
    """
    params = [c for c in plan.columns if c not in ("point", "assumption", "end", "value")]
    problems = []
    for row in plan.itertuples(index=False):
        if row.end == "base":
            continue
        values = dict(zip(plan.columns, row, strict=True))
        try:
            apply_overrides(scenario, {p: values[p] for p in params}, source="assumptions")
        except ScenarioError as exc:
            why = "; ".join(i.message for i in exc.issues)
            problems.append(f"{row.assumption} at its {row.end} end ({row.value}): {why}")
    if problems:
        raise DesignError("\n".join(problems))


@dataclass
class Robustness:
    """A finished robustness study (or one read back from a stored table)."""

    scenario_hash: str
    seed: int
    reps: int
    table: pd.DataFrame  # tidy: one row a target, assumption and end (see COLUMNS)
    base: pd.DataFrame  # one row a target: P(met) at the scenario's values and its interval

    @property
    def summary(self) -> pd.DataFrame:
        """Per target: P(met) at the scenario's values, lowest, highest, verdict, top movers."""
        return summarise(self.table, self.base)

    def verdicts(self) -> dict[str, tuple[bool, str]]:
        """Target id -> (robust, the assumption that moves it most, "" if none does)."""
        s = self.summary
        return {r.target: (bool(r.robust), str(r.moved_most)) for r in s.itertuples()}


def summarise(table: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """Per target: ``p_met`` (at the scenario's values), ``p_lowest`` and ``p_highest`` (over
    the scenario and every end), ``robust`` (that range on one side of 50%: all at or above
    it, or all below), ``moved_most`` (the assumption with the largest change |P(end) - P|,
    "" when none changes it) and ``top`` (the :data:`TOP` largest, as text with their changes
    at the low and high ends, in percentage points)."""
    rows = []
    for b in base.itertuples():
        t = table[table["target"] == b.target]
        ps = [float(b.p_met), *t["p_met"].astype(float)]
        low, high = min(ps), max(ps)
        swing = (
            t.assign(size=t["delta"].abs())
            .groupby("assumption", sort=False)["size"]
            .max()
            .sort_values(ascending=False, kind="stable")
        )
        swing = swing[swing > 0]
        top = []
        for name in swing.index[:TOP]:
            ends = t[t["assumption"] == name].set_index("end")["delta"]
            parts = [f"{e} {100 * ends[e]:+.0f} pp" for e in ("low", "high") if e in ends]
            top.append(f"{name} ({', '.join(parts)})")
        rows.append(
            {
                "target": b.target,
                "by": int(b.by),
                "p_met": float(b.p_met),
                "p_lowest": low,
                "p_highest": high,
                "robust": (low >= 0.5) == (high >= 0.5),
                "moved_most": str(swing.index[0]) if len(swing) else "",
                "top": "; ".join(top),
            }
        )
    return pd.DataFrame(rows)


def run(
    scenario: Scenario,
    seed: int = 2021,
    reps: int = 100,
    only: Sequence[str] = (),
    workers: int = 1,
    runner: Runner | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Robustness:
    """Vary each assumption (each group as a whole) of ``scenario`` one at a time to the low
    and the high end of its range, every point on the same ``seed`` and ``reps``
    replications as the scenario itself (common random numbers). ``only`` keeps some
    assumptions or groups (see :func:`moves`); ``progress(done, total)`` counts
    replications; ``runner`` replaces the local one ``workers`` would choose.

    Raises:
        DesignError: no assumptions, an unknown name in ``only``, or an end that is not a
            valid value of its setting (every point is checked before any runs).
    """
    plan = design(scenario, only)
    meta = ["assumption", "end", "value"]
    params = [c for c in plan.columns if c not in ("point", *meta)]
    check(scenario, plan)
    total = len(plan) * reps
    done = 0

    def tick(k: int) -> None:
        nonlocal done
        done += k
        if progress is not None:
            progress(done, total)

    if runner is None:
        runner = make_runner(workers if reps >= 2 * workers else 1)
    swept = run_sweep(scenario, plan[["point", *params]], seed, reps, runner, progress=tick)
    points = swept.points[["point", "target", "by", "p_met", "ci_low", "ci_high"]]
    points = points.merge(plan[["point", *meta]], on="point")
    base = points[points["end"] == "base"][["target", "by", "p_met", "ci_low", "ci_high"]]
    table = points[points["end"] != "base"].merge(
        base[["target", "p_met"]].rename(columns={"p_met": "p_base"}), on="target"
    )
    table["delta"] = table["p_met"] - table["p_base"]
    table = table[list(COLUMNS)].reset_index(drop=True)
    return Robustness(scenario.digest(), seed, reps, table, base.reset_index(drop=True))


def save(result: Robustness, folder: Path, name: str, extra: dict[str, Any] | None = None) -> None:
    """Write ``name.csv`` (the tidy table, base rows first with end ``base``) and
    ``name.json`` (the scenario hash, seed and replications) into ``folder``."""
    from sim.outputs import atomic_write

    folder.mkdir(parents=True, exist_ok=True)
    frame = stored_frame(result)
    atomic_write(folder / f"{name}.csv", lambda p: frame.to_csv(p, index=False))
    meta = {
        "scenario_hash": result.scenario_hash,
        "seed": result.seed,
        "replications": result.reps,
        **(extra or {}),
    }
    text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    atomic_write(folder / f"{name}.json", lambda p: Path(p).write_text(text, encoding="utf-8"))


def stored_frame(result: Robustness) -> pd.DataFrame:
    """The tidy table with the base rows first (end ``base``, no assumption): one table holds
    the whole study."""
    base = result.base.assign(assumption="", end="base", value="", p_base=result.base["p_met"])
    base["delta"] = 0.0
    return pd.concat([base[list(COLUMNS)], result.table], ignore_index=True)


def load(csv: Path) -> Robustness:
    """A robustness study written by :func:`save` (``csv`` and the JSON beside it)."""
    meta = json.loads(csv.with_suffix(".json").read_text(encoding="utf-8"))
    frame = pd.read_csv(csv, keep_default_na=False, na_values={"p_met": [""]})
    is_base = frame["end"] == "base"
    base = frame[is_base][["target", "by", "p_met", "ci_low", "ci_high"]].reset_index(drop=True)
    table = frame[~is_base].reset_index(drop=True)
    table["value"] = table["value"].astype(str)
    return Robustness(
        str(meta["scenario_hash"]), int(meta["seed"]), int(meta["replications"]), table, base
    )


def stored(scenario: Scenario, folder: Path | None = None) -> Robustness | None:
    """The precomputed study of exactly this scenario (same hash), if one is stored in
    ``folder`` (default :data:`STORED_DIR`), else None."""
    folder = STORED_DIR if folder is None else folder
    if not folder.is_dir():
        return None
    digest = scenario.digest()
    for meta_file in sorted(folder.glob("*.json")):
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if meta.get("scenario_hash") == digest and meta_file.with_suffix(".csv").is_file():
            return load(meta_file.with_suffix(".csv"))
    return None
