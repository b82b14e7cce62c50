"""cadresim in the browser: what-if scenarios for advisers, trade-offs for trainers.

    streamlit run app.py        (or ./dev app)

The page only gathers settings and shows results: every computation goes through
:mod:`sim.api`. The interface is bilingual (Vietnamese first, English).
"""

from __future__ import annotations

import io
import math
import time
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import yaml

from sim import __version__, api
from sim import robustness as rb
from sim.population import build_layout
from sim.results import NOT_APPLICABLE, Collector
from sim.roster import RosterError, load_roster
from sim.scenario import (
    Scenario,
    ScenarioError,
    bundled_scenarios_dir,
    load_scenario,
    load_scenario_text,
    within_ranges,
)
from sim.sweep import DesignError

# --------------------------------------------------------------------------- text

TEXT: dict[str, tuple[str, str]] = {  # key: (Tiếng Việt, English)
    "left": ("Ra khỏi đội ngũ", "Left"),
    "moved": ("luân chuyển", "rotated"),
    "title": ("Mô phỏng quy hoạch cán bộ lãnh đạo, quản lý", "Succession planning simulator"),
    "subtitle": (
        "Ước tính khả năng đạt các chỉ tiêu về cán bộ nữ, cán bộ trẻ, đào tạo, luân chuyển",
        "How likely each target on women, young leaders, training and rotation is to be met",
    ),
    "language": ("Ngôn ngữ / Language", "Ngôn ngữ / Language"),
    "scenario": ("Kịch bản (tỉnh)", "Scenario (province)"),
    "variant": ("Phương án", "Variant"),
    "as_planned": ("theo kế hoạch", "as planned"),
    "upload_yaml": ("Tải lên kịch bản riêng (YAML)", "Upload your own scenario (YAML)"),
    "upload_roster": ("Tải lên danh sách cán bộ (CSV/Excel)", "Upload a roster (CSV/Excel)"),
    "levers": ("Giải pháp (đòn bẩy chính sách)", "Levers"),
    "women_share": ("Tỷ lệ bổ nhiệm cán bộ nữ mỗi năm", "Yearly share of appointments to women"),
    "young_share": ("Tỷ lệ bổ nhiệm cán bộ trẻ (dưới 40) mỗi năm", "Yearly share to under-40s"),
    "reading": ("Cách áp dụng tỷ lệ", "How the share is applied"),
    "reading_expected": ("kỳ vọng (trung bình đạt tỷ lệ)", "expected (on average)"),
    "reading_floor": ("mức sàn hằng năm", "annual floor"),
    "reading_none": ("không áp tỷ lệ (chỉ theo năng lực)", "none (merit only)"),
    "reservation": (
        "Để trống vị trí chờ cán bộ nữ/trẻ",
        "Hold posts for a woman or young candidate",
    ),
    "max_hold": ("Thời gian giữ tối đa (tháng)", "Longest hold (months)"),
    "bias": ("Độ lệch đánh giá đối với nữ (SD)", "Evaluation bias against women (SD)"),
    "rotation": ("Luân chuyển cán bộ", "Rotation"),
    "rotation_share": ("Tỷ lệ luân chuyển mỗi năm", "Share rotated each year"),
    "pool": ("Quy hoạch cán bộ (nguồn kế cận)", "Succession pool"),
    "pool_women_floor": ("Tỷ lệ nữ tối thiểu trong quy hoạch", "Pool: least share of women"),
    "pool_young_floor": ("Tỷ lệ trẻ tối thiểu trong quy hoạch", "Pool: least share of young"),
    "restructuring": ("Sắp xếp bộ máy 2025", "The 2025 restructuring"),
    "removal": ("Mức độ thay thế cán bộ yếu kém", "Drive to remove weak cadres"),
    "seats": ("Chỉ tiêu đào tạo (chỗ học)", "Training seats"),
    "horizon": ("Năm kết thúc mô phỏng", "Last year simulated"),
    "reps": ("Số lần mô phỏng", "Replications"),
    "seed": ("Hạt giống ngẫu nhiên", "Random seed"),
    "run": ("Chạy mô phỏng", "Run"),
    "running": ("Đang mô phỏng…", "Running…"),
    "stop": ("Dừng", "Stop"),
    "provisional": (
        "Ước tính tạm thời từ {done}/{reps} lần mô phỏng; sẽ còn thay đổi đến khi chạy xong.",
        "Provisional estimate from {done} of {reps} replications; it will change until the run "
        "completes.",
    ),
    "stopped_none": (
        "Đã dừng trước khi có lần mô phỏng nào hoàn tất: chưa có kết quả.",
        "Stopped before any replication finished: no results yet.",
    ),
    "stopped": (
        "Đã dừng sau {done}/{reps} lần; kết quả dưới đây là phần đã chạy.",
        "Stopped after {done} of {reps}; the results below cover what ran.",
    ),
    "cached": (
        "Kết quả đã có sẵn cho đúng thiết lập này.",
        "Results already computed for exactly these settings.",
    ),
    "tab_population": ("Đội ngũ hiện tại", "Starting population"),
    "tab_results": ("Kết quả", "Results"),
    "tab_compare": ("So sánh A/B", "Compare A/B"),
    "tab_share": ("Cần tỷ lệ bao nhiêu?", "What share is needed?"),
    "tab_teach": ("Giảng dạy", "Teaching"),
    "tab_download": ("Tải về", "Download"),
    "no_results": ("Chưa có kết quả: bấm «Chạy mô phỏng».", "No results yet: press Run."),
    "targets": ("Chỉ tiêu và khả năng đạt", "Targets and the chance of meeting them"),
    "target": ("Chỉ tiêu", "Target"),
    "text": ("Nội dung", "What"),
    "by": ("Năm", "By"),
    "goal": ("Mục tiêu", "Goal"),
    "p_met": ("Khả năng đạt", "P(met)"),
    "interval": ("Khoảng tin cậy 95%", "95% interval"),
    "median": ("Trung vị", "Median metric"),
    "light": ("Đánh giá", "Outlook"),
    "light_high": ("cao", "high"),
    "light_medium": ("vừa", "medium"),
    "light_low": ("thấp", "low"),
    "light_none": ("–", "–"),
    "not_modelled": ("chưa mô hình hóa", "not modelled"),
    "joint": ("Đạt đồng thời mọi chỉ tiêu của một mốc", "All targets of a deadline met together"),
    "fan": ("Diễn biến theo năm", "Year by year"),
    "fan_pick": ("Chọn chỉ tiêu", "Pick a target"),
    "flows": ("Bổ nhiệm theo năm", "Appointments by year"),
    "moves": (
        "Dòng dịch chuyển giữa các cấp (trung bình 5 lần mô phỏng)",
        "Moves between ranks (mean of 5 replications)",
    ),
    "costs": (
        "Chi phí: tháng để trống, luân chuyển, đào tạo",
        "Costs: vacancy-months, rotations, training",
    ),
    "people": ("Số người", "People"),
    "table": ("Bảng số liệu", "The table"),
    "pyramid": ("Tháp tuổi (cán bộ lãnh đạo, quản lý)", "Age pyramid (leaders)"),
    "men": ("Nam", "Men"),
    "women": ("Nữ", "Women"),
    "save_a": ("Lưu thiết lập hiện tại làm A", "Keep the current settings as A"),
    "compare_run": (
        "So sánh A với thiết lập hiện tại (B)",
        "Compare A with the current settings (B)",
    ),
    "compare_need_a": ("Hãy lưu một thiết lập làm A trước.", "Keep a setting as A first."),
    "difference": ("Chênh lệch B − A", "Difference B − A"),
    "share_target": ("Chỉ tiêu", "Target"),
    "share_group": ("Nhóm được ưu tiên bổ nhiệm", "Group whose share is raised"),
    "share_level": ("Mức khả năng cần đạt", "Chance to reach"),
    "share_run": ("Tìm tỷ lệ nhỏ nhất", "Find the smallest share"),
    "share_found": (
        "Cần tỷ lệ bổ nhiệm ít nhất {share:.0%} để khả năng đạt {target} ≥ {level:.0%} "
        "(ước tính {p:.0%}).",
        "An appointment share of at least {share:.0%} gives P({target} met) ≥ {level:.0%} "
        "(estimated {p:.0%}).",
    ),
    "share_assumed": (
        "Kịch bản này không áp dụng tỷ lệ bổ nhiệm (cách hiểu 'none'), nên tỷ lệ không có tác "
        "dụng. Việc tìm kiếm dùng cách hiểu 'kỳ vọng' (expected), tỷ lệ của nhóm còn lại bằng 0; "
        "tỷ lệ 0 là chính sách hiện tại của kịch bản. Nhóm: {group}.",
        "This scenario has no appointment quota (reading 'none'), so a share would do nothing. "
        "The search uses the 'expected' reading with the other group's share at 0, so that a "
        "share of 0 is the scenario's own policy. Group: {group}.",
    ),
    "share_not_monotone": (
        "Khả năng đạt {target} có lúc giảm khi tỷ lệ tăng (xem biểu đồ): giá trị tìm được là "
        "một điểm vượt ngưỡng, chưa chắc là nhỏ nhất.",
        "P({target} met) fell somewhere as the share rose (see the chart): the value found "
        "crosses the level, but is not necessarily the smallest that does.",
    ),
    "share_none": (
        "Ngay cả với {share:.0%} vẫn không đạt {level:.0%} (ước tính {p:.0%}), các tỷ lệ "
        "thấp hơn đã thử cũng vậy.",
        "Even {share:.0%} does not reach {level:.0%} (estimated {p:.0%}), nor does any share "
        "tried below it.",
    ),
    "download_csv": ("Bảng kết quả (CSV, nén zip)", "Result tables (CSV, zipped)"),
    "download_xlsx": ("Bảng kết quả (Excel)", "Result tables (Excel)"),
    "download_yaml": ("Kịch bản đã dùng (YAML)", "The scenario used (YAML)"),
    "reproduce": ("Chạy lại từ dòng lệnh:", "To rerun from the command line:"),
    "error": ("Lỗi", "Error"),
    "robust": ("Độ vững", "Robustness"),
    "robust_yes": ("Vững", "Robust"),
    "robust_no": ("Phụ thuộc giả định: {name}", "Rests on an assumption: {name}"),
    "robust_unknown": ("chưa tính", "not computed"),
    "robust_title": (
        "Độ vững: kết quả có phụ thuộc vào các giả định không?",
        "Robustness: does the answer rest on an assumption?",
    ),
    "robust_body": (
        "Nhiều con số trong kịch bản là giả định (không có trong văn bản nguồn), mỗi giả định có "
        "một khoảng hợp lý ghi trong tệp kịch bản. Mỗi giả định (hoặc nhóm giả định) được đặt "
        "lần lượt ở đầu thấp và đầu cao của khoảng, với cùng các số ngẫu nhiên. Kết quả là "
        "**vững** khi khả năng đạt luôn ở cùng một phía của 50%; ngược lại nó **phụ thuộc giả "
        "định**, và bảng nêu giả định làm thay đổi khả năng đạt nhiều nhất.",
        "Many numbers in the scenario are assumptions (the source documents are silent), each "
        "with a plausible range written in the scenario file. Each assumption (or group of "
        "assumptions) is set in turn to the low and the high end of its range, on the same "
        "random numbers. An answer is **robust** when P(met) stays on one side of 50% "
        "throughout; otherwise it **rests on an assumption**, and the table names the one "
        "that moves P(met) most.",
    ),
    "robust_stored": (
        "Bảng tính sẵn cho kịch bản này ({reps} lần mô phỏng mỗi điểm, hạt giống {seed}).",
        "Precomputed for this scenario ({reps} replications a point, seed {seed}).",
    ),
    "robust_live": (
        "Tính cho thiết lập hiện tại ({reps} lần mô phỏng mỗi điểm, hạt giống {seed}).",
        "Computed for the current settings ({reps} replications a point, seed {seed}).",
    ),
    "robust_missing": (
        "Chưa có bảng độ vững cho thiết lập này: cần thêm {studies} lượt mô phỏng "
        "({reps} lần mỗi lượt).",
        "No robustness table for these settings yet: it takes {studies} more studies "
        "({reps} replications each).",
    ),
    "robust_run": ("Tính độ vững", "Compute robustness"),
    "robust_none": (
        "Kịch bản này không khai báo giả định nào (mục 'assumptions').",
        "This scenario declares no assumptions (no 'assumptions' list).",
    ),
    "robust_roster": (
        "Không tính độ vững khi dùng danh sách cán bộ tải lên.",
        "Robustness is not computed with an uploaded roster.",
    ),
    "women_l": ("nữ", "women"),
    "young_l": ("trẻ", "young"),
    # "All comply" targets and years without appointments (each-year flow targets)
    "complying": ("Tỷ lệ đạt (trung vị, 5–95%)", "Share that complies (median, 5–95%)"),
    "complying_cell": ("{median} {who} đạt ({p5}–{p95})", "{median} of {who} comply ({p5}–{p95})"),
    "complying_note": (
        "Chỉ tiêu «tất cả đều đạt» ({ids}): «Khả năng đạt» là khả năng TẤT CẢ cùng đạt; cột "
        "«Tỷ lệ đạt» cho biết thường có bao nhiêu phần trăm đạt (trung vị; 5–95% số lần mô "
        "phỏng).",
        "“All comply” targets ({ids}): P(met) is the chance that ALL comply; the column “Share "
        "that complies” says how many typically do (median; 5–95% of replications).",
    ),
    "who_units": ("đơn vị", "units"),
    "who_leaders": ("cán bộ lãnh đạo", "leaders"),
    "who_pool members": ("người trong quy hoạch", "pool members"),
    "who_appointments": ("lượt bổ nhiệm", "appointments"),
    "empty_none": (
        "{id}: năm nào cũng có bổ nhiệm vào các chức danh của chỉ tiêu.",
        "{id}: every year of its window had appointments to its posts.",
    ),
    "empty_some": (
        "{id}: {share} số lần mô phỏng có ít nhất một năm không có bổ nhiệm nào vào các chức "
        "danh của chỉ tiêu (trung bình {mean} năm mỗi lần); {rule}",
        "{id}: a year without any appointment to its posts in {share} of replications "
        "({mean} such years a replication on average); {rule}",
    ),
    "empty_fail": ("năm đó tính là không đạt.", "such a year counts as not met."),
    "empty_skip": (
        "năm đó được bỏ qua (empty_year: skip).",
        "such a year is left out (empty_year: skip).",
    ),
    "no_targets": (
        "Kịch bản này không có chỉ tiêu: xem bổ nhiệm và chi phí bên dưới.",
        "This scenario has no targets: see the appointments and costs below.",
    ),
}

