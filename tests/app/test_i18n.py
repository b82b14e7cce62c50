"""The page speaks the adviser's language: the catalogue is complete, no id or untranslated
English reaches the Vietnamese page, refused files are bullets in the page's language, the
heading says what is being run, lights are grey while uncertain, downloads suit Excel."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from sim import api, i18n, spreadsheet
from sim.codes import CAUSES
from sim.scenario import bundled_scenarios_dir, load_scenario
from tests.app.test_app import APP, box, load_app_module

BUNDLED = {p.stem: load_scenario(p) for p in sorted(bundled_scenarios_dir().glob("*.yaml"))}


def test_the_catalogue_names_every_variant_lever_cause_and_column() -> None:
    cat = i18n.catalogue()  # raises if an entry lacks a language
    for name, sc in BUNDLED.items():
        for variant in sc.variants:
            assert variant in cat["variants"], (name, variant)
    for cause in CAUSES:
        assert cause in cat["causes"], cause
        assert f"exits_{cause}" in cat["columns"], cause
    for lv in api.LEVERS:
        for section in ("text", "help", "heading"):
            assert lv.name in cat[section], (section, lv.name)
    sc = BUNDLED["nghe_an"]
    tables = api.run_study(sc, 1, 2, workers=1).summary.tables()
    for table, df in spreadsheet.kept_tables(tables).items():
        for col in df.columns:
            if col in ("text_en", "text_vi") or col.startswith("training_"):
                continue
            assert spreadsheet.header(table, col, 0) != col, (table, col)


def test_an_unknown_variant_is_named_in_quotes_not_as_a_bare_id() -> None:
    assert i18n.variant_name("my_plan", 0) == "phương án «my_plan»"
    assert i18n.variant_name("", 1) == "as planned"


def visible_text(app: AppTest) -> list[str]:
    """Every text the page shows: headings, paragraphs, captions, boxes, table headers and
    cells, and the labels and shown options of its widgets."""
    out: list[str] = []
    for kind in ("title", "subheader", "header", "markdown", "caption", "info", "warning",
                 "success", "error"):  # fmt: skip
        out += [str(e.value) for e in getattr(app, kind)]
    for table in list(app.table) + list(app.dataframe):
        df = table.value
        out += [str(c) for c in df.columns] + [str(i) for i in df.index]
        out += [str(v) for v in df.to_numpy().ravel().tolist()]
    for kind in ("selectbox", "radio"):
        for w in getattr(app, kind):
            out.append(str(w.label))
            out += [str(o) for o in w.options]  # as shown (AppTest formats them)
    for kind in ("slider", "number_input", "toggle", "button"):
        out += [str(w.label) for w in getattr(app, kind)]
    for tab in app.tabs:
        out.append(str(tab.label))
    return out


#: Words that must not reach the Vietnamese page: ids of variants and columns, English-only
#: words of the old page, and Python's "None".
def forbidden_words() -> set[str]:
    words = {v for sc in BUNDLED.values() for v in sc.variants}
    words |= {c for c in i18n.section("columns") if "_" in c}
    words |= {"variance_reduction", "p_met", "as planned", "None", "nan"}
    return words


@pytest.mark.slow
def test_no_id_or_english_reaches_the_vietnamese_page() -> None:
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.run()
    box(app, "variant").set_value("floor")
    app.run()
    app.number_input(key="reps").set_value(4)
    app.button(key="run").click()
    app.run()
    assert not app.exception and not app.error
    # Every chart of the results has its data as a CSV download beside it.
    labels = [b.label for b in app.get("download_button")]
    assert labels.count("Tải số liệu của biểu đồ (CSV)") == 3, labels
    texts = visible_text(app)
    bad = forbidden_words()
    found = sorted(
        {w for t in texts for w in bad if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", t)}
    )
    assert not found, found
    # English labels of the old page are gone from the Vietnamese one.
    for english in ("Results", "Replications", "Provisional", "Download", "Levers", "pool"):
        assert not any(re.search(rf"\b{english}\b", t) for t in texts), english


def test_refused_files_are_bullets_in_the_page_language() -> None:
    mod = load_app_module()
    problems = ["row 2: rank 'boss' is not one of l1_head, pool", "row 3: sex 'X' is not F or M"]
    shown = [i18n.problem_text(p, 0) for p in problems]
    assert shown == [
        "dòng 2: chức vụ (rank) 'boss' không thuộc danh sách: l1_head, pool",
        "dòng 3: giới tính (sex) 'X' phải là F (nữ) hoặc M (nam)",
    ]
    assert i18n.problem_text(problems[0], 1) == problems[0]
    assert mod.MAX_UPLOAD_BYTES == 10 * 2**20
    # An unknown message stays in English, and says so.
    assert i18n.problem_text("something new", 0) == "something new (tiếng Anh)"


class Upload:
    """What Streamlit's file uploader leaves in the session: a name and the bytes."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_broken_roster_stops_the_page_with_one_bullet_a_problem(lang: str) -> None:
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["lang"] = lang
    rows = "person_id,rank,sex,birth_month,in_post_since\n"
    rows += "A,boss,F,1970-01,2020-01\nB,l1_head,X,1970-01,2020-01\n"
    app.session_state["upload_roster"] = Upload("people.csv", rows.encode())
    app.run()
    assert not app.exception
    assert len(app.error) == 1
    text = app.error[0].value
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(bullets) >= 2, text
    assert "people.csv" in text
    if lang == "vi":
        assert "Chưa nhập được danh sách" in text and "dòng 2" in text
        assert "row 2" not in text and "(tiếng Anh)" not in text, text
    else:
        assert "was refused" in text and "row 2" in text
    # Nothing runs on data the user did not mean: no Run button, no results.
    assert not [b for b in app.button if b.key == "run"]


