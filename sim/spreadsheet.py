"""Result tables for spreadsheet users: headers in the reader's language, shares in percent,
rounded values, CSV with a byte-order mark, an Excel workbook with a sheet that explains it.

The words come from the catalogue (:mod:`sim.i18n`); the tables from
:meth:`sim.results.Summary.tables`. Empty tables are left out.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sim import __version__, i18n

#: Columns holding a share (a fraction in the tables), written in percent.
SHARE_COLUMNS = {
    "value",
    "upper",
    "threshold_median",
    "p_met",
    "ci_low",
    "ci_high",
    "p_upper_met",
    "upper_ci_low",
    "upper_ci_high",
    "metric_median",
    "metric_p5",
    "metric_p95",
    "empty_years_share",
    "complying_median",
    "complying_p5",
    "complying_p95",
    "p_all_met",
    "mean",
    "p5",
    "p25",
    "median",
    "p75",
    "p95",
    "threshold",
    "women_share",
    "young_share",
    "young_women_share",
    "stock_women_share",
    "stock_young_share",
    "women_share_mean",
    "young_share_mean",
    "new_share_mean",
    "rep_value",
    "pool_women_mean",
    "pool_young_mean",
    "pool_at_standard_mean",
    "pool_posts_covered_mean",
}
#: Columns that are counts or months (a replication's mean): rounded to one decimal.
NUMBER_PREFIXES = ("vacancy_months", "reserved_months", "exits_", "training_")
YEAR_COLUMNS = {"year", "by", "baseline_year", "congress"}


def _key(table: str, column: str) -> str:
    """The catalogue key of a column (a few names mean different things in two tables)."""
    if table == "replications" and column == "value":
        return "rep_value"
    if table == "pool" and column != "year":
        return f"pool_{column}"
    if table == "merger" and column == "mean":  # a count of people or posts, not a share
        return "merger_mean"
    return column


#: Names of training courses (id -> (vi, en)) for the training columns, set from a scenario
#: with :func:`course_names`.
CourseNames = dict[str, tuple[str, str]]


def course_names(scenario: Any) -> CourseNames:
    """The names of ``scenario``'s training courses, by id."""
    return {c.id: (c.name.vi, c.name.en) for c in scenario.policy.training.courses}


def header(table: str, column: str, lang: int, courses: CourseNames | None = None) -> str:
    """A column's header in language ``lang``, with "(%)" for a share."""
    names = i18n.section("columns")
    key = _key(table, column)
    if key in names:
        name = names[key][lang]
    elif column.startswith("training_"):
        course, _, what = column.removeprefix("training_").rpartition("_")
        course_name = (courses or {}).get(course, (course, course))[lang]
        done = i18n.section("values").get(f"training.{what}", (what, what))[lang]
        name = f"{names['training'][lang]} «{course_name}»: {done}"
    else:
        name = column
    return f"{name} (%)" if key in SHARE_COLUMNS else name


def unit_of(table: str, column: str, lang: int) -> str:
    text = i18n.section("text")
    key = _key(table, column)
    if key in SHARE_COLUMNS:
        return text["unit_percent"][lang]
    if column in YEAR_COLUMNS:
        return text["unit_year"][lang]
    if column.startswith(("vacancy_months", "reserved_months")):
        return text["unit_months"][lang]
    if column.startswith(NUMBER_PREFIXES) or key.endswith("_mean") or column in ("n", "rep"):
        return text["unit_count"][lang]
    return text["unit_text"][lang]


def _one_language(df: pd.DataFrame, lang: int) -> pd.DataFrame:
    """``df`` with the target texts of language ``lang`` only, in a column ``text``."""
    drop = "text_en" if lang == 0 else "text_vi"
    if drop not in df.columns:
        return df.copy()
    return df.drop(columns=[drop]).rename(columns={"text_vi" if lang == 0 else "text_en": "text"})


#: Columns whose values are codes, named in the reader's language (catalogue "values").
CODED = (
    "kind",
    "status",
    "baseline_reading",
    "empty_year_rule",
    "complying_of",
    "op",
    "tier",
    "item",
)


def value_name(column: str, value: Any, lang: int) -> Any:
    """A coded value in language ``lang`` ("not modelled: why" keeps its reason)."""
    if not isinstance(value, str):
        return value
    values = i18n.section("values")
    head, sep, rest = value.partition(": ")
    key = f"{column}.{head if sep else value}"
    if key not in values:
        return value
    name = values[key][lang]
    return f"{name}: {rest}" if sep else name