COLUMNS: dict[str, tuple[str, str]] = {  # result table headers
    "year": ("Năm", "Year"),
    "tier": ("Cấp", "Tier"),
    "appointments_mean": ("Số bổ nhiệm (TB)", "Appointments (mean)"),
    "women_share": ("Tỷ lệ nữ trong bổ nhiệm", "Women among appointees"),
    "young_share": ("Tỷ lệ trẻ trong bổ nhiệm", "Under-40s among appointees"),
    "young_women_share": ("Tỷ lệ nữ trẻ", "Young women among appointees"),
    "stock_women_share": ("Tỷ lệ nữ trong đội ngũ", "Share of women"),
    "stock_young_share": ("Tỷ lệ dưới 40 tuổi trong đội ngũ", "Share under 40"),
    "holders_mean": ("Số người giữ chức vụ (TB)", "Holders (mean)"),
    "vacancy_months_l1": ("Tháng để trống, L1", "Vacancy-months, L1"),
    "reserved_months_l1": ("Tháng giữ chỗ, L1", "Months held for a group, L1"),
    "vacancy_months_l2": ("Tháng để trống, L2", "Vacancy-months, L2"),
    "reserved_months_l2": ("Tháng giữ chỗ, L2", "Months held for a group, L2"),
    "exits_retirement": ("Nghỉ hưu", "Retirements"),
    "exits_other_exit": ("Chuyển công tác, thôi việc", "Transfers out, resignations"),
    "exits_death_illness": ("Từ trần, ốm đau", "Death or ill-health"),
    "exits_not_reappointed": ("Không bổ nhiệm lại", "Not reappointed"),
    "exits_removed": ("Cho thôi chức, miễn nhiệm", "Removed before term end"),
    "exits_below_standard": ("Không đạt chuẩn sau thời hạn", "Below standard at the deadline"),
    "exits_restructured": ("Nghỉ do sắp xếp", "Left in the restructuring"),
    "rotations": ("Luân chuyển", "Rotations"),
    "young_to_districts": ("Tăng cường cán bộ trẻ về huyện", "Young cadres sent to districts"),
    "people": ("Số người", "People"),
    "women": ("Nữ", "Women"),
    "under_40": ("Dưới 40 tuổi", "Under 40"),
    "under_40_share": ("Tỷ lệ dưới 40", "Share under 40"),
    "mean_age": ("Tuổi bình quân", "Mean age"),
    "target": ("Chỉ tiêu", "Target"),
    "by": ("Năm", "By"),
    "p_met_a": ("Khả năng đạt (A)", "P(met), A"),
    "p_met_b": ("Khả năng đạt (B)", "P(met), B"),
    "difference": ("Chênh lệch B − A", "Difference B − A"),
    "ci_low": ("Cận dưới 95%", "95% low"),
    "ci_high": ("Cận trên 95%", "95% high"),
    "only_a": ("Chỉ A đạt (số lần)", "Met in A only (runs)"),
    "only_b": ("Chỉ B đạt (số lần)", "Met in B only (runs)"),
    "p_met": ("Khả năng đạt", "P(met)"),
    "p_lowest": ("Thấp nhất", "Lowest"),
    "p_highest": ("Cao nhất", "Highest"),
    "top": ("Giả định tác động nhiều nhất", "Assumptions that move it most"),
}


