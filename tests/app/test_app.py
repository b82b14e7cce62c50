"""The browser app, driven by Streamlit's AppTest: load, levers, a run, languages, bad input."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"


def load_app_module():  # type: ignore[no-untyped-def]
    """The page's helpers, imported without running the page (no Streamlit session)."""
    spec = importlib.util.spec_from_file_location("cadresim_app_under_test", APP)
    assert spec is not None and spec.loader is not None
    source = APP.read_text(encoding="utf-8").replace("\ntry:\n    main()", "\ntry:\n    pass")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    exec(compile(source, str(APP), "exec"), module.__dict__)
    return module


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=240)
    at.run()
    assert not at.exception
    return at


def box(app: AppTest, name: str):  # type: ignore[no-untyped-def]
    """The selectbox of ``name`` in the page's language (its key carries the language)."""
    language = app.session_state["lang"] if "lang" in app.session_state else "vi"  # noqa: SIM401
    return app.selectbox(key=f"{name}@{language}")


def test_page_loads_in_vietnamese_with_the_default_scenario(app: AppTest) -> None:
    assert app.title[0].value == "Mô phỏng quy hoạch cán bộ lãnh đạo, quản lý"
    assert box(app, "scenario").value == "quang_binh"
    assert not app.error
    assert any("Chưa có kết quả" in i.value for i in app.info)


def test_change_a_lever_and_run(app: AppTest) -> None:
    app.number_input(key="reps").set_value(6)
    women = next(s for s in app.slider if s.key.startswith("lv_women_share_"))
    women.set_value(30)  # percent
    app.button(key="run").click()
    app.run()
    assert not app.exception and not app.error
    table = app.table[0].value
    assert {"QB-AW", "QB-AY", "QB-W-PC-25", "QB-30W"} <= set(table.index)
    assert table["Khả năng đạt"].str.endswith("%").all()
    # The same settings again: the result is reused, not recomputed.
    app.button(key="run").click()
    app.run()
    assert any("sẵn" in c.value for c in app.caption)


def test_language_switch(app: AppTest) -> None:
    app.radio(key="lang").set_value("en")
    app.run()
    assert app.title[0].value == "Succession planning simulator"
    assert app.button(key="run").label == "Run"
    app.radio(key="lang").set_value("vi")
    app.run()
    assert app.button(key="run").label == "Chạy mô phỏng"


def test_a_language_switch_keeps_the_choices_and_relabels_them(app: AppTest) -> None:
    """Choices made in one language stay in the other, shown in its words."""
    box(app, "variant").set_value("floor")
    app.run()
    reading = next(s for s in app.selectbox if s.key.startswith("lv_reading_"))
    reading.set_value("none")
    app.run()
    app.radio(key="lang").set_value("en")
    app.run()
    assert not app.exception
    assert box(app, "variant").value == "floor"
    reading = next(s for s in app.selectbox if s.key.startswith("lv_reading_"))
    assert reading.key.endswith("@en") and reading.value == "none"
    assert all(not re.search("[ăâđêôơư]", o) for o in reading.options), reading.options
    assert "as planned" in box(app, "variant").options[0]


def test_every_bundled_scenario_and_variant_opens(app: AppTest) -> None:
    for name in box(app, "scenario").options:
        box(app, "scenario").set_value(name)
        app.run()
        assert not app.exception and not app.error, name
    box(app, "scenario").set_value("quang_binh")
    app.run()  # the variants offered are the chosen scenario's
    box(app, "variant").set_value("restructuring_2025")
    app.run()
    assert not app.exception and not app.error


def test_bad_uploads_are_reported_not_raised() -> None:
    """A refused file comes back as its problems, one message each, with the file's name or
    the row; the page shows them as bullets (test_refused_files_are_bullets_in_the_language)."""
    mod = load_app_module()
    sc, problems = mod.read_uploaded_scenario("mine.yaml", b"province: [unclosed\n")
    assert sc is None and len(problems) == 1 and problems[0].startswith("mine.yaml:2:1")
    sc, problems = mod.read_uploaded_scenario("mine.yaml", b"\xff\xfe")
    assert sc is None and problems == ["mine.yaml: not a UTF-8 text file"]
    qb = mod.bundled_scenario("quang_binh")
    roster, problems = mod.read_uploaded_roster(
        "people.csv",
        b"person_id,rank,sex,birth_month,in_post_since\nA,boss,F,1970-01,2020-01\n",
        qb,
    )
    assert roster is None
    assert any(p.startswith("row 2: rank 'boss'") for p in problems)
    huge = b"#" * (mod.MAX_UPLOAD_BYTES + 1)
    sc, problems = mod.read_uploaded_scenario("big.yaml", huge)
    assert sc is None and problems[0].startswith("big.yaml: 10.0 MB is more than the 10 MB")
    roster, problems = mod.read_uploaded_roster("big.csv", huge, qb)
    assert roster is None and problems[0].startswith("big.csv: 10.0 MB")


