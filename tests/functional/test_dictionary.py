"""The data dictionary: every column of every table a command writes is described (meaning,
unit, aggregation) in sim/dictionary.py, in the folder's metadata.json, and in docs/OUTPUTS.md,
which is generated from the same source and kept up to date."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_cli import invoke

from sim import api, dictionary
from sim.outputs import metadata, write_outputs
from sim.scenario import bundled_scenarios_dir, load_scenario

DOCS = Path(__file__).resolve().parents[2] / "docs" / "OUTPUTS.md"


def check_folder(out: Path) -> dict[str, list[str]]:
    """Every table in ``out`` against the dictionary and the folder's metadata.json; returns
    the tables and their columns. An exploratory study's levers and uncertainties (the
    columns of its design) are described as such, and only they."""
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    seen = {}
    params: list[str] = []
    if (out / "explore_design.parquet").exists():
        design = pd.read_parquet(out / "explore_design.parquet")
        params = [c for c in design.columns if c not in ("point", "lever_id", "state_id")]
        assert params
    for parquet in sorted(out.glob("*.parquet")):
        name = parquet.stem
        cols = [str(c) for c in pd.read_parquet(parquet).columns]
        assert name in dictionary.TABLES, f"table {name} is not in sim/dictionary.py"
        missing = dictionary.undescribed(name, cols, params)
        assert missing == [], (name, missing)
        described = meta["columns"][name]["columns"]
        assert set(described) == set(cols), name
        for col in cols:
            assert described[col]["meaning"] != "(not described)", (name, col)
            assert described[col]["unit"], (name, col)
        assert cols, f"{name} is written with no columns"
        seen[name] = cols
    return seen


@pytest.mark.parametrize(
    "path", sorted(bundled_scenarios_dir().glob("*.yaml")), ids=lambda p: p.stem
)
def test_every_column_a_run_writes_is_described(path: Path, tmp_path: Path) -> None:
    sc = load_scenario(path)
    # The succession pool on, so that its table has rows to describe too.
    sc = sc.with_overrides({"policy.succession_pool.enabled": True})
    summary = api.run_study(sc, 2021, 2, workers=1).summary
    write_outputs(summary, tmp_path, metadata(sc, 2021, 2, 2, [], 1, str(path)))
    seen = check_folder(tmp_path)
    assert {"targets", "joint", "flows", "costs", "pool", "replications"} <= set(seen)


def test_an_empty_table_keeps_its_columns(tmp_path: Path) -> None:
    sc = load_scenario(bundled_scenarios_dir() / "quang_binh.yaml")
    assert not sc.policy.succession_pool.enabled
    summary = api.run_study(sc, 2021, 2, workers=1).summary
    assert len(summary.pool) == 0 and summary.pool.columns[0] == "year"
    write_outputs(summary, tmp_path, metadata(sc, 2021, 2, 2, [], 1, None))
    assert list(pd.read_parquet(tmp_path / "pool.parquet").columns) == list(summary.pool.columns)


def test_every_column_the_research_commands_write_is_described(tmp_path: Path) -> None:
    runs = {
        "log": ["run", "quang_binh", "--reps", "2", "-q", "--log"],
        "sweep": [
            "sweep", "quang_binh", "--grid", "policy.appointment_share.women=0.1,0.3",
            "--reps", "2", "-q",
        ],
        "compare": [
            "compare", "quang_binh", "--set-b", "policy.appointment_share.women=0.3",
            "--reps", "2", "-q",
        ],
        "solve": ["solve", "quang_binh", "--target", "QB-AW", "--reps", "2", "-q"],
        "robust": [
            "robustness", "quang_binh", "--reps", "2", "-q", "--only", "specialist pool",
        ],
        "delta": [
            "sensitivity", "quang_binh", "--method", "delta", "--n", "20", "--reps", "2",
            "--target", "QB-AW", "--output", "metric", "-q",
            "--param", "policy.appointment_share.women=0.05:0.4",
            "--param", "policy.evaluation_bias=0:0.5",
        ],
        "explore": [
            "explore", "quang_binh", "--lever", "policy.appointment_share.women=0.1,0.3",
            "--only", "exits", "--n-states", "4", "--reps", "2", "-q",
        ],
    }  # fmt: skip
    tables: set[str] = set()
    for name, args in runs.items():
        out = tmp_path / name
        result = invoke([*args, "--out", str(out), "--workers", "1"])
        assert result.exit_code in (0, 1), (name, result.stdout, result.stderr)
        tables |= set(check_folder(out))
    assert {
        "events_appointments",
        "events_exits",
        "sweep_points",
        "sweep_joint",
        "sweep_flows_costs",
        "sweep_design",
        "sweep_replications",
        "compare",
        "solve_steps",
        "robustness",
        "robustness_summary",
        "sensitivity_indices",
        "sensitivity_samples",
        "sensitivity_convergence",
        "sensitivity_checks",
        *(f"explore_{t}" for t in ("design", "points", "joint", "flows_costs", "robustness")),
        *(f"explore_{t}" for t in ("prim", "cart", "discovery_notes", "replications")),
    } <= tables


def test_the_outputs_page_is_generated_from_the_dictionary() -> None:
    assert DOCS.read_text(encoding="utf-8") == dictionary.markdown(), (
        "docs/OUTPUTS.md is stale: python -m sim.dictionary > docs/OUTPUTS.md"
    )
    for name, info in dictionary.TABLES.items():
        assert info.columns, name
        for col in info.columns:
            assert col.meaning and col.unit, (name, col.name)


def test_a_pattern_describes_only_its_own_columns() -> None:
    assert dictionary.describe("costs", "exits_retirement") is not None
    assert dictionary.describe("costs", "training_degree_started") is not None
    assert dictionary.describe("costs", "training_degree_finished") is None
    assert dictionary.describe("costs", "no_such_column") is None
    assert dictionary.describe("sweep_design", "policy.appointment_share.women") is not None
    assert dictionary.describe("sweep_design", "women") is None
    assert dictionary.describe("no_such_table", "target") is None
    # A study's levers and uncertainties: only the names the study gives.
    assert dictionary.describe("explore_design", "exits") is None
    assert dictionary.describe("explore_design", "exits", ["exits"]) is not None
    assert dictionary.describe("explore_design", "p_met", ["exits"]) is None
