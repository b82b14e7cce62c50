"""Merged provinces in the app (quang_tri_2025, tuyen_quang_2025): in the chooser with names that
read well, said in plain words what they are, run end to end; the merger date on every chart
with years; pre-merger targets labelled as measured on their source province; merged against
no merger on the same seeds; a roster of the merged province started on its roster date."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from sim import api, merging
from sim.model import Model
from sim.roster import roster_frame
from tests.app.test_app import APP, box, load_app_module
from tests.app.test_i18n import Upload, forbidden_words, visible_text

#: Replications of the studies run here (2 cores: a few are enough to exercise the page).
REPS = 4


@pytest.fixture(scope="module")
def mod():  # type: ignore[no-untyped-def]
    return load_app_module()


def charts(app: AppTest, tab: int | None = None) -> list[dict]:
    """The Plotly figures on the page (or in tab ``tab``), as the browser receives them."""
    where = app if tab is None else app.tabs[tab]
    return [json.loads(c.proto.spec) for c in where.get("plotly_chart")]


def year_charts(app: AppTest, year_axis: str) -> list[dict]:
    """The results' figures with years on their x axis (titled ``year_axis``). The teaching
    tab's curve of flow against stock counts years from the start by a formula, not a run:
    it has no merger."""
    out = []
    for spec in charts(app, tab=0):
        title = spec["layout"].get("xaxis", {}).get("title", {})
        if (title.get("text") if isinstance(title, dict) else title) == year_axis:
            out.append(spec)
    return out


def merger_marks(spec: dict) -> list[tuple[float, str]]:
    """The dashed vertical lines of a figure with the text of the annotation drawn with each."""
    shapes = [
        s
        for s in spec["layout"].get("shapes", [])
        if s.get("type") == "line"
        and s.get("line", {}).get("dash") == "dash"
        and s["x0"] == s["x1"]
    ]
    notes = spec["layout"].get("annotations", [])
    return [(s["x0"], n["text"]) for s in shapes for n in notes if n.get("x") == s["x0"]]


def table_with(app: AppTest, column: str) -> pd.DataFrame:
    return next(t.value for t in app.table if column in t.value.columns)


# --------------------------------------------------------------------------- the helpers


def test_names_of_merged_scenarios_read_well_in_both_languages(mod) -> None:  # type: ignore[no-untyped-def]
    qt = mod.bundled_scenario("quang_tri_2025")
    assert mod.scenario_name(qt, 0) == "Quảng Trị (hợp nhất 1/7/2025)"
    assert mod.scenario_name(qt, 1) == "Quảng Trị (merged 1/7/2025)"
    tq = mod.bundled_scenario("tuyen_quang_2025")
    assert mod.scenario_name(tq, 1) == "Tuyên Quang (merged 1/7/2025)"
    # An ordinary scenario keeps its province, before the plan's name.
    assert mod.scenario_name(mod.bundled_scenario("quang_binh"), 0) == "Quảng Bình"
    # A colon inside brackets does not cut a name.
    assert mod.top_name("A (b: c), d") == "A (b: c), d"
    assert mod.top_name("Hà Nội: Plan 177 (x: y)") == "Hà Nội"
    assert mod.source_names(qt, 0) == {
        "quang_binh": "Quảng Bình",
        "quang_tri_former": "Quảng Trị cũ",
    }
    assert mod.source_names(qt, 1)["quang_tri_former"] == "Former Quảng Trị"


def test_the_merger_line_falls_on_the_date_in_both_kinds_of_year_axis(mod) -> None:  # type: ignore[no-untyped-def]
    import plotly.graph_objects as go

    day = dt.date(2025, 7, 1)
    part = (day - dt.date(2025, 1, 1)).days / 365
    # A year drawn as a bar from y - 0.5 to y + 0.5: 1 July is in the middle of 2025's.
    fig = mod.merger_line(go.Figure(), day, period=True)
    (shape,) = fig.layout.shapes
    assert shape.line.dash == "dash" and math.isclose(shape.x0, 2024.5 + part)
    assert fig.layout.annotations[0].text == "Sáp nhập 1/7/2025"
    # A value read at the end of each year: between the end of 2024 and the end of 2025.
    fig = mod.merger_line(go.Figure(), day, period=False)
    assert math.isclose(fig.layout.shapes[0].x0, 2024 + part)
    # No merger, no line.
    assert not mod.merger_line(go.Figure(), None).layout.shapes
    costs = pd.DataFrame({"year": [2024, 2025], "vacancy_months_l1": [1.0, 2.0]})
    assert not mod.costs_chart(costs).layout.shapes
    assert len(mod.costs_chart(costs, day).layout.shapes) == 1


def test_api_reads_a_merged_province_from_its_sources() -> None:
    """The population tab and the moves diagram of a merged province: its source provinces'
    people at the start, and their moves before the merger with the merged province's after."""
    from sim.scenario import load_scenario

    sc = load_scenario(APP.parent / "scenarios" / "quang_tri_2025.yaml")
    together = api.population_summary(sc)["tiers"].set_index("tier")
    models = [Model(src, 2021, 0, branch=k) for k, src in enumerate(sc.merger_sources)]
    l1 = [int((m.rank[: m.n] >= 3).sum()) for m in models]
    assert len(l1) == 2 and together.loc["L1", "people"] == sum(l1)
    alone = api.population_summary(sc.variant("no_merger"))["tiers"].set_index("tier")
    assert alone.loc["L1", "people"] == l1[0]
    moves = api.moves_between_ranks(sc, 1, reps=1)
    assert "left: restructured" in set(moves["target"])  # cut or retired early on the date
    assert api.unmeasured_targets(sc) == []
    tq = load_scenario(APP.parent / "scenarios" / "tuyen_quang_2025.yaml")
    gone = api.unmeasured_targets(tq.variant("no_merger"))
    assert gone and all(t.startswith("TQ-") and "-PC-" in t for t in gone)  # no congress


