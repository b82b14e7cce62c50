"""Standalone SVG charts, written with the standard library only (no plotting package).

:func:`sensitivity_svg` draws the ranked table of :func:`sim.sensitivity.analyse` as a
horizontal bar chart: one row a parameter, the most influential at the top.

- Sobol: paired bars of the first-order index S1 and the total index ST, each with the
  whisker of its confidence interval (estimate +/- conf).
- Morris: a bar of mu* (the mean absolute elementary effect) with its whisker, and sigma (the
  spread of the elementary effects) as a diamond on the same axis.

Bars start at 0 and are clipped there (a Sobol estimate can come out slightly negative: its
bar has no length and its value is printed), but whiskers are drawn over their whole interval,
so the axis extends below 0 when an interval does. A missing (NaN) value draws no bar and is
labelled "n/a". Every element that carries a number has ``data-*`` attributes with the value
it shows, so that a test (or a reader of the file) can check the drawing against the table.
"""

from __future__ import annotations

import math
import re
import textwrap
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

# Columns of each method's table: (value, its confidence half-width or None, legend label).
_SERIES: dict[str, tuple[tuple[str, str | None, str], ...]] = {
    "sobol": (("S1", "S1_conf", "S1 (first order)"), ("ST", "ST_conf", "ST (total)")),
    "morris": (("mu_star", "mu_star_conf", "mu* (mean |effect|)"),),
    "fast": (("S1", "S1_conf", "S1 (first order)"), ("ST", "ST_conf", "ST (total)")),
    "delta": (
        ("S1", "S1_conf", "S1 (first order)"),
        ("delta", "delta_conf", "delta"),
    ),
    "pawn": (("mean", None, "mean KS"), ("median", None, "median KS")),
}
_RANK_BY = {"sobol": "ST", "morris": "mu_star", "fast": "ST", "delta": "delta", "pawn": "median"}
_AXIS_LABEL = {
    "sobol": "Sobol index (share of the output variance)",
    "morris": "Morris mu* and sigma (output units)",
    "fast": "FAST index (share of the output variance)",
    "delta": "delta and S1 (0-1)",
    "pawn": "PAWN: KS statistic between conditional and unconditional outputs (0-1)",
}
_COLOURS = {
    "S1": "#9ecae1",
    "ST": "#2171b5",
    "mu_star": "#2171b5",
    "sigma": "#d94801",
    "delta": "#2171b5",
    "mean": "#9ecae1",
    "median": "#2171b5",
}
_FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
_CHAR_W = 6.6  # average width of a character at 12 px (sans-serif), for the left margin
_MAX_LABEL = 50  # characters of a parameter name shown before it is shortened
_PLOT_W = 420  # width of the plotting area (the left margin is added to the chart's width)
_ROW_H = {"sobol": 34, "morris": 24, "fast": 34, "delta": 34, "pawn": 34}
# Characters XML 1.0 does not allow, even escaped.
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(s: object) -> str:
    """Text content, escaped for XML."""
    return escape(_BAD_XML.sub("?", str(s)))


def _attr(s: object) -> str:
    """An attribute value, escaped for XML (double quotes)."""
    return escape(_BAD_XML.sub("?", str(s)), {'"': "&quot;"})


