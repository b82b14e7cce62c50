"""Charts a person reads without help: titles with units, named bands and lines, percentages,
round ticks, axes that fit the data, committee targets as points at their congresses, a moves
diagram whose labels have room, chart buttons in the page's language; and an uploaded roster
confirmed with its size."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from sim import api
from sim.model import Model
from sim.roster import roster_frame
from tests.app.test_app import APP, load_app_module
from tests.app.test_i18n import Upload


@pytest.fixture(scope="module")
def mod():  # type: ignore[no-untyped-def]
    return load_app_module()


@pytest.fixture(scope="module")
def qb_summary(mod):  # type: ignore[no-untyped-def]
    sc = mod.bundled_scenario("quang_binh")
    return sc, api.run_study(sc, 2021, 6, workers=1).summary


def names(fig) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.name for t in fig.data if t.name]


def test_a_fan_chart_names_its_bands_target_and_deadline(mod, qb_summary) -> None:  # type: ignore[no-untyped-def]
    _sc, summary = qb_summary
    stock = summary.targets[summary.targets["kind"] == "flow"]["target"].iloc[0]
    fig = mod.fan_chart(summary, stock)
    shown = names(fig)
    assert any("90%" in n for n in shown) and any("50%" in n for n in shown), shown
    assert any(n.startswith("Mục tiêu") or "≥" in n for n in shown), shown
    assert fig.layout.yaxis.title.text and fig.layout.xaxis.title.text
    assert fig.layout.yaxis.tickformat == ".0%"
    # The deadline line is labelled with its year.
    by = int(summary.trajectories.query("target == @stock")["by"].iloc[0])
    notes = [a.text for a in fig.layout.annotations]
    assert any(str(by) in n for n in notes), notes
    # The axis fits the data: the top band and the threshold are inside it.
    d = summary.trajectories[summary.trajectories["target"] == stock]
    top = fig.layout.yaxis.range[1]
    assert top >= float(d["p95"].max()) and top >= float(d["threshold"].max())


def test_a_committee_target_is_drawn_as_points_at_its_congresses(mod, qb_summary) -> None:  # type: ignore[no-untyped-def]
    _sc, summary = qb_summary
    committee = summary.targets[summary.targets["kind"] == "committee"]["target"]
    assert len(committee), "Quảng Bình has committee targets"
    fig = mod.fan_chart(summary, committee.iloc[0])
    assert not [t for t in fig.data if t.fill == "toself"]  # no band between congresses
    points = [t for t in fig.data if t.mode == "markers"]
    assert len(points) == 1 and points[0].error_y.array is not None


def test_the_appointments_chart_has_shares_in_round_percent_and_the_quota_line(
    mod, qb_summary
) -> None:  # type: ignore[no-untyped-def]
    sc, summary = qb_summary
    fig = mod.flows_chart(summary.flows, sc)
    y2 = fig.layout.yaxis2
    assert y2.tickformat == ".0%" and y2.title.text and fig.layout.yaxis.title.text
    # Ticks every 5 points (5%, 10%, 15%, ...), not 7%, 13%, 20%.
    assert y2.dtick == 0.05
    quota = [t for t in fig.data if t.type == "scatter" and t.line.dash == "dot"]
    assert quota and all(math.isclose(t.y[0], 0.15) for t in quota), [t.y for t in quota]
    l1 = summary.flows[summary.flows["tier"].str.upper() == "L1"]
    assert y2.range[1] >= float(l1[["women_share", "young_share"]].max().max())


def test_the_costs_chart_keeps_months_and_people_on_their_own_axes(mod) -> None:  # type: ignore[no-untyped-def]
    costs = pd.DataFrame(
        {
            "year": [2021, 2022],
            "vacancy_months_l1": [40.0, 55.0],
            "vacancy_months_l2": [80.0, 70.0],
            "rotations": [3.0, 4.0],
        }
    )
    fig = mod.costs_chart(costs)
    assert fig.layout.yaxis.title.text and fig.layout.yaxis2.title.text
    assert fig.layout.yaxis.title.text != fig.layout.yaxis2.title.text
    people = [t for t in fig.data if t.yaxis == "y2"]
    assert len(people) == 1 and list(people[0].y) == [3.0, 4.0]
    # Without rotations there is no second axis.
    fig = mod.costs_chart(costs.drop(columns="rotations"))
    assert not [t for t in fig.data if t.yaxis == "y2"]


@pytest.mark.parametrize("top", [2, 9, 38, 318, 4_200])
def test_the_age_pyramid_has_the_same_round_ticks_on_both_sides(mod, top) -> None:  # type: ignore[no-untyped-def]
    pyr = pd.DataFrame({"age": [30, 40, 50], "men": [top, top // 2, 1], "women": [1, 2, 0]})
    fig = mod.pyramid_chart(pyr)
    ticks = list(fig.layout.xaxis.tickvals)
    assert ticks == [-t for t in reversed(ticks)]  # symmetric
    step = ticks[1] - ticks[0]
    assert str(step).rstrip("0") in ("1", "2", "5"), step  # 1, 2 or 5 times a power of ten
    assert max(ticks) >= top and fig.layout.xaxis.range[1] >= top
    assert all(not t.startswith("-") for t in fig.layout.xaxis.ticktext)
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


@pytest.mark.parametrize("q", [0.05, 0.15, 0.3, 0.6])
def test_the_flow_against_stock_curve_stays_inside_its_axis(mod, q) -> None:  # type: ignore[no-untyped-def]
    fig = mod.flow_stock_figure(2025, 0.12, q, 0.1, big=False)
    curve = np.asarray(fig.data[0].y)
    low, high = fig.layout.yaxis.range
    assert low <= curve.min() and curve.max() <= high and q <= high
    notes = [s.annotation.text for s in fig.layout.shapes if "annotation" in s] or [
        a.text for a in fig.layout.annotations
    ]
    assert any(f"{q:.0%}" in n for n in notes), notes  # the line says the slider's share


def test_the_moves_diagram_gives_every_node_a_place_and_its_exits_room(mod) -> None:  # type: ignore[no-untyped-def]
    for name in ("quang_binh", "ha_noi"):
        sc = mod.bundled_scenario(name).with_overrides({"policy.rotation.enabled": True})
        node = mod.moves_chart(sc, 1).data[0].node
        xs, ys = list(node.x), list(node.y)
        # Plotly places a node only when both its x and y are non-zero.
        assert all(0 < v < 1 for v in xs + ys), (xs, ys)
        exits = sorted(
            (y for label, y in zip(node.label, ys, strict=True) if ":" in label),
        )
        gaps = np.diff(exits)
        assert len(exits) >= 3 and (gaps > 0.02).all(), exits
    # Exits spread in proportion to their size, largest at the top.
    xs, ys = mod.sankey_positions(
        ["pool", "l2_deputy", "left: a", "left: b", "left: c"],
        {"left: a": 10.0, "left: b": 1_000.0, "left: c": 100.0},
    )
    assert ys[3] < ys[4] < ys[2]
    assert xs[2] == xs[3] == xs[4] and xs[0] < xs[1] < xs[2]


def test_chart_buttons_are_few_and_speak_the_page_language(mod) -> None:  # type: ignore[no-untyped-def]
    config = mod.png_config("fan")
    assert config["toImageButtonOptions"]["filename"] == "cadresim_fan"
    assert "zoom2d" in config["modeBarButtonsToRemove"]
    css = mod.chart_buttons_css()
    assert 'data-title="Download plot as a PNG"' in css and "Tải hình (PNG)" in css
    for title in mod.CHART_BUTTONS:
        assert f'data-title="{title}"' in css


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_an_uploaded_roster_is_confirmed_with_its_size_and_named_in_the_heading(lang: str) -> None:
    mod = load_app_module()
    sc = mod.bundled_scenario("quang_binh")
    frame = roster_frame(Model(sc, 2021, 0))
    data = io.StringIO()
    frame.to_csv(data, index=False)
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["lang"] = lang
    app.session_state["reps"] = 4
    app.session_state["upload_roster"] = Upload("my_people.csv", data.getvalue().encode())
    app.run()
    assert not app.exception and not app.error
    confirmed = " ".join(s.value for s in app.success)
    people = f"{len(frame):,}".replace(",", "." if lang == "vi" else ",")
    assert "my_people.csv" in confirmed and people in confirmed, confirmed
    heading = app.subheader[0].value
    assert "my_people.csv" in heading, heading
    # The run uses it (the Run button is there and the page runs without error).
    app.button(key="run").click().run()
    assert not app.exception and not app.error
