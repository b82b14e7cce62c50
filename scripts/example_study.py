"""Run the example study and write docs/STUDY.md (and its charts under docs/img/).

    .venv/bin/python scripts/example_study.py [--reps R] [--n N] [--workers W] [--seed S]
                                              [--quick] [--out docs/STUDY.md]
                                              [--provinces NAME ...]

Two questions, answered with fresh runs (every figure in the page comes from this run):

(a) Which levers most affect Hà Giang's 2030 target for women? Of HG-W1-30 and HG-W2-30,
    the one whose P(met) under the bundled policy is furthest from 0 and 1; Sobol indices
    (sim.sensitivity.analyse) of its P(met) over four levers, with the ranked chart of
    sim.charts.sensitivity_svg.
(b) Which yearly appointment share does each province need for an 80% chance of each of its
    women and young targets (stock and committee targets), as bundled and with the 2025
    restructuring (variant restructuring_2025)? sim.api.required_share (sim.api.solve on the
    women's share for women targets and the young share for young targets; where the top of
    the range falls short, solve itself scans shares below it before it calls a target out
    of reach).

The default (--reps 40 --n 16 --workers 2 --seed 2021) took 38 CPU-minutes on this project's
2-core machine: 21 minutes of wall clock with the two cores mostly free, 30 when shared.

Progress goes to stderr. ``--quick`` runs tiny sizes (a smoke test, figures meaningless).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import inspect
import math
import os
import resource
import shlex
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from sim import __version__, api  # noqa: E402
from sim.charts import sensitivity_svg  # noqa: E402
from sim.scenario import Scenario, bundled_scenarios_dir, load_scenario  # noqa: E402
from sim.sweep import DesignError, Param  # noqa: E402

LEVEL = 0.8  # the chance asked for in question (b)
HIGH = 0.6  # the top of the share range searched in question (b)
# How many evenly spaced shares from 0 up sim.api.solve tries when HIGH falls short
# (required_share uses solve's default).
SCAN: int = inspect.signature(api.solve).parameters["scan"].default
RESTRUCTURING = "restructuring_2025"
SETTING = {"bundled": "as bundled", RESTRUCTURING: RESTRUCTURING}
SHARE = "policy.appointment_share"
SOBOL_SCENARIO = "ha_giang"
# Hà Giang's women targets for 2030; question (a) is asked of the one whose P(met) under the
# bundled policy is furthest from 0 and 1 (a target met always or never has little to rank).
SOBOL_CANDIDATES = ("HG-W1-30", "HG-W2-30")
# The levers of question (a): (dotted path, low, high, what it is).
SOBOL_LEVERS: tuple[tuple[str, float, float, str], ...] = (
    (f"{SHARE}.women", 0.0, 0.5, "yearly share of L1 and L2 appointments that go to women"),
    (
        "policy.vacancy_reservation.max_hold_months",
        0.0,
        24.0,
        "months a vacant post may be held for a woman (or under-40) candidate",
    ),
    (
        "policy.evaluation_bias",
        -0.5,
        0.5,
        "penalty on women's evaluation scores, in SD units (negative favours women)",
    ),
    (
        "policy.removal_multiplier",
        0.0,
        3.0,
        "strength of the drive to remove weak cadres early (1 = current practice)",
    ),
)
# The base of question (a): the bundled Hà Giang scenario with the shares switched on (their
# bundled reading is "none", under which the share lever does nothing), the young share at 0
# and vacancy reservation on (so that its holding time is a lever).
SOBOL_BASE = {
    f"{SHARE}.reading": "expected",
    f"{SHARE}.young": 0.0,
    "policy.vacancy_reservation.enabled": True,
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Sizes:
    reps: int
    n: int
    workers: int
    seed: int
    tolerance: float


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Sizes]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=None, help="replications a setting (default 60)")
    p.add_argument("--n", type=int, default=None, help="Sobol base samples N (default 32)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--seed", type=int, default=2021, help="master seed (default 2021)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test only")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "STUDY.md", help="the page")
    p.add_argument(
        "--provinces",
        nargs="+",
        default=None,
        metavar="NAME",
        help="bundled scenarios of question (b) (default: all; with --quick: cao_bang "
        "quang_binh, the two fastest)",
    )
    args = p.parse_args(argv)
    reps = args.reps if args.reps is not None else (4 if args.quick else 40)
    n = args.n if args.n is not None else (2 if args.quick else 16)
    if reps < 2 or n < 2 or args.workers < 1:
        p.error("--reps and --n must be at least 2, --workers at least 1")
    tolerance = 0.3 if args.quick else 0.02
    if args.provinces is None:
        args.provinces = ["cao_bang", "quang_binh"] if args.quick else []
    known = sorted(p.stem for p in bundled_scenarios_dir().glob("*.yaml"))
    unknown = [x for x in args.provinces if x not in known]
    if unknown:
        p.error(f"no bundled scenario {', '.join(unknown)} (known: {', '.join(known)})")
    return args, Sizes(reps, n, args.workers, args.seed, tolerance)


# ------------------------------------------------------------------------------ helpers


def pct(x: float | None, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.{digits}f}%"


def interval(ci: tuple[float, float]) -> str:
    return f"[{pct(ci[0])}, {pct(ci[1])}]"


def province_name(sc: Scenario) -> str:
    return sc.name.en.split(":")[0].strip()


def goal(t: Any) -> str:
    """A target's goal in words: '>= 20%', '>= 2021 +10 pp', '10% to 15%'."""
    upper = getattr(t, "upper", None)
    base = getattr(t, "baseline", None)
    if base is not None:
        if base.reading == "points":
            text = f"{t.op} {base.year} value {100 * t.value:+.0f} pp"
        else:
            text = f"{t.op} {base.year} value x {1 + t.value:.2f}"
        return text
    if upper is not None:
        return f"{100 * t.value:.0f}% to {100 * upper:.0f}%"
    return f"{t.op} {100 * t.value:.0f}%"


