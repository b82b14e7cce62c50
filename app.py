"""cadresim in the browser: what-if scenarios for advisers, trade-offs for trainers.

    streamlit run app.py        (or ./dev app)

The page only gathers settings and shows results: every computation goes through
:mod:`sim.api`. The interface is bilingual (Vietnamese first, English).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import yaml

from sim import __version__, api, i18n, merging, runner, spreadsheet
from sim import robustness as rb
from sim.population import build_layout
from sim.results import NOT_APPLICABLE, Collector, proportion_interval
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

# The page's simulations run on worker processes. The server runs many threads, and a worker
# forked straight from it would inherit any lock another thread held at that moment: the
# workers are forked from a single-threaded fork server instead (started at the first run,
# with the model's kernels loaded).
runner.use_start_method("forkserver")

# --------------------------------------------------------------------------- text
# Every word of the page comes from sim/catalogue.yaml (sim/i18n.py).

TEXT = i18n.section("text")  # the page: key -> (Tiếng Việt, English)

COLUMNS = i18n.section("columns")  # result table headers


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


HELP = i18n.section("help")  # help texts of the levers


TEACH = i18n.section("teach")  # the teaching tab


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


# --------------------------------------------------------------------------- merged provinces


def text_in(key: str, k: int, **kw: Any) -> str:
    """:func:`T` in language ``k`` (a widget's label function is bound to its language)."""
    text = TEXT[key][k]
    return text.format(**kw) if kw else text


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip


def date_text(d: dt.date, k: int | None = None) -> str:
    """A date as the page writes it: 1/7/2025 (day first, as in Vietnam); in running English
    text (``k`` = 1) 1 July 2025, which no reader takes for 7 January."""
    if k == 1:
        return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"
    return f"{d.day}/{d.month}/{d.year}"


def top_name(name: str) -> str:
    """A scenario's name before its first colon outside brackets, the province: 'Quảng Bình:
    Đề án 01-ĐA/TU (2021-2025)' -> 'Quảng Bình'; 'Quảng Trị (merged 1/7/2025: ...), to 2030'
    is kept whole (its colon is inside the brackets)."""
    depth = 0
    for i, c in enumerate(name):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth = max(0, depth - 1)
        elif c == ":" and depth == 0:
            return name[:i].strip()
    return name.strip()


def province_name(name: Any, k: int) -> str:
    """A province's short name from a scenario's (or a merger source's) name in language
    ``k``: before the plan and any bracket ('Quảng Trị cũ (giả định, ...)' -> 'Quảng Trị cũ')."""
    return top_name(name.vi if k == 0 else name.en).split(" (")[0].strip()


def scenario_name(sc: Scenario, k: int) -> str:
    """A scenario's name in the chooser and the heading: its province ('Quảng Bình'); a merged
    province with its merger date ('Quảng Trị (hợp nhất 1/7/2025)': without the word 'Tỉnh',
    as the other provinces, and short enough for the sidebar's box)."""
    if sc.merger is None:
        return top_name(sc.name.vi if k == 0 else sc.name.en)
    name = province_name(sc.name, k).removeprefix("Tỉnh ")
    return text_in("merged_short", k, name=name, date=date_text(sc.merger.date))


def source_names(sc: Scenario, k: int) -> dict[str, str]:
    """The source provinces of a merged scenario by id, each by its short name: the merger's
    name for it, else its scenario's."""
    m = sc.merger
    if m is None:
        return {}
    return {
        spec.id: province_name(spec.name if spec.name is not None else src.name, k)
        for spec, src in zip(m.sources, sc.merger_sources, strict=True)
    }


def merger_date(sc: Scenario) -> dt.date | None:
    """The date a run of ``sc`` merges provinces (None: no merger in its runs)."""
    return sc.merger.date if sc.merger is not None and sc.merged else None


def merger_text(sc: Scenario) -> str:
    """What a merged scenario is, in plain words: when and from which provinces, which runs
    under its own plan and which is assumed; with its merger switched off, what runs instead."""
    k = lang()
    m = sc.merger
    assert m is not None
    names = source_names(sc, k)
    if not m.enabled:
        first = names[m.sources[0].id]
        return T("merger_off", name=first, end=sc.end.year)
    # Inside a sentence an English name is not capitalised ("from Hà Giang and former ...").
    inside = [
        n[:1].lower() + n[1:] if k == 1 and n.startswith("Former ") else n for n in names.values()
    ]
    parts = [T("merger_info", date=date_text(m.date, k), sources=T("and").join(inside))]
    for spec in m.sources:
        if spec.scale is None:
            parts.append(T("merger_own", name=names[spec.id]))
        else:  # scaled from a bundled scenario (by name or path), as the loader found it
            try:
                base = province_name(merging.load_source(spec.scenario).name, k)
            except (ScenarioError, OSError):
                base = spec.scenario
            parts.append(T("merger_assumed", name=names[spec.id], base=base))
    parts.append(T("merger_after"))
    return " ".join(parts)


def target_scopes(sc: Scenario, unmeasured: list[str] | None = None) -> dict[str, str] | None:
    """Where each target of a merged scenario is measured, in the page's words (None for a
    scenario without a merger): a source province before the merger ('Quảng Bình, trước sáp
    nhập'), the merged province (with the source whose target it carries), or, with the
    merger switched off, the first source province (or that it cannot be measured there)."""
    m = sc.merger
    if m is None:
        return None
    k = lang()
    names = source_names(sc, k)
    first = names[m.sources[0].id]
    out = {}
    for t in sc.targets:
        source = names.get(t.source_province or "", t.source_province or "")
        if unmeasured is not None and t.id in unmeasured:
            out[t.id] = T("scope_unmeasured", name=first)
        elif not m.enabled:  # no merger: the first province measures every target it can
            out[t.id] = first
        elif t.pre_merger:
            out[t.id] = T("scope_pre", name=source)
        elif t.source_province:
            out[t.id] = T("scope_carried", name=source)
        else:
            out[t.id] = T("scope_merged")
    return out


def no_merger_of(sc: Scenario) -> Scenario:
    """The "no merger" path of a merged scenario with the page's settings: its variant
    ``no_merger`` (the first source province alone, the same targets), else its merger
    switched off."""
    if "no_merger" in sc.variants:
        return sc.variant("no_merger")
    return sc.with_overrides({"merger.enabled": False})


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
    """One problem, in an error box, in the page's language."""
    st.error(f"{T('error')}: {i18n.problem_text(message, lang())}")


def fail_problems(problems: list[str] | BaseException, title: str = "") -> None:
    """Every problem of a refused file or setting as a bullet of one error box, each in the
    page's language with its row or line."""
    items = i18n.problems_of(problems) if isinstance(problems, BaseException) else problems
    shown = [i18n.problem_text(p, lang()) for p in items[:50]]
    lines = [f"**{title or T('error')}**", ""]
    lines += [f"- {p}" for p in shown]
    if len(items) > len(shown):
        lines.append(f"- {T('more_problems', n=len(items) - len(shown))}")
    st.error("\n".join(lines))


#: The largest upload the app reads (Streamlit's server limit, .streamlit/config.toml, is
#: higher, so that a larger file reaches the app and is refused here in the page's language).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def too_large(name: str, data: bytes) -> str | None:
    """The message for an upload over :data:`MAX_UPLOAD_BYTES`, else None."""
    if len(data) <= MAX_UPLOAD_BYTES:
        return None
    return (
        f"{name}: {len(data) / 2**20:.1f} MB is more than the {MAX_UPLOAD_BYTES // 2**20} MB "
        "the app accepts"
    )


def read_uploaded_scenario(name: str, data: bytes) -> tuple[Scenario | None, list[str]]:
    """An uploaded scenario file, or the problems found in it (one message each)."""
    if (problem := too_large(name, data)) is not None:
        return None, [problem]
    try:
        return load_scenario_text(data.decode("utf-8"), name), []
    except UnicodeDecodeError:
        return None, [f"{name}: not a UTF-8 text file"]
    except ScenarioError as exc:
        return None, i18n.problems_of(exc)


def read_uploaded_roster(name: str, data: bytes, sc: Scenario) -> tuple[Any, list[str]]:
    """An uploaded roster checked against ``sc``, or its problems (one message each)."""
    if (problem := too_large(name, data)) is not None:
        return None, [problem]
    import tempfile
    from pathlib import Path

    suffix = Path(name).suffix or ".csv"
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as f:
        f.write(data)
        tmp = f.name
    try:
        return load_roster(tmp, sc, build_layout(sc)), []
    except RosterError as exc:
        return None, [p.replace(tmp, name) for p in exc.problems]
    finally:
        Path(tmp).unlink(missing_ok=True)


def base_scenario() -> tuple[Scenario | None, Any, bool]:
    """The scenario chosen or uploaded, the roster (if any) and whether user data is involved.

    A refused file stops the page here, with its problems in the main area: nothing runs on
    data the user did not mean (not the bundled scenario in place of theirs, nor the synthetic
    population in place of their roster).
    """
    uploaded = st.session_state.get("upload_yaml")
    user_data = uploaded is not None
    if uploaded is not None:
        sc, problems = read_uploaded_scenario(uploaded.name, uploaded.getvalue())
        if sc is None:
            fail_problems(problems, T("refused_scenario", name=uploaded.name))
            return None, None, True
    else:
        sc = bundled_scenario(st.session_state.get("scenario", "quang_binh"))
    variant = st.session_state.get("variant", "")
    if variant and variant in sc.variants:
        sc = sc.variant(variant)
    # The scenario before any targets entered in the page: their template (own_targets_tab).
    st.session_state["_template"] = sc
    own = st.session_state.get("own_targets")
    if own is not None:  # targets entered in the page replace the scenario's
        mine, problems = api.targets_from_rows(sc, own)
        if mine is not None:
            sc = mine
    roster = None
    up_roster = st.session_state.get("upload_roster")
    st.session_state.pop("_roster_merger", None)
    if up_roster is not None:
        user_data = True
        if sc.merger is not None:
            # A roster of a merged province: the run starts on the roster's date, from it,
            # without the merger or the years before it (what that leaves out is said on the
            # page, roster_merger_notes). The roster is checked against that scenario.
            st.session_state["_roster_merger"] = sc
            sc = merging.roster_scenario(sc)
        roster, problems = read_uploaded_roster(up_roster.name, up_roster.getvalue(), sc)
        if roster is None:
            fail_problems(problems, T("refused_roster", name=up_roster.name, n=len(problems)))
            return None, None, True
    return sc, roster, user_data


def roster_merger_notes(merged: Scenario) -> None:
    """A roster of a merged province: the run starts from it on its date, and what that leaves
    out (:func:`sim.merging.roster_notes`), one bullet each in the page's language."""
    lines = [f"**{T('roster_merged_title')}**", ""]
    for note in merging.roster_notes(merged):
        text = i18n.problem_text(note, lang())
        lines.append(f"- {text[:1].upper()}{text[1:]}")
    st.info("\n".join(lines))


# --------------------------------------------------------------------------- sidebar


def lever_value_text(name: str, value: Any, k: int) -> str:
    """A lever's value as the page shows it: shares in %, switches on/off, readings by name."""
    lv = api.LEVER[name]
    if lv.kind == "share":
        return f"{100 * float(value):.0f}%"
    if lv.kind == "bool":
        return i18n.section("heading")["on" if value else "off"][k]
    if lv.kind == "choice":
        return TEXT[f"reading_{value}"][k]
    text = f"{float(value):g}"
    return text.replace(".", ",") if k == 0 else text  # Vietnamese writes a decimal comma


def moved_levers(base: Scenario, sc: Scenario, k: int) -> list[str]:
    """The levers (and course seats, and the horizon) moved from ``base``'s values, each as a
    short phrase in language ``k`` for the page heading."""
    heading = i18n.section("heading")
    before, after = api.lever_values(base), api.lever_values(sc)
    out = []
    for lv in api.LEVERS:
        if before[lv.name] != after[lv.name]:
            out.append(heading[lv.name][k].format(v=lever_value_text(lv.name, after[lv.name], k)))
    seats_before, seats_after = api.training_seats(base), api.training_seats(sc)
    for c in sc.policy.training.courses:
        if seats_before.get(c.id) != seats_after[c.id]:
            name = c.name.vi if k == 0 else c.name.en
            out.append(heading["seats"][k].format(course=name, v=seats_after[c.id]))
    if base.end.year != sc.end.year:
        out.append(heading["horizon"][k].format(v=sc.end.year))
    return out


def page_heading(base: Scenario, sc: Scenario, variant: str, roster_name: str | None) -> str:
    """'Quảng Bình, annual floor, women 20%, bias 0.3': the scenario, the variant and every
    lever moved from the scenario's values (and the uploaded roster, if any)."""
    k = lang()
    # A merged province started from a roster is named as the merged province it was.
    named = st.session_state.get("_roster_merger") or sc
    parts = [scenario_name(named, k), i18n.variant_name(variant, k), *moved_levers(base, sc, k)]
    if st.session_state.get("own_targets") is not None:
        parts.append(T("own_in_heading"))
    if roster_name:
        parts.append(i18n.section("heading")["roster"][k].format(name=roster_name))
    return ", ".join(parts)


def sidebar(base: Scenario | None) -> Scenario | None:
    """The levers; returns the scenario with them applied (None after an error)."""
    if base is None:
        return None
    sb = st.sidebar
    values = api.lever_values(base)
    key = base.digest()
    with sb.expander(T("levers"), expanded=True):
        new: dict[str, Any] = {}
        linked = st.session_state.pop("_link_levers", {})
        for lv in api.LEVERS:
            wkey = f"lv_{lv.name}_{key}"
            # Opened from a link: the lever starts at the link's value.
            v = linked.get(lv.name, values[lv.name])
            if lv.kind == "share":  # shown in percent, kept as a fraction
                percent = st.slider(
                    T(lv.name),
                    round(100 * lv.low),
                    round(100 * lv.high),
                    round(100 * float(v)),
                    max(1, round(100 * lv.step)),
                    key=wkey,
                    format="%d%%",
                    help=HELP[lv.name][lang()],
                )
                new[lv.name] = v if percent == round(100 * float(v)) else percent / 100
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
            elif float(lv.step).is_integer() and float(v).is_integer():  # whole numbers
                new[lv.name] = st.number_input(
                    T(lv.name),
                    int(lv.low),
                    int(lv.high),
                    int(v),
                    int(lv.step),
                    key=wkey,
                    format="%d",
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
                    format="%.2f",
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
        fail_problems(exc)
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
        # Every tab reads the same results: the Downloads tab offers what Results shows.
        st.session_state["last"], st.session_state["last_key"] = store[k], k
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
    unmeasured = api.unmeasured_targets(sc)
    scopes = target_scopes(sc, unmeasured)

    def progress(p: api.StudyProgress) -> None:
        bar.progress(p.done / p.total, text=f"{T('running')} {p.done}/{p.total}")
        now = time.monotonic()
        if p.done < p.total and now - shown[0] >= 1.0:
            shown[0] = now
            with early.container():
                st.caption(T("provisional", done=p.done, reps=p.total))
                table = targets_table(p.study.summary, None, scopes, unmeasured)
                table = table.set_index(T("target"))
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


def uploader_css() -> str:
    """Streamlit's upload boxes speak English ("Upload", "200MB per file") and state the
    server's limit, not the app's: their button is relabelled in the page's language and
    their note hidden (the page says the app's own limit under each box)."""
    label = T("upload_button").replace('"', "")
    return (
        "<style>[data-testid='stFileUploaderDropzoneInstructions'] {display: none !important;}"
        "[data-testid='stFileUploaderDropzone'] button > * {display: none !important;}"
        f"[data-testid='stFileUploaderDropzone'] button::after {{content: \"{label}\"; "
        "font-size: 0.875rem;}</style>"
    )


# The chart buttons kept (Plotly's own, and Streamlit's full screen), by the English title
# Plotly and Streamlit give them, with the catalogue key of the page's name for each.
CHART_BUTTONS = {
    "Download plot as a PNG": "chart_png",
    "Reset axes": "chart_reset",
    "Reset view": "chart_reset",
    "Fullscreen": "chart_fullscreen",
    "Close fullscreen": "chart_fullscreen_close",
}


def chart_buttons_css() -> str:
    """The chart corner's tooltips speak English; Plotly draws them from the button's
    ``data-title`` in CSS, so they are renamed in the page's language the same way."""
    rules = []
    for title, key in CHART_BUTTONS.items():
        label = T(key).replace('"', "")
        rules.append(
            f'.js-plotly-plot .plotly .modebar-btn[data-title="{title}"]::after '
            f'{{content: "{label}" !important;}}'
        )
    # The sidebar's boxes hold the longest scenario name, a merged province with its date
    # ('Tuyên Quang (hợp nhất 1/7/2025)'), whole: the default width cut its last characters.
    rules.append("[data-testid='stSidebar'] {min-width: 19rem; max-width: 19rem;}")
    return "<style>" + "".join(rules) + "</style>"


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


LIGHTS = {
    "high": "#2e7d32",
    "medium": "#f9a825",
    "low": "#c62828",
    "uncertain": "#757575",
    "none": "#9e9e9e",
}
#: The thresholds between the lights: low < 50% <= medium < 80% <= high.
LIGHT_EDGES = (0.5, 0.8)


def light_level(p: float, low: float = math.nan, high: float = math.nan) -> str:
    """The light of a P(met) with its interval: "high" (P >= 80%), "medium" (50-80%), "low"
    (< 50%), "uncertain" while the interval straddles 50% or 80% (the light could still
    change with more replications), "none" for no estimate."""
    if isinstance(p, float) and math.isnan(p):
        return "none"
    known = not (math.isnan(low) or math.isnan(high))
    if known and any(low < edge <= high for edge in LIGHT_EDGES):
        return "uncertain"
    return "high" if p >= 0.8 else ("medium" if p >= 0.5 else "low")


def light(p: float, low: float = math.nan, high: float = math.nan) -> str:
    """:func:`light_level` in the page's words."""
    return T(f"light_{light_level(p, low, high)}")


def light_style(value: str) -> str:
    for level in LIGHTS:
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
    summary: Any,
    verdicts: dict[str, tuple[bool, str]] | None = None,
    scopes: dict[str, str] | None = None,
    unmeasured: list[str] | None = None,
) -> pd.DataFrame:
    """The targets table; with ``verdicts`` (target -> (robust, assumption that moves it
    most)) a robustness column too; with ``scopes`` (a merged province: target -> where it is
    measured, :func:`target_scopes`) a column that says so. The targets of ``unmeasured``
    (the "no merger" path cannot measure them) show "–" instead of a P(met)."""
    rows = []
    complying = bool((summary.targets["complying_of"] != NOT_APPLICABLE).any())
    where = {T("measured_on"): ""} if scopes is not None else {}
    for r in summary.targets.itertuples():
        text = r.text_vi if lang() == 0 else r.text_en
        if scopes is not None:
            where = {T("measured_on"): scopes.get(r.target, "")}
        if r.status != "modelled" or r.target in (unmeasured or ()):
            # A target the "no merger" path cannot measure is modelled, just not here: "–".
            modelled = r.status == "modelled" or r.status.startswith("not measured")
            rows.append(
                {
                    T("light"): T("light_none"),
                    T("target"): r.target,
                    T("text"): text,
                    **where,
                    T("by"): str(int(r.by)) if modelled else "",
                    T("goal"): goal_text(r) if modelled else "",
                    T("p_met"): "–" if modelled else T("not_modelled"),
                    T("interval"): "" if modelled else r.status.removeprefix("not modelled: "),
                    **({T("complying"): ""} if complying else {}),
                    T("median"): "",
                }
            )
            if verdicts is not None:
                rows[-1][T("robust")] = ""
            continue
        p = pct(r.p_met)
        if not math.isnan(r.p_upper_met):
            p += f" ({pct(r.p_upper_met)})"
        rows.append(
            {
                T("light"): light(r.p_met, r.ci_low, r.ci_high),
                T("target"): r.target,
                T("text"): text,
                **where,
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
    columns = [T(k) for k in ("light", "target", "text")]
    columns += [T("measured_on")] if scopes is not None else []
    columns += [T(k) for k in ("by", "goal", "p_met", "interval")]
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


#: Kinds of target whose yearly value is a count over the whole year (appointments); the
#: others' is read at a moment: a stock at the year's end, a committee at its congress (late in
#: the year: the first congresses of the merged provinces followed the merger).
PERIOD_KINDS = ("flow",)


def merger_line(fig: go.Figure, merger: dt.date | None, period: bool = True) -> go.Figure:
    """The merger date on a chart with years on its x axis: a vertical dashed line labelled
    "Sáp nhập 1/7/2025" / "Merger 1/7/2025" (nothing without a merger). Every chart of a
    merged province's results over the years draws it through here.

    ``period``: the chart's year ``y`` stands for the whole year (bars of appointments, costs,
    flow shares), drawn from y - 0.5 to y + 0.5, so 1 July 2025 is in the middle of 2025;
    otherwise ``y`` is a value read at a moment late in the year (a stock at its end, a
    committee at its congress), and the date falls between the points of 2024 and 2025."""
    if merger is None:
        return fig
    start = dt.date(merger.year, 1, 1)
    days = (dt.date(merger.year + 1, 1, 1) - start).days
    part = (merger - start).days / days
    x = merger.year - 0.5 + part if period else merger.year - 1 + part
    charts = i18n.section("charts")
    fig.add_vline(
        x=x,
        line_dash="dash",
        line_color="#6a3d9a",
        line_width=2,
        annotation_text=charts["merger_line"][lang()].format(date=date_text(merger)),
        annotation_position="top left",
        annotation_font_color="#6a3d9a",
    )
    return fig


def fan_chart(summary: Any, target: str, merger: dt.date | None = None) -> go.Figure:
    """A target's metric year by year: the median, the bands that hold 50% and 90% of the
    replications, the target's threshold and its deadline, each named in the legend (and the
    merger date of a merged province). A committee target is measured at its congresses only:
    points, not a line."""
    charts, k = i18n.section("charts"), lang()
    tr = summary.trajectories
    d = tr[tr["target"] == target]
    row = summary.targets[summary.targets["target"] == target]
    committee = len(row) > 0 and row["kind"].iloc[0] == "committee"
    fig = go.Figure()
    x = d["year"].tolist()
    for lo, hi, alpha, name in (
        ("p5", "p95", 0.15, charts["band_90"][k]),
        ("p25", "p75", 0.3, charts["band_50"][k]),
    ):
        if committee:  # no band between congresses: error bars at each
            continue
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=(d[hi].tolist() + d[lo].tolist()[::-1]),
                fill="toself",
                fillcolor=f"rgba(31,119,180,{alpha})",
                line={"width": 0},
                hoverinfo="skip",
                name=name,
            )
        )
    if committee:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=d["median"],
                mode="markers",
                marker={"size": 12},
                name=charts["congress_points"][k],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (d["p95"] - d["median"]).tolist(),
                    "arrayminus": (d["median"] - d["p5"]).tolist(),
                },
            )
        )
    else:
        fig.add_trace(go.Scatter(x=x, y=d["median"], mode="lines+markers", name=T("median")))
    if len(d):
        threshold = float(d["threshold"].iloc[0])
        by = int(d["by"].iloc[0])
        goal = goal_text(row.iloc[0]) if len(row) else f"{threshold:.0%}"
        fig.add_trace(
            go.Scatter(
                x=[min(x), max(x)],
                y=[threshold, threshold],
                mode="lines",
                line={"dash": "dash", "color": "red"},
                name=charts["target_line"][k].format(goal=goal),
            )
        )
        fig.add_vline(
            x=by,
            line_dash="dot",
            line_color="grey",
            annotation_text=charts["deadline_line"][k].format(year=by),
        )
    kind = row["kind"].iloc[0] if len(row) else "stock"
    merger_line(fig, merger, period=kind in PERIOD_KINDS)
    top = max([*d["p95"].tolist(), float(d["threshold"].max()) if len(d) else 0.0, 0.05])
    fig.update_layout(
        height=380,
        margin={"t": 20, "b": 20},
        xaxis={"title": charts["year_axis"][k], "dtick": 1},
        yaxis={"title": charts["share_axis"][k], "tickformat": ".0%", "range": [0, top * 1.1]},
        legend={"orientation": "h"},
    )
    return fig