def translated(df: pd.DataFrame) -> pd.DataFrame:
    """A result table with its headers in the page's language (training columns named by
    course keep their course id)."""

    def name(col: str) -> str:
        if col in COLUMNS:
            return COLUMNS[col][lang()]
        if col.startswith("training_"):
            course, _, what = col.removeprefix("training_").rpartition("_")
            words = {
                "nominated": ("cử đi học", "nominated"),
                "started": ("nhập học", "started"),
                "completed": ("hoàn thành", "completed"),
            }
            return f"{T('seats').split(' (')[0]} {course}: {words.get(what, (what, what))[lang()]}"
        return col

    return df.rename(columns={c: name(c) for c in df.columns})


HELP: dict[str, tuple[str, str]] = {  # help texts of the levers
    "women_share": (
        "Khoảng 15% số bổ nhiệm mỗi năm dành cho cán bộ nữ (Đề án 01-ĐA/TU Quảng Bình).",
        "About 15% of each year's appointments to women (Quảng Bình Scheme 01-ĐA/TU).",
    ),
    "young_share": (
        "Khoảng 15% số bổ nhiệm mỗi năm dành cho cán bộ dưới 40 tuổi; nữ trẻ tính cho cả hai.",
        "About 15% to under-40s; a young woman counts for both shares.",
    ),
    "reading": (
        "Kỳ vọng: trung bình đạt tỷ lệ; mức sàn: mỗi năm ít nhất tỷ lệ khi có người đủ điều "
        "kiện; không: chỉ theo năng lực.",
        "Expected: the share on average; floor: at least the share each year when someone is "
        "eligible; none: merit alone.",
    ),
    "reservation": (
        "Khi không có cán bộ nữ/trẻ đủ điều kiện, để trống vị trí và xét lại hằng tháng.",
        "When no woman or young candidate is ready, hold the post and look again monthly.",
    ),
    "max_hold": (
        "Sau thời gian này vị trí được bổ nhiệm theo năng lực.",
        "After this long the post is filled on merit.",
    ),
    "bias": (
        "Đánh giá thấp hơn đối với nữ (đơn vị độ lệch chuẩn); số âm là ưu tiên nữ.",
        "A lower evaluation for women (in standard deviations); negative favours women.",
    ),
    "rotation": (
        "Kế hoạch luân chuyển hằng năm (Quy định 65-QĐ/TW) sang vị trí tương đương ở đơn vị khác.",
        "Yearly rotation (Quy định 65-QĐ/TW) to an equivalent post in another unit.",
    ),
    "rotation_share": (
        "Tỷ lệ cán bộ trong độ tuổi luân chuyển (còn ≥ 10 năm công tác) được luân chuyển mỗi năm.",
        "Share of leaders in rotation age (10+ years of service left) rotated each year.",
    ),
    "pool": (
        "Quy hoạch tối đa 3 người cho một chức danh; ưu tiên bổ nhiệm người trong quy hoạch.",
        "At most 3 planned successors a post; appointments go to them first.",
    ),
    "pool_women_floor": ("Quy định 50-QĐ/TW: ít nhất 25% nữ.", "Quy định 50-QĐ/TW: 25% women."),
    "pool_young_floor": ("Quy định 50-QĐ/TW: ít nhất 15% trẻ.", "Quy định 50-QĐ/TW: 15% young."),
    "restructuring": (
        "Sắp xếp từ 1/7/2025: bỏ cấp huyện, hợp nhất sở, nghỉ hưu trước tuổi (nếu kịch bản có).",
        "From 1/7/2025: district level abolished, departments merged, early retirement "
        "(as the scenario sets them).",
    ),
    "removal": (
        "0: không thay thế; 1: như hiện nay; lớn hơn: thay thế mạnh hơn cán bộ yếu kém.",
        "0: none; 1: current practice; more: a stronger drive against weak cadres.",
    ),
}


