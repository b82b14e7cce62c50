"""The ranked sensitivity chart (sim.charts.sensitivity_svg) and `cadresim sensitivity --chart`."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import invoke

from sim.charts import nice_ticks, sensitivity_svg, shorten

SVG = "{http://www.w3.org/2000/svg}"
WOMEN = "policy.appointment_share.women"
LONG = "policy.training.courses.knowledge_update.intake_per_year"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises if the document is not well-formed XML
    assert root.tag == f"{SVG}svg"
    return root


def rows(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "row"]


def bars(row: ET.Element, series: str) -> list[ET.Element]:
    return [
        e
        for e in row.iter(f"{SVG}rect")
        if e.get("class") == "bar" and e.get("data-series") == series
    ]


def whisker(row: ET.Element, series: str) -> tuple[float, float] | None:
    """The x ends of the whisker of a series in a row (its first line is the span)."""
    for g in row.iter(f"{SVG}g"):
        if g.get("class") == "whisker" and g.get("data-series") == series:
            line = g.find(f"{SVG}line")
            assert line is not None
            return float(line.get("x1", "nan")), float(line.get("x2", "nan"))
    return None


@pytest.fixture
def sobol() -> pd.DataFrame:
    """A Sobol table, deliberately not in ranking order, with a negative and a missing value."""
    return pd.DataFrame(
        {
            "parameter": ["policy.evaluation_bias", WOMEN, "a<&>\"b'", LONG],
            "S1": [-0.04, 0.45, np.nan, 0.1],
            "S1_conf": [0.06, 0.1, np.nan, 0.05],
            "ST": [0.05, 0.6, 0.2, np.nan],
            "ST_conf": [0.04, 0.12, 0.03, 0.02],
        }
    )


def test_sobol_chart_is_ranked_proportional_and_honest(sobol: pd.DataFrame) -> None:
    svg = sensitivity_svg(sobol, "sobol", "Sobol of P(X met) & <more>")
    root = parse(svg)
    scale = float(root.get("data-scale", "nan"))
    zero = float(root.get("data-zero", "nan"))
    assert scale > 0
    found = rows(root)
    # Ranked by ST, most influential first; a NaN ST goes last.
    assert [r.get("data-parameter") for r in found] == [
        WOMEN,
        "a<&>\"b'",
        "policy.evaluation_bias",
        LONG,
    ]
    assert [r.get("data-rank") for r in found] == ["1", "2", "3", "4"]
    ys = [float(bars(r, "ST")[0].get("y", "nan")) for r in found[:3]]
    assert ys == sorted(ys)  # top to bottom
    by_name = {r.get("data-parameter"): r for r in found}
    for _, t in sobol.iterrows():
        row = by_name[t["parameter"]]
        for series in ("S1", "ST"):
            value, conf = t[series], t[f"{series}_conf"]
            drawn = bars(row, series)
            if math.isnan(value):
                assert not drawn  # no bar, a "n/a" label
                assert any(
                    e.get("data-series") == series and e.text == "n/a"
                    for e in row.iter(f"{SVG}text")
                )
                continue
            (bar,) = drawn
            assert float(bar.get("x", "nan")) == pytest.approx(zero)
            # Bar length proportional to the value, clipped at 0.
            assert float(bar.get("width", "nan")) == pytest.approx(max(value, 0) * scale, abs=0.01)
            ends = whisker(row, series)
            if math.isnan(conf):
                assert ends is None
            else:
                assert ends is not None
                # Whiskers are the whole interval, below 0 too.
                assert ends[0] == pytest.approx(zero + (value - conf) * scale, abs=0.01)
                assert ends[1] == pytest.approx(zero + (value + conf) * scale, abs=0.01)
    # Widths are in the ratio of the values.
    w = float(bars(by_name[WOMEN], "ST")[0].get("width", "nan"))
    b = float(bars(by_name["policy.evaluation_bias"], "ST")[0].get("width", "nan"))
    assert w / b == pytest.approx(0.6 / 0.05, rel=1e-3)
    # The negative S1: a bar of no length, the estimate marked left of the zero line.
    neg = by_name["policy.evaluation_bias"]
    assert float(bars(neg, "S1")[0].get("width", "nan")) == 0
    (mark,) = [e for e in neg.iter(f"{SVG}line") if e.get("class") == "estimate"]
    assert float(mark.get("x1", "nan")) == pytest.approx(zero - 0.04 * scale, abs=0.01)
    # The axis reaches the lowest whisker end (-0.1) and the highest (0.72).
    ticks = [float(t.text or "nan") for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert min(ticks) <= -0.1 and max(ticks) >= 0.72
    # Text is escaped: the raw file holds entities, the parsed one the characters.
    assert "a&lt;&amp;&gt;" in svg and "&lt;more&gt;" in svg
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "Sobol of P(X met) & <more>" in titles and "a<&>\"b'" in titles
    # A long dotted path is shortened from the left; its full name stays in the tooltip.
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert shorten(LONG) in labels and shorten(LONG) != LONG
    assert shorten(LONG).endswith("knowledge_update.intake_per_year")
    legend = " ".join(
        t.text or ""
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "legend"
        for t in g.iter(f"{SVG}text")
    )
    assert "S1" in legend and "ST" in legend and "95%" in legend


def test_morris_chart_has_mu_star_bars_and_sigma_markers() -> None:
    table = pd.DataFrame(
        {
            "parameter": [WOMEN, "policy.evaluation_bias", "policy.removal_multiplier"],
            "mu_star": [0.3, 0.1, np.nan],
            "mu_star_conf": [0.05, np.nan, 0.1],
            "sigma": [0.4, 0.02, np.inf],
        }
    )
    root = parse(sensitivity_svg(table, "morris", "Morris"))
    scale = float(root.get("data-scale", "nan"))
    found = rows(root)
    assert [r.get("data-parameter") for r in found] == list(table["parameter"])
    (top,) = bars(found[0], "mu_star")
    assert float(top.get("width", "nan")) == pytest.approx(0.3 * scale, abs=0.01)
    assert whisker(found[0], "mu_star") is not None and whisker(found[1], "mu_star") is None
    markers = [
        (r.get("data-parameter"), float(e.get("data-value", "nan")))
        for r in found
        for e in r.iter(f"{SVG}path")
        if e.get("class") == "marker"
    ]
    assert markers == [(WOMEN, 0.4), ("policy.evaluation_bias", 0.02)]  # inf: no marker
    assert not bars(found[2], "mu_star")


def test_degenerate_tables() -> None:
    empty = pd.DataFrame(columns=["parameter", "S1", "S1_conf", "ST", "ST_conf"])
    assert rows(parse(sensitivity_svg(empty, "sobol", "empty"))) == []
    nan = pd.DataFrame(
        {
            "parameter": ["x\x01y"],
            "S1": [np.nan],
            "S1_conf": [np.nan],
            "ST": [np.nan],
            "ST_conf": [np.nan],
        }
    )
    root = parse(sensitivity_svg(nan, "sobol", "all missing"))  # a control character too
    assert rows(root)[0].get("data-parameter") == "x?y"
    with pytest.raises(ValueError, match="one of sobol, morris, fast, delta, pawn"):
        sensitivity_svg(empty, "efast", "t")
    with pytest.raises(ValueError, match="no column delta, delta_conf"):
        sensitivity_svg(empty, "delta", "t")
    # The methods beside Sobol and Morris draw their main index too.
    pawn = pd.DataFrame({"parameter": ["a", "b"], "mean": [0.1, 0.4], "median": [0.2, 0.5]})
    drawn = rows(parse(sensitivity_svg(pawn, "pawn", "pawn")))
    assert [r.get("data-parameter") for r in drawn] == ["b", "a"]  # by the median, largest first
    with pytest.raises(ValueError, match="sigma"):
        sensitivity_svg(
            pd.DataFrame(columns=["parameter", "mu_star", "mu_star_conf"]), "morris", "t"
        )
    assert nice_ticks(0, 0.72) == [0, 0.2, 0.4, 0.6, 0.8]
    assert nice_ticks(-0.1, 0.72)[0] == -0.2


def test_cli_sensitivity_writes_the_chart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("SALib")
    chart = tmp_path / "charts" / "morris.svg"
    args = [
        "sensitivity",
        "quang_binh",
        "--param",
        f"{WOMEN}=0.05:0.4",
        "--param",
        "policy.evaluation_bias=-0.5:0.5",
        "--target",
        "QB-AW",
        "--method",
        "morris",
        "--n",
        "2",
        "--reps",
        "4",
        "--output",
        "metric",
        "-w",
        "1",
        "-q",
    ]
    r = invoke([*args, "--chart", str(chart)])
    assert r.exit_code == 0, r.stdout + r.stderr
    assert f"chart written to {chart}" in r.stdout
    root = parse(chart.read_text(encoding="utf-8"))
    assert {g.get("data-parameter") for g in rows(root)} == {WOMEN, "policy.evaluation_bias"}
    assert [p.name for p in chart.parent.iterdir()] == ["morris.svg"]  # no temporary file left
    # A folder, or a path under a file: refused before the run.
    assert invoke([*args, "--chart", str(tmp_path)]).exit_code == 2
    r = invoke([*args, "--chart", str(chart / "x.svg")])
    assert r.exit_code == 1 and "is not a folder" in r.stderr
    # A failure while writing: exit 1, a clear message, the old chart and no temporary left.
    import sim.cli

    def refuse(*_: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sim.cli.os, "replace", refuse)
    r = invoke([*args, "--chart", str(chart)])
    assert r.exit_code == 1
    assert f"cannot write the chart {chart}: Permission denied" in r.stderr
    assert [p.name for p in chart.parent.iterdir()] == ["morris.svg"]