@st.cache_data(show_spinner=False, max_entries=16)
def moves_table(scenario_json: str, seed: int) -> pd.DataFrame:
    from sim.scenario import Scenario as _Scenario

    return api.moves_between_ranks(_Scenario.model_validate_json(scenario_json), seed, reps=5)


# Where each rank sits in the moves diagram (x, y of its centre, as shares of the width and
# height): a staircase from the pool (left) up to the head of L1, so that every label has room.
RANK_PLACE = {
    "pool": (0.001, 0.55),
    "l2_deputy": (0.2, 0.5),
    "l2_head": (0.4, 0.45),
    "l1_deputy": (0.6, 0.45),
    "l1_head": (0.72, 0.1),
}
# Where the moves at the same rank (rotations, reassignments) of each rank sit: along the
# bottom and, for the head of L1, along the top, away from the exits' labels at the right and
# from each other's (an L1 rank's name is long).
MOVED_PLACE = {
    "l2_deputy": (0.28, 0.86),
    "l2_head": (0.48, 0.86),
    "l1_deputy": (0.3, 0.97),
    "l1_head": (0.5, 0.03),
}


def sankey_positions(nodes: list[str], flow: dict[str, float]) -> tuple[list[float], list[float]]:
    """Where each node of the moves diagram sits: ranks in columns from the pool (left) to the
    head of L1, moves at the same rank (rotated, reassigned) along the edges, and the exits in
    one column at the right, largest at the top and spread over the height in proportion to
    their size (so that small exits keep room for their labels instead of stacking at the
    edge)."""
    exits = sorted((n for n in nodes if n.startswith("left: ")), key=lambda n: -flow.get(n, 0.0))
    total = sum(flow.get(n, 0.0) for n in exits) or 1.0
    pos: dict[str, tuple[float, float]] = {}
    room = 0.9  # the share of the height the exit nodes fill; the rest is gaps between them
    gap = (1 - room) / max(len(exits), 1)
    top = gap / 2
    for n in exits:
        size = room * flow.get(n, 0.0) / total
        pos[n] = (0.999, min(max(top + size / 2, 0.001), 0.999))
        top += size + gap
    for n in nodes:
        if n in pos:
            continue
        base, _, rest = n.partition(" ")
        # Plotly places a node only when both its x and y are non-zero (its centre).
        if not rest.strip():
            pos[n] = RANK_PLACE.get(base, (0.5, 0.5))
            continue
        x, y = MOVED_PLACE.get(base, (0.5, 0.86))
        # Rotated and reassigned at the same rank: the reassigned just beside the rotated.
        if rest.strip() == "(reassigned)" and f"{base} (moved)" in nodes:
            y += 0.06 if y < 0.5 else -0.06
        pos[n] = (x, y)
    return [pos[n][0] for n in nodes], [pos[n][1] for n in nodes]