def cpu_seconds() -> float:
    """CPU time of this process and its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def write_atomic(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)


class StudyCache:
    """Memoises :func:`sim.api.run_study` while installed: the searches of several targets of one
    scenario try many of the same values (0, the top of the range, the same bisection midpoints)
    and a replication is a pure function of (scenario, seed, replication), so a repeat is
    answered from the first run. Results are exactly those of a fresh run."""

    def __init__(self) -> None:
        self.studies: dict[tuple[str, int, int], api.Study] = {}
        self.hits = 0
        self.runs = 0
        self.replications = 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[StudyCache]:
        original = api.run_study

        def cached(scenario: Scenario, seed: int, reps: int, workers: int = 1, **kw: Any) -> Any:
            # A roster changes the results; a stop check or a caller's collector can cut a
            # study short: those run as asked. A runner or a progress callback changes neither.
            if any(kw.get(x) is not None for x in ("roster", "stop", "into")):
                return original(scenario, seed, reps, workers, **kw)
            key = (scenario.model_dump_json(), seed, reps)
            if key in self.studies:
                self.hits += 1
                return self.studies[key]
            study = original(scenario, seed, reps, workers, **kw)
            self.studies[key] = study
            self.runs += 1
            self.replications += reps
            return study

        api.run_study = cached  # type: ignore[assignment]
        try:
            yield self
        finally:
            api.run_study = original  # type: ignore[assignment]


# ------------------------------------------------------------------------------ question (a)


@dataclass
class SobolResult:
    target: str
    bundled: dict[str, tuple[float, tuple[float, float]]]  # candidate -> (P(met), CI)
    indices: Any  # pandas.DataFrame
    samples: Any
    seconds: float
    chart: Path | None
    error: str | None = None


def question_a(sizes: Sizes, img_dir: Path) -> SobolResult:
    from sim.results import proportion_interval
    from sim.sensitivity import analyse

    sc = load_scenario(bundled_scenarios_dir() / f"{SOBOL_SCENARIO}.yaml")
    ids = [t.id for t in sc.targets]
    log(f"(a) P(met) of {', '.join(SOBOL_CANDIDATES)} as bundled")
    study = api.run_study(sc, sizes.seed, sizes.reps, sizes.workers)
    bundled = {}
    for tid in SOBOL_CANDIDATES:
        met = study.collector.arrays["target_met"][study.collector.done, ids.index(tid)]
        bundled[tid] = (float(met.mean()), proportion_interval(int(met.sum()), len(met)))
    score = {t: bundled[t][0] * (1 - bundled[t][0]) for t in SOBOL_CANDIDATES}
    target = max(reversed(SOBOL_CANDIDATES), key=score.__getitem__)  # a tie: the later one
    base = sc.with_overrides(SOBOL_BASE)
    params = [Param(path, low=lo, high=hi) for path, lo, hi, _ in SOBOL_LEVERS]
    total = sizes.n * (len(params) + 2)
    log(f"(a) Sobol on P({target} met): {total} points x {sizes.reps} replications")
    t0 = time.perf_counter()
    last = [t0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 30 or done == total:
            last[0] = now
            left = (now - t0) / done * (total - done)
            log(f"(a) {done}/{total} points, about {left / 60:.1f} min left")

    try:
        result = analyse(
            base,
            params,
            target,
            "sobol",
            n=sizes.n,
            reps=sizes.reps,
            seed=sizes.seed,
            workers=sizes.workers,
            progress=progress,
        )
    except DesignError as exc:
        seconds = time.perf_counter() - t0
        return SobolResult(target, bundled, None, None, seconds, None, str(exc))
    seconds = time.perf_counter() - t0
    chart = img_dir / f"study_sobol_{SOBOL_SCENARIO}.svg"
    title = (
        f"Hà Giang: Sobol indices of P({target} met), {len(result.samples)} points x "
        f"{sizes.reps} replications, seed {sizes.seed}"
    )
    write_atomic(chart, sensitivity_svg(result.indices, "sobol", title))
    log(f"(a) done in {seconds / 60:.1f} min; chart {chart}")
    return SobolResult(target, bundled, result.indices, result.samples, seconds, chart)


# ------------------------------------------------------------------------------ question (b)


@dataclass
class Row:
    province: str
    scenario: str
    target: Any
    group: str
    bundled_share: float
    bundled_reading: str
    p_bundled: dict[str, tuple[float, tuple[float, float]]]  # variant -> (P, CI)
    solutions: dict[str, api.Solution]  # variant -> solution

    def tried(self, label: str) -> dict[float, float]:
        """Every share the search tried for this target and setting, and P(met) there."""
        return dict(sorted((round(v, 6), p) for v, p in self.solutions[label].steps))


def share_targets(sc: Scenario) -> list[tuple[Any, str]]:
    """The stock and committee targets of women or young (group is a plain string)."""
    out = []
    for t in sc.targets:
        if getattr(t, "kind", None) in ("stock", "committee") and t.group in ("women", "young"):
            out.append((t, str(t.group)))
    return out


def question_b(
    sizes: Sizes, provinces: list[str]
) -> tuple[list[Row], dict[str, tuple[str, ...]], StudyCache, float]:
    from sim.results import proportion_interval

    t0 = time.perf_counter()
    cache = StudyCache()
    rows: list[Row] = []
    # "scenario/group" -> the settings required_share changed so that the share acts.
    changed: dict[str, tuple[str, ...]] = {}
    paths = sorted(bundled_scenarios_dir().glob("*.yaml"))
    if provinces:
        paths = [p for p in paths if p.stem in provinces]
    jobs = []
    for path in paths:
        sc = load_scenario(path)
        for t, group in share_targets(sc):
            jobs.append((path.stem, sc, t, group))
    log(f"(b) {len(jobs)} targets x 2 settings, {sizes.reps} replications a value")
    with cache.installed():
        by_scenario: dict[str, dict[str, Any]] = {}
        for done, (name, sc, t, group) in enumerate(jobs, start=1):
            variants = {"bundled": sc, RESTRUCTURING: sc.variant(RESTRUCTURING)}
            if name not in by_scenario:  # P(met) of every target under the bundled policy
                by_scenario[name] = {}
                for label, v in variants.items():
                    st = api.run_study(v, sizes.seed, sizes.reps, sizes.workers)
                    by_scenario[name][label] = st.collector.arrays["target_met"][st.collector.done]
            ids = [x.id for x in sc.targets]
            k = ids.index(t.id)
            p_bundled = {}
            for label in variants:
                met = by_scenario[name][label][:, k]
                p_bundled[label] = (
                    float(met.mean()),
                    proportion_interval(int(met.sum()), len(met)),
                )
            solutions = {}
            for label, v in variants.items():
                # Where the reading is "none" the share does nothing: required_share then
                # searches under the reading "expected" with the other group's share at 0
                # (a share of 0 is the bundled policy) and lists that in ``assumed``.
                solutions[label] = api.required_share(
                    v,
                    t.id,
                    group,
                    level=LEVEL,
                    seed=sizes.seed,
                    reps=sizes.reps,
                    low=0.0,
                    high=HIGH,
                    tolerance=sizes.tolerance,
                    workers=sizes.workers,
                )
                key = f"{name}/{group}"
                changed[key] = tuple(dict.fromkeys(changed.get(key, ()) + solutions[label].assumed))
            share = getattr(sc.policy.appointment_share, group)
            reading = sc.policy.appointment_share.reading.value
            row = Row(province_name(sc), name, t, group, share, reading, p_bundled, solutions)
            rows.append(row)
            elapsed = time.perf_counter() - t0
            log(
                f"(b) {done}/{len(jobs)} {t.id}: "
                + "; ".join(f"{lab} {describe(row.solutions[lab])}" for lab in variants)
                + f" ({elapsed / 60:.1f} min, {cache.runs} runs, {cache.hits} repeats)"
            )
    return rows, changed, cache, time.perf_counter() - t0


def describe(s: api.Solution) -> str:
    if s.value is None:
        return f"not reachable (P {pct(s.p_at_value)} at {s.bracket[0]:.2f})"
    return f"{s.value:.3f} (P {pct(s.p_at_value)})"


# ------------------------------------------------------------------------------ the page


def sobol_section(a: SobolResult, sizes: Sizes, page_dir: Path) -> list[str]:
    target = a.target
    as_bundled = "; ".join(f"{tid} {pct(p)} {interval(ci)}" for tid, (p, ci) in a.bundled.items())
    lines = [
        "## (a) Which levers most affect Hà Giang's 2030 target for women?",
        "",
        "Hà Giang has two women targets for 2030: HG-W1-30 (women at least 20% of group 1 "
        "leaders, L1) and HG-W2-30 (the women's share of group 2 leaders, L2, 10 points above "
        "its simulated 2021 value). Under the bundled policy P(met) is: "
        f"{as_bundled} ({sizes.reps} replications, 95% Wilson intervals). The question is "
        "asked of the one whose P(met) is furthest from 0 and 1 (on a tie, the later one), "
        f"**{target}**: a target met in nearly every replication (or in none) leaves little "
        "variance to attribute.",
        "",
        f"The output is P({target} met), estimated at each sample point from the same "
        f"{sizes.reps} replications of seed {sizes.seed} (common random numbers). The base is the "
        "bundled scenario with these changes, so that every lever below has an effect: "
        + ", ".join(f"`{k}: {str(v).lower()}`" for k, v in SOBOL_BASE.items())
        + " (the bundled reading `none` switches the shares off; vacancy reservation is off as "
        "bundled). Each lever varies uniformly over its range:",
        "",
        "| lever | range | what it is |",
        "|---|---|---|",
    ]
    for path, lo, hi, what in SOBOL_LEVERS:
        lines.append(f"| `{path}` | {lo:g} to {hi:g} | {what} |")
    lines.append("")
    if a.error is not None:
        lines += [f"No indices: {a.error}.", ""]
        return lines
    idx = a.indices
    samples = a.samples
    y = samples["output"].to_numpy()
    lines += [
        f"Sobol design: N = {sizes.n} base samples, N x (D + 2) = {len(samples)} points "
        f"(D = {len(SOBOL_LEVERS)} levers), {len(samples) * sizes.reps} replications, "
        f"{a.seconds / 60:.1f} min. Over the points P(met) ranged from {pct(y.min())} to "
        f"{pct(y.max())} (mean {pct(y.mean())}, standard deviation {100 * y.std():.1f} points).",
        "",
        "| rank | lever | S1 | 95% interval | ST | 95% interval | rank correlation with P(met) |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(idx.itertuples(index=False), start=1):
        rho = stats.spearmanr(samples[r.parameter], y).statistic
        lines.append(
            f"| {i} | `{r.parameter}` | {r.S1:.2f} | [{r.S1 - r.S1_conf:.2f}, "
            f"{r.S1 + r.S1_conf:.2f}] | {r.ST:.2f} | [{r.ST - r.ST_conf:.2f}, "
            f"{r.ST + r.ST_conf:.2f}] | {rho:+.2f} |"
        )
    above = [r.parameter for r in idx.itertuples(index=False) if r.S1 > r.ST]
    lines += [
        "",
        f"The S1 add up to {idx['S1'].sum():.2f} and the ST to {idx['ST'].sum():.2f}."
        + (
            " For "
            + ", ".join(f"`{x}`" for x in above)
            + " the S1 estimate exceeds the ST estimate, which the true indices cannot do "
            f"(S1 <= ST): at N = {sizes.n} the estimates carry errors as large as their "
            "intervals show."
            if above
            else ""
        ),
    ]
    rel = os.path.relpath(a.chart, page_dir) if a.chart else ""
    lines += [
        "",
        f"![Sobol indices of P({target} met), ranked]({rel})",
        "",
        "How to read this:",
        "",
        "- **S1** (first-order index) is the share of the variance of P(met) over the ranges "
        "above that the lever explains on its own: the expected reduction of that variance if "
        "the lever were fixed. **ST** (total index) adds every interaction the lever takes part "
        "in: the share of the variance left if all the other levers were fixed. ST - S1 is the "
        "part due to interactions. The S1 add up to at most 1; the ST to at least 1 when there "
        "are interactions.",
        "- A lever with ST near 0 can be set anywhere in its range without changing P(met); the "
        "levers are ranked by ST.",
        "- The intervals are SALib's bootstrap 95% confidence intervals (estimate +/- conf) of "
        "the indices for this design size. They are wide at small N; an estimate slightly "
        "below 0 is 0 within that noise (the chart clips such bars at 0 and keeps the whole "
        "interval).",
        "- P(met) at each point is itself an estimate from a finite number of replications. "
        "That noise is variance no lever explains: it lowers the S1 and appears in the ST as "
        "if it were an interaction.",
        "- The indices say how much, not in which direction. The last column is the Spearman "
        "rank correlation between the lever and P(met) over the sample points: its sign gives "
        "the direction of a monotone effect; a strong lever with a correlation near 0 acts "
        "non-monotonically or through interactions.",
        "- The indices hold for these ranges and this base: other ranges give other indices.",
        "",
    ]
    return lines


def number_word(n: int) -> str:
    words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    return words[n] if 0 <= n < len(words) else str(n)


def solve_section(
    rows: list[Row],
    changed: dict[str, tuple[str, ...]],
    cache: StudyCache,
    seconds: float,
    sizes: Sizes,
) -> list[str]:
    scanned = ", ".join(f"{HIGH * j / SCAN:g}" for j in range(SCAN))
    lines = [
        "## (b) The appointment share each province needs for an 80% chance",
        "",
        "For each women or young target of the stock or committee kind in the bundled "
        "scenarios (flow targets, which count appointments themselves, are left out), "
        f"`sim.api.required_share` searches the smallest yearly appointment share in [0, {HIGH:g}] "
        f"at which P(met) reaches {LEVEL:.0%}: the women's share (`{SHARE}.women`) for a women "
        f"target, the young share (`{SHARE}.young`) for a young target. The search "
        f"(`sim.api.solve`) first runs a share of {HIGH:g}. If P(met) there reaches "
        f"{LEVEL:.0%}, it runs a share of 0 and, unless that is enough, bisects between 0 and "
        f"{HIGH:g}. If {HIGH:g} falls short, it runs the {number_word(SCAN)} shares {scanned} "
        f"in turn until one reaches {LEVEL:.0%}, and bisects between the share before it and "
        f"that one. The bisection goes to a width of {sizes.tolerance:g}; every value tried "
        f"runs the same {sizes.reps} replications of seed {sizes.seed} (common random "
        "numbers). It is run on each scenario as bundled "
        f"and on its variant `{RESTRUCTURING}` (the 2025 restructuring: district level "
        "abolished on 1 July 2025, departments merged, surplus deputies, early retirement).",
        "",
        "The share applies to the tiers the scenario names (`policy.appointment_share.tiers`) "
        "under the reading `expected`. Where a scenario's bundled reading is `none` (no quota: "
        "the share has no effect), `required_share` sets (and lists in `Solution.assumed`):",
        "",
    ]
    for key, notes in sorted(changed.items()):
        if notes:
            lines.append(f"- `{key}` targets: " + ", ".join(f"`{n}`" for n in notes))
    kept = sorted({r.province for r in rows if r.bundled_reading != "none"})
    lines += [
        "",
        "so that a share of 0 is the bundled policy."
        + (
            f" Elsewhere ({', '.join(kept)}) the reading and the other group's share stay as "
            "bundled."
            if kept
            else ""
        ),
        "",
        "Reading the table: each target has a row as bundled and a row with the 2025 "
        "restructuring. *P(met), own policy* is P(met) under the scenario's own policy (its "
        "bundled shares and reading, listed below the table). *Required share* is the value "
        "found, with the bracket the search left (the last value that fell short, the value "
        "found]. *P(met) at it* is P(met) at that value with its 95% Wilson interval: a value "
        "is accepted when its estimate reaches 80%, so with this number of replications the "
        "true chance there may be somewhat lower or higher. *0 (met as is)* means the target "
        "reaches 80% with no share at all. *Not reachable by this lever alone* means that no "
        f"share tried in [0, {HIGH:g}] (the top and the {number_word(SCAN)} scanned values) "
        f"reaches {LEVEL:.0%}; the highest P(met) among them is given. When {HIGH:g} falls "
        f"short but a scanned share reaches {LEVEL:.0%} (P(met) need not rise with the share: "
        "a target with an upper end can be overshot, and a target measured against its "
        "simulated 2021 value moves with the share), the value found lies between the first "
        "scanned share that reaches it and the scanned share before (it is 0, met as is, when "
        f"0 reaches it), and the row gives P(met) at {HIGH:g}.",
        "",
        "| province | target | group | goal | by | setting | P(met), own policy | "
        "required share | P(met) at it |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    flagged: list[str] = []
    falling: list[str] = []
    for r in rows:
        for label in ("bundled", RESTRUCTURING):
            s = r.solutions[label]
            p, ci = r.p_bundled[label]
            tried = r.tried(label)
            if s.value is None:
                best = max(tried, key=lambda x: (tried[x], -x))
                required = (
                    "not reachable by this lever alone "
                    f"(highest P(met) tried: {pct(tried[best])} at {best:g})"
                )
                at = "-"
            else:
                if s.value == 0.0 and math.isnan(s.bracket[0]):
                    required = "0 (met as is)"
                else:
                    required = f"{s.value:.3f} ({s.bracket[0]:.3f}, {s.value:.3f}]"
                at = f"{pct(s.p_at_value)} {interval(s.p_interval)}"
                if tried[HIGH] < LEVEL:  # found by the scan below the top
                    required += f"; P(met) at {HIGH:g}: {pct(tried[HIGH])}"
            if not s.monotone:
                flagged.append(f"{r.target.id} ({SETTING[label]})")
                peak = max(tried.values())
                if tried[max(tried)] < peak - 0.1:  # the top share well below the best one
                    falling.append(f"{r.target.id} ({SETTING[label]})")
            lines.append(
                f"| {r.province} | {r.target.id} | {r.group} | {goal(r.target)} | "
                f"{r.target.by} | {SETTING[label]} | {pct(p)} {interval(ci)} | {required} | "
                f"{at} |"
            )
    lines.append("")
    lines.append("Own policies (the bundled appointment shares):")
    lines.append("")
    for name in sorted({r.scenario for r in rows}):
        sc = load_scenario(bundled_scenarios_dir() / f"{name}.yaml")
        a = sc.policy.appointment_share
        lines.append(
            f"- {province_name(sc)}: women {a.women:g}, young {a.young:g}, reading "
            f"`{a.reading.value}`, tiers {', '.join(a.tiers)}"
        )
    lines.append("")
    if falling:
        lines += [
            f"P(met) at a share of {HIGH:g} is more than 10 points below the highest P(met) "
            "among the shares tried for: "
            + ", ".join(falling)
            + ". For these targets a larger share makes the target less likely over part of "
            "the range.",
            "",
        ]
    if flagged:
        lines += [
            "P(met) fell somewhere as the share rose, over the values the search tried "
            "(`Solution.monotone` is false), for: " + ", ".join(flagged) + ".",
            "",
            "The bisection assumes that P(met) rises with the share between the two values it "
            "starts from. Where it does not, the value found is one crossing of "
            f"{LEVEL:.0%}, not necessarily the smallest: a smaller share between two values "
            f"tried may reach {LEVEL:.0%} too, and so may a share between the values tried for a "
            f"target reported not reachable (the scanned values are {HIGH / SCAN:g} apart). "
            "Possible causes: the noise of a finite number of replications; a target measured "
            "against the simulated 2021 value, which the share raises too; a share on both L1 "
            "and L2 that promotes women or under-40s out of L2; a target with an upper end, "
            "which a high share overshoots. The values tried are listed at the end.",
            "",
        ]
    lines += [
        f"Run: {cache.runs} distinct settings, {cache.replications} replications, "
        f"{seconds / 60:.1f} min; {cache.hits} repeated settings were answered from the first "
        "run (a replication is a pure function of scenario, seed and replication number).",
        "",
        "### Targets",
        "",
    ]
    seen = set()
    for r in rows:
        if r.target.id in seen:
            continue
        seen.add(r.target.id)
        lines.append(f"- **{r.target.id}** ({r.province}): {r.target.text.en}")
    lines += ["", "### Values tried by the search", "", "| target | setting | share: P(met) |"]
    lines.append("|---|---|---|")
    for r in rows:
        for label in ("bundled", RESTRUCTURING):
            tried = ", ".join(f"{v:.3f}: {pct(p)}" for v, p in r.tried(label).items())
            lines.append(f"| {r.target.id} | {SETTING[label]} | {tried} |")
    lines.append("")
    return lines


def page(
    command: str,
    sizes: Sizes,
    quick: bool,
    started: dt.datetime,
    seconds: float,
    a: SobolResult,
    b: tuple[list[Row], dict[str, list[str]], StudyCache, float],
    page_dir: Path,
) -> str:
    rows, changed, cache, b_seconds = b
    lines = [
        "# Example study: levers for Hà Giang's women target, and the appointment shares "
        "provinces need",
        "",
        "Generated by `scripts/example_study.py`; every figure below comes from that run.",
        "",
        f"- Command: `{command}`",
        f"- cadresim {__version__}, Python {sys.version.split()[0]}, numpy {np.__version__}",
        f"- Seed {sizes.seed}; {sizes.reps} replications a setting; Sobol N = {sizes.n}; "
        f"{sizes.workers} worker process(es); search width {sizes.tolerance:g}",
        f"- Date {started.strftime('%Y-%m-%d %H:%M')} (local time); run time "
        f"{seconds / 60:.1f} min wall clock, {cpu_seconds() / 60:.1f} min of CPU time over "
        f"all processes (on a machine of {os.cpu_count()} cores, which other work shared)",
    ]
    if quick:
        lines.append(
            "- **--quick run: sizes far too small for any conclusion; a smoke test only.**"
        )
    lines += [
        "",
        "The scenarios are the bundled ones (`scenarios/*.yaml`); most of their starting "
        "figures are assumptions (each file says which), so the numbers here describe the "
        "model under those assumptions, not the provinces.",
        "",
    ]
    lines += sobol_section(a, sizes, page_dir)
    lines += solve_section(rows, changed, cache, b_seconds, sizes)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args, sizes = parse_args(argv)
    started = dt.datetime.now()
    t0 = time.perf_counter()
    out: Path = args.out
    page_dir = out.resolve().parent
    img_dir = page_dir / "img"
    argv_shown = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "scripts/example_study.py", *argv_shown])
    a = question_a(sizes, img_dir)
    b = question_b(sizes, args.provinces)
    seconds = time.perf_counter() - t0
    text = page(command, sizes, args.quick, started, seconds, a, b, page_dir)
    # Part (c), the exploratory study, is written by scripts/explore_study.py: kept as it is.
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    start, end = "<!-- explore:start -->", "<!-- explore:end -->"
    if start in old and end in old:
        kept = old[old.index(start) : old.index(end) + len(end)]
        text = text.rstrip("\n") + "\n\n" + kept + "\n"
    write_atomic(out, text)
    log(f"wrote {out} in {seconds / 60:.1f} min ({cpu_seconds() / 60:.1f} CPU min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
