"""Targets in their several forms: absolute, ranges (10-15%) and relative ("+5% vs 2021")."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BUNDLED
from test_cli import invoke

from sim.model import Model
from sim.scenario import ScenarioError, load_scenario, load_scenario_text

L1_YOUNG = """  - id: {id}
    source: "test"
    text: {{en: "test target", vi: "chỉ tiêu thử"}}
    kind: stock
    who: {{ranks: [l1_head, l1_deputy]}}
    group: {group}
    op: ">="
{extra}    by: 2025
"""

EXTRA_TARGETS = (
    L1_YOUNG.format(id="RANGE", group="young", extra="    value: 0.03\n    upper: 0.06\n")
    + L1_YOUNG.format(
        id="REL-PTS",
        group="women",
        extra="    value: 0.0\n    baseline: {year: 2021, reading: points}\n",
    )
    + L1_YOUNG.format(
        id="REL-X",
        group="women",
        extra="    value: 0.5\n    upper: 1.0\n    baseline: {year: 2021, reading: relative}\n",
    )
)


def with_targets(extra: str) -> str:
    text = BUNDLED.read_text(encoding="utf-8")
    return text.replace("\nvariants:", extra + "\nvariants:", 1)


@pytest.fixture(scope="module")
def runs() -> tuple[list, list[int], list[float]]:
    sc = load_scenario_text(with_targets(EXTRA_TARGETS), "extra.yaml")
    ids = [t.id for t in sc.targets]
    cols = [ids.index(x) for x in ("RANGE", "REL-PTS", "REL-X")]
    models = [Model(sc, seed=4, rep=r) for r in range(12)]
    # The women's share of L1 holders at the start: the baseline, as the levers start then.
    starts = []
    for m in models:
        h = m.post_holder[m.layout.post_rank >= 3]
        starts.append(float(m.female[h[h >= 0]].mean()))
    return [m.run() for m in models], cols, starts


def test_range_target_reports_both_ends(runs: tuple[list, list[int], list[float]]) -> None:
    results, (k, _, _), _ = runs
    for res in results:
        v = res.target_value[k]
        assert res.target_met[k] == (v >= 0.03 - 1e-12)
        assert res.target_met_upper[k] == (v >= 0.06 - 1e-12)
        assert res.target_threshold[k] == 0.03
    assert any(r.target_met[k] for r in results)
    assert any(r.target_met[k] and not r.target_met_upper[k] for r in results)


def test_relative_target_in_points_is_measured_against_the_baseline(
    runs: tuple[list, list[int], list[float]],
) -> None:
    results, (_, k, _), starts = runs
    for res, base in zip(results, starts, strict=True):
        # Quảng Bình's levers start at the start (1 January 2021): the baseline is the stock
        # then, before any lever acts, not the 31 December 2021 value under the levers.
        assert res.target_threshold[k] == base
        assert res.target_met[k] == (res.target_value[k] >= base - 1e-12)
    # The starting stock places the seed's 45 women among 338 L1 posts in every replication.
    assert {float(r.target_threshold[k]) for r in results} == {45 / 338}
    assert not any(r.target_met_upper[k] for r in results)  # no upper end


def test_relative_target_as_a_ratio(runs: tuple[list, list[int], list[float]]) -> None:
    results, (_, _, k), starts = runs
    for res, base in zip(results, starts, strict=True):
        assert res.target_threshold[k] == pytest.approx(1.5 * base)
        assert res.target_met_upper[k] == (res.target_value[k] >= 2.0 * base - 1e-12)


def test_cli_shows_range_and_relative_goals(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text(with_targets(EXTRA_TARGETS), encoding="utf-8")
    out = invoke(["run", str(path), "--reps", "4", "--workers", "1", "--out", str(tmp_path / "o")])
    assert out.exit_code == 0, out.stdout
    text = " ".join(out.stdout.split())
    assert ">= 3.0-6.0%" in text
    assert ">= 2021 +0.0 pp" in text
    assert ">= 2021 x 1.50 to x 2.00" in text
    assert "P(upper end)" in text


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ("    value: 0.10\n    upper: 0.05\n", "upper", "must be above value"),
        ("    value: 0.10\n    upper: 0.10\n", "upper", "must be above value"),
        ("    value: 0.10\n    upper: 1.5\n", "upper", "in [0, 1]"),
        (
            "    value: 0.05\n    baseline: {year: 2025}\n",
            "baseline.year",
            "year before the deadline",
        ),
        (
            "    value: 0.05\n    baseline: {year: 2019}\n",
            "baseline.year",
            "between the start year",
        ),
        ("    value: 5\n    baseline: {year: 2021}\n", "value", "in [-1, 1]"),
        (
            "    value: 0.05\n    baseline: {year: 2021, reading: percent}\n",
            "baseline.reading",
            "'points'",
        ),
    ],
    ids=[
        "upper_below",
        "upper_equal",
        "upper_above_one",
        "baseline_at_deadline",
        "baseline_before_start",
        "change_out_of_range",
        "unknown_reading",
    ],
)
def test_bad_range_or_baseline_is_rejected(
    tmp_path: Path, extra: str, field: str, words: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(with_targets(L1_YOUNG.format(id="BAD", group="young", extra=extra)))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    issues = [i for i in info.value.issues if i.path.endswith(field)]
    assert issues, str(info.value)
    assert issues[0].path.startswith("targets[7]")
    assert words in issues[0].message, issues[0].message
    assert issues[0].line is not None and issues[0].file == str(path)


def test_range_needs_an_at_least_goal(tmp_path: Path) -> None:
    extra = "    value: 0.10\n    upper: 0.20\n"
    text = with_targets(L1_YOUNG.format(id="BAD", group="young", extra=extra))
    old = '    op: ">="\n    value: 0.10\n    upper'
    text = text.replace(old, old.replace(">=", "<="))
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "bad.yaml")
    assert "a range target needs op" in str(info.value)