def moves_chart(sc: Scenario, seed: int) -> go.Figure:
    """A Sankey diagram of moves between ranks and out of the leadership (mean numbers over the
    horizon, from five replications)."""
    m = moves_table(sc.model_dump_json(), seed)
    nodes = sorted(set(m["source"]) | set(m["target"]))
    index = {n: k for k, n in enumerate(nodes)}
    ranks, causes = i18n.section("ranks"), i18n.section("causes")
    inflow = m.groupby("target")["moves"].sum().to_dict()

    def label(n: str) -> str:
        if n.startswith("left: "):  # an exit, by its cause
            cause = n.removeprefix("left: ").split(" ")[0]
            name = causes.get(cause, (cause, cause))[lang()]
            return f"{T('left')}: {name} ({inflow.get(n, 0):,.0f})"
        base, _, rest = n.partition(" ")
        kind = {"(moved)": "moved", "(reassigned)": "reassigned"}.get(rest.strip())
        return ranks.get(base, (base, base))[lang()] + (f" ({T(kind)})" if kind else "")

    xs, ys = sankey_positions(nodes, inflow)
    node = {"label": [label(n) for n in nodes], "pad": 18, "thickness": 14, "x": xs, "y": ys}
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node=node,
            link={
                "source": [index[x] for x in m["source"]],
                "target": [index[x] for x in m["target"]],
                "value": m["moves"].tolist(),
            },
        )
    )
    # The top margin keeps the chart's buttons off the top node.
    fig.update_layout(height=560, margin={"t": 36, "b": 10, "l": 10, "r": 10}, font={"size": 13})
    return fig