def test_an_oversize_roster_is_refused_in_the_main_area() -> None:
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["upload_roster"] = Upload("big.csv", b"#" * (11 * 2**20 + 500_000))
    app.run()
    assert not app.exception
    assert len(app.error) == 1 and "big.csv: tệp 11.5 MB, vượt giới hạn 10 MB" in app.error[0].value
    assert not [b for b in app.button if b.key == "run"]


def test_the_heading_names_the_scenario_the_variant_and_every_moved_lever() -> None:
    mod = load_app_module()
    import streamlit as st

    st.session_state["lang"] = "vi"
    base = mod.bundled_scenario("quang_binh")
    moved = api.apply_levers(base, {"women_share": 0.2, "bias": 0.3})
    head = mod.page_heading(base, moved, "", None)
    assert head.startswith("Quảng Bình, theo kế hoạch, ")
    assert "nữ 20%" in head and "độ lệch đánh giá 0,3" in head
    floor = base.variant("floor")
    assert mod.page_heading(floor, floor, "floor", "people.csv") == (
        "Quảng Bình, tỷ lệ bổ nhiệm là mức sàn hằng năm, danh sách tải lên «people.csv»"
    )
    st.session_state["lang"] = "en"
    assert mod.page_heading(base, moved, "", None) == (
        "Quảng Bình, as planned, women 20%, evaluation bias 0.3"
    )


def test_a_light_is_grey_while_its_interval_straddles_a_threshold() -> None:
    mod = load_app_module()
    assert mod.light_level(0.85, 0.70, 0.95) == "uncertain"  # could still be medium
    assert mod.light_level(0.85, 0.81, 0.90) == "high"
    assert mod.light_level(0.6, 0.34, 1.0) == "uncertain"  # two replications
    assert mod.light_level(0.6, 0.52, 0.70) == "medium"
    assert mod.light_level(0.1, 0.0, 0.3) == "low"
    assert mod.light_level(float("nan")) == "none"


def test_downloads_suit_a_spreadsheet_reader() -> None:
    sc = BUNDLED["quang_binh"]
    tables = api.run_study(sc, 1, 3, workers=1).summary.tables()
    assert len(tables["pool"]) == 0  # QB has no pool table: it is not written
    data = spreadsheet.csv_zip(tables, 0)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        assert "pool.csv" not in names and "targets.csv" in names
        raw = z.read("targets.csv")
    assert raw.startswith("\ufeff".encode())  # Excel reads UTF-8 by its byte-order mark
    df = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert "Khả năng đạt (%)" in df.columns and "p_met" not in df.columns
    p = df["Khả năng đạt (%)"]
    assert ((p >= 0) & (p <= 100)).all() and (p.round(1) == p).all()
    kinds = {"tỷ lệ trong cấp ủy", "tỷ lệ trong số bổ nhiệm", "tỷ lệ trong đội ngũ"}
    assert set(df["Loại chỉ tiêu"]) <= kinds | {"quy định đơn vị có trên 30% nữ"}
    book = spreadsheet.workbook(tables, 1, {"scenario": "Quảng Bình", "heading": "h",
                                            "seed": 1, "reps": 3, "hash": sc.digest()})  # fmt: skip
    sheets = pd.read_excel(io.BytesIO(book), sheet_name=None, header=None)
    assert next(iter(sheets)) == "About" and "Targets" in sheets and "Pool" not in sheets
    about = sheets["About"].astype(str).to_numpy().ravel().tolist()
    assert sc.digest() in about and "Random seed" in about
    assert "P(met) (%)" in about  # every column is explained