def test_the_downloaded_merged_scenario_reproduces_the_run(mod, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The YAML the Downloads tab offers for a merged province (with a lever moved) loads
    back as the same scenario: its generated pre-merger targets are not doubled."""
    from sim.scenario import load_scenario

    for name in ("quang_tri_2025", "tuyen_quang_2025"):
        sc = mod.bundled_scenario(name).with_overrides({"policy.appointment_share.women": 0.22})
        path = tmp_path / f"{name}_used.yaml"
        path.write_text(mod.scenario_yaml(sc), encoding="utf-8")
        again = load_scenario(path)
        assert again.digest() == sc.digest()
        assert [t.id for t in again.targets] == [t.id for t in sc.targets]


def test_the_merger_table_downloads_as_counts_in_the_reader_language(mod) -> None:  # type: ignore[no-untyped-def]
    """The Downloads tab's tables of a merged province include the merger date's counts: a
    count of people or posts (not a share written in percent), named in Vietnamese."""
    from sim import spreadsheet

    sc = mod.bundled_scenario("quang_tri_2025")
    tables = api.run_study(sc, 2021, 2, workers=1).summary.tables()
    raw = tables["merger"].set_index("item")["mean"]
    shown = spreadsheet.readable("merger", tables["merger"], 0)
    assert list(shown.columns) == ["Khoản mục", "Số lượng (TB)", "Ý nghĩa"]
    counts = shown.set_index("Khoản mục")["Số lượng (TB)"]
    assert counts["cán bộ được bàn giao"] == round(float(raw["holders"]), 1)
    assert not any(re.search("[a-z]_[a-z]", m) for m in shown["Ý nghĩa"])  # no code, no English
    assert spreadsheet.unit_of("merger", "mean", 0) == spreadsheet.unit_of(
        "flows", "holders_mean", 0
    )
    english = spreadsheet.readable("merger", tables["merger"], 1)
    assert list(english.columns) == ["Item", "Count (mean)", "Meaning"]
    assert spreadsheet.sheet_name("merger", 0) == "Sáp nhập"


# --------------------------------------------------------------------------- the page


def test_a_merged_scenario_end_to_end_in_vietnamese(mod) -> None:  # type: ignore[no-untyped-def]
    """Chosen in the sidebar; said in plain words; Run gives results without error; the
    merger line on every chart with years; pre-merger targets labelled; merged against no
    merger on the same seeds, with the numbers of a paired comparison."""
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.run()
    choice = box(app, "scenario")
    # Beside the others, by province and merger date (the options as the page shows them).
    assert {"Quảng Bình", "Quảng Trị (hợp nhất 1/7/2025)"} <= set(choice.options)
    assert "Tuyên Quang (hợp nhất 1/7/2025)" in choice.options
    choice.set_value("quang_tri_2025")
    app.run()
    assert not app.exception and not app.error
    assert app.subheader[0].value == "Quảng Trị (hợp nhất 1/7/2025), theo kế hoạch"
    about = " ".join(i.value for i in app.info)
    assert "Hợp nhất ngày 1/7/2025 từ Quảng Bình và Quảng Trị cũ" in about, about
    assert "Quảng Bình chạy theo kế hoạch của mình đến ngày đó" in about
    assert (
        "Quảng Trị cũ không có văn bản nguồn nên được giả định (theo quy mô của Quảng Bình)"
        in about
    )
    # The population tab: the source provinces' people at the start, together.
    assert any(
        "đội ngũ của Quảng Bình và Quảng Trị cũ lúc bắt đầu mô phỏng (1/1/2021)" in c.value
        for c in app.caption
    )
    app.number_input(key="reps").set_value(REPS)
    app.button(key="run").click()
    app.run()
    assert not app.exception and not app.error
    # Pre-merger targets: measured on Quảng Bình before the merger.
    table = app.table[0].value
    assert table.loc["quang_binh:QB-AW", "Đo trên"] == "Quảng Bình, trước sáp nhập"
    assert table.loc["QT-AW", "Đo trên"] == "tỉnh sau sáp nhập"
    assert table["Khả năng đạt"].str.endswith("%").all()
    # The merger line on every chart with years: the fan chart, appointments, costs.
    with_years = year_charts(app, "Năm")
    assert len(with_years) == 3, [s["layout"].get("xaxis") for s in charts(app, tab=0)]
    for spec in with_years:
        marks = merger_marks(spec)
        assert [text for _x, text in marks] == ["Sáp nhập 1/7/2025"], spec["layout"]
        assert 2024 < marks[0][0] < 2025.5
    # Merged against no merger, on the same seed and replications.
    assert any("«Không sáp nhập» là Quảng Bình một mình" in c.value for c in app.caption)
    app.button(key="merger_compare").click()
    app.run()
    assert not app.exception and not app.error
    shown = table_with(app, "Không sáp nhập: khả năng đạt (95%)")
    assert list(shown.index) == list(table.index)
    assert shown.loc["quang_binh:QB-AW", "Đo trên"] == "Quảng Bình, trước sáp nhập"
    for target in shown.index:  # the merged column is the study above, with its interval
        merged = shown.loc[target, "Sáp nhập: khả năng đạt (95%)"]
        assert merged.startswith(table.loc[target, "Khả năng đạt"] + " ("), (target, merged)
    sc = mod.bundled_scenario("quang_tri_2025")
    paired = api.compare(sc.variant("no_merger"), sc, 2021, REPS, workers=2).set_index("target")
    for target, r in paired.iterrows():
        cell = shown.loc[target, "Chênh lệch sáp nhập − không (95%)"]
        assert cell.startswith(f"{100 * r['difference']:+.1f}".replace("-", "−")), (target, cell)
        alone = shown.loc[target, "Không sáp nhập: khả năng đạt (95%)"]
        assert alone.startswith(f"{100 * r['p_met_a']:.1f}%"), (target, alone)
    assert any("cùng các số ngẫu nhiên" in c.value and f"({REPS} lần)" in c.value
               for c in app.caption)  # fmt: skip
    # No id or English word reaches the Vietnamese page (variant ids, column names, "nan").
    bad = forbidden_words()
    texts = visible_text(app)
    found = {w for t in texts for w in bad if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", t)}
    assert not found, sorted(found)
    assert not any("(tiếng Anh)" in t for t in texts)


def test_no_merger_shows_a_dash_for_what_it_cannot_measure_in_english() -> None:
    """Tuyên Quang: without the merger Hà Giang has no congress, so the merged province's
    committee targets show "–" (never a P(met) of 0%)."""
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.session_state["lang"] = "en"
    app.session_state["scenario"] = "tuyen_quang_2025"
    app.session_state["reps"] = 2
    app.run()
    assert not app.exception and not app.error
    assert box(app, "scenario").value == "tuyen_quang_2025"
    about = " ".join(i.value for i in app.info)
    assert "Merged on 1 July 2025 from Hà Giang and former Tuyên Quang." in about, about
    assert (
        "Former Tuyên Quang has no source document and is assumed (scaled from Hà Giang)" in about
    )
    app.button(key="run").click()
    app.run()
    assert not app.exception and not app.error
    table = app.table[0].value
    assert table.loc["ha_giang:HG-W1-25", "Measured on"] == "Hà Giang, before the merger"
    assert table.loc["HG-W1-30", "Measured on"] == "the merged province (Hà Giang's target)"
    with_years = year_charts(app, "Year")
    assert len(with_years) == 3
    for spec in with_years:
        assert [t for _x, t in merger_marks(spec)] == ["Merger 1/7/2025"]
    app.button(key="merger_compare").click()
    app.run()
    assert not app.exception and not app.error
    shown = table_with(app, "No merger: P(met) (95%)")
    assert shown.loc["TQ-W-PC-25", "No merger: P(met) (95%)"] == "–"
    assert shown.loc["TQ-W-PC-25", "Difference merged − no merger (95%)"] == "–"
    assert shown.loc["HG-W1-30", "No merger: P(met) (95%)"].endswith("%)")
    # The no-merger variant itself: the same dashes, said why, and no merger line.
    box(app, "variant").set_value("no_merger")
    app.run()
    app.button(key="run").click()
    app.run()
    assert not app.exception and not app.error
    table = app.table[0].value
    assert table.loc["TQ-W-PC-25", "P(met)"] == "–"
    assert table.loc["TQ-W-PC-25", "Measured on"] == "not measurable on Hà Giang"
    assert any("Without the merger Hà Giang cannot measure TQ-W-PC-25" in c.value
               for c in app.caption)  # fmt: skip
    assert all(not merger_marks(spec) for spec in charts(app))
    assert not [b for b in app.button if b.key == "merger_compare"]


def merged_roster(name: str = "quang_tri_2025") -> pd.DataFrame:
    """A roster that fits the merged structure (as ``cadresim roster quang_tri_2025`` writes)."""
    sc = load_app_module().bundled_scenario(name)
    return roster_frame(Model(merging.roster_scenario(sc), 2021, 0))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    data = io.StringIO()
    frame.to_csv(data, index=False)
    return data.getvalue().encode()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_roster_of_the_merged_province_starts_on_its_roster_date(lang: str) -> None:
    """The scenario is converted before the roster is checked; the page says what that leaves
    out; the run starts from the roster (no merger, no pre-merger targets, no merger line)."""
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.session_state["lang"] = lang
    app.session_state["scenario"] = "quang_tri_2025"
    app.session_state["reps"] = 2
    app.session_state["upload_roster"] = Upload("merged.csv", csv_bytes(merged_roster()))
    # The uploader keeps a file only for the run it came with: run at once (as Run would).
    app.session_state["run_clicked"] = True
    app.run()
    assert not app.exception and not app.error
    assert any("merged.csv" in s.value for s in app.success)
    notes = " ".join(i.value for i in app.info)
    if lang == "vi":
        assert "mô phỏng bắt đầu từ danh sách" in notes and "Bắt đầu từ 2026-01-01" in notes
        assert "Không tính các chỉ tiêu không đo được từ 2026-01-01" in notes, notes
        assert "(tiếng Anh)" not in notes
    else:
        assert "Starts on 2026-01-01 from the roster" in notes, notes
        assert "Left out, not measurable from 2026-01-01" in notes
    assert "quang_binh:QB-AW" in notes and "QT-W-PC-25" in notes
    table = app.table[0].value
    assert "quang_binh:QB-AW" not in table.index and "QT-W-PC-25" not in table.index
    assert "QT-W1-30" in table.index
    assert all(not merger_marks(spec) for spec in charts(app))
    assert not [b for b in app.button if b.key == "merger_compare"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_roster_with_a_unit_the_merged_structure_lacks_is_refused(lang: str) -> None:
    frame = merged_roster()
    # Quảng Bình had six Party boards; the merged province has five.
    row = int(frame.index[frame["block"] == "party_advisory"][0])
    frame.loc[row, "unit"] = 6
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["lang"] = lang
    app.session_state["scenario"] = "quang_tri_2025"
    app.session_state["upload_roster"] = Upload("people.csv", csv_bytes(frame))
    app.run()
    assert not app.exception
    assert len(app.error) == 1
    text = app.error[0].value
    if lang == "vi":
        assert (
            f"dòng {row + 2}: đơn vị 6 không thuộc khối party_advisory (khối có 5 đơn vị)" in text
        )
    else:
        assert f"row {row + 2}: unit 6 is not in block party_advisory, which has 5 units" in text
    assert not [b for b in app.button if b.key == "run"]