def baseline_section(collector: Collector, sc: Scenario, seed: int, heading: str) -> None:
    """Pin these results as the baseline, or show them beside the pinned baseline: P(met)
    with its interval under both, and the difference with its interval, paired replication
    by replication when both ran on the same seed."""
    pinned = st.session_state.get("baseline")
    this = (sc.digest(), seed, collector.reps)
    if pinned is not None and pinned["key"] == this:
        st.caption(T("baseline_is_this"))
        if st.button(T("baseline_unpin"), key="baseline_unpin"):
            st.session_state.pop("baseline", None)
            st.rerun()
        return
    cols = st.columns([1, 1, 2])
    if cols[0].button(T("baseline_pin"), key="baseline_pin"):
        st.session_state["baseline"] = {
            "key": this,
            "collector": collector,
            "seed": seed,
            "heading": heading,
        }
        st.rerun()
    if pinned is None:
        return
    if cols[1].button(T("baseline_unpin"), key="baseline_unpin"):
        st.session_state.pop("baseline", None)
        st.rerun()
    base: Collector = pinned["collector"]
    st.subheader(T("baseline_title"))
    st.caption(T("baseline_what", base=pinned["heading"], now=heading))
    table = api.paired_difference(base, collector, pinned["seed"], seed)
    if table.empty:
        st.info(T("baseline_no_common"))
        return
    intervals = {}
    for name, col in (("base", base), ("now", collector)):
        t = col.summary().targets.set_index("target")
        intervals[name] = t
    rows = []
    for r in table.itertuples():
        b, n = intervals["base"].loc[r.target], intervals["now"].loc[r.target]
        rows.append(
            {
                T("target"): r.target,
                T("by"): str(int(r.by)),
                T("baseline_col"): f"{pct(r.p_met_base)} ({pct(b.ci_low)} – {pct(b.ci_high)})",
                T("now_col"): f"{pct(r.p_met_now)} ({pct(n.ci_low)} – {pct(n.ci_high)})",
                T("difference_col"): f"{signed_pct(r.difference)} "
                f"({signed_pct(r.ci_low)} – {signed_pct(r.ci_high)})",
            }
        )
    st.table(pd.DataFrame(rows).set_index(T("target")))
    paired = bool(table["paired"].all())
    st.caption(
        T("baseline_paired", n=int(table["reps"].min()))
        if paired
        else T("baseline_unpaired", a=pinned["seed"], b=seed)
    )


def merger_comparison(collector: Collector, sc: Scenario, seed: int) -> None:
    """Merged against no merger on the same seeds: a button runs the scenario's "no merger"
    path (:func:`no_merger_of`) with this study's seed and replications, with progress and
    Stop; then, per target, P(met) under each with its 95% interval, and the difference
    merged - no merger, paired replication by replication (common random numbers)."""
    alone = no_merger_of(sc)
    m = sc.merger
    assert m is not None
    first = source_names(sc, lang())[m.sources[0].id]
    reps = collector.reps
    st.subheader(T("nomerger_title"))
    st.caption(T("nomerger_what", name=first, seed=seed, reps=reps))
    runs = st.session_state.setdefault("no_merger", {})
    key = (alone.digest(), seed, reps)
    if st.button(T("nomerger_run"), key="merger_compare"):
        # Held by the session before anything runs: a Stop keeps what is done.
        held = runs[key] = Collector(alone, reps)
        slot = st.empty()
        with slot.container():
            progress = progress_with_stop("merger_compare")
            api.run_study(alone, seed, reps, workers=2, progress=progress, into=held)
        slot.empty()
    held = runs.get(key)
    if held is None or len(held.done) == 0:
        return
    if len(held.done) < reps:
        st.warning(T("stopped", done=len(held.done), reps=reps))
    table = api.paired_difference(held, collector, seed, seed)
    unmeasured = set(api.unmeasured_targets(alone))
    scopes = target_scopes(sc) or {}

    def with_interval(p: float, n: int) -> str:
        if math.isnan(p) or n == 0:
            return "–"
        low, high = proportion_interval(round(p * n), n)
        return f"{pct(p)} ({pct(low)} – {pct(high)})"

    rows = []
    for r in table.itertuples():
        n = int(r.reps)
        gone = r.target in unmeasured
        # A difference of two shares lies within ±100 points (its normal interval may not).
        ends = f"{signed_points(max(-1.0, r.ci_low))} – {signed_points(min(1.0, r.ci_high))}"
        diff = "–" if gone else f"{signed_pct(r.difference)} ({ends})"
        rows.append(
            {
                T("target"): r.target,
                T("measured_on"): scopes.get(r.target, ""),
                T("by"): str(int(r.by)),
                T("nomerger_merged_col"): with_interval(r.p_met_now, n),
                T("nomerger_alone_col"): "–" if gone else with_interval(r.p_met_base, n),
                T("nomerger_diff_col"): diff,
            }
        )
    st.table(pd.DataFrame(rows).set_index(T("target")))
    st.caption(T("baseline_paired", n=int(table["reps"].min())))


def signed_pct(x: float) -> str:
    """A difference of shares in percentage points, with its sign."""
    if isinstance(x, float) and math.isnan(x):
        return "–"
    return signed_points(x) + (" điểm %" if lang() == 0 else " pp")


def signed_points(x: float) -> str:
    """A difference of shares as a signed number of points, without the unit (the ends of an
    interval beside the difference, which names the unit)."""
    if isinstance(x, float) and math.isnan(x):
        return "–"
    return f"{100 * x:+.1f}".replace("-", "−")


def show_results(collector: Collector, sc: Scenario, seed: int, heading: str) -> None:
    summary = collector.summary()
    if len(collector.done) < collector.reps:
        st.warning(T("stopped", done=len(collector.done), reps=collector.reps))
    baseline_section(collector, sc, seed, heading)
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
        unmeasured = api.unmeasured_targets(sc)
        scopes = target_scopes(sc, unmeasured)
        table = targets_table(summary, verdicts, scopes, unmeasured).set_index(T("target"))
        st.table(table.style.map(light_style, subset=[T("light")]))
        st.caption(T("basis", n=len(collector.done), seed=seed))
        st.caption(T("light_legend"))
        if unmeasured and sc.merger is not None:
            first = source_names(sc, lang())[sc.merger.sources[0].id]
            st.caption(T("unmeasured_note", name=first, ids=", ".join(unmeasured)))
        for note in target_notes(summary):
            st.caption(note)
        robustness_expander(sc, seed, collector.reps, found)
        if sc.merged:
            merger_comparison(collector, sc, seed)
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
        trajectory = summary.trajectories[summary.trajectories["target"] == pick]
        fig = fan_chart(summary, pick, merger_date(sc))
        chart_with_data(fig, "trajectories", trajectory, f"fan_{pick}")
    st.subheader(T("moves"))
    st.plotly_chart(moves_chart(sc, seed), width="stretch", config=png_config("moves"))
    st.subheader(T("flows"))
    flows = summary.flows.copy()
    flows["tier"] = flows["tier"].str.upper()
    chart_with_data(flows_chart(flows, sc), "flows", flows, "flows")
    with st.expander(T("table")):
        st.dataframe(translated(flows), hide_index=True, width="stretch")
    st.subheader(T("costs"))
    fig = costs_chart(summary.costs, merger_date(sc))
    chart_with_data(fig, "costs", summary.costs, "costs")
    with st.expander(T("table")):
        st.dataframe(translated(summary.costs), hide_index=True, width="stretch")


def right_axis(title: str) -> dict[str, Any]:
    """A second y axis on the right (overlaying the first, from zero, no grid of its own)."""
    return {
        "title": title,
        "overlaying": "y",
        "side": "right",
        "rangemode": "tozero",
        "showgrid": False,
    }