TEACH: dict[str, tuple[str, str]] = {
    "flow_title": ("Tỷ lệ bổ nhiệm và tỷ lệ trong đội ngũ", "Flow share against stock share"),
    "flow_body": (
        "Nếu mỗi năm một tỷ lệ q người được bổ nhiệm là nữ và nam, nữ rời đội ngũ với cùng "
        "tốc độ t, thì tỷ lệ nữ trong đội ngũ tiến dần về q theo công thức "
        "s(k) = q + (s0 − q)(1 − t)^k và không bao giờ vượt q. Vì vậy bổ nhiệm 15% nữ "
        "không thể đưa tỷ lệ nữ lên 17%; nữ nghỉ hưu sớm hơn còn kéo tỷ lệ xuống thấp hơn q.",
        "If a share q of each year's appointments goes to women, and women and men leave at "
        "the same rate t, the women's share of the stock moves towards q as "
        "s(k) = q + (s0 − q)(1 − t)^k and never passes it. So appointing 15% women cannot lift "
        "the stock to 17%; women's earlier retirement pulls it below q.",
    ),
    "reserve_title": ("Để trống vị trí và cái giá phải trả", "Vacancy reservation and its cost"),
    "reserve_body": (
        "Giữ một vị trí trống đến khi có cán bộ nữ hoặc trẻ đủ điều kiện làm tăng tỷ lệ của "
        "nhóm, nhưng mỗi tháng để trống là một chi phí: bấm «Chạy minh họa» để xem cả hai.",
        "Holding a post empty until a woman or a young candidate is ready raises the group's "
        "share, at a cost in vacancy-months: press Show it to see both.",
    ),
    "reading_title": ("Cách hiểu «khoảng 15%»", "Reading 'about 15%'"),
    "reading_body": (
        "«Kỳ vọng»: mỗi lần bổ nhiệm nghiêng về nhóm sao cho trung bình đạt 15%, nên chỉ tiêu "
        "«ít nhất 15% mỗi năm» chỉ đạt khoảng một nửa số lần. «Mức sàn»: mỗi năm ít nhất 15% số "
        "đã bổ nhiệm phải thuộc nhóm khi có người đủ điều kiện. Mỗi nhóm được tính riêng: một "
        "cán bộ nữ trẻ được tính cho cả hai, nhưng không vị trí nào phải chờ người vừa nữ vừa "
        "trẻ. Cách hiểu chặt hơn không bao giờ làm giảm khả năng đạt tỷ lệ.",
        "'Expected': each appointment leans towards the group so that 15% is met on average, so "
        "'at least 15% every year' is met about half the time. 'Floor': at least 15% of each "
        "year's appointments so far go to the group when someone is eligible. Each group counts "
        "on its own: a young woman counts for both, but no post waits for someone who is both. "
        "A stricter reading never lowers the chance of meeting the share.",
    ),
    "teach_step": ("Chọn nội dung", "Pick a trade-off"),
    "teach_show": ("Chạy minh họa", "Show it"),
    "teach_setting": ("Thiết lập", "Setting"),
    "reserve_off": ("không giữ chỗ", "no holding"),
    "reserve_on": ("giữ chỗ tối đa theo kịch bản", "holding, up to the scenario's limit"),
    "teach_note": (
        "Khả năng đạt các chỉ tiêu về bổ nhiệm (cột theo mã chỉ tiêu) và tổng số tháng để trống "
        "vị trí L1 trong cả giai đoạn, trung bình mỗi lần mô phỏng; cùng các số ngẫu nhiên.",
        "P(met) of the appointment targets (one column each) and L1 vacancy-months over the "
        "whole horizon, a replication's mean; the same random numbers for every setting.",
    ),
    "turnover": ("Tỷ lệ thay thế hằng năm (t)", "Yearly turnover (t)"),
}


def lang() -> int:
    return 0 if st.session_state.get("lang", "vi") == "vi" else 1


def T(key: str, **kw: Any) -> str:
    text = (TEXT.get(key) or TEACH.get(key) or (key, key))[lang()]
    return text.format(**kw) if kw else text


def bound_label(fmt: Callable[[Any, int], str]) -> Callable[[Any], str]:
    """A widget's label function bound to the language of this run (a widget keeps its label
    function until the next run, so it must not read the language later)."""
    current = lang()
    return lambda value: fmt(value, current)


def select_kept(
    box: Any,
    name: str,
    label: str,
    options: list[Any],
    fmt: Callable[[Any, int], str],
    default: int = 0,
    **kw: Any,
) -> Any:
    """A selectbox whose choice is kept in ``st.session_state[name]`` across languages.

    Its widget key carries the language (``name@vi``, ``name@en``): Streamlit keeps showing a
    keyed selectbox's old option label when only its ``format_func`` changes
    (streamlit/streamlit#13788), so a switch of language would leave the choices in the
    other language. A new widget per language, started at the kept choice, shows the right
    labels and loses nothing.
    """
    kept = st.session_state.get(name)
    index = options.index(kept) if kept in options else default
    value = box.selectbox(
        label,
        options,
        index=index,
        key=f"{name}@{('vi', 'en')[lang()]}",
        format_func=bound_label(fmt),
        **kw,
    )
    st.session_state[name] = value
    return value


