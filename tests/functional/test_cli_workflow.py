"""A researcher's workflow without silent surprises: each defect a fresh user met, as a test
(validate lists the variants, --log needs --out, a finished study is replaced only with
--force, the sweep says what design is missing, usage errors in one line, long studies ask,
compare and solve say what they did and write machine-readable results)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import typer
from test_cli import invoke, run_module

from sim import cli


def test_validate_lists_each_variant_with_what_it_is() -> None:
    result = invoke(["validate", "quang_binh"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    variants = [line for line in lines if line.strip().startswith("--variant ")]
    assert len(variants) == 5, result.stdout
    bau = next(line for line in variants if "--variant bau " in line)
    assert "business as usual" in bau and "policy.appointment_share.reading=none" in bau


def test_log_without_out_is_an_error_not_a_silent_drop() -> None:
    result = invoke(["run", "quang_binh", "--reps", "2", "--log", "-q"])
    assert result.exit_code == 2
    assert "--log" in result.stderr and "--out" in result.stderr


def test_a_finished_study_is_replaced_only_with_force(tmp_path: Path) -> None:
    out = tmp_path / "study"
    first = invoke(["run", "quang_binh", "--reps", "3", "--seed", "1", "-q", "--out", str(out)])
    assert first.exit_code == 0
    before = (out / "targets.csv").read_bytes()
    again = invoke(["run", "quang_binh", "--reps", "2", "--seed", "7", "-q", "--out", str(out)])
    assert again.exit_code == 2
    assert "finished run of quang_binh" in again.stderr and "--force" in again.stderr
    assert "seed 1" in again.stderr and "3 replications" in again.stderr
    assert (out / "targets.csv").read_bytes() == before  # nothing touched
    forced = invoke(
        ["run", "quang_binh", "--reps", "2", "--seed", "7", "-q", "--out", str(out), "--force"]
    )
    assert forced.exit_code == 0
    assert "--force: replacing a finished run of quang_binh" in forced.stderr
    assert json.loads((out / "metadata.json").read_text())["seed"] == 7


def test_a_finished_comparison_is_not_overwritten_unasked(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    args = [
        "compare",
        "quang_binh",
        "--set-b",
        "policy.appointment_share.women=0.3",
        "--reps",
        "2",
        "-q",
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    first = invoke(args)
    assert first.exit_code == 0
    # A and B restated in words, and how to read the variance reduction.
    assert "A: Quảng Bình" in first.stdout
    assert "B: A with policy.appointment_share.women=0.3" in first.stdout
    assert "Negative: B and A move against each other" in first.stdout
    table = pd.read_parquet(out / "compare.parquet")
    assert {"p_met_a", "p_met_b", "difference", "variance_reduction"} <= set(table.columns)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["command"] == "compare" and meta["b"]["set"] == [
        "policy.appointment_share.women=0.3"
    ]
    second = invoke(args)
    assert second.exit_code == 2 and "finished compare of quang_binh" in second.stderr
    assert invoke([*args, "--force"]).exit_code == 0


def test_sweep_without_a_design_says_what_is_missing() -> None:
    result = invoke(["sweep", "quang_binh", "--reps", "2"])
    assert result.exit_code == 2
    assert "no design" in result.stderr and "--grid" in result.stderr and "--lhs" in result.stderr
    assert "not both" not in result.stderr


def test_sampled_values_are_printed_to_four_significant_digits() -> None:
    result = invoke(
        [
            "sweep",
            "quang_binh",
            "--lhs",
            "policy.appointment_share.women=0.1:0.3",
            "--n",
            "2",
            "--reps",
            "2",
            "-q",
            "--workers",
            "1",
        ]
    )
    assert result.exit_code == 0
    assert not re.search(r"0\.\d{6,}", result.stdout), result.stdout


def test_solve_warns_when_its_answer_rests_on_too_few_replications(tmp_path: Path) -> None:
    out = tmp_path / "solve"
    result = invoke(
        [
            "solve",
            "quang_binh",
            "--target",
            "QB-AW",
            "--reps",
            "4",
            "-q",
            "--workers",
            "1",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code in (0, 1)
    assert "warning: the 95% interval" in result.stderr and "add --reps" in result.stderr
    steps = pd.read_parquet(out / "solve_steps.parquet")
    assert (steps["ci_low"] <= steps["p_met"]).all() and (steps["p_met"] <= steps["ci_high"]).all()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["solve"]["target"] == "QB-AW" and meta["command"] == "solve"
    assert "columns" in meta and "solve_steps" in meta["columns"]


def test_usage_errors_come_in_one_line_like_every_other_error() -> None:
    proc = run_module(["run", "--reps", "-5"])
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert re.match(r"error: .*\brun: Invalid value for '--reps'", lines[0]), lines[0]
    assert "╭" not in proc.stderr and "Usage:" not in proc.stderr
    proc = run_module(["runn"])
    assert proc.returncode == 2 and "No such command 'runn'" in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1


def test_a_study_over_an_hour_asks_first(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    sc = cli._load("quang_binh", [], None)[0]
    monkeypatch.setattr(cli, "_estimate_seconds", lambda *a, **k: 2 * 3600.0)
    # In a terminal: asked, and a "no" starts nothing.
    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(cli.typer, "confirm", lambda *a, **k: False)
    with pytest.raises(typer.Exit) as stop:
        cli._confirm_long(sc, 1, 1_000_000, 2, yes=False)
    assert stop.value.exit_code == 1
    # --yes: not asked at all.
    cli._confirm_long(sc, 1, 1_000_000, 2, yes=True)
    # Not a terminal: the estimate is said, and the study goes on.
    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: False, raising=False)
    cli._confirm_long(sc, 1, 1_000_000, 2, yes=False)
    # Under an hour: nothing said.
    monkeypatch.setattr(cli, "_estimate_seconds", lambda *a, **k: 600.0)
    cli._confirm_long(sc, 1, 1_000_000, 2, yes=False)


def test_the_estimate_is_measured_not_guessed() -> None:
    sc = cli._load("quang_binh", [], None)[0]
    one = cli._estimate_seconds(sc, 1, 1, 1)
    many = cli._estimate_seconds(sc, 1, 1000, 2)
    assert one > 0 and many > 100 * one  # 1,000 runs on 2 workers: about 550 times one


EXPLORE = [
    "explore",
    "quang_binh",
    "--lever",
    "policy.appointment_share.women=0.1,0.3",
    "--only",
    "exits",
    "--n-states",
    "4",
    "--reps",
    "2",
    "-q",
    "--workers",
    "1",
]


def test_explore_names_a_bad_spec_and_runs_nothing(tmp_path: Path) -> None:
    result = invoke([*EXPLORE[:3], "policy.appointment_share.women=0.3:0.1", *EXPLORE[4:]])
    assert result.exit_code == 2
    assert "bad exploration design" in result.stderr
    assert "policy.appointment_share.women" in result.stderr
    result = invoke([*EXPLORE, "--state-design", "sobol", "--n-states", "6"])
    assert result.exit_code == 2 and "sobol" in result.stderr.lower()
    result = invoke([*EXPLORE, "--only", "no such group"])
    assert result.exit_code == 2 and "no such group" in result.stderr
    # Nothing to explore: a scenario without an exploration block and no levers given.
    result = invoke(["explore", "quang_binh", "--no-assumptions", "-q"])
    assert result.exit_code == 2 and "nothing to explore" in result.stderr


def test_explore_writes_tidy_tables_and_resumes_to_the_same(tmp_path: Path) -> None:
    out = tmp_path / "x"
    first = invoke([*EXPLORE, "--out", str(out)])
    assert first.exit_code == 0, first.stderr
    assert "the most robust lever settings" in first.stdout
    tables = {p.stem: pd.read_parquet(p) for p in out.glob("explore_*.parquet")}
    design = tables["explore_design"]
    assert len(design) == 8 and design["lever_id"].nunique() == 2
    # Every lever setting meets the same states of the world.
    states = design.groupby("lever_id")["exits"].apply(tuple)
    assert states.iloc[0] == states.iloc[1]
    joint = tables["explore_joint"].merge(
        tables["explore_points"].groupby(["point", "by"])["p_met"].min().reset_index(),
        on=["point", "by"],
    )
    assert (joint["p_all_met"] <= joint["p_met"] + 1e-12).all()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["command"] == "explore" and meta["explore"]["points"] == 8
    # A study stopped after its replications are stored resumes to identical tables.
    (out / "metadata.json").unlink()
    for p in out.glob("explore_*"):
        p.unlink()
    again = invoke([*EXPLORE, "--out", str(out), "--resume"])
    assert again.exit_code == 0 and "resuming: 16 replications" in again.stderr
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), frame)


def test_a_scenarios_exploration_block_is_checked_where_it_is(tmp_path: Path) -> None:
    from sim.scenario import ScenarioError, load_scenario, resolve_scenario_path

    text = resolve_scenario_path("ha_giang").read_text(encoding="utf-8")
    bad = text.replace(
        "    - policy.appointment_share.women=0.15,0.2,0.3\n",
        "    - policy.appointment_share.women=0.3:0.1\n",
    )
    assert bad != text
    path = tmp_path / "hg.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert "exploration.levers[1]" in message or "exploration.levers.1" in message, message
    line = bad[: bad.index("women=0.3:0.1")].count("\n") + 1
    assert f":{line}:" in message, message
    # The block changes no replication: the scenario's hash is the same without it.
    plain = load_scenario(resolve_scenario_path("ha_giang"))
    assert plain.exploration is not None
    assert plain.digest() == plain.model_copy(update={"exploration": None}).digest()


def test_help_texts_print_their_specs_as_written() -> None:
    """Rich turns ":b:" into an emoji in help texts (path=a:b:step printed as path=a🅱step):
    no command's help may hold a character from the emoji blocks."""
    from sim.cli import app as cli_app

    names = [c.name or c.callback.__name__ for c in cli_app.registered_commands]  # type: ignore[union-attr]
    assert "explore" in names and "sweep" in names
    for name in names:
        text = invoke([name, "--help"]).stdout
        emoji = [ch for ch in text if 0x1F000 <= ord(ch) <= 0x1FAFF or 0x2600 <= ord(ch) <= 0x27BF]
        assert not emoji, (name, emoji)