def _num(x: object) -> float:
    """A finite float, or NaN."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def _fmt(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.3g}" if abs(x) >= 0.001 or x == 0 else f"{x:.1e}"


def shorten(name: str, limit: int = _MAX_LABEL) -> str:
    """A parameter path short enough for the margin: the dotted path's last parts are kept
    (they are the specific ones) and the rest becomes an ellipsis."""
    if len(name) <= limit:
        return name
    parts = name.split(".")
    kept = parts[-1]
    for part in reversed(parts[:-1]):
        if len(part) + 1 + len(kept) + 2 > limit:
            break
        kept = f"{part}.{kept}"
    if len(kept) + 2 > limit:  # one long last part: keep its end
        return "\u2026" + kept[-(limit - 1) :]
    return "\u2026." + kept


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2, 2.5 or 5 times a power of 10)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        high = low + 1.0
    raw = (high - low) / max(target, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    n = round((last - first) / step)
    return [round(first + k * step, 12) for k in range(n + 1)]


def _ranked(indices: pd.DataFrame, method: str) -> pd.DataFrame:
    """The table in ranking order (most influential first; NaN last), stable for ties."""
    key = indices[_RANK_BY[method]].map(_num)
    order = np.argsort(-key.fillna(-np.inf).to_numpy(), kind="stable")
    return indices.iloc[order].reset_index(drop=True)


def sensitivity_svg(indices: pd.DataFrame, method: str, title: str) -> str:
    """A standalone SVG bar chart of sensitivity indices, most influential parameter on top.

    ``indices`` is :attr:`sim.sensitivity.Sensitivity.indices`: for ``method="sobol"`` (and
    ``"fast"``) the columns parameter, S1, S1_conf, ST, ST_conf; for ``"morris"`` parameter,
    mu_star, mu_star_conf, sigma; for ``"delta"`` parameter, delta, delta_conf, S1, S1_conf;
    for ``"pawn"`` parameter and the mean and median KS statistics. Rows are drawn in ranking
    order (by the method's main index, descending).

    Raises:
        ValueError: for an unknown method or a table without the method's columns.
    """
    if method not in _SERIES:
        raise ValueError(f"method {method!r}: one of {', '.join(_SERIES)}")
    needed = ["parameter"] + [c for v, conf, _ in _SERIES[method] for c in (v, conf) if c]
    if method == "morris":
        needed.append("sigma")
    missing = [c for c in needed if c not in indices.columns]
    if missing:
        raise ValueError(f"the {method} table has no column {', '.join(missing)}")
    table = _ranked(indices, method)
    series = _SERIES[method]
    names = [str(p) for p in table["parameter"]]
    labels = [shorten(n) for n in names]

    # Horizontal scale: every bar, whisker and marker fits; 0 is always on the axis.
    values: list[float] = []
    for v, conf, _ in series:
        xs = table[v].map(_num).tolist()
        cs = table[conf].map(_num).tolist() if conf else [math.nan] * len(xs)
        for x, c in zip(xs, cs, strict=True):
            values.append(x)
            if not math.isnan(c):
                values += [x - abs(c), x + abs(c)]
    if method == "morris":
        values += table["sigma"].map(_num).tolist()
    finite = [x for x in values if not math.isnan(x)]
    lo = min([0.0, *finite])
    hi = max([0.0, *finite])
    if hi <= lo:  # nothing but zeros and NaN: show [0, 1]
        hi = lo + 1.0
    ticks = nice_ticks(lo, hi)
    x_min, x_max = ticks[0], ticks[-1]

    left = 16 + _CHAR_W * max([len(s) for s in labels] + [10])
    width = round(left + _PLOT_W + 70)
    title_lines = textwrap.wrap(_BAD_XML.sub("?", title), max(20, int((width - 24) / 8.6))) or [""]
    top = 30 + 19 * len(title_lines)
    row_h = _ROW_H[method]
    plot_h = max(1, len(table)) * row_h
    legend_h = 28
    axis_h = 44
    height = round(top + plot_h + axis_h + legend_h)
    scale = _PLOT_W / (x_max - x_min)

    def px(x: float) -> float:
        return round(left + (x - x_min) * scale, 2)

    zero = px(0.0)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{_attr(_FONT)}" '
        f'font-size="12" data-method="{method}" data-scale="{scale:.6g}" '
        f'data-zero="{zero}">',
        f"<title>{_text(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for k, line in enumerate(title_lines):
        out.append(
            f'<text class="title" x="12" y="{24 + 19 * k}" font-size="15" font-weight="bold">'
            f"{_text(line)}</text>"
        )
    # Grid and ticks.
    bottom = top + plot_h
    out.append('<g class="axis" stroke="#d9d9d9" stroke-width="1">')
    for t in ticks:
        out.append(f'<line x1="{px(t)}" y1="{top}" x2="{px(t)}" y2="{bottom}"/>')
    out.append("</g>")
    out.append(
        f'<line class="baseline" x1="{zero}" y1="{top - 4}" x2="{zero}" y2="{bottom}" '
        'stroke="#525252" stroke-width="1"/>'
    )
    out.append(
        f'<line x1="{left}" y1="{bottom}" x2="{left + _PLOT_W}" y2="{bottom}" stroke="#525252"/>'
    )
    out.append('<g class="ticks" text-anchor="middle" fill="#525252">')
    for t in ticks:
        out.append(
            f'<line x1="{px(t)}" y1="{bottom}" x2="{px(t)}" y2="{bottom + 4}" stroke="#525252"/>'
        )
        out.append(f'<text class="tick" x="{px(t)}" y="{bottom + 17}">{_fmt(t)}</text>')
    out.append("</g>")
    out.append(
        f'<text x="{left + _PLOT_W / 2}" y="{bottom + 35}" text-anchor="middle" '
        f'fill="#252525">{_text(_AXIS_LABEL[method])}</text>'
    )

    # Rows.
    n_series = len(series)
    bar_h = (row_h - 10) / n_series
    for i, (name, label) in enumerate(zip(names, labels, strict=True)):
        y0 = top + i * row_h + 5
        out.append(f'<g class="row" data-parameter="{_attr(name)}" data-rank="{i + 1}">')
        out.append(f"<title>{_text(name)}</title>")
        out.append(
            f'<text class="label" x="{left - 8}" y="{round(y0 + (row_h - 10) / 2 + 4, 2)}" '
            f'text-anchor="end" fill="#252525">{_text(label)}</text>'
        )
        for j, (v, conf, _) in enumerate(series):
            x = _num(table[v].iloc[i])
            c = _num(table[conf].iloc[i]) if conf else math.nan
            y = round(y0 + j * bar_h, 2)
            mid = round(y + bar_h / 2, 2)
            colour = _COLOURS[v]
            if math.isnan(x):
                out.append(
                    f'<text class="value missing" data-series="{v}" x="{zero + 4}" '
                    f'y="{mid + 4}" fill="#737373" font-size="10">n/a</text>'
                )
                continue
            length = round(max(x, 0.0) * scale, 2)
            out.append(
                f'<rect class="bar" data-series="{v}" data-value="{x!r}" x="{zero}" '
                f'y="{y + 1}" width="{length}" height="{round(bar_h - 2, 2)}" '
                f'fill="{colour}"><title>{_text(name)}: {v} = {_fmt(x)}</title></rect>'
            )
            if x < 0:  # the bar is clipped at 0: mark the estimate itself
                out.append(
                    f'<line class="estimate" data-series="{v}" x1="{px(x)}" y1="{y + 1}" '
                    f'x2="{px(x)}" y2="{round(y + bar_h - 1, 2)}" stroke="{colour}" '
                    'stroke-width="2"/>'
                )
            end = max(px(x), zero)
            if not math.isnan(c):
                a, b = px(x - abs(c)), px(x + abs(c))
                out.append(
                    f'<g class="whisker" data-series="{v}" data-low="{x - abs(c)!r}" '
                    f'data-high="{x + abs(c)!r}" stroke="#252525" stroke-width="1">'
                    f'<line x1="{a}" y1="{mid}" x2="{b}" y2="{mid}"/>'
                    f'<line x1="{a}" y1="{mid - 3}" x2="{a}" y2="{mid + 3}"/>'
                    f'<line x1="{b}" y1="{mid - 3}" x2="{b}" y2="{mid + 3}"/></g>'
                )
                end = max(end, b)
            out.append(
                f'<text class="value" data-series="{v}" x="{round(end + 4, 2)}" '
                f'y="{round(mid + 4, 2)}" fill="#525252" font-size="10">{_fmt(x)}</text>'
            )
        if method == "morris":
            s = _num(table["sigma"].iloc[i])
            mid = round(y0 + bar_h / 2, 2)
            if not math.isnan(s):
                cx = px(s)
                out.append(
                    f'<path class="marker" data-series="sigma" data-value="{s!r}" '
                    f'd="M {cx} {mid - 5} L {cx + 5} {mid} L {cx} {mid + 5} L {cx - 5} {mid} Z" '
                    f'fill="{_COLOURS["sigma"]}" stroke="#ffffff" stroke-width="1">'
                    f"<title>{_text(name)}: sigma = {_fmt(s)}</title></path>"
                )
        out.append("</g>")
    if table.empty:
        out.append(
            f'<text x="{left}" y="{top + 16}" fill="#737373">no parameter in the table</text>'
        )

    # Legend.
    ly = height - legend_h + 10
    lx = float(left)
    out.append('<g class="legend" fill="#252525">')
    for v, _conf, text in series:
        out.append(
            f'<rect x="{lx}" y="{ly - 9}" width="14" height="10" fill="{_COLOURS[v]}"/>'
            f'<text x="{lx + 19}" y="{ly}">{_text(text)}</text>'
        )
        lx += 28 + _CHAR_W * len(text)
    if method == "morris":
        out.append(
            f'<path d="M {lx + 6} {ly - 10} L {lx + 11} {ly - 5} L {lx + 6} {ly} L {lx + 1} '
            f'{ly - 5} Z" fill="{_COLOURS["sigma"]}"/><text x="{lx + 17}" y="{ly}">sigma</text>'
        )
        lx += 28 + _CHAR_W * 5
    out.append(
        f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 16}" y2="{ly - 4}" stroke="#252525"/>'
        f'<line x1="{lx}" y1="{ly - 7}" x2="{lx}" y2="{ly - 1}" stroke="#252525"/>'
        f'<line x1="{lx + 16}" y1="{ly - 7}" x2="{lx + 16}" y2="{ly - 1}" stroke="#252525"/>'
        f'<text x="{lx + 21}" y="{ly}">95% confidence interval</text>'
    )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