def png_config(name: str) -> dict[str, Any]:
    """Plotly's own "save as PNG" button (in the chart's corner), saving ``name``.png at twice
    the screen's resolution."""
    return {
        "toImageButtonOptions": {"format": "png", "filename": f"cadresim_{name}", "scale": 2},
        "displaylogo": False,
        # Only the buttons an adviser needs: save as PNG and reset the view (and full screen).
        "modeBarButtonsToRemove": [
            "zoom2d",
            "pan2d",
            "select2d",
            "lasso2d",
            "zoomIn2d",
            "zoomOut2d",
            "autoScale2d",
        ],
    }


def chart_with_data(fig: go.Figure, table: str, data: pd.DataFrame, name: str) -> None:
    """A chart (saved as PNG from its corner button) and a button that downloads its data as
    CSV for Excel (headers in the page's language, shares in %, a byte-order mark)."""
    st.plotly_chart(fig, width="stretch", config=png_config(name))
    csv = "\ufeff" + spreadsheet.readable(table, data, lang()).to_csv(index=False)
    st.download_button(
        T("chart_data"),
        csv.encode("utf-8"),
        f"cadresim_{name}.csv",
        mime="text/csv",
        key=f"data_{name}",
    )


def flows_chart(flows: pd.DataFrame, sc: Scenario) -> go.Figure:
    """L1 appointments a year (bars, left axis) with the shares of women and under-40s among
    them (lines, right axis, with the scenario's appointment shares as dotted lines)."""
    charts, k = i18n.section("charts"), lang()
    l1 = flows[flows["tier"].str.upper() == "L1"]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=l1["year"],
            y=l1["appointments_mean"],
            name=COLUMNS["appointments_mean"][k],
            marker_color="#9ecae1",
        )
    )
    colors = {"women_share": "#d62728", "young_share": "#2ca02c"}
    for col, color in colors.items():
        fig.add_trace(
            go.Scatter(
                x=l1["year"],
                y=l1[col],
                name=COLUMNS[col][k],
                yaxis="y2",
                mode="lines+markers",
                line={"color": color},
            )
        )
    quota = {"women_share": sc.policy.appointment_share.women}
    quota["young_share"] = sc.policy.appointment_share.young
    top = max(0.3, float(l1[["women_share", "young_share"]].max().max() or 0), *quota.values())
    if sc.policy.appointment_share.reading != "none":
        for col, q in quota.items():
            if q > 0:
                fig.add_trace(
                    go.Scatter(
                        x=[l1["year"].min(), l1["year"].max()],
                        y=[q, q],
                        yaxis="y2",
                        mode="lines",
                        line={"dash": "dot", "color": colors[col]},
                        name=f"{COLUMNS[col][k]}: "
                        + charts["quota_line"][k].format(share=f"{q:.0%}"),
                    )
                )
    fig.update_layout(
        height=380,
        margin={"t": 20, "b": 20},
        xaxis={"title": charts["year_axis"][k], "dtick": 1},
        yaxis={"title": charts["appointments_axis"][k], "rangemode": "tozero"},
        yaxis2={
            "title": charts["share_axis"][k],
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "range": [0, min(1.0, top * 1.15)],
            "dtick": 0.05 if top <= 0.4 else 0.1,
            "showgrid": False,
        },
        legend={"orientation": "h"},
    )
    return merger_line(fig, merger_date(sc))


def costs_chart(costs: pd.DataFrame, merger: dt.date | None = None) -> go.Figure:
    """Vacancy-months (and months held for a group) a year on the left axis; rotations, in
    people, on the right axis when there are any (and the merger date of a merged province)."""
    charts, k = i18n.section("charts"), lang()
    fig = go.Figure()
    for col in ("vacancy_months_l1", "reserved_months_l1", "vacancy_months_l2"):
        if col in costs:
            fig.add_trace(go.Bar(x=costs["year"], y=costs[col], name=COLUMNS[col][k]))
    people = "rotations" in costs and float(costs["rotations"].sum()) > 0
    if people:
        fig.add_trace(
            go.Scatter(
                x=costs["year"],
                y=costs["rotations"],
                name=COLUMNS["rotations"][k],
                yaxis="y2",
                mode="lines+markers",
            )
        )
    layout: dict[str, Any] = {
        "barmode": "group",
        "height": 360,
        "margin": {"t": 20, "b": 20},
        "legend": {"orientation": "h"},
        "xaxis": {"title": charts["year_axis"][k], "dtick": 1},
        "yaxis": {"title": charts["months_axis"][k], "rangemode": "tozero"},
    }
    if people:
        layout["yaxis2"] = right_axis(charts["people_axis"][k])
    fig.update_layout(**layout)
    return merger_line(fig, merger)