def pct(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


# --------------------------------------------------------------------------- data


@st.cache_data(show_spinner=False)
def bundled_names() -> list[str]:
    return sorted(p.stem for p in bundled_scenarios_dir().glob("*.yaml"))


@st.cache_resource(show_spinner=False)
def bundled_scenario(name: str) -> Scenario:
    return load_scenario(bundled_scenarios_dir() / f"{name}.yaml")


@st.cache_resource(show_spinner=False)
def shared_results() -> dict[tuple[str, int, int], Collector]:
    """Finished studies of bundled scenarios, shared between sessions (no user data)."""
    return {}


def session_results() -> dict[tuple[str, int, int, str], Collector]:
    return st.session_state.setdefault("results", {})


def fail(message: str) -> None:
    st.error(f"{T('error')}: {message}")


#: The largest upload the app reads (Streamlit's own limit is set in .streamlit/config.toml).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def too_large(name: str, data: bytes) -> str | None:
    """The message for an upload over :data:`MAX_UPLOAD_BYTES`, else None."""
    if len(data) <= MAX_UPLOAD_BYTES:
        return None
    return (
        f"{name}: {len(data) / 2**20:.1f} MB is more than the {MAX_UPLOAD_BYTES // 2**20} MB "
        "the app accepts"
    )


def read_uploaded_scenario(name: str, data: bytes) -> tuple[Scenario | None, str | None]:
    """An uploaded scenario file, or the message that says what is wrong with it."""
    if (problem := too_large(name, data)) is not None:
        return None, problem
    try:
        return load_scenario_text(data.decode("utf-8"), name), None
    except UnicodeDecodeError:
        return None, f"{name}: not a UTF-8 text file"
    except ScenarioError as exc:
        return None, str(exc)


def read_uploaded_roster(name: str, data: bytes, sc: Scenario) -> tuple[Any, str | None]:
    """An uploaded roster checked against ``sc``, or the message that lists its problems."""
    if (problem := too_large(name, data)) is not None:
        return None, problem
    import tempfile
    from pathlib import Path

    suffix = Path(name).suffix or ".csv"
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as f:
        f.write(data)
        tmp = f.name
    try:
        return load_roster(tmp, sc, build_layout(sc)), None
    except RosterError as exc:
        return None, str(exc).replace(tmp, name)
    finally:
        Path(tmp).unlink(missing_ok=True)


def base_scenario() -> tuple[Scenario | None, Any, bool]:
    """The scenario chosen or uploaded, the roster (if any) and whether user data is involved."""
    uploaded = st.session_state.get("upload_yaml")
    user_data = uploaded is not None
    if uploaded is not None:
        sc, problem = read_uploaded_scenario(uploaded.name, uploaded.getvalue())
        if sc is None:
            fail(str(problem))
            return None, None, True
    else:
        sc = bundled_scenario(st.session_state.get("scenario", "quang_binh"))
    variant = st.session_state.get("variant", "")
    if variant and variant in sc.variants:
        sc = sc.variant(variant)
    roster = None
    up_roster = st.session_state.get("upload_roster")
    if up_roster is not None:
        user_data = True
        roster, problem = read_uploaded_roster(up_roster.name, up_roster.getvalue(), sc)
        if roster is None:
            fail(str(problem))
            return None, None, True
    return sc, roster, user_data


# --------------------------------------------------------------------------- sidebar


def sidebar(base: Scenario | None) -> Scenario | None:
    """The levers; returns the scenario with them applied (None after an error)."""
    if base is None:
        return None
    sb = st.sidebar
    values = api.lever_values(base)
    key = base.digest()
    with sb.expander(T("levers"), expanded=True):
        new: dict[str, Any] = {}
        for lv in api.LEVERS:
            wkey = f"lv_{lv.name}_{key}"
            v = values[lv.name]
            if lv.kind == "share":
                new[lv.name] = st.slider(
                    T(lv.name),
                    float(lv.low),
                    float(lv.high),
                    float(v),
                    float(lv.step),
                    key=wkey,
                    format="%.2f",
                    help=HELP[lv.name][lang()],
                )
            elif lv.kind == "bool":
                new[lv.name] = st.toggle(T(lv.name), bool(v), key=wkey, help=HELP[lv.name][lang()])
            elif lv.kind == "choice":
                new[lv.name] = select_kept(
                    st,
                    wkey,
                    T(lv.name),
                    list(lv.choices),
                    lambda c, k: TEXT[f"reading_{c}"][k],
                    default=lv.choices.index(v),
                    help=HELP[lv.name][lang()],
                )
            else:
                new[lv.name] = st.number_input(
                    T(lv.name),
                    float(lv.low),
                    float(lv.high),
                    float(v),
                    float(lv.step),
                    key=wkey,
                    help=HELP[lv.name][lang()],
                )
        seats = {}
        for course, n in api.training_seats(base).items():
            name = next(c.name for c in base.policy.training.courses if c.id == course)
            seats[course] = st.number_input(
                f"{T('seats')}: {name.vi if lang() == 0 else name.en}",
                1,
                10000,
                n,
                key=f"seat_{course}_{key}",
            )
        end = st.number_input(
            T("horizon"),
            base.start.year + 1,
            base.start.year + 20,
            base.end.year,
            key=f"end_{key}",
        )
    try:
        return api.apply_levers(base, new, seats, int(end))
    except ScenarioError as exc:
        fail(str(exc))
        return None


# --------------------------------------------------------------------------- results


def run_or_reuse(sc: Scenario, seed: int, reps: int, roster: Any, user: bool) -> Collector | None:
    digest = sc.digest()
    if user:
        store: dict = session_results()
        k: tuple = (digest, seed, reps, getattr(roster, "file", ""))
    else:
        store = shared_results()
        k = (digest, seed, reps)
    if k in store:
        st.caption(T("cached"))
        return store[k]
    if not st.session_state.get("run_clicked"):
        last = st.session_state.get("last") if st.session_state.get("last_key") == k else None
        if last is not None and len(last.done) == 0:  # stopped before anything finished
            st.info(T("stopped_none"))
            return None
        return last
    st.session_state["run_clicked"] = False
    study = api.Study.start(sc, api.StudySettings(seed=seed, reps=reps, workers=2, roster=roster))
    # Held by the session before anything runs: what is done survives a Stop.
    collector = study.collector
    st.session_state["last"], st.session_state["last_key"] = collector, k
    bar = st.progress(0.0, text=T("running"))
    # Pressing Stop reruns the page: the run ends at its next progress report, the worker
    # processes are stopped, and the rerun shows the replications already done.
    stop_slot = st.empty()
    stop_slot.button(T("stop"), key="stop")
    # A first estimate as soon as the first replications are in, refreshed every second.
    early = st.empty()
    shown = [-math.inf]

    def progress(p: api.StudyProgress) -> None:
        bar.progress(p.done / p.total, text=f"{T('running')} {p.done}/{p.total}")
        now = time.monotonic()
        if p.done < p.total and now - shown[0] >= 1.0:
            shown[0] = now
            with early.container():
                st.caption(T("provisional", done=p.done, reps=p.total))
                table = targets_table(p.study.summary).set_index(T("target"))
                st.table(table.style.map(light_style, subset=[T("light")]))

    study.run(progress)
    bar.empty()
    stop_slot.empty()
    early.empty()
    if study.done == reps:
        store[k] = collector
    return collector


STREAMLIT_CHROME_HIDDEN = (
    "<style>[data-testid='stToolbar'], [data-testid='stStatusWidget'] "
    "{display: none !important;}</style>"
)

OPS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def goal_text(r: Any) -> str:
    op = OPS.get(r.op, r.op)
    if r.baseline_reading != "absolute":
        sign = "+" if r.value >= 0 else "−"
        unit = " pp" if r.baseline_reading == "points" else "%"
        return f"{op} {int(r.baseline_year)} {sign}{abs(100 * r.value):.0f}{unit}"
    if not (isinstance(r.upper, float) and math.isnan(r.upper)):
        return f"{op} {100 * r.value:.0f}–{100 * r.upper:.0f}%"
    return f"{op} {100 * r.value:.0f}%"


LIGHTS = {"high": "#2e7d32", "medium": "#f9a825", "low": "#c62828", "none": "#9e9e9e"}


def light(p: float) -> str:
    """A traffic light: high (P >= 80%), medium (50-80%), low (< 50%)."""
    if isinstance(p, float) and math.isnan(p):
        return T("light_none")
    return T("light_high") if p >= 0.8 else (T("light_medium") if p >= 0.5 else T("light_low"))


def light_style(value: str) -> str:
    for level in ("high", "medium", "low", "none"):
        if value == T(f"light_{level}"):
            return f"background-color: {LIGHTS[level]}; color: white; font-weight: 600"
    return ""


def complying_cell(r: Any) -> str:
    """'89% of units comply (80–96%)' for an "all comply" target, '' for any other."""
    if r.complying_of == NOT_APPLICABLE:
        return ""
    return T(
        "complying_cell",
        median=pct(r.complying_median),
        who=T(f"who_{r.complying_of}"),
        p5=pct(r.complying_p5),
        p95=pct(r.complying_p95),
    )


def target_notes(summary: Any) -> list[str]:
    """Notes under the targets table: what P(met) means for "all comply" targets, and the
    years without appointments of each-year flow targets."""
    df = summary.targets
    notes = []
    ids = [
        r.target
        for r in df.itertuples()
        if r.status == "modelled" and r.complying_of != NOT_APPLICABLE
    ]
    if ids:
        notes.append(T("complying_note", ids=", ".join(ids)))
    for r in df.itertuples():
        if r.status != "modelled" or r.empty_year_rule == NOT_APPLICABLE:
            continue
        if math.isnan(r.empty_years_share) or r.empty_years_share == 0:
            notes.append(T("empty_none", id=r.target))
        else:
            notes.append(
                T(
                    "empty_some",
                    id=r.target,
                    share=pct(r.empty_years_share),
                    mean=f"{r.empty_years_mean:.2f}",
                    rule=T(f"empty_{r.empty_year_rule}"),
                )
            )
    return notes


def targets_table(
    summary: Any, verdicts: dict[str, tuple[bool, str]] | None = None
) -> pd.DataFrame:
    """The targets table; with ``verdicts`` (target -> (robust, assumption that moves it
    most)) a robustness column too."""
    rows = []
    complying = bool((summary.targets["complying_of"] != NOT_APPLICABLE).any())
    for r in summary.targets.itertuples():
        text = r.text_vi if lang() == 0 else r.text_en
        if r.status != "modelled":
            rows.append(
                {
                    T("light"): T("light_none"),
                    T("target"): r.target,
                    T("text"): text,
                    T("by"): "",
                    T("goal"): "",
                    T("p_met"): T("not_modelled"),
                    T("interval"): r.status.removeprefix("not modelled: "),
                    **({T("complying"): ""} if complying else {}),
                    T("median"): "",
                }
            )
            continue
        p = pct(r.p_met)
        if not math.isnan(r.p_upper_met):
            p += f" ({pct(r.p_upper_met)})"
        rows.append(
            {
                T("light"): light(r.p_met),
                T("target"): r.target,
                T("text"): text,
                T("by"): str(int(r.by)),
                T("goal"): goal_text(r),
                T("p_met"): p,
                T("interval"): f"{pct(r.ci_low)} – {pct(r.ci_high)}",
                **({T("complying"): complying_cell(r)} if complying else {}),
                T("median"): pct(r.metric_median),
            }
        )
        if verdicts is not None:
            rows[-1][T("robust")] = robust_text(verdicts.get(r.target))
    columns = [T(k) for k in ("light", "target", "text", "by", "goal", "p_met", "interval")]
    columns += [T("complying")] if complying else []
    columns += [T("median")]
    columns += [T("robust")] if verdicts is not None else []
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- robustness

#: Replications a point of a robustness study computed in the page (at most).
ROBUST_REPS = 40


def robust_text(verdict: tuple[bool, str] | None) -> str:
    if verdict is None:
        return T("robust_unknown")
    robust, most = verdict
    return T("robust_yes") if robust else T("robust_no", name=assumption_name(most))


def assumption_name(label: str) -> str:
    """An assumption's (or group's) name in the page's language: Vietnamese with the English
    in brackets where the bundled scenarios' names have a translation."""
    return rb.label_vi(label) if lang() == 0 else label


def top_assumptions(top: str) -> str:
    """The 'moves it most' cell (``name (low -5 pp, high +3 pp); ...``) in the page's
    language."""
    if lang() == 1 or not top:
        return top
    items = []
    for item in top.split("; "):
        name, sep, ends = item.rpartition(" (")
        if not sep:
            items.append(item)
            continue
        ends = ends.replace("low", "mức thấp").replace("high", "mức cao").replace(" pp", " điểm %")
        items.append(f"{rb.LABEL_VI.get(name, name)} ({ends}")
    return "; ".join(items)


@st.cache_resource(show_spinner=False, max_entries=32)
def stored_robustness(scenario_json: str) -> api.Robustness | None:
    """The precomputed robustness table of exactly this scenario (by its hash), if any."""
    return api.stored_robustness(Scenario.model_validate_json(scenario_json))


def robustness_of(sc: Scenario, seed: int) -> tuple[api.Robustness, str] | None:
    """The robustness of ``sc``: computed in this session, else precomputed; with where it
    comes from ("live" or "stored")."""
    live = st.session_state.setdefault("robustness", {}).get((sc.digest(), seed))
    if live is not None:
        return live, "live"
    if not sc.assumptions:
        return None
    found = stored_robustness(sc.model_dump_json())
    return (found, "stored") if found is not None else None


def robustness_expander(
    sc: Scenario, seed: int, reps: int, found: tuple[api.Robustness, str] | None
) -> None:
    """What the robustness column means, the table behind it, and (for settings without a
    table) a button that computes it, with progress."""
    with st.expander(T("robust_title")):
        st.markdown(T("robust_body"))
        if st.session_state.get("upload_roster") is not None:
            st.info(T("robust_roster"))
            return
        if not sc.assumptions:
            st.info(T("robust_none"))
            return
        if found is not None:
            result, where = found
            st.caption(T(f"robust_{where}", reps=result.reps, seed=result.seed))
            shown = result.summary[["target", "p_met", "p_lowest", "p_highest", "top"]].copy()
            for col in ("p_met", "p_lowest", "p_highest"):
                shown[col] = shown[col].map(pct)
            shown["top"] = shown["top"].map(top_assumptions)
            st.dataframe(translated(shown), hide_index=True, width="stretch")
            return
        n = min(reps, ROBUST_REPS)
        studies = 2 * len(api.assumption_moves(sc))
        st.info(T("robust_missing", studies=studies, reps=n))
        if st.button(T("robust_run"), key="robust_run"):
            bar = st.progress(0.0, text=T("running"))

            def progress(done: int, total: int) -> None:
                bar.progress(done / total, text=f"{T('running')} {done}/{total}")

            try:
                result = api.robustness(sc, seed, n, workers=2, progress=progress)
            except DesignError as exc:
                bar.empty()
                fail(str(exc))
                return
            bar.empty()
            st.session_state.setdefault("robustness", {})[(sc.digest(), seed)] = result
            st.rerun()


def fan_chart(summary: Any, target: str) -> go.Figure:
    tr = summary.trajectories
    d = tr[tr["target"] == target]
    fig = go.Figure()
    x = d["year"].tolist()
    for lo, hi, alpha in (("p5", "p95", 0.15), ("p25", "p75", 0.3)):
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=(d[hi].tolist() + d[lo].tolist()[::-1]),
                fill="toself",
                fillcolor=f"rgba(31,119,180,{alpha})",
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig.add_trace(go.Scatter(x=x, y=d["median"], mode="lines+markers", name=T("median")))
    if len(d):
        fig.add_hline(y=float(d["threshold"].iloc[0]), line_dash="dash", line_color="red")
        fig.add_vline(x=int(d["by"].iloc[0]), line_dash="dot", line_color="grey")
    fig.update_layout(yaxis_tickformat=".0%", height=360, margin={"t": 20, "b": 20})
    return fig


@st.cache_data(show_spinner=False, max_entries=16)
def moves_table(scenario_json: str, seed: int) -> pd.DataFrame:
    from sim.scenario import Scenario as _Scenario

    return api.moves_between_ranks(_Scenario.model_validate_json(scenario_json), seed, reps=5)


def moves_chart(sc: Scenario, seed: int) -> go.Figure:
    """A Sankey diagram of moves between ranks and out of the leadership."""
    m = moves_table(sc.model_dump_json(), seed)
    nodes = sorted(set(m["source"]) | set(m["target"]))
    index = {n: k for k, n in enumerate(nodes)}
    names = {
        "pool": ("chuyên viên (nguồn)", "specialists (pool)"),
        "l2_deputy": ("phó trưởng phòng", "L2 deputy"),
        "l2_head": ("trưởng phòng", "L2 head"),
        "l1_deputy": ("cấp phó (diện Ban Thường vụ)", "L1 deputy"),
        "l1_head": ("cấp trưởng (diện Ban Thường vụ)", "L1 head"),
    }

    def label(n: str) -> str:
        if n.startswith("left: "):  # an exit, by its cause
            cause = n.removeprefix("left: ")
            words = COLUMNS.get(f"exits_{cause}", (cause, cause))[lang()]
            return f"{T('left')}: {words}"
        base, _, rest = n.partition(" ")
        moved = f" ({T('moved')})" if rest == "(moved)" else (f" {rest}" if rest else "")
        return names.get(base, (base, base))[lang()] + moved

    fig = go.Figure(
        go.Sankey(
            node={"label": [label(n) for n in nodes], "pad": 18},
            link={
                "source": [index[x] for x in m["source"]],
                "target": [index[x] for x in m["target"]],
                "value": m["moves"].tolist(),
            },
        )
    )
    fig.update_layout(height=420, margin={"t": 10, "b": 10})
    return fig


def show_results(collector: Collector, sc: Scenario, seed: int) -> None:
    summary = collector.summary()
    if len(collector.done) < collector.reps:
        st.warning(T("stopped", done=len(collector.done), reps=collector.reps))
    st.subheader(T("targets"))
    roster = st.session_state.get("upload_roster") is not None
    found = None if roster else robustness_of(sc, seed)
    if summary.targets.empty:
        st.info(T("no_targets"))
    else:
        # A column for every scenario with assumptions ("not computed" until it is known).
        verdicts = found[0].verdicts() if found is not None else None
        if verdicts is None and sc.assumptions and not roster:
            verdicts = {}
        table = targets_table(summary, verdicts).set_index(T("target"))
        st.table(table.style.map(light_style, subset=[T("light")]))
        for note in target_notes(summary):
            st.caption(note)
        robustness_expander(sc, seed, collector.reps, found)
    st.subheader(T("joint"))
    j = summary.joint.copy()
    if len(j):
        shown = pd.DataFrame(
            {
                T("by"): j["by"].astype(str),
                T("target"): j["targets"],
                T("p_met"): j["p_all_met"].map(pct),
                T("interval"): [
                    f"{pct(x)} – {pct(y)}" for x, y in zip(j.ci_low, j.ci_high, strict=True)
                ],
            }
        )
        st.table(shown.set_index(T("by")))
    modelled = [t.id for t in sc.targets]
    if modelled:
        st.subheader(T("fan"))
        pick = st.selectbox(T("fan_pick"), modelled, key="fan_target")
        st.plotly_chart(fan_chart(summary, pick), width="stretch")
    st.subheader(T("moves"))
    st.plotly_chart(moves_chart(sc, seed), width="stretch")
    st.subheader(T("flows"))
    flows = summary.flows.copy()
    flows["tier"] = flows["tier"].str.upper()
    st.plotly_chart(flows_chart(flows), width="stretch")
    with st.expander(T("table")):
        st.dataframe(translated(flows), hide_index=True, width="stretch")
    st.subheader(T("costs"))
    st.plotly_chart(costs_chart(summary.costs), width="stretch")
    with st.expander(T("table")):
        st.dataframe(translated(summary.costs), hide_index=True, width="stretch")


def flows_chart(flows: pd.DataFrame) -> go.Figure:
    """L1 appointments a year (bars) with the shares of women and under-40s (lines)."""
    l1 = flows[flows["tier"] == "L1"]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=l1["year"],
            y=l1["appointments_mean"],
            name=COLUMNS["appointments_mean"][lang()],
            marker_color="#9ecae1",
        )
    )
    for col, color in (("women_share", "#d62728"), ("young_share", "#2ca02c")):
        fig.add_trace(
            go.Scatter(
                x=l1["year"],
                y=l1[col],
                name=COLUMNS[col][lang()],
                yaxis="y2",
                mode="lines+markers",
                line={"color": color},
            )
        )
    fig.update_layout(
        height=340,
        margin={"t": 20, "b": 20},
        yaxis={"title": "L1"},
        yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "rangemode": "tozero"},
        legend={"orientation": "h"},
    )
    return fig


