"""Tests for the ``cadresim`` command line (sim.cli), in process and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import BUNDLED, Edited, edit_text
from typer.testing import CliRunner

from sim import __version__
from sim.cli import app
from sim.scenario import Scenario, load_scenario

WOMEN_SHARE = "    women: 0.15\n    young: 0.15\n    reading"
OUTPUT_FILES = (
    "targets.csv",
    "targets.parquet",
    "replications.parquet",
    "trajectories.csv",
    "flows.csv",
    "costs.csv",
    "metadata.json",
)
WOMEN_OVERRIDE = "policy.appointment_share.women=0.2"


@pytest.fixture(scope="module")
def qb() -> Scenario:
    return load_scenario(BUNDLED)


def invoke(args: Sequence[str]) -> Any:
    """Run the app in process; no exception other than a normal exit may escape."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"cadresim {' '.join(args)} raised {result.exception!r}"
        ) from result.exception
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    return result


def run_module(args: Sequence[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sim`` for real: real exit codes, real stderr."""
    env = {k: v for k, v in os.environ.items() if k != "CADRESIM_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
    return proc


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """One small in-process run with an override, shared by the tests that inspect it."""
    out = tmp_path_factory.mktemp("study") / "results"
    result = invoke(
        [
            "run",
            str(BUNDLED),
            "--reps",
            "3",
            "--quiet",
            "--seed",
            "7",
            "--workers",
            "1",
            "--set",
            WOMEN_OVERRIDE,
            "--out",
            str(out),
        ]
    )
    return result, out


# --------------------------------------------------------------------------- #
# validate
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", ["quang_binh", str(BUNDLED)])
def test_validate_bundled_scenario(name: str, qb: Scenario) -> None:
    result = invoke(["validate", name])
    assert result.exit_code == 0, result.stderr
    assert "valid:" in result.stdout
    assert qb.digest() in result.stdout
    assert result.stderr == ""


BAD_FILES = [
    # (id, old, new, mark, words)
    (
        "share",
        WOMEN_SHARE,
        WOMEN_SHARE.replace("0.15", "1.5", 1),
        "1.5",
        "policy.appointment_share.women: Input should be less than or equal to 1",
    ),
    ("negative", "deputies: 20 ", "deputies: -3 ", "-3", "structure.blocks[0].deputies"),
    ("end_date", "end: 2030-12-31", "end: 2020-12-31", "2020-12-31", "end: end (2020-12-31)"),
    ("typo", "\npolicy:\n", "\npolicyy:\n", "policyy", "policyy: unknown key"),
    (
        "syntax",
        "province: quang_binh",
        "province: quang_binh: x",
        ": x",
        "mapping values are not allowed",
    ),
    ("duplicate", "  size: 50 ", "  size: 50\n  size: 40 ", "size: 40", "duplicate key 'size'"),
]


@pytest.mark.parametrize(
    ("old", "new", "mark", "words"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_validate_bad_file_exits_2_naming_file_and_line(
    edited: Callable[..., Edited], old: str, new: str, mark: str, words: str
) -> None:
    e = edited(old, new, mark)
    result = invoke(["validate", str(e.path)])
    assert result.exit_code == 2
    assert f"invalid: {e.path}" in result.stderr
    assert f"{e.path}:{e.line}:{e.column}" in result.stderr
    assert words in result.stderr
    assert result.stdout == ""


def test_validate_reports_each_file(edited: Callable[..., Edited]) -> None:
    e = edited("l1_total: 338", "l1_total: 339", "339")
    result = invoke(["validate", "quang_binh", str(e.path), "no/such/file.yaml"])
    assert result.exit_code == 2
    assert "valid:" in result.stdout
    assert f"{e.path}:{e.line}:" in result.stderr
    assert "no/such/file.yaml: no such scenario file" in result.stderr


def test_validate_long_paths_are_not_wrapped(tmp_path: Path, bundled_text: str) -> None:
    folder = tmp_path / ("a_folder_name_long_enough_to_overflow_any_console_width_" * 3)
    folder.mkdir()
    text, line, column = edit_text(bundled_text, "l1_total: 338", "l1_total: 339", "339")
    p = folder / "bad.yaml"
    p.write_text(text, encoding="utf-8")
    result = invoke(["validate", str(p)])
    assert result.exit_code == 2
    assert f"{p}:{line}:{column} structure.l1_total: the blocks hold" in result.stderr


def test_validate_checks_the_variants(edited: Callable[..., Edited]) -> None:
    e = edited(
        "    policy.appointment_share.reading: floor",
        "    policy.appointment_share.reading: sometimes",
        "sometimes",
    )
    result = invoke(["validate", str(e.path)])
    assert result.exit_code == 2
    assert "variants.floor policy.appointment_share.reading" in result.stderr


def test_validate_subprocess(edited: Callable[..., Edited]) -> None:
    e = edited("  size: 50 ", "  size: !!python/object/apply:os.system ['true'] ", "!!python")
    proc = run_module(["validate", str(e.path)])
    assert proc.returncode == 2
    assert f"{e.path}:{e.line}:{e.column}" in proc.stderr
    assert "python/object" in proc.stderr


# --------------------------------------------------------------------------- #
# run
# --------------------------------------------------------------------------- #


def test_run_exits_0_and_prints_every_target(study: tuple[Any, Path], qb: Scenario) -> None:
    result, _ = study
    assert result.exit_code == 0, result.stderr
    for t in qb.targets:
        assert t.id in result.stdout, t.id
    assert "P(met)" in result.stdout
    assert "3 replications" in result.stdout
    assert WOMEN_OVERRIDE in result.stdout
    assert qb.with_overrides([WOMEN_OVERRIDE]).digest() in result.stdout


def test_run_writes_every_output(study: tuple[Any, Path], qb: Scenario) -> None:
    _, out = study
    for name in OUTPUT_FILES:
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    assert not (out / ".cadresim-write-test").exists()
    targets = pd.read_csv(out / "targets.csv")
    assert set(targets["target"]) == {t.id for t in qb.targets}
    assert targets.equals(pd.read_parquet(out / "targets.parquet"))
    reps = pd.read_parquet(out / "replications.parquet")
    assert set(reps["rep"]) == {0, 1, 2}
    for name in ("trajectories.csv", "flows.csv", "costs.csv"):
        assert len(pd.read_csv(out / name)) > 0, name


def test_run_metadata(study: tuple[Any, Path], qb: Scenario) -> None:
    _, out = study
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["version"] == __version__
    assert meta["scenario_hash"] == qb.with_overrides([WOMEN_OVERRIDE]).digest()
    assert meta["scenario_hash"] != qb.digest()
    assert meta["seed"] == 7
    assert meta["replications_done"] == 3
    assert meta["replications_requested"] == 3
    assert meta["complete"] is True
    assert meta["overrides"] == [WOMEN_OVERRIDE]
    assert meta["scenario_resolved"]["policy"]["appointment_share"]["women"] == 0.2


def test_run_subprocess_writes_outputs(tmp_path: Path, qb: Scenario) -> None:
    out = tmp_path / "out"
    proc = run_module(
        ["run", "quang_binh", "--reps", "2", "--quiet", "--variant", "bau", "--out", str(out)]
    )
    assert proc.returncode == 0, proc.stderr
    for t in qb.targets:
        assert t.id in proc.stdout
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["replications_done"] == 2
    assert meta["overrides"] == []
    assert meta["variant"] == "bau"
    assert meta["scenario_hash"] == qb.variant("bau").digest()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--set", "policy.appointment_share.women=1.5"],
            ["--set policy.appointment_share.women", "less than or equal to 1", "1.5"],
        ),
        (["--set", "nosuch.path=1"], ["nosuch", "no such setting"]),
        (["--set", "policy.appointment_share.women"], ["path=value"]),
        (["--variant", "nosuch"], ["variant 'nosuch' is not defined", "bau"]),
        (["--variant", "[/x]"], ["variant '[/x]' is not defined"]),
    ],
    ids=["share-1.5", "unknown-path", "no-value", "unknown-variant", "markup-like-variant"],
)
def test_run_bad_settings_exit_2(args: list[str], words: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(["run", "quang_binh", "--reps", "2", "--quiet", "--out", str(out), *args])
    assert result.exit_code == 2
    assert "invalid scenario" in result.stderr
    for w in words:
        assert w in result.stderr, (w, result.stderr)
    assert not out.exists(), "nothing is written for an invalid scenario"


def test_run_bad_file_exits_2_naming_file_and_line(edited: Callable[..., Edited]) -> None:
    e = edited("      units: 3 ", '      units: "six" ', '"six"')
    result = invoke(["run", str(e.path), "--reps", "2", "--quiet"])
    assert result.exit_code == 2
    assert f"{e.path}:{e.line}:{e.column} structure.blocks[1].units" in result.stderr


@pytest.mark.parametrize("name", ["missing.yaml", "no_such_bundled_scenario"])
def test_run_missing_file_exits_2(tmp_path: Path, name: str) -> None:
    target = str(tmp_path / name) if name.endswith(".yaml") else name
    result = invoke(["run", target, "--reps", "2", "--quiet"])
    assert result.exit_code == 2
    assert "no such scenario file" in result.stderr
    assert name in result.stderr


@pytest.mark.parametrize(
    "args", [["--reps", "0"], ["--reps", "-1"], ["--workers", "0"], ["--reps", "many"]]
)
def test_run_option_validation_exits_2(args: list[str]) -> None:
    result = invoke(["run", "quang_binh", "--quiet", *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.stderr


def test_run_unwritable_out_fails_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder", encoding="utf-8")
    out = blocker / "results"
    result = invoke(["run", "quang_binh", "--reps", "2", "--quiet", "--out", str(out)])
    assert result.exit_code != 0
    assert "cannot write to output folder" in result.stderr
    assert str(out) in result.stderr
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_run_unwritable_out_subprocess(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("", encoding="utf-8")
    proc = run_module(
        ["run", "quang_binh", "--reps", "2", "--quiet", "--out", str(blocker / "results")]
    )
    assert proc.returncode != 0
    assert "cannot write to output folder" in proc.stderr


def test_run_bad_override_subprocess() -> None:
    proc = run_module(
        [
            "run",
            "quang_binh",
            "--reps",
            "2",
            "--quiet",
            "--set",
            "policy.appointment_share.women=1.5",
        ]
    )
    assert proc.returncode == 2
    assert "policy.appointment_share.women" in proc.stderr
    assert proc.stdout == ""


def test_run_reps_0_subprocess() -> None:
    proc = run_module(["run", "--reps", "0"])
    assert proc.returncode == 2


# --------------------------------------------------------------------------- #
# schema, list, --version
# --------------------------------------------------------------------------- #


def test_schema_prints_valid_json() -> None:
    result = invoke(["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"province", "structure", "policy", "targets"} <= set(schema["properties"])


def test_schema_to_file_and_markdown(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert invoke(["schema", "--out", str(out)]).exit_code == 0
    assert "properties" in json.loads(out.read_text(encoding="utf-8"))
    md = invoke(["schema", "--markdown"])
    assert md.exit_code == 0
    assert md.stdout.startswith("# Scenario file reference")


def test_list_shows_the_bundled_scenario(qb: Scenario) -> None:
    result = invoke(["list"])
    assert result.exit_code == 0
    assert "quang_binh" in result.stdout
    assert qb.name.en in result.stdout


def test_list_marks_invalid_scenarios(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundled_text: str
) -> None:
    (tmp_path / "good.yaml").write_text(bundled_text, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("province: [", encoding="utf-8")
    monkeypatch.setenv("CADRESIM_SCENARIOS", str(tmp_path))
    result = invoke(["list"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any(line.startswith("good") for line in lines)
    assert any(line.startswith("broken") and "invalid" in line for line in lines)


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"cadresim {__version__}"


def test_version_subprocess() -> None:
    proc = run_module(["--version"])
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_no_arguments_shows_help() -> None:
    result = CliRunner().invoke(app, [])
    assert "run" in result.stdout and "validate" in result.stdout


def test_solve_reports_out_of_reach_and_refuses_an_inert_share() -> None:
    r = invoke(
        [
            "solve",
            "quang_binh",
            "--target",
            "QB-AW",
            "--prob",
            "0.99",
            "--high",
            "0.01",
            "--reps",
            "4",
            "-w",
            "1",
            "-q",
        ]
    )
    assert r.exit_code == 1
    assert "not reached at any value tried" in r.stdout
    assert r.stdout.count("  policy.appointment_share.women = ") == 1 + 6  # top, then the scan
    bad = invoke(["solve", "ha_giang", "--target", "HG-W1-25", "--reps", "4", "-q"])
    assert bad.exit_code == 2
    assert "has no effect while policy.appointment_share.reading is 'none'" in bad.stderr