def test_a_link_reproduces_the_view() -> None:
    """The address carries scenario, variant, language, seed, replications and moved levers;
    opening it shows the same view, and the page keeps it current."""
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.query_params.update(
        {"scenario": "ha_giang", "variant": "qb_shares", "lang": "en", "seed": "7",
         "reps": "6", "women_share": "0.25", "reservation": "false", "bogus": "1"}
    )  # fmt: skip
    app.run()
    assert not app.exception and not app.error
    assert box(app, "variant").value == "qb_shares"
    assert app.number_input(key="seed").value == 7 and app.number_input(key="reps").value == 6
    heading = app.subheader[0].value
    assert heading.startswith("Hà Giang, what-if: Quảng Bình's appointment shares, ")
    assert "women 25%" in heading and "holding posts off" in heading
    assert app.query_params["women_share"] == "0.25" and "bogus" not in app.query_params
    # Moving a lever moves the address with it.
    young = next(s for s in app.slider if s.key.startswith("lv_young_share_"))
    young.set_value(30)
    app.run()
    assert app.query_params["young_share"] == "0.3"
    assert app.query_params["variant"] == "qb_shares" and app.query_params["lang"] == "en"


def test_a_link_with_values_that_do_not_parse_opens_the_default_view() -> None:
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.query_params.update({"scenario": "atlantis", "seed": "-3", "women_share": "9"})
    app.run()
    assert not app.exception and not app.error
    assert box(app, "scenario").value == "quang_binh"
    assert app.number_input(key="seed").value == 2021
    assert app.subheader[0].value == "Quảng Bình, theo kế hoạch"


def test_a_pinned_baseline_is_shown_beside_every_later_run() -> None:
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.run()
    app.number_input(key="reps").set_value(6)
    app.button(key="run").click()
    app.run()
    app.button(key="baseline_pin").click()
    app.run()
    assert any("đang được ghim" in c.value for c in app.caption)
    women = next(s for s in app.slider if s.key.startswith("lv_women_share_"))
    women.set_value(40)
    app.button(key="run").click()
    app.run()
    assert not app.exception and not app.error
    assert any(h.value == "So với phương án gốc" for h in app.subheader)
    table = app.table[0].value
    assert list(table.columns) == [
        "Năm",
        "Gốc: khả năng đạt (95%)",
        "Hiện tại: khả năng đạt (95%)",
        "Chênh lệch hiện tại − gốc (95%)",
    ]
    assert "QB-AW" in table.index
    assert any("cùng các số ngẫu nhiên" in c.value and "(6 lần)" in c.value for c in app.caption)
    # The numbers are those of a paired comparison of the two settings.
    sc = load_app_module().bundled_scenario("quang_binh")
    b = api.apply_levers(sc, {"women_share": 0.4})
    paired = api.compare(sc, b, 2021, 6).set_index("target")
    d = paired.loc["QB-AW", "difference"]
    shown = table.loc["QB-AW", "Chênh lệch hiện tại − gốc (95%)"]
    assert shown.startswith(f"{100 * d:+.1f}".replace("-", "−")), (shown, d)