def downloads(collector: Collector, sc: Scenario, seed: int, heading: str) -> None:
    """The result tables for spreadsheet users (headers in the page's language, shares in
    percent, CSV with a byte-order mark, a workbook with a sheet that explains it), the
    scenario used, and the command that reruns it."""
    summary = collector.summary()
    tables = summary.tables()
    k = lang()
    suffix = ("vi", "en")[k]
    st.caption(T("basis", n=len(collector.done), seed=seed))
    st.download_button(
        T("download_csv"),
        spreadsheet.csv_zip(tables, k, spreadsheet.course_names(sc)),
        f"cadresim_{sc.province}_{suffix}.zip",
        key="dl_csv",
    )
    about = {
        "scenario": (sc.name.vi if k == 0 else sc.name.en),
        "heading": heading,
        "seed": seed,
        "reps": len(collector.done),
        "hash": sc.digest(),
    }
    st.download_button(
        T("download_xlsx"),
        spreadsheet.workbook(tables, k, about, spreadsheet.course_names(sc)),
        f"cadresim_{sc.province}_{suffix}.xlsx",
        key="dl_xlsx",
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


# --------------------------------------------------------------------------- the link
#: The page address carries the view: scenario, variant, language, seed, replications and
#: every lever moved from the scenario's values (by the lever's name), e.g.
#: ``?scenario=quang_binh&variant=floor&seed=2021&reps=200&women_share=0.2&lang=en``.
LINK_KEYS = ("scenario", "variant", "lang", "seed", "reps")


def parse_lever(lv: api.Lever, text: str) -> Any:
    """A lever's value from the page address (None if it does not parse or is out of range)."""
    try:
        if lv.kind == "bool":
            return {"1": True, "true": True, "0": False, "false": False}[text.lower()]
        if lv.kind == "choice":
            return text if text in lv.choices else None
        value = float(text)
    except (KeyError, ValueError):
        return None
    return value if lv.low <= value <= lv.high else None


def read_link() -> None:
    """Once a session: start the page at the view its address describes (values that do not
    parse, or name no bundled scenario or variant, are ignored)."""
    if st.session_state.get("_link_read"):
        return
    st.session_state["_link_read"] = True
    q = st.query_params
    names = bundled_names()
    if q.get("lang") in ("vi", "en"):
        st.session_state["lang"] = q["lang"]
    if q.get("scenario") in names:
        st.session_state["scenario"] = q["scenario"]
    scenario = bundled_scenario(st.session_state.get("scenario", "quang_binh"))
    if q.get("variant", "") in scenario.variants:
        st.session_state["variant"] = q["variant"]
    if q.get("view") == "present":
        st.session_state["present"] = True
    for key, low, high in (("seed", 0, 2**31 - 1), ("reps", 2, 5000)):
        text = q.get(key, "")
        if text.isdigit() and low <= int(text) <= high:
            # The widget's starting value (main), not its state: a number box whose state is
            # set before it exists starts at its minimum in the browser until the next
            # message, and a quick Run would take that minimum.
            st.session_state[f"_link_{key}"] = int(text)
    levers = {}
    for lv in api.LEVERS:
        if lv.name in q and (value := parse_lever(lv, q[lv.name])) is not None:
            levers[lv.name] = value
    st.session_state["_link_levers"] = levers


def link_value(key: str, default: int) -> int:
    """The starting value of a number box: the one the page's address gave, else ``default``."""
    return int(st.session_state.get(f"_link_{key}", default))


def write_link(base: Scenario, sc: Scenario, variant: str, seed: int, reps: int) -> None:
    """Keep the page address equal to the view, so that it can be sent to a colleague."""
    if st.session_state.get("upload_yaml") is not None or st.session_state.get("own_targets"):
        return  # an uploaded scenario, or targets entered in the page, cannot travel in a link
    want = {
        "scenario": st.session_state.get("scenario", "quang_binh"),
        "lang": st.session_state.get("lang", "vi"),
        "seed": str(seed),
        "reps": str(reps),
    }
    if variant:
        want["variant"] = variant
    if st.session_state.get("present"):
        want["view"] = "present"
    before, after = api.lever_values(base), api.lever_values(sc)
    for lv in api.LEVERS:
        if before[lv.name] != after[lv.name]:
            value = after[lv.name]
            want[lv.name] = str(value).lower() if lv.kind == "bool" else f"{value}"
    if dict(st.query_params) != want:
        st.query_params.from_dict(want)


# --------------------------------------------------------------------------- page


def set_precision(key: str) -> None:
    """The quick/precise choice at the top sets the replications (also in the sidebar)."""
    st.session_state["reps"] = int(st.session_state[key])


def main() -> None:
    st.set_page_config(page_title="cadresim", layout="wide")
    # Streamlit's own toolbar (Deploy, its menu) and its running indicator with a "Stop"
    # speak only English and duplicate the page's own controls (its Run and Dừng/Stop
    # buttons): the page does without them.
    st.html(STREAMLIT_CHROME_HIDDEN)
    read_link()
    st.html(uploader_css())
    st.html(chart_buttons_css())
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
        lambda n, k: scenario_name(bundled_scenario(n), k),
        default=names.index("quang_binh"),
    )
    base_variants = ["", *sorted(bundled_scenario(st.session_state["scenario"]).variants)]
    select_kept(
        sb,
        "variant",
        T("variant"),
        base_variants,
        i18n.variant_name,
    )
    sb.file_uploader(T("upload_yaml"), type=["yaml", "yml"], key="upload_yaml")
    sb.caption(f"{T('upload_limit')} · YAML")
    sb.file_uploader(T("upload_roster"), type=["csv", "xlsx"], key="upload_roster")
    sb.caption(f"{T('upload_limit')} · CSV, XLSX")
    # Starting values: the link's, else the defaults; once the boxes exist, their state.
    seed_default = {} if "seed" in st.session_state else {"value": link_value("seed", 2021)}
    reps_default = {} if "reps" in st.session_state else {"value": link_value("reps", 200)}
    seed = int(sb.number_input(T("seed"), 0, 2**31 - 1, key="seed", **seed_default))
    reps = int(sb.number_input(T("reps"), 2, 5000, step=50, key="reps", **reps_default))

    sb.toggle(T("present"), key="present", help=T("present_help"))

    if not st.session_state.get("present"):
        st.title(T("title"))
        st.caption(T("subtitle"))
    base, roster, user = base_scenario()
    sc = sidebar(base)
    if sc is None or base is None:
        return
    variant = st.session_state.get("variant", "")
    variant = variant if variant in (base.variants or {}) or not variant else ""
    write_link(base, sc, variant, seed, reps)
    if st.session_state.get("present"):
        st.button(
            T("present_leave"),
            key="present_leave",
            on_click=lambda: st.session_state.update(present=False),
        )
        present_view(sc, seed)
        return
    up_roster = st.session_state.get("upload_roster")
    unvaried = base  # the levers' starting values are the (varied) scenario's own
    heading = page_heading(unvaried, sc, variant, up_roster.name if roster else None)
    st.subheader(heading)
    if roster is not None:
        filled = int(np.count_nonzero(roster.people.post >= 0))
        posts = build_layout(sc).n_posts
        st.success(
            T(
                "roster_loaded",
                name=up_roster.name,
                people=f"{len(roster.people.post):,}".replace(",", "." if lang() == 0 else ","),
                filled=f"{filled:,}".replace(",", "." if lang() == 0 else ","),
                posts=f"{posts:,}".replace(",", "." if lang() == 0 else ","),
            )
        )
    merged = st.session_state.get("_roster_merger")
    if roster is not None and merged is not None:
        roster_merger_notes(merged)
    elif sc.merger is not None:
        st.info(merger_text(sc))
    run_bar = st.columns([1, 3])
    if run_bar[0].button(T("run"), type="primary", key="run", width="stretch"):
        st.session_state["run_clicked"] = True
    choices = [200, 1000] if reps in (200, 1000) else [200, 1000, reps]
    # A new widget for each count and language (its labels change with both).
    pkey = f"precision_{reps}@{('vi', 'en')[lang()]}"
    run_bar[1].radio(
        T("precision"),
        choices,
        index=choices.index(reps),
        key=pkey,
        horizontal=True,
        format_func=bound_label(
            lambda n, k: (
                TEXT[f"precision_{n}"][k]
                if n in (200, 1000)
                else TEXT["precision_n"][k].format(n=n)
            )
        ),
        on_change=set_precision,
        args=(pkey,),
        label_visibility="collapsed",
    )
    tabs = st.tabs(
        [
            T("tab_results"),
            T("tab_population"),
            T("tab_compare"),
            T("tab_share"),
            T("tab_teach"),
            T("tab_download"),
            T("tab_own"),
        ]
    )
    with tabs[0]:
        collector = run_or_reuse(sc, seed, reps, roster, user)
        if collector is None or len(collector.done) == 0:
            st.info(T("no_results"))
        else:
            show_results(collector, sc, seed, heading)
    with tabs[1]:
        population_tab(sc, seed, roster)
    with tabs[2]:
        compare_tab(sc, seed)
    with tabs[3]:
        share_tab(sc, seed)
    with tabs[4]:
        teach_tab(sc)
    with tabs[5]:
        if collector is None or len(collector.done) == 0:
            st.info(T("no_results"))
        else:
            downloads(collector, sc, seed, heading)
    with tabs[6]:
        own_targets_tab(base, sc)


def nice_step(top: float) -> int:
    """A round tick step (1, 2 or 5 times a power of ten) giving about four ticks to ``top``."""
    raw = max(top / 4, 1)
    power = 10 ** math.floor(math.log10(raw))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def pyramid_chart(pyr: pd.DataFrame) -> go.Figure:
    """The age pyramid: men to the left, women to the right, the same round ticks each side."""
    charts = i18n.section("charts")
    k = lang()
    fig = go.Figure()
    fig.add_trace(go.Bar(y=pyr["age"], x=-pyr["men"], name=T("men"), orientation="h"))
    fig.add_trace(go.Bar(y=pyr["age"], x=pyr["women"], name=T("women"), orientation="h"))
    top = float(max(pyr["men"].max(), pyr["women"].max(), 1))
    step = nice_step(top)
    edge = step * math.ceil(top / step)
    ticks = list(range(-edge, edge + 1, step))
    fig.update_layout(
        barmode="overlay",
        title=T("pyramid"),
        height=400,
        xaxis={
            "tickvals": ticks,
            "ticktext": [f"{abs(v):,}" for v in ticks],
            "range": [-edge * 1.05, edge * 1.05],
            "title": f"{charts['count_axis'][k]} ({T('men')} ← | → {T('women')})",
        },
        yaxis={"title": charts["age_axis"][k]},
        legend={"orientation": "h"},
    )
    return fig


def population_tab(sc: Scenario, seed: int, roster: Any) -> None:
    """The starting population by tier, and its age pyramid."""
    pop = api.population_summary(sc, seed, roster)
    tiers = pop["tiers"].rename(
        columns={"women_share": "stock_women_share", "under_40_share": "stock_young_share"}
    )
    ranks = i18n.section("ranks")
    tiers["tier"] = tiers["tier"].map(lambda t: ranks.get(t, (t, t))[lang()])
    for col in ("stock_women_share", "stock_young_share"):
        tiers[col] = tiers[col].map(pct)
    tiers["mean_age"] = tiers["mean_age"].map(lambda a: f"{a:.1f}")
    if sc.merger is not None and roster is None:  # its people are the source provinces'
        names = list(source_names(sc, lang()).values())
        start = date_text(sc.start, lang())
        if sc.merged:
            st.caption(T("population_merged", sources=T("and").join(names), start=start))
        else:
            st.caption(T("population_alone", name=names[0], start=start))
    st.dataframe(translated(tiers), hide_index=True)
    st.plotly_chart(pyramid_chart(pop["pyramid"]), width="stretch", config=png_config("pyramid"))


def progress_with_stop(key: str) -> Callable[[int, int], None]:
    """A progress bar and a Stop button for a long computation of a tab; returns the
    callback that moves the bar. Pressing Stop reruns the page, which ends the computation at
    its next progress report (its worker processes are stopped with it)."""
    bar = st.progress(0.0, text=T("running"))
    st.button(T("stop"), key=f"stop_{key}")

    def progress(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"{T('running')} {done}/{total}")

    return progress


def own_target_options() -> dict[str, dict[str, str]]:
    """The choices of the targets table, shown in the page's language: shown -> code."""
    k = lang()
    return {
        "group": {TEXT["women_l"][k]: "women", TEXT["own_young"][k]: "young"},
        "tier": {"L1": "L1", "L2": "L2"},
        "measure": {TEXT["own_stock"][k]: "stock", TEXT["own_flow"][k]: "flow"},
    }