def sheet_name(table: str, lang: int) -> str:
    """The sheet of ``table`` in the workbook (at most 31 characters, as Excel allows)."""
    return i18n.section("values").get(f"sheet.{table}", (table, table))[lang][:31]


def readable(
    table: str, df: pd.DataFrame, lang: int, courses: CourseNames | None = None
) -> pd.DataFrame:
    """``df`` for a reader: shares in percent (one decimal), means to one decimal, the target
    texts of the reader's language only, coded values and booleans named, headers
    translated."""
    out = _one_language(df, lang)
    text = i18n.section("text")
    if table == "merger" and lang == 0 and {"item", "meaning"} <= set(out.columns):
        # What each count of the merger date means, in Vietnamese where the catalogue has it.
        values = i18n.section("values")
        out["meaning"] = [
            values[f"meaning.{i}"][0] if f"meaning.{i}" in values else m
            for i, m in zip(out["item"], out["meaning"], strict=True)
        ]
    for col in CODED:
        if col in out.columns:
            out[col] = out[col].map(lambda v, c=col: value_name(c, v, lang))
    for col in out.columns:
        key = _key(table, col)
        series = out[col]
        if key in SHARE_COLUMNS and pd.api.types.is_numeric_dtype(series):
            out[col] = (100 * series.astype(float)).round(1)
        elif pd.api.types.is_bool_dtype(series):
            out[col] = series.map({True: text["yes"][lang], False: text["no"][lang]})
        elif pd.api.types.is_float_dtype(series) and col not in YEAR_COLUMNS:
            out[col] = series.round(1)
        elif col in YEAR_COLUMNS and pd.api.types.is_float_dtype(series):
            out[col] = series.map(lambda v: "" if math.isnan(v) else int(v))
    return out.rename(columns={c: header(table, c, lang, courses) for c in out.columns})


def kept_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables that have rows (an empty table is not written)."""
    return {name: df for name, df in tables.items() if len(df) and len(df.columns)}


def csv_zip(
    tables: Mapping[str, pd.DataFrame], lang: int, courses: CourseNames | None = None
) -> bytes:
    """Every non-empty table as a CSV file (UTF-8 with a byte-order mark, so that Excel reads
    the Vietnamese letters), zipped."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, df in kept_tables(tables).items():
            data = readable(name, df, lang, courses).to_csv(index=False)
            z.writestr(f"{name}.csv", "\ufeff" + data)
    return buf.getvalue()


def workbook(
    tables: Mapping[str, pd.DataFrame],
    lang: int,
    about: Mapping[str, Any],
    courses: CourseNames | None = None,
) -> bytes:
    """An Excel workbook: first a sheet that records ``about`` (scenario, settings, seed,
    replications, version) and explains every sheet and column, then one sheet a table."""
    text = i18n.section("text")
    kept = kept_tables(tables)
    rows: list[list[Any]] = [[text["about_title"][lang], ""], ["", ""]]
    for key, value in about.items():
        rows.append([text[f"about_{key}"][lang], value])
    rows.append([text["about_version"][lang], __version__])
    rows += [["", ""], [text["about_percent"][lang], ""], ["", ""]]
    explain: list[list[Any]] = []
    for name, df in kept.items():
        meaning = text.get(f"sheet_{name}", (name, name))[lang]
        explain.append([sheet_name(name, lang), "", meaning, ""])
        for col in _one_language(df, lang).columns:
            explain.append(
                [
                    sheet_name(name, lang),
                    header(name, col, lang, courses),
                    "",
                    unit_of(name, col, lang),
                ]
            )
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        sheet = text["sheet_about"][lang][:31]
        pd.DataFrame(rows).to_excel(xl, sheet_name=sheet, index=False, header=False)
        keys = ("about_sheet", "about_column", "about_meaning", "about_unit")
        cols = [text[k][lang] for k in keys]
        pd.DataFrame(explain, columns=cols).to_excel(
            xl, sheet_name=sheet, index=False, startrow=len(rows) + 1
        )
        ws = xl.sheets[sheet]
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["B"].width = 40
        ws.column_dimensions["C"].width = 70
        for name, df in kept.items():
            shown = readable(name, df, lang, courses)
            shown.to_excel(xl, sheet_name=sheet_name(name, lang), index=False)
            ws = xl.sheets[sheet_name(name, lang)]
            ws.freeze_panes = "A2"
            for k, col in enumerate(shown.columns):
                width = min(60, max(10, len(str(col)) + 2))
                ws.column_dimensions[ws.cell(row=1, column=k + 1).column_letter].width = width
    return buf.getvalue()