def test_the_app_serves_this_machine_only_by_default() -> None:
    """``./dev app`` starts Streamlit in the project folder, which reads this file."""
    import tomllib

    config = tomllib.loads((APP.parent / ".streamlit" / "config.toml").read_text("utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    mod = load_app_module()
    # The server takes larger files than the app, so that the app refuses them itself, in the
    # page's language and in the main area.
    assert config["server"]["maxUploadSize"] * 2**20 > mod.MAX_UPLOAD_BYTES
    assert config["browser"]["gatherUsageStats"] is False


def test_result_tables_speak_the_page_language(app: AppTest) -> None:
    app.number_input(key="reps").set_value(4)
    app.button(key="run").click()
    app.run()
    headers = [c for df in app.dataframe for c in df.value.columns]
    assert "Số bổ nhiệm (TB)" in headers and "Nghỉ hưu" in headers
    assert not any(c in headers for c in ("appointments_mean", "exits_retirement"))
    app.radio(key="lang").set_value("en")
    app.run()
    headers = [c for df in app.dataframe for c in df.value.columns]
    assert "Appointments (mean)" in headers and "Retirements" in headers


def test_compare_a_and_b(app: AppTest) -> None:
    app.number_input(key="reps").set_value(4)
    app.button(key="save_a").click()
    app.run()
    women = next(s for s in app.slider if s.key.startswith("lv_women_share_"))
    women.set_value(40)  # percent
    app.run()
    app.button(key="compare").click()
    app.run()
    assert not app.exception and not app.error
    table = next(df.value for df in app.dataframe if "Chênh lệch B − A" in df.value.columns)
    row = table.set_index("Chỉ tiêu").loc["QB-AW"]
    assert row["Khả năng đạt (B)"].endswith("%")


def test_required_share_search(app: AppTest) -> None:
    app.number_input(key="reps").set_value(6)
    app.selectbox(key="share_target").set_value("QB-AW")
    app.button(key="share_run").click()
    app.run()
    assert not app.exception and not app.error
    if app.success:
        assert "QB-AW" in app.success[0].value
    else:  # not reached even at the top of the search range
        assert "60%" in app.warning[0].value


def test_teaching_view_demonstrates_vacancy_reservation(app: AppTest) -> None:
    app.number_input(key="reps").set_value(6)
    app.radio(key="teach_step").set_value("reserve")
    app.run()
    app.button(key="teach_show_reserve").click()
    app.run()
    assert not app.exception and not app.error
    table = next(t.value for t in app.table if "QB-AW" in t.value.columns)
    assert list(table.index) == ["không giữ chỗ", "giữ chỗ tối đa theo kịch bản"]
    held = table["Tháng giữ chỗ, L1"].astype(float)
    assert held.iloc[0] == 0 and held.iloc[1] > 0  # holding posts costs vacancy-months


def test_downloaded_scenario_reproduces_the_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The YAML the page offers loads back as the same scenario (same hash), so the CLI
    command shown beside it reruns the same study."""
    from sim.scenario import load_scenario

    mod = load_app_module()
    for name in ("quang_binh", "ha_noi"):
        sc = mod.bundled_scenario(name).with_overrides({"policy.appointment_share.women": 0.22})
        path = tmp_path / f"{name}_used.yaml"
        path.write_text(mod.scenario_yaml(sc), encoding="utf-8")
        again = load_scenario(path)
        assert again.digest() == sc.digest()


def test_required_share_where_the_scenario_has_no_quota(app: AppTest) -> None:
    """Hà Giang has no quota (reading 'none'): the page says the search switches it on."""
    box(app, "scenario").set_value("ha_giang")
    app.run()
    app.number_input(key="reps").set_value(4)
    app.selectbox(key="share_target").set_value("HG-W1-25")
    app.button(key="share_run").click()
    app.run()
    assert not app.exception and not app.error
    assert any("không áp dụng tỷ lệ bổ nhiệm" in i.value for i in app.info)
    assert app.success or app.warning


def test_downloaded_scenario_loads_when_a_lever_left_an_assumed_range(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The longest hold is an assumption (6-24 months) and a lever: a what-if at 60 months
    still gives a file that loads (without that assumption's range), with the same setting."""
    from sim.scenario import load_scenario

    mod = load_app_module()
    sc = mod.bundled_scenario("quang_binh")
    changed = sc.with_overrides({"policy.vacancy_reservation.max_hold_months": 60})
    path = tmp_path / "used.yaml"
    path.write_text(mod.scenario_yaml(changed), encoding="utf-8")
    again = load_scenario(path)
    assert again.policy.vacancy_reservation.max_hold_months == 60
    paths = {a.path for a in again.assumptions}
    assert "policy.vacancy_reservation.max_hold_months" not in paths
    assert len(paths) == len(sc.assumptions) - 1


@pytest.mark.slow
def test_results_table_says_whether_each_answer_is_robust(app: AppTest) -> None:
    """The bundled scenario at its own settings: the column comes from the precomputed table
    (docs/robustness), no extra run; the expander explains it."""
    from sim import robustness as rb
    from sim.scenario import load_scenario

    app.number_input(key="reps").set_value(2)
    app.button(key="run").click()
    app.run()
    assert not app.exception and not app.error
    table = app.table[0].value
    verdicts = rb.stored(load_scenario(APP.parent / "scenarios" / "quang_binh.yaml"))
    assert verdicts is not None
    for target, (robust, most) in verdicts.verdicts().items():
        cell = table.loc[target, "Độ vững"]
        assert cell == ("Vững" if robust else f"Phụ thuộc giả định: {rb.label_vi(most)}")
        assert robust or rb.LABEL_VI[most] in cell  # named in Vietnamese
    assert any("Độ vững" in e.label for e in app.expander)
    assert any("Bảng tính sẵn" in c.value for c in app.caption)
    app.radio(key="lang").set_value("en")
    app.run()
    cells = set(app.table[0].value["Robustness"])
    assert cells <= {"Robust"} | {
        f"Rests on an assumption: {m}" for _, m in verdicts.verdicts().values()
    }


@pytest.mark.slow
def test_robustness_is_computed_on_demand_for_changed_settings(app: AppTest) -> None:
    app.number_input(key="reps").set_value(2)
    women = next(s for s in app.slider if s.key.startswith("lv_women_share_"))
    women.set_value(30)  # percent
    app.button(key="run").click()
    app.run()
    assert not app.exception and not app.error
    assert set(app.table[0].value["Độ vững"]) == {"chưa tính"}
    assert any("Chưa có bảng độ vững" in i.value for i in app.info)
    app.button(key="robust_run").click()
    app.run()
    assert not app.exception and not app.error
    cells = list(app.table[0].value["Độ vững"])
    assert "chưa tính" not in cells
    assert all(c == "Vững" or c.startswith("Phụ thuộc giả định: ") for c in cells)
    assert any("Tính cho thiết lập hiện tại (2 lần" in c.value for c in app.caption)


def test_all_comply_and_empty_years_are_shown_in_both_languages(app: AppTest) -> None:
    """QB-30W (every unit with > 30% women staff has women leaders) shows the share of units
    that comply next to P(met); the each-year targets (QB-AW, QB-AY) say how often a year
    had no appointment."""
    app.number_input(key="reps").set_value(4)
    app.button(key="run").click()
    app.run()
    assert not app.exception and not app.error
    table = app.table[0].value
    cell = table.loc["QB-30W", "Tỷ lệ đạt (trung vị, 5–95%)"]
    assert "% đơn vị đạt (" in cell, cell
    assert table.loc["QB-AW", "Tỷ lệ đạt (trung vị, 5–95%)"] == ""
    captions = [c.value for c in app.caption]
    assert any("QB-30W" in c and "TẤT CẢ" in c for c in captions), captions
    assert any(c.startswith("QB-AW: ") for c in captions), captions
    app.radio(key="lang").set_value("en")
    app.run()
    table = app.table[0].value
    assert "% of units comply (" in table.loc["QB-30W", "Share that complies (median, 5–95%)"]
    captions = [c.value for c in app.caption]
    assert any("chance that ALL comply" in c for c in captions), captions


def test_flow_chart_names_ranks_and_exits_in_the_page_language() -> None:
    """The flow chart's nodes: ranks, rotations and exits by cause in words, never a code."""
    mod = load_app_module()
    sc = mod.bundled_scenario("quang_binh").with_overrides({"policy.rotation.enabled": True})
    labels = list(mod.moves_chart(sc, 1).data[0].node.label)
    assert any(label.startswith("Ra khỏi đội ngũ: nghỉ hưu") for label in labels), labels
    for label in labels:
        assert "_" not in label and "left:" not in label, labels