def test_the_presenter_view_steps_through_a_lesson() -> None:
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.query_params.update({"view": "present"})
    app.run()
    assert not app.exception and not app.error
    assert app.header[0].value == "Tỷ lệ bổ nhiệm và tỷ lệ trong đội ngũ"
    assert any("Bước 1/3" in str(p.proto.text) for p in app.get("progress"))
    app.button(key="lesson_next").click()
    app.run()
    assert any("Bước 2/3" in str(p.proto.text) for p in app.get("progress"))
    assert any("không vượt" in m.value for m in app.markdown)
    # The class moves the lever: the numbers follow it (flow against stock: analytic).
    app.slider(key="lesson_flow_q").set_value(30)
    app.run()
    assert any("**30.0%**" in m.value for m in app.markdown)
    assert app.query_params["view"] == "present"
    # A simulated lesson: the three readings, at one level of its lever.
    box(app, "lesson").set_value("readings")
    app.run()
    assert not app.exception and not app.error
    table = app.table[0].value
    assert "QB-AW" in table.index and table["Khả năng đạt"].str.endswith("%").all()
    # A lesson rests on few replications: each P(met) comes with its interval, as error bars.
    assert table["Khoảng tin cậy 95%"].str.contains(" – ").all()
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    bars = [tr for tr in spec["data"] if tr["type"] == "bar"]
    assert bars and all(tr["error_y"]["arrayminus"] for tr in bars)
    app.button(key="present_leave").click()
    app.run()
    assert app.title[0].value == "Mô phỏng quy hoạch cán bộ lãnh đạo, quản lý"


def test_targets_from_a_table_make_a_validated_scenario() -> None:
    sc = BUNDLED["quang_binh"]
    rows = [
        {"group": "women", "tier": "L1", "measure": "stock", "share": 20, "year": 2030},
        {"group": "young", "tier": "L2", "measure": "flow", "share": 15, "year": 2025},
        {"group": None, "tier": None, "measure": None, "share": float("nan"), "year": None},
    ]
    mine, problems = api.targets_from_rows(sc, rows)
    assert problems == {} and mine is not None
    assert [t.id for t in mine.targets] == ["MY-W-L1-S-2030", "MY-Y-L2-F-2025"]
    assert mine.targets[0].value == 0.2 and mine.targets[1].from_year == 2021
    # The scenario written for download loads back as the same scenario.
    from sim.scenario import load_scenario_text

    mod = load_app_module()
    assert load_scenario_text(mod.scenario_yaml(mine)).digest() == mine.digest()
    bad = [
        {"group": "women", "tier": "L3", "measure": "stock", "share": 20, "year": 2030},
        {"group": "young", "tier": "L2", "measure": "flow", "share": 150, "year": 2025},
        {"group": "young", "tier": "L2", "measure": "flow", "share": 15, "year": 2045},
        {"group": "women", "tier": "L1", "measure": "stock", "share": 20, "year": 2030},
        {"group": "women", "tier": "L1", "measure": "stock", "share": 25, "year": 2030},
    ]
    mine, problems = api.targets_from_rows(sc, bad)
    assert mine is None and sorted(problems) == [0, 1, 2, 4]
    assert problems[4] == "the same target as row 4"


def test_own_targets_entered_in_the_page_are_used_and_bad_rows_marked() -> None:
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.run()
    app.button(key="own_use").click()  # the three prefilled rows
    app.run()
    assert not app.exception and not app.error
    assert app.subheader[0].value == "Quảng Bình, theo kế hoạch, chỉ tiêu tự nhập"
    assert any("Đang dùng 3 chỉ tiêu" in s.value for s in app.success)
    app.number_input(key="reps").set_value(4)
    app.button(key="run").click()
    app.run()
    table = app.table[0].value
    assert list(table.index) == ["MY-W-L1-S-2030", "MY-Y-L1-S-2030", "MY-W-L1-F-2030"]
    app.button(key="own_drop").click()
    app.run()
    assert app.subheader[0].value == "Quảng Bình, theo kế hoạch"


def test_row_problems_of_own_targets_read_in_vietnamese() -> None:
    sc = BUNDLED["quang_binh"]
    rows = [
        {"group": "women", "tier": "L1", "measure": "stock", "share": 150, "year": 2030},
        {"group": "old", "tier": "L1", "measure": "stock", "share": 10, "year": 2030},
        {"group": "women", "tier": "L1", "measure": "flow", "share": 10, "year": 2040},
    ]
    mine, problems = api.targets_from_rows(sc, rows)
    assert mine is None
    shown = [i18n.problem_text(f"row {k + 1}: {p}", 0) for k, p in sorted(problems.items())]
    assert shown == [
        "dòng 1: mức 150% phải lớn hơn 0 và không quá 100",
        "dòng 2: nhóm phải là nữ hoặc trẻ",
        "dòng 3: năm 2040 phải nằm trong giai đoạn mô phỏng 2021–2030",
    ]
