"""Assumptions and robustness: the ``assumptions`` list of a scenario file (checked by the
loader), the one-at-a-time design, the verdicts, the precomputed tables, and the command."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import BUNDLED, ROOT, Edited
from typer.testing import CliRunner

from sim import api
from sim import robustness as rb
from sim.cli import app
from sim.scenario import Assumption, ScenarioError, load_scenario, load_scenario_text
from sim.sweep import DesignError
from sim.yamlpos import load_yaml_with_positions

WOMEN_STAFF = "women-staff shares of units"
REAPPOINT = "{path: dynamics.reappointment_probability, range: [0.6, 0.9], "
#: A short Quảng Bình (to the 2025 targets): half the cost of a replication.
SHORT = {"end": "2025-12-31", "congress.dates": ["2025-10-15"]}
SHORT_SET = ["--set", "end=2025-12-31", "--set", "congress.dates=[2025-10-15]"]
BUNDLED_NAMES = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def qb():  # type: ignore[no-untyped-def]
    return load_scenario(BUNDLED)


def without_assumptions(text: str) -> str:
    """The scenario text with its ``assumptions`` block (at the end of the file) removed."""
    return text[: text.index("\nassumptions:\n")] + "\n"


# --------------------------------------------------------------------------- the loader


def test_bundled_scenarios_declare_assumptions() -> None:
    for name in BUNDLED_NAMES:
        sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        assert len(sc.assumptions) >= 50, name
        assert all(a.note.strip() for a in sc.assumptions)


@pytest.mark.parametrize(
    ("new", "mark", "words"),
    [
        (
            "{path: dynamics.reappointment_probabilty, range: [0.6, 0.9], ",
            "dynamics.reappointment_probabilty",
            ["dynamics.reappointment_probabilty: no such setting"],
        ),
        (
            "{path: structure.blocks.nowhere.units, range: [1, 2], ",
            "structure.blocks.nowhere.units",
            ["'nowhere' is neither an id nor a valid index", "ids: party_advisory"],
        ),
        (
            "{path: dynamics.reappointment_probability, range: [0.8, 0.9], ",
            "[0.8, 0.9]",
            ["is 0.75, outside its range [0.8, 0.9]"],
        ),
        (
            "{path: dynamics.reappointment_probability, range: [0.6, 0.6], ",
            "[0.6, 0.6]",
            ["an empty range: both ends are 0.6"],
        ),
        (
            "{path: dynamics.reappointment_probability, range: [0.6, 0.9], shift: [-0.1, 0.1], ",
            "dynamics.reappointment_probability",
            ["give exactly one of range, shift or scale (got range, shift)"],
        ),
        (
            "{path: dynamics.reappointment_probability, shift: [0.05, 0.1], ",
            "[0.05, 0.1]",
            ["a shift needs low <= 0 <= high"],
        ),
        (
            "{path: dynamics.reappointment_probability, range: [0.6, 0.7, 0.9], ",
            "[0.6, 0.7, 0.9]",
            ["Tuple should have at most 2 items"],
        ),
        (
            "{path: structure.blocks.party_advisory.women_staff_share, range: [0.1, 0.5]",
            "[0.1, 0.5]",
            ["is a list, not a number", "use shift or scale"],
        ),
        (
            "{path: congress.size, range: [45.5, 60], ",
            "[45.5, 60]",
            ["congress.size is a whole number (50)", "whole-number ends"],
        ),
        (
            "{path: dynamics.reappointment_probability, range: [0.5, 1.5], group: congress, ",
            "dynamics.reappointment_probability",
            ["dynamics.reappointment_probability is listed twice (first at assumptions["],
        ),
    ],
    ids=[
        "unknown-setting",
        "unknown-block",
        "outside-range",
        "empty-range",
        "two-forms",
        "shift-without-zero",
        "three-ends",
        "range-of-a-list",
        "fractional-ends",
        "listed-twice",
    ],
)
def test_bad_assumptions_are_located(
    edited: Callable[..., Edited], new: str, mark: str, words: list[str]
) -> None:
    old = REAPPOINT
    if "women_staff_share" in new:  # in place of the block's own entry
        old = "{path: structure.blocks.party_advisory.women_staff_share, shift: [-0.10, 0.10]"
    if "group: congress" in new:  # in place of a later entry: the second one is reported
        old = "{path: congress.head_bonus, range: [0.5, 1.5], group: congress, "
    bad = edited(old, new, mark)
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad.path)
    text = str(err.value)
    assert f"{bad.path}:{bad.line}:" in text, text
    for w in words:
        assert w in text, text


def test_an_assumption_needs_a_note(edited: Callable[..., Edited]) -> None:
    old = '{path: congress.head_bonus, range: [0.5, 1.5], group: congress, note: "how strongly'
    bad = edited(old, '{path: congress.head_bonus, range: [0.5, 1.5], group: congress, why: "x')
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad.path)
    assert f"{bad.path}:{bad.line}:" in str(err.value)
    assert "note: required field is missing" in str(err.value)


def test_overrides_may_leave_a_range(qb) -> None:  # type: ignore[no-untyped-def]
    """A what-if outside an assumed range is allowed: the range says what is plausible, not
    what may be tried (only a scenario file is held to its ranges)."""
    sc = qb.with_overrides({"dynamics.reappointment_probability": 0.99})
    assert sc.dynamics.reappointment_probability == 0.99


def test_every_number_commented_assumption_has_an_entry() -> None:
    """Each number whose line (or the comment line just above it) says "assumption" is
    listed under ``assumptions``, except the documented exceptions: the ages' lower bound of
    40, the unit counts of blocks that list a women-staff share per unit, lists that are not
    shares, and the settings of variants."""

    def leaves(node, prefix=()):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            for k, v in node.items():
                yield from leaves(v, (*prefix, k))
        elif isinstance(node, list) and not all(isinstance(x, int | float) for x in node):
            for i, v in enumerate(node):
                yield from leaves(v, (*prefix, i))
        else:
            yield prefix, node

    for name in BUNDLED_NAMES:
        path = ROOT / "scenarios" / f"{name}.yaml"
        text = path.read_text(encoding="utf-8")
        data, positions = load_yaml_with_positions(text, str(path))
        lines = text.splitlines()
        listed = {a.path for a in load_scenario(path).assumptions}
        missing = []
        for loc, value in leaves(data):
            if not loc or loc[0] in ("variants", "assumptions", "targets", "not_modelled"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float | list):
                continue
            if isinstance(value, list) and not (value and all(0 <= x <= 1 for x in value)):
                continue  # years, not shares, or an empty list
            if loc[-1] == "min" and any("age" in str(part) for part in loc[-3:-1]):
                continue
            per_unit = loc[:2] == ("structure", "blocks") and isinstance(
                data["structure"]["blocks"][loc[2]].get("women_staff_share"), list
            )
            if per_unit and loc[-1] in ("units", "heads"):
                continue
            line = positions.key_positions.get(loc, positions.get(loc))[0]
            here = lines[line - 1].split("#", 1)
            above = lines[line - 2].strip() if line >= 2 else ""
            said = (len(here) == 2 and re.search(r"\bassumption", here[1], re.I)) or (
                above.startswith("#") and re.search(r"\bassumption", above, re.I)
            )
            if not said:
                continue
            node, parts = data, []
            for part in loc:
                item = node[part]
                parts.append(
                    str(item.get("id", part))
                    if isinstance(part, int) and isinstance(item, dict)
                    else str(part)
                )
                node = item
            dotted = ".".join(parts)
            if dotted not in listed:
                missing.append(f"{path.name}:{line} {dotted}")
        assert not missing, "assumed numbers without a range:\n" + "\n".join(missing)


# --------------------------------------------------------------------------- the design


def test_assumption_ends() -> None:
    shift = Assumption(path="x", shift=(-0.1, 0.1), note="n")
    assert shift.at([0.05, 0.5, 0.95], "low") == [0.0, 0.4, 0.85]
    assert shift.at([0.05, 0.5, 0.95], "high") == [0.15, 0.6, 1.0]
    assert shift.at(0.3, "high") == 0.4
    scale = Assumption(path="x", scale=(0.5, 2.0), note="n")
    assert scale.at([0.2, 0.6], "low") == [0.1, 0.3]
    assert scale.at([0.2, 0.6], "high") == [0.4, 1.0]
    whole = Assumption(path="x", range=(10, 28), note="n")
    assert whole.at(14, "low") == 10 and isinstance(whole.at(14, "low"), int)
    against = Assumption(path="x", range=(46, 28), note="n")  # moves against its group
    assert (against.at(42, "low"), against.at(42, "high")) == (46, 28)
    assert against.problem_with(42) is None and against.problem_with(50) is not None
    with pytest.raises(ValueError, match="scale needs 0 <= low <= 1 <= high"):
        Assumption(path="x", scale=(1.1, 2.0), note="n")


def test_design_moves_one_assumption_or_group_at_a_time(qb) -> None:  # type: ignore[no-untyped-def]
    plan = rb.design(qb)
    groups = list(dict.fromkeys(a.label for a in qb.assumptions))
    assert len(plan) == 1 + 2 * len(groups)
    assert plan["end"].tolist() == ["base", *["low", "high"] * len(groups)]
    assert plan["assumption"].tolist()[1::2] == groups
    paths = [c for c in plan.columns if c not in ("point", "assumption", "end", "value")]
    assert paths == [a.path for a in qb.assumptions]
    base = plan.iloc[0]
    data = qb.model_dump(mode="json")
    assert (
        base["structure.blocks.party_advisory.women_staff_share"]
        == (data["structure"]["blocks"][0]["women_staff_share"])
    )
    members = {a.path for a in qb.assumptions if a.group == WOMEN_STAFF}
    low = plan[(plan["assumption"] == WOMEN_STAFF) & (plan["end"] == "low")].iloc[0]
    for p in paths:
        if p in members:
            assert low[p] != base[p], p
        else:
            assert low[p] == base[p], p  # every other assumption at its value
    assert low["structure.blocks.party_advisory.women_staff_share"] == [
        0.3,
        0.25,
        0.15,
        0.3,
        0.35,
        0.15,
    ]
    layout = plan[plan["assumption"] == "layout of the 56 unitemised posts"]
    assert layout["structure.blocks.remainder.deputies"].tolist() == [46, 28]
    assert all(isinstance(x, int) for x in layout["structure.blocks.remainder.units"])
    rb.check(qb, plan)  # every end is a valid scenario


def test_design_only_some_assumptions(qb) -> None:  # type: ignore[no-untyped-def]
    path = "structure.blocks.districts.women_staff_share"
    plan = rb.design(qb, [WOMEN_STAFF, path, WOMEN_STAFF])
    assert plan["assumption"].tolist() == ["", WOMEN_STAFF, WOMEN_STAFF, path, path]
    alone = plan[plan["assumption"] == path].iloc[0]
    assert alone[path] == pytest.approx(0.3)
    with pytest.raises(DesignError, match="--only nope: not an assumption of scenario"):
        rb.design(qb, ["nope"])


def test_design_needs_assumptions(bundled_text: str) -> None:
    sc = load_scenario_text(without_assumptions(bundled_text))
    with pytest.raises(DesignError, match="declares no assumptions"):
        rb.design(sc)


def test_an_end_that_breaks_the_scenario_is_named(qb) -> None:  # type: ignore[no-untyped-def]
    data = qb.model_dump(mode="json")
    data["assumptions"] = [
        {"path": "structure.blocks.remainder.heads", "range": [14, 15], "note": "n"}
    ]
    sc = type(qb).model_validate(data)
    with pytest.raises(DesignError, match=r"heads at its high end \(15\): heads \(15\) cannot"):
        rb.check(sc, rb.design(sc))


def test_summarise_verdicts() -> None:
    base = pd.DataFrame(
        {
            "target": ["A", "B", "C"],
            "by": [2025] * 3,
            "p_met": [0.9, 0.6, 0.2],
            "ci_low": [0.0] * 3,
            "ci_high": [1.0] * 3,
        }
    )
    rows = []
    for target, pb, changes in (
        ("A", 0.9, {"g1": (0.8, 0.95), "g2": (0.7, 0.9)}),
        ("B", 0.6, {"g1": (0.55, 0.6), "g2": (0.3, 0.8)}),
        ("C", 0.2, {"g1": (0.2, 0.2), "g2": (0.2, 0.2)}),
    ):
        for name, (lo, hi) in changes.items():
            for end, p in (("low", lo), ("high", hi)):
                rows.append(
                    {
                        "target": target,
                        "by": 2025,
                        "assumption": name,
                        "end": end,
                        "value": "",
                        "p_met": p,
                        "ci_low": 0.0,
                        "ci_high": 1.0,
                        "p_base": pb,
                        "delta": p - pb,
                    }
                )
    s = rb.summarise(pd.DataFrame(rows), base).set_index("target")
    assert s.loc["A", "robust"] and s.loc["A", "moved_most"] == "g2"
    assert s.loc["A", "p_lowest"] == 0.7 and s.loc["A", "p_highest"] == 0.95
    assert not s.loc["B", "robust"] and s.loc["B", "moved_most"] == "g2"
    assert s.loc["B", "top"].startswith("g2 (low -30 pp, high +20 pp); g1")
    assert s.loc["C", "robust"] and s.loc["C", "moved_most"] == "" and s.loc["C", "top"] == ""


# --------------------------------------------------------------------------- running it


@pytest.mark.slow
def test_women_staff_shares_carry_qb_aw(qb) -> None:  # type: ignore[no-untyped-def]
    """The meaning of the women-staff rule's assumption: with every unit's women-staff share
    10 points lower, fewer units are above the 30% threshold, fewer posts must go to women,
    and P(QB-AW) falls; among the groups tried, it moves QB-AW most."""
    sc = qb.with_overrides(SHORT)
    only = [WOMEN_STAFF, "dynamics.reappointment_probability"]
    result = api.robustness(sc, seed=2021, reps=12, only=only)
    t = result.table.set_index(["target", "assumption", "end"])
    base = result.base.set_index("target").loc["QB-AW", "p_met"]
    low = t.loc[("QB-AW", WOMEN_STAFF, "low"), "p_met"]
    assert low < base - 0.2, (low, base)
    verdict = result.summary.set_index("target").loc["QB-AW"]
    assert verdict["moved_most"] == WOMEN_STAFF
    # The same seed and replications at every point: the base is the plain study's answer.
    plain = api.run_study(sc, 2021, 12).summary.targets.set_index("target")
    assert base == plain.loc["QB-AW", "p_met"]


def test_the_default_scenario_ships_its_table_and_no_table_is_stale() -> None:
    """Quảng Bình (the default) ships a precomputed table; the other provinces may (they show
    'not computed' until `cadresim robustness` or the app's button computes one), but a shipped
    table is never of another version of its scenario."""
    shipped = {p.stem for p in rb.STORED_DIR.glob("*.json")}
    assert "quang_binh" in shipped
    assert shipped <= set(BUNDLED_NAMES)


@pytest.mark.parametrize(
    "name", [n for n in BUNDLED_NAMES if (rb.STORED_DIR / f"{n}.json").is_file()]
)
def test_precomputed_table_matches_the_scenario(name: str) -> None:
    """The shipped table is of the scenario as it is now: a changed scenario (or a changed
    range) needs `python scripts/robustness_tables.py NAME`."""
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    meta_file = rb.STORED_DIR / f"{name}.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    assert meta["scenario_hash"] == sc.digest(), (
        f"docs/robustness/{name} is stale (scenario changed): run "
        f"python scripts/robustness_tables.py {name}"
    )
    found = rb.stored(sc)
    assert found is not None and found.reps == meta["replications"]
    assert list(found.base["target"]) == [t.id for t in sc.targets]
    assert list(dict.fromkeys(found.table["assumption"])) == [m.label for m in rb.moves(sc)]
    assert set(found.verdicts()) == {t.id for t in sc.targets}
    assert rb.stored(sc.with_overrides({"policy.appointment_share.women": 0.3})) is None


# --------------------------------------------------------------------------- the command


def invoke(args: list[str]):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"cadresim {' '.join(args)} raised") from result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.mark.slow
def test_robustness_command_writes_its_table(tmp_path: Path, qb) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "rob"
    args = ["robustness", str(BUNDLED), "--reps", "4", "--workers", "1", "-q", *SHORT_SET]
    args += ["--only", WOMEN_STAFF, "--only", "congress", "--out", str(out)]
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    assert "QB-AW" in result.stdout and "robust?" in result.stdout
    table = pd.read_parquet(out / "robustness.parquet")
    assert list(table.columns) == list(rb.COLUMNS)
    assert set(table["end"]) == {"base", "low", "high"}
    assert set(table["assumption"]) == {"", WOMEN_STAFF, "congress"}
    assert (
        table["p_base"]
        == table["target"].map(table[table["end"] == "base"].set_index("target")["p_met"])
    ).all()
    assert (out / "robustness_summary.csv").is_file()
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["robustness"]["assumptions"] == [WOMEN_STAFF, "congress"]
    assert meta["replications_requested"] == 4 and meta["seed"] == 2021


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--only", "nope"], ["--only nope: not an assumption", WOMEN_STAFF]),
        (["--set", "dynamics.nope=1"], ["invalid scenario", "dynamics.nope"]),
        (["--variant", "nope"], ["variant 'nope' is not defined"]),
    ],
    ids=["unknown-assumption", "bad-set", "bad-variant"],
)
def test_robustness_command_bad_input_exits_2(args: list[str], words: list[str]) -> None:
    result = invoke(["robustness", str(BUNDLED), "-q", *args])
    assert result.exit_code == 2
    for w in words:
        assert w in result.stderr, result.stderr


def test_robustness_command_without_assumptions_exits_2(tmp_path: Path, bundled_text: str) -> None:
    bare = tmp_path / "bare.yaml"
    bare.write_text(without_assumptions(bundled_text), encoding="utf-8")
    result = invoke(["robustness", str(bare), "-q"])
    assert result.exit_code == 2
    assert "declares no assumptions" in result.stderr


def test_robustness_command_bad_assumption_exits_2_with_its_line(
    edited: Callable[..., Edited],
) -> None:
    bad = edited(REAPPOINT, "{path: dynamics.reappointment, range: [0.6, 0.9], ", "dynamics")
    result = invoke(["robustness", str(bad.path), "-q"])
    assert result.exit_code == 2
    assert f"{bad.path}:{bad.line}:" in result.stderr


@pytest.mark.slow
def test_run_shows_the_precomputed_robustness() -> None:
    result = invoke(["run", "quang_binh", "--reps", "2", "--workers", "1", "-q"])
    assert result.exit_code == 0, result.stderr
    assert "robust?" in result.stdout and "precomputed table" in result.stdout
    verdicts = rb.stored(load_scenario(BUNDLED)).verdicts()  # type: ignore[union-attr]
    for target, (robust, _) in verdicts.items():
        line = next(ln for ln in result.stdout.splitlines() if f" {target} " in ln)
        assert ("robust" if robust else "rests on:") in line


@pytest.mark.slow
def test_run_computes_robustness_for_changed_settings() -> None:
    args = ["run", "quang_binh", "--reps", "1", "--workers", "1", "-q", *SHORT_SET]
    plain = invoke(args)
    assert plain.exit_code == 0 and "robust?" not in plain.stdout
    assert "add --robustness to compute it" in plain.stdout
    live = invoke([*args, "--robustness"])
    assert live.exit_code == 0, live.stderr
    assert "robust?" in live.stdout
    assert re.search(r"QB-AW .*(robust|rests on: )", live.stdout)


@pytest.mark.slow
def test_robustness_is_the_same_on_one_or_two_workers(qb) -> None:  # type: ignore[no-untyped-def]
    sc = qb.with_overrides(SHORT)
    one = api.robustness(sc, seed=7, reps=4, only=[WOMEN_STAFF], workers=1)
    two = api.robustness(sc, seed=7, reps=4, only=[WOMEN_STAFF], workers=2)
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.base, two.base)


def test_every_bundled_assumption_has_a_vietnamese_name() -> None:
    """The app names the assumption an answer rests on in Vietnamese: a new group or path in a
    bundled scenario needs its entry in LABEL_VI."""
    from sim.scenario import bundled_scenarios_dir

    missing = {
        a.label
        for path in sorted(bundled_scenarios_dir().glob("*.yaml"))
        for a in load_scenario(path).assumptions
        if a.label not in rb.LABEL_VI
    }
    assert not missing, sorted(missing)
    assert rb.label_vi("exits") == "tỷ lệ nghỉ, chuyển công tác (exits)"
    assert rb.label_vi("something new") == "something new"