def own_targets_tab(base: Scenario, sc: Scenario) -> None:
    """Their own province without YAML: the targets as a table to fill in, checked row by
    row (bad rows marked in place), then used by the page, with the scenario to download."""
    st.markdown(T("own_intro"))
    options = own_target_options()
    shown_of = {f: {code: text for text, code in opts.items()} for f, opts in options.items()}
    rows = st.session_state.get("own_targets") or [
        {"group": "women", "tier": "L1", "measure": "stock", "share": 20, "year": base.end.year},
        {"group": "young", "tier": "L1", "measure": "stock", "share": 10, "year": base.end.year},
        {"group": "women", "tier": "L1", "measure": "flow", "share": 15, "year": base.end.year},
    ]
    cols = {f: T(f"own_col_{f}") for f in ("group", "tier", "measure", "share", "year", "problem")}
    table = pd.DataFrame(
        [
            {
                cols["group"]: shown_of["group"].get(r.get("group"), r.get("group")),
                cols["tier"]: r.get("tier"),
                cols["measure"]: shown_of["measure"].get(r.get("measure"), r.get("measure")),
                cols["share"]: r.get("share"),
                cols["year"]: r.get("year"),
            }
            for r in rows
        ]
    )
    edited = st.data_editor(
        table,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        key=f"own_editor@{('vi', 'en')[lang()]}",
        column_config={
            # A new row starts filled (women, L1, stock, 20%, the last year) rather than with
            # the table's "None" in every cell; the adviser changes what differs.
            cols["group"]: st.column_config.SelectboxColumn(
                options=list(options["group"]), default=next(iter(options["group"]))
            ),
            cols["tier"]: st.column_config.SelectboxColumn(
                options=list(options["tier"]), default="L1"
            ),
            cols["measure"]: st.column_config.SelectboxColumn(
                options=list(options["measure"]), default=next(iter(options["measure"]))
            ),
            cols["share"]: st.column_config.NumberColumn(
                min_value=0, max_value=100, format="%d%%", default=20
            ),
            cols["year"]: st.column_config.NumberColumn(
                min_value=base.start.year,
                max_value=base.end.year,
                step=1,
                format="%d",
                default=base.end.year,
            ),
        },
    )
    entered = [
        {
            "group": options["group"].get(r[cols["group"]], r[cols["group"]]),
            "tier": options["tier"].get(r[cols["tier"]], r[cols["tier"]]),
            "measure": options["measure"].get(r[cols["measure"]], r[cols["measure"]]),
            "share": r[cols["share"]],
            "year": r[cols["year"]],
        }
        for r in edited.to_dict("records")
    ]
    buttons = st.columns([2, 2, 3])
    if buttons[0].button(T("own_use"), key="own_use", type="primary"):
        template = st.session_state.get("_template", base)
        mine, problems = api.targets_from_rows(template, entered)
        if mine is None:
            # Empty cells blank (not "None"), years as whole numbers.
            marked = edited.astype(object).where(edited.notna(), "")
            marked[cols["year"]] = [
                int(v) if isinstance(v, int | float) and v == v else v for v in marked[cols["year"]]
            ]
            marked[cols["share"]] = [
                f"{v:g}%" if isinstance(v, int | float) and v == v else v
                for v in marked[cols["share"]]
            ]
            marked[cols["problem"]] = [
                i18n.problem_text(problems.get(k, ""), lang()) if k in problems else ""
                for k in range(len(marked))
            ]
            fail_problems(
                [f"row {k + 1}: {p}" for k, p in sorted(problems.items())],
                T("own_refused"),
            )
            st.dataframe(
                marked.style.map(
                    lambda v: "background-color: #fdecea; color: #b71c1c" if v else "",
                    subset=[cols["problem"]],
                ),
                hide_index=True,
                width="stretch",
            )
            return
        st.session_state["own_targets"] = entered
        st.rerun()
    if st.session_state.get("own_targets") is not None:
        if buttons[1].button(T("own_drop"), key="own_drop"):
            st.session_state.pop("own_targets", None)
            st.rerun()
        st.success(T("own_in_use", n=len(sc.targets)))
        st.download_button(
            T("download_yaml"), scenario_yaml(sc), f"{sc.province}_my_targets.yaml", key="own_yaml"
        )


def compare_tab(sc: Scenario, seed: int) -> None:
    if st.button(T("save_a"), key="save_a"):
        st.session_state["scenario_a"] = sc
    a = st.session_state.get("scenario_a")
    if st.button(T("compare_run"), key="compare"):
        if a is None:
            st.info(T("compare_need_a"))
        else:
            reps = min(int(st.session_state.get("reps", 200)), 200)
            slot = st.empty()
            with slot.container():
                progress = progress_with_stop("compare")
                st.session_state["comparison"] = api.compare(
                    a, sc, seed, reps, workers=2, progress=progress
                )
            slot.empty()
    table = st.session_state.get("comparison")
    if table is not None:
        shown = table.drop(columns=["variance_reduction"], errors="ignore")
        for col in ("p_met_a", "p_met_b", "difference", "ci_low", "ci_high"):
            shown[col] = shown[col].map(pct)
        st.dataframe(translated(shown), hide_index=True, width="stretch")


def share_tab(sc: Scenario, seed: int) -> None:
    ids = [t.id for t in sc.targets if t.kind in ("stock", "flow", "committee")]
    if not ids:
        return
    texts = {t.id: (t.text.vi, t.text.en) if t.text else (t.id, t.id) for t in sc.targets}
    target = st.selectbox(
        T("share_target"),
        ids,
        key="share_target",
        format_func=bound_label(lambda i, k: f"{i}: {texts[i][k]}"),
    )
    group = st.radio(
        T("share_group"),
        ["women", "young"],
        key="share_group",
        horizontal=True,
        format_func=bound_label(lambda g, k: TEXT[f"{g}_l"][k]),
    )
    level = st.slider(T("share_level"), 50, 95, 80, 5, format="%d%%", key="share_level") / 100
    if st.button(T("share_run"), key="share_run"):
        reps = min(60, int(st.session_state.get("reps", 60)))
        slot = st.empty()
        with slot.container():
            progress = progress_with_stop("share")
            found = api.required_share(
                sc,
                target,
                group,
                level,
                seed,
                reps=reps,
                workers=2,
                tolerance=0.02,
                progress=progress,
            )
        slot.empty()
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
        charts, k = i18n.section("charts"), lang()
        fig = go.Figure(go.Scatter(x=steps["share"], y=steps["p_met"], mode="lines+markers"))
        fig.add_hline(
            y=level,
            line_dash="dash",
            line_color="red",
            annotation_text=charts["level_line"][k].format(level=f"{level:.0%}"),
        )
        fig.update_layout(
            height=320,
            margin={"t": 20, "b": 20},
            xaxis={"title": charts["share_tried"][k], "tickformat": ".0%"},
            yaxis={"title": charts["p_axis"][k], "tickformat": ".0%", "range": [0, 1.02]},
        )
        st.plotly_chart(fig, width="stretch")


def stock_share(s0: float, q: float, t: float, years: np.ndarray) -> np.ndarray:
    """The stock share after ``years`` when a share ``q`` of appointments goes to the group and
    a share ``t`` of the stock turns over each year, from ``s0``: q + (s0 - q)(1 - t)^k."""
    return q + (s0 - q) * (1 - t) ** years


def flow_stock_figure(start: int, s0: float, q: float, t: float, big: bool) -> go.Figure:
    """Flow against stock: the women's share of the stock over 20 years, the appointment share
    it tends to and the 17% target it cannot pass unless q does (teaching tab; ``big`` for the
    presenter view)."""
    charts, k = i18n.section("charts"), lang()
    years = np.arange(0, 21)
    width = 3 if big else 2
    fig = go.Figure(
        go.Scatter(
            x=years + start,
            y=stock_share(s0, q, t, years),
            line={"width": 5 if big else 2},
            name=COLUMNS["stock_women_share"][k],
        )
    )
    fig.add_hline(
        y=q,
        line_dash="dot",
        line_color="grey",
        line_width=width,
        annotation_text=charts["quota_line"][k].format(share=f"{q:.0%}"),
        annotation_position="bottom left",
    )
    fig.add_hline(
        y=0.17,
        line_dash="dash",
        line_color="red",
        line_width=width,
        annotation_text=charts["target_line"][k].format(goal="17%"),
        annotation_position="top right",
    )
    fig.update_layout(
        height=460 if big else 340,
        font={"size": 20} if big else None,
        xaxis={"title": charts["year_axis"][k]},
        yaxis={
            "title": charts["share_axis"][k],
            "tickformat": ".0%",
            "range": [0, max(0.25, 1.2 * q, 1.2 * s0)],
        },
        margin={"t": 30, "b": 30},
    )
    return fig


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
    st.write(T(f"{step}_body", q=f"{sc.policy.appointment_share.women:.0%}"))
    if step == "flow":
        l1 = api.population_summary(sc)["tiers"].set_index("tier").loc["L1"]
        s0 = float(l1["women_share"])
        q = float(sc.policy.appointment_share.women)
        t = st.slider(T("turnover"), 5, 30, 14, 1, format="%d%%", key="teach_turnover") / 100
        fig = flow_stock_figure(sc.start.year, s0, q, t, big=False)
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
        slot = st.empty()
        with slot.container():
            progress = progress_with_stop(f"teach_{step}")
            for k, (label, overrides) in enumerate(settings.items()):
                study = api.run_study(
                    sc.with_overrides(overrides),
                    2021,
                    reps,
                    workers=2,
                    progress=lambda done, _total, k=k: progress(
                        k * reps + done, len(settings) * reps
                    ),
                )
                summary = study.summary
                row: dict[str, Any] = {T("teach_setting"): label}
                for r in summary.targets.itertuples():
                    if r.status == "modelled" and r.kind == "flow":
                        row[r.target] = pct(r.p_met)
                costs = summary.costs
                for col in ("vacancy_months_l1", "reserved_months_l1"):
                    row[COLUMNS[col][lang()]] = f"{costs[col].sum():.0f}"
                rows.append(row)
        slot.empty()
        st.session_state[f"teach_result_{step}"] = pd.DataFrame(rows)
    result = st.session_state.get(f"teach_result_{step}")
    if result is not None:
        st.table(result.set_index(T("teach_setting")))
        st.caption(T("teach_note"))