def costs_chart(costs: pd.DataFrame) -> go.Figure:
    """Vacancy-months (and months held for a group) a year, and rotations if any."""
    fig = go.Figure()
    for col in ("vacancy_months_l1", "reserved_months_l1", "vacancy_months_l2", "rotations"):
        if col in costs:
            fig.add_trace(go.Bar(x=costs["year"], y=costs[col], name=COLUMNS[col][lang()]))
    fig.update_layout(
        barmode="group", height=320, margin={"t": 20, "b": 20}, legend={"orientation": "h"}
    )
    return fig


def downloads(collector: Collector, sc: Scenario, seed: int) -> None:
    summary = collector.summary()
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        for name, df in summary.tables().items():
            z.writestr(f"{name}.csv", df.to_csv(index=False))
    st.download_button(
        T("download_csv"), zbuf.getvalue(), f"cadresim_{sc.province}.zip", key="dl_csv"
    )
    xbuf = io.BytesIO()
    with pd.ExcelWriter(xbuf) as xl:
        for name, df in summary.tables().items():
            df.to_excel(xl, sheet_name=name[:31], index=False)
    st.download_button(
        T("download_xlsx"), xbuf.getvalue(), f"cadresim_{sc.province}.xlsx", key="dl_xlsx"
    )
    text = scenario_yaml(sc)
    st.download_button(T("download_yaml"), text, f"{sc.province}_used.yaml", key="dl_yaml")
    st.caption(T("reproduce"))
    upload = st.session_state.get("upload_roster")
    roster = f" --roster {upload.name}" if upload is not None else ""
    st.code(f"cadresim run {sc.province}_used.yaml --reps {collector.reps} --seed {seed}{roster}")


def scenario_yaml(sc: Scenario) -> str:
    sc = within_ranges(sc)  # a lever may have moved an assumed number out of its range
    data = sc.model_dump(mode="json")
    head = f"# written by cadresim {__version__}; scenario hash {sc.digest()}\n"
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# --------------------------------------------------------------------------- page


def main() -> None:
    st.set_page_config(page_title="cadresim", layout="wide")
    # Streamlit's own toolbar (Deploy, its menu) and its running indicator with a "Stop"
    # speak only English and duplicate the page's own controls (its Run and Dừng/Stop
    # buttons): the page does without them.
    st.html(STREAMLIT_CHROME_HIDDEN)
    sb = st.sidebar
    sb.radio(
        T("language"),
        ["vi", "en"],
        key="lang",
        horizontal=True,
        format_func=lambda c: "Tiếng Việt" if c == "vi" else "English",
    )
    names = bundled_names()
    select_kept(
        sb,
        "scenario",
        T("scenario"),
        names,
        lambda n, k: (bundled_scenario(n).name.vi, bundled_scenario(n).name.en)[k].split(":")[0],
        default=names.index("quang_binh"),
    )
    base_variants = ["", *sorted(bundled_scenario(st.session_state["scenario"]).variants)]
    select_kept(
        sb,
        "variant",
        T("variant"),
        base_variants,
        lambda v, k: v or TEXT["as_planned"][k],
    )
    sb.file_uploader(T("upload_yaml"), type=["yaml", "yml"], key="upload_yaml")
    sb.file_uploader(T("upload_roster"), type=["csv", "xlsx"], key="upload_roster")
    seed = int(sb.number_input(T("seed"), 0, 2**31 - 1, 2021, key="seed"))
    reps = int(sb.number_input(T("reps"), 2, 5000, 200, step=50, key="reps"))

    st.title(T("title"))
    st.caption(T("subtitle"))
    base, roster, user = base_scenario()
    sc = sidebar(base)
    if sc is None:
        return
    st.markdown(f"**{sc.name.vi if lang() == 0 else sc.name.en}**")
    if sb.button(T("run"), type="primary", key="run"):
        st.session_state["run_clicked"] = True
    tabs = st.tabs(
        [
            T("tab_results"),
            T("tab_population"),
            T("tab_compare"),
            T("tab_share"),
            T("tab_teach"),
            T("tab_download"),
        ]
    )
    with tabs[0]:
        collector = run_or_reuse(sc, seed, reps, roster, user)
        if collector is None or len(collector.done) == 0:
            st.info(T("no_results"))
        else:
            show_results(collector, sc, seed)
    with tabs[1]:
        pop = api.population_summary(sc, seed, roster)
        tiers = pop["tiers"].rename(
            columns={"women_share": "stock_women_share", "under_40_share": "stock_young_share"}
        )
        for col in ("stock_women_share", "stock_young_share"):
            tiers[col] = tiers[col].map(pct)
        tiers["mean_age"] = tiers["mean_age"].map(lambda a: f"{a:.1f}")
        st.dataframe(translated(tiers), hide_index=True)
        pyr = pop["pyramid"]
        fig = go.Figure()
        fig.add_trace(go.Bar(y=pyr["age"], x=-pyr["men"], name=T("men"), orientation="h"))
        fig.add_trace(go.Bar(y=pyr["age"], x=pyr["women"], name=T("women"), orientation="h"))
        top = int(max(pyr["men"].max(), pyr["women"].max(), 1))
        step = max(10, round(top / 4, -1))
        ticks = [int(v) for v in np.arange(-top - top % step, top + step, step)]
        fig.update_layout(
            barmode="overlay",
            title=T("pyramid"),
            height=380,
            xaxis={"tickvals": ticks, "ticktext": [str(abs(v)) for v in ticks]},
        )
        st.plotly_chart(fig, width="stretch")
    with tabs[2]:
        compare_tab(sc, seed)
    with tabs[3]:
        share_tab(sc, seed)
    with tabs[4]:
        teach_tab(sc)
    with tabs[5]:
        collector = st.session_state.get("last")
        if collector is None or len(collector.done) == 0:
            st.info(T("no_results"))
        else:
            downloads(collector, sc, seed)