# --------------------------------------------------------------------------- presenter

#: The prepared lessons of the presenter view: each a sequence of steps (texts in the
#: catalogue's "teach" section: ``lesson_<id>_<k>``) and the one lever the class moves.
LESSONS: dict[str, dict[str, Any]] = {
    "flow": {"steps": 3, "lever": "women_share", "values": None},
    "reserve": {"steps": 3, "lever": "max_hold", "values": [0, 6, 12, 24]},
    "readings": {"steps": 3, "lever": "reading", "values": ["none", "expected", "floor"]},
    "young": {"steps": 3, "lever": "young_share", "values": [0.0, 0.15, 0.3, 0.45]},
}
#: Replications a lesson runs for each value of its lever (a demonstration, not a study).
LESSON_REPS = 40

PRESENTER_CSS = (
    "<style>[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'], "
    "[data-testid='stHeader'] {display: none !important;} "
    ".main .block-container, [data-testid='stMainBlockContainer'] "
    "{max-width: 1200px; padding-top: 1.5rem;} [data-testid='stMarkdownContainer'] p, "
    "[data-testid='stMarkdownContainer'] li {font-size: 1.6rem !important; line-height: 1.45;} "
    "h1 {font-size: 2.6rem !important;} h2, h3 {font-size: 2.1rem !important;} "
    "[data-testid='stWidgetLabel'] p {font-size: 1.35rem !important;} "
    "[data-testid='stTable'] td, [data-testid='stTable'] th {font-size: 1.35rem !important;}"
    "</style>"
)


def presenter_fonts(fig: go.Figure) -> go.Figure:
    """Type a class reads from the back of the room: the page theme sets the axes' own fonts,
    which a figure-wide size does not reach, so each axis and the legend are set here."""
    fig.update_xaxes(tickfont={"size": 18}, title_font={"size": 20})
    fig.update_yaxes(tickfont={"size": 18}, title_font={"size": 20})
    fig.update_layout(legend_font_size=18, font_size=20)
    fig.update_annotations(font_size=20)
    return fig


def lesson_targets(sc: Scenario, lesson: str) -> list[Any]:
    """The targets a lesson shows: appointment shares (reserve, readings), young leaders at
    the top tier (young)."""
    if lesson == "young":
        return [
            t
            for t in sc.targets
            if t.kind in ("stock", "flow")
            and t.group == "young"
            and any(r.startswith("l1") for r in t.who.ranks)
        ]
    return [t for t in sc.targets if t.kind == "flow" and t.group in ("women", "young")]


def lesson_result(sc: Scenario, lesson: str, value: Any, seed: int) -> dict[str, Any]:
    """P(met) of the lesson's targets, their median values, and L1 vacancy-months, with the
    lesson's lever at ``value`` (computed once a session, with progress and Stop)."""
    lever = LESSONS[lesson]["lever"]
    key = (sc.digest(), lesson, str(value), seed)
    done = st.session_state.setdefault("lessons", {})
    if key in done:
        return done[key]
    moved = api.apply_levers(sc, {lever: value})
    if lesson == "reserve":
        moved = api.apply_levers(moved, {"reservation": value > 0})
    slot = st.empty()
    with slot.container():
        progress = progress_with_stop(f"lesson_{lesson}")
        summary = api.run_study(moved, seed, LESSON_REPS, workers=2, progress=progress).summary
    slot.empty()
    ids = [t.id for t in lesson_targets(sc, lesson)]
    t = summary.targets.set_index("target")
    done[key] = {
        "p_met": {i: float(t.loc[i, "p_met"]) for i in ids},
        "ci": {i: (float(t.loc[i, "ci_low"]), float(t.loc[i, "ci_high"])) for i in ids},
        "median": {i: float(t.loc[i, "metric_median"]) for i in ids},
        "vacancy": float(summary.costs["vacancy_months_l1"].sum()),
    }
    return done[key]


def lesson_value_text(lesson: str, value: Any, k: int) -> str:
    lever = LESSONS[lesson]["lever"]
    if lever == "max_hold":
        return (
            ("không giữ chỗ", "no holding")[k]
            if value == 0
            else f"{value} "
            + (
                "tháng",
                "months",
            )[k]
        )
    return lever_value_text(lever, value, k)


def present_view(sc: Scenario, seed: int) -> None:
    """Large type, one lesson at a time: a sequence of steps with a chart that changes as the
    class moves the lesson's one lever, the numbers behind it, and where the lesson is."""
    st.html(PRESENTER_CSS)
    k = lang()
    lesson = select_kept(
        st,
        "lesson",
        T("lesson_pick"),
        list(LESSONS),
        lambda v, kk: TEACH[f"lesson_{v}_title"][kk],
    )
    spec = LESSONS[lesson]
    step_key = f"lesson_step_{lesson}"
    step = int(st.session_state.get(step_key, 0))
    n = spec["steps"]
    st.header(TEACH[f"lesson_{lesson}_title"][k])
    st.progress((step + 1) / n, text=T("lesson_step", k=step + 1, n=n))
    q_now = pct(sc.policy.appointment_share.women)
    st.markdown(TEACH[f"lesson_{lesson}_{step + 1}"][k].format(q=q_now))
    nav = st.columns([2, 2, 3])
    if nav[0].button(T("lesson_back"), key="lesson_back", disabled=step == 0):
        st.session_state[step_key] = step - 1
        st.rerun()
    if nav[1].button(T("lesson_next"), key="lesson_next", disabled=step >= n - 1):
        st.session_state[step_key] = step + 1
        st.rerun()
    charts = i18n.section("charts")
    if lesson == "flow":
        l1 = api.population_summary(sc)["tiers"].set_index("tier").loc["L1"]
        s0 = float(l1["women_share"])
        q = (
            st.slider(
                T("women_share"),
                0,
                40,
                round(100 * sc.policy.appointment_share.women),
                1,
                format="%d%%",
                key="lesson_flow_q",
            )
            / 100
        )
        t = 0.14
        fig = flow_stock_figure(sc.start.year, s0, q, t, big=True)
        st.plotly_chart(presenter_fonts(fig), width="stretch")
        ten = float(stock_share(s0, q, t, np.array(10)))
        st.markdown(T("lesson_flow_numbers", s0=pct(s0), q=pct(q), ten=pct(ten)))
        return
    values = spec["values"]
    value = st.select_slider(
        T(spec["lever"]) if spec["lever"] != "max_hold" else T("max_hold"),
        values,
        value=values[1],
        key=f"lesson_{lesson}_value@{('vi', 'en')[k]}",
        format_func=bound_label(lambda v, kk: lesson_value_text(lesson, v, kk)),
    )
    targets = lesson_targets(sc, lesson)
    if not targets:
        st.info(T("lesson_no_targets"))
        return
    result = lesson_result(sc, lesson, value, seed)
    shown = {
        v: r
        for v in values
        if (r := st.session_state["lessons"].get((sc.digest(), lesson, str(v), seed))) is not None
    }
    fig = go.Figure()
    for t in targets:
        xs = [lesson_value_text(lesson, v, k) for v in shown]
        ps = [shown[v]["p_met"][t.id] for v in shown]
        cis = [shown[v].get("ci", {}).get(t.id, (p, p)) for v, p in zip(shown, ps, strict=True)]
        fig.add_trace(
            go.Bar(
                x=xs,
                y=ps,
                name=t.id,
                # The 95% interval of each P(met): a lesson's few replications leave it wide.
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [hi - p for p, (_lo, hi) in zip(ps, cis, strict=True)],
                    "arrayminus": [p - lo for p, (lo, _hi) in zip(ps, cis, strict=True)],
                },
            )
        )
    layout: dict[str, Any] = {
        "barmode": "group",
        "height": 460,
        "font": {"size": 20},
        "yaxis": {"title": charts["p_axis"][k], "tickformat": ".0%", "range": [0, 1.05]},
        "legend": {"orientation": "h"},
        "margin": {"t": 30, "b": 30},
    }
    if lesson == "reserve":
        fig.add_trace(
            go.Scatter(
                x=[lesson_value_text(lesson, v, k) for v in shown],
                y=[shown[v]["vacancy"] for v in shown],
                yaxis="y2",
                mode="lines+markers",
                line={"width": 5},
                name=COLUMNS["vacancy_months_l1"][k],
            )
        )
        layout["yaxis2"] = right_axis(charts["months_axis"][k])
    fig.update_layout(**layout)
    st.plotly_chart(presenter_fonts(fig), width="stretch")
    rows = [
        {
            T("target"): t.id,
            T("text"): t.text.vi if k == 0 else t.text.en,
            T("p_met"): pct(result["p_met"][t.id]),
            T("interval"): "{} – {}".format(*map(pct, result["ci"][t.id])),
            T("median"): pct(result["median"][t.id]),
        }
        for t in targets
    ]
    st.table(pd.DataFrame(rows).set_index(T("target")))
    st.caption(T("lesson_numbers", reps=LESSON_REPS, seed=seed, vacancy=f"{result['vacancy']:.0f}"))


try:
    main()
except Exception as exc:  # never a traceback on the page
    st.error(f"{T('error')}: {type(exc).__name__}: {exc}")