def compare_tab(sc: Scenario, seed: int) -> None:
    if st.button(T("save_a"), key="save_a"):
        st.session_state["scenario_a"] = sc
    a = st.session_state.get("scenario_a")
    if st.button(T("compare_run"), key="compare"):
        if a is None:
            st.info(T("compare_need_a"))
        else:
            reps = min(int(st.session_state.get("reps", 200)), 200)
            with st.spinner(T("running")):
                st.session_state["comparison"] = api.compare(a, sc, seed, reps, workers=2)
    table = st.session_state.get("comparison")
    if table is not None:
        shown = table.copy()
        for col in ("p_met_a", "p_met_b", "difference", "ci_low", "ci_high"):
            shown[col] = shown[col].map(pct)
        st.dataframe(translated(shown), hide_index=True, width="stretch")


def share_tab(sc: Scenario, seed: int) -> None:
    ids = [t.id for t in sc.targets if t.kind in ("stock", "flow", "committee")]
    if not ids:
        return
    target = st.selectbox(T("share_target"), ids, key="share_target")
    group = st.radio(
        T("share_group"),
        ["women", "young"],
        key="share_group",
        horizontal=True,
        format_func=bound_label(lambda g, k: TEXT[f"{g}_l"][k]),
    )
    level = st.slider(T("share_level"), 0.5, 0.95, 0.8, 0.05, key="share_level")
    if st.button(T("share_run"), key="share_run"):
        with st.spinner(T("running")):
            reps = min(60, int(st.session_state.get("reps", 60)))
            found = api.required_share(
                sc, target, group, level, seed, reps=reps, workers=2, tolerance=0.02
            )
        if found.assumed:
            st.info(T("share_assumed", group=T(f"{group}_l")))
        if found.share is None:
            st.warning(T("share_none", share=0.6, level=level, p=found.p_at_share))
        else:
            st.success(
                T("share_found", share=found.share, target=target, level=level, p=found.p_at_share)
            )
            if not found.monotone:
                st.warning(T("share_not_monotone", target=target))
        steps = pd.DataFrame(found.steps, columns=["share", "p_met"]).sort_values("share")
        st.line_chart(steps, x="share", y="p_met")


def teach_tab(sc: Scenario) -> None:
    """One trade-off at a time, each with a short explanation and a live demonstration."""
    step = st.radio(
        T("teach_step"),
        ["flow", "reserve", "reading"],
        key="teach_step",
        horizontal=True,
        format_func=bound_label(lambda v, k: TEACH[f"{v}_title"][k]),
    )
    st.subheader(T(f"{step}_title"))
    st.write(T(f"{step}_body"))
    if step == "flow":
        l1 = api.population_summary(sc)["tiers"].set_index("tier").loc["L1"]
        s0 = float(l1["women_share"])
        q = float(sc.policy.appointment_share.women)
        t = st.slider(T("turnover"), 0.05, 0.30, 0.14, 0.01, key="teach_turnover")
        years = np.arange(0, 21)
        share = q + (s0 - q) * (1 - t) ** years
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=years + sc.start.year, y=share, name=f"q = {q:.0%}"))
        fig.add_hline(y=q, line_dash="dot", line_color="grey")
        fig.add_hline(y=0.17, line_dash="dash", line_color="red", annotation_text="17%")
        fig.update_layout(
            yaxis_tickformat=".0%", yaxis_range=[0, 0.25], height=320, margin={"t": 20, "b": 20}
        )
        st.plotly_chart(fig, width="stretch")
        return
    if step == "reserve":
        settings = {
            T("reserve_off"): {"policy.vacancy_reservation.enabled": False},
            T("reserve_on"): {"policy.vacancy_reservation.enabled": True},
        }
    else:
        settings = {
            T(f"reading_{r}"): {"policy.appointment_share.reading": r}
            for r in ("expected", "floor", "none")
        }
    if st.button(T("teach_show"), key=f"teach_show_{step}"):
        reps = min(100, int(st.session_state.get("reps", 100)))
        rows = []
        with st.spinner(T("running")):
            for label, overrides in settings.items():
                study = api.run_study(sc.with_overrides(overrides), 2021, reps, workers=2)
                summary = study.summary
                row: dict[str, Any] = {T("teach_setting"): label}
                for r in summary.targets.itertuples():
                    if r.status == "modelled" and r.kind == "flow":
                        row[r.target] = pct(r.p_met)
                costs = summary.costs
                for col in ("vacancy_months_l1", "reserved_months_l1"):
                    row[COLUMNS[col][lang()]] = f"{costs[col].sum():.0f}"
                rows.append(row)
        st.session_state[f"teach_result_{step}"] = pd.DataFrame(rows)
    result = st.session_state.get(f"teach_result_{step}")
    if result is not None:
        st.table(result.set_index(T("teach_setting")))
        st.caption(T("teach_note"))


try:
    main()
except Exception as exc:  # never a traceback on the page
    st.error(f"{T('error')}: {type(exc).__name__}: {exc}")
