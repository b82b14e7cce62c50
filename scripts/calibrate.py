"""Fit Quảng Bình's turnover and age laws to named facts of seed 001, keeping others held out.

    python scripts/calibrate.py [--reps 40] [--confirm-reps 300] [--workers 2] [--seed 2016]
                                [--write] [--record PATH]

What is fitted, to what (the FIT set; seed 001, Scheme 01-ĐA/TU of 12/03/2021):

- ``appointments``: **245** appointments or nominations to L1 posts in 2016-2020;
- ``stock_women``: **45 of 338** L1 leaders women (13.3%) in early 2021;
- ``stock_young``: **8 of 338** L1 leaders under 40 (2.4%) in early 2021.

What is held out (the CHECK set; never used by this script to choose a value): the shares of
the 245 appointments that went to women (**10.7%**) and to under-40s (**8.2%**). The 2020
provincial congress is left to its own stage (``scripts/calibrate_congress.py``, added to
:data:`STAGES` when it exists); this script does not use it.

How. Every figure comes from a *back-cast*: Quảng Bình from 1 January 2016 to 31 December
2020 under the rules of the time (the scenario's ``bau`` variant: merit selection, no
appointment share, no reservation, no women-staff or long-service rule; the pre-2021
retirement ages of ``sim.rules``), starting from the 2021 counts (45 women, 8 under 40: the
seeds give no 2016 figure, so the composition is assumed unchanged over the five years). The
end-2020 year-end stock stands for the early-2021 stock. Three parameters are fitted, one per
fact, by sequential bisection over common random numbers (the same seed and replications at
every evaluation, so each moment is a smooth, monotone function of its parameter), in three
Gauss-Seidel sweeps because the moments depend on the other parameters too (later sweeps
bisect inside a narrower bracket around the previous value):

1. ``dynamics.exit_hazard.l1`` (yearly exits other than retirement) -> ``appointments``;
2. the women's age offset ``d``: women leaders' age laws (L1 heads, L1 deputies, L2) are the
   men's shifted ``d`` years younger -> ``stock_women`` (a younger law keeps women leaders, who
   retire five years earlier, in post for longer);
3. the mean ``m`` of the under-40s' law (``young_age``: a normal law with SD 2.5 truncated to
   [young_min_age, 40 - 2 months), in L1 and L2) -> ``stock_young`` (a mean near 40 makes under-40
   appointees turn 40 soon after).

Uncertainty. Each fitted value gets an approximate 95% interval ``value +- 1.96 s / |slope|``:
``slope`` is the moment's change per unit of the parameter (central difference on common
random numbers, half of ``--confirm-reps`` replications), and ``s`` combines the spread of the
moment between replications (the province's figure is a single realisation of the process,
which dominates), the Monte Carlo error of the fitted mean, and the rounding of the fact
(none: the three fit facts are exact counts). The record also gives the narrower interval
from the Monte Carlo error and the rounding alone.

Not identifiable from these facts, so fixed and said so:

- ``dynamics.reappointment_probability`` (0.75, assumption): the volume fixes the overall L1
  turnover, not its split between refused reappointments and other exits; the script prints a
  profile (the fitted exit hazard at other reappointment probabilities);
- the L2 shares of women and under-40s (``population.l2.women_share``, ``young_share``): each
  group's stock fact fixes only the balance of its inflow (the L2 composition) and its outflow
  (the age law); the L2 shares are priors and the held-out flow shares test them;
- the men's age laws and the SDs (assumptions).

Other provinces (Hà Giang, Cao Bằng, Nghệ An, Hà Nội): their seeds give no flow or stock facts,
so nothing can be fitted for them; they keep their assumption-based values.

The script is deterministic (fixed seed and fixed starting values); it took 11.0 minutes on 2
workers of this project's 2-core machine while it was shared (load average about 10), 83
evaluations of the back-cast. With
``--write`` it writes the fitted values, each with a comment "fitted by scripts/calibrate.py to
...", into scenarios/quang_binh.yaml, and the whole record (facts, values, intervals, profile,
held-out comparison) to ``--record``, which ``scripts/validate.py`` reads.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from sim.results import Collector  # noqa: E402
from sim.runner import Runner, make_runner, run_many  # noqa: E402
from sim.scenario import AgeDist, Scenario, law_for, load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "quang_binh.yaml"
RECORD = ROOT / "validation" / "quang_binh_calibration.json"
L1 = 2  # tier index of L1 in the result arrays
L1_POSTS = 338

#: The facts the parameters are fitted to (seed 001, Scheme 01-ĐA/TU, 12/03/2021).
FIT_FACTS: dict[str, dict[str, Any]] = {
    "appointments": {
        "value": 245.0,
        "rounding": 0.0,
        "text": "245 L1 appointments or nominations in 2016-2020 (seed 001)",
    },
    "stock_women": {
        "value": 45 / L1_POSTS,
        "rounding": 0.0,
        "text": "45 of the 338 L1 leaders women (13.3%) in early 2021 (seed 001)",
    },
    "stock_young": {
        "value": 8 / L1_POSTS,
        "rounding": 0.0,
        "text": "8 of the 338 L1 leaders under 40 (2.4%) in early 2021 (seed 001)",
    },
}
#: The facts held out as checks: never used to choose a value. ``rounding``: half the last
#: digit the seed gives (10.7%, "khoảng" 8.2%).
HELD_OUT_FACTS: dict[str, dict[str, Any]] = {
    "women": {
        "value": 0.107,
        "rounding": 0.0005,
        "text": "10.7% of the 2016-2020 L1 appointments to women (seed 001)",
    },
    "young": {
        "value": 0.082,
        "rounding": 0.0005,
        "text": "about 8.2% of the 2016-2020 L1 appointments to under-40s (seed 001)",
    },
}
#: SD (years) of the under-40s' law; its mean is fitted.
YOUNG_SD = 2.5


# ------------------------------------------------------------------ the model side
def backcast(
    qb: Scenario,
    women: int = 45,
    young: int = 8,
    floors: bool = True,
    overrides: dict[str, Any] | None = None,
) -> Scenario:
    """Quảng Bình from 1 January 2016 to 31 December 2020 under the rules of the time (the
    ``bau`` variant) with the pre-2021 retirement ages, ``women`` and ``young`` L1 leaders at
    the start (split between provincial and district posts as in 2021), and a congress in
    October 2020 (floors enforced or not)."""
    w_prov = round(women * 27 / 45)
    y_prov = round(young * 7 / 8)
    return qb.variant("bau").with_overrides(
        {
            "start": "2016-01-01",
            "end": "2020-12-31",
            "targets": [],
            "variants": {},
            "congress.dates": ["2020-10-15"],
            "congress.enforce_floors": floors,
            "population.l1.women": {"provincial": w_prov, "district": women - w_prov},
            "population.l1.young": {"provincial": y_prov, "district": young - y_prov},
            "population.l1.young_women": min(2, young, women),
            **(overrides or {}),
        }
    )


def moments(c: Collector) -> dict[str, np.ndarray]:
    """Per-replication figures of a back-cast: L1 appointments in the five years, their shares
    to women and under-40s, and the women's and under-40s' shares of L1 at the end."""
    a = c.arrays["appointments"][:, :, L1]  # reps x years x (count, women, young, young women)
    n = a[:, :, 0].sum(axis=1).astype(float)
    h = c.arrays["headcount"][:, -1, L1].astype(float)  # reps x (holders, women, young)
    return {
        "appointments": n,
        "women": a[:, :, 1].sum(axis=1) / np.maximum(n, 1.0),
        "young": a[:, :, 2].sum(axis=1) / np.maximum(n, 1.0),
        "stock_women": h[:, 1] / h[:, 0],
        "stock_young": h[:, 2] / h[:, 0],
    }


# ------------------------------------------------------------------ parameters
def _shift(law: Any, d: float) -> dict[str, Any]:
    """``law`` as a by-sex law whose women's mean is the men's less ``d`` years."""
    men: AgeDist = law_for(law, False)
    women = {"mean": round(men.mean - d, 3), "sd": men.sd, "min": men.min}
    return {"men": men.model_dump(), "women": women}


@dataclass(frozen=True)
class Parameter:
    """A fitted parameter: its name, the fact it is fitted to, its bracket, the overrides that
    set it in a scenario, and the decimals it is kept to."""

    name: str
    fact: str
    lo: float
    hi: float
    overrides: Callable[[Scenario, float], dict[str, Any]]
    digits: int


PARAMETERS = (
    Parameter(
        "exit_hazard_l1",
        "appointments",
        0.0,
        0.15,
        lambda sc, x: {"dynamics.exit_hazard.l1": round(x, 5)},
        4,
    ),
    Parameter(
        "women_age_offset",
        "stock_women",
        -4.0,
        12.0,
        lambda sc, x: {
            "population.l1.age_heads": _shift(sc.population.l1.age_heads, x),
            "population.l1.age_deputies": _shift(sc.population.l1.age_deputies, x),
            "population.l2.age": _shift(sc.population.l2.age, x),
        },
        2,
    ),
    Parameter(
        "young_age_mean",
        "stock_young",
        30.0,
        48.0,
        lambda sc, x: {
            "population.l1.young_age": {"mean": round(x, 3), "sd": YOUNG_SD},
            "population.l2.young_age": {"mean": round(x, 3), "sd": YOUNG_SD},
        },
        2,
    ),
)


#: Starting values: the assumptions before any fit (exit hazard 0.06, women's laws as men's,
#: under-40s centred on 36 as the uniform law from 32 to 40 is).
START = {"exit_hazard_l1": 0.06, "women_age_offset": 0.0, "young_age_mean": 36.0}


# ------------------------------------------------------------------ the fit state
@dataclass
class Calibration:
    """What the stages share: the scenario being fitted, the runner, sizes and the record."""

    qb: Scenario
    runner: Runner
    reps: int
    confirm_reps: int
    seed: int
    values: dict[str, float] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)
    evaluations: int = 0

    def scenario(self, **values: float) -> Scenario:
        """Quảng Bình (2021) with the current fitted values, and ``values`` on top."""
        sc = self.qb
        both = {**self.values, **values}
        for p in PARAMETERS:
            if p.name in both:
                sc = sc.with_overrides(p.overrides(sc, both[p.name]))
        return sc

    def run(
        self,
        reps: int,
        seed: int | None = None,
        overrides: dict[str, Any] | None = None,
        **values: float,
    ) -> dict[str, np.ndarray]:
        """Per-replication moments of the back-cast with these values and ``overrides``
        (common random numbers: the same seed every time)."""
        sc = backcast(self.scenario(**values), overrides=overrides)
        self.evaluations += 1
        c = Collector(sc, reps, keep=("appointments", "headcount")).extend(
            run_many(sc, self.seed if seed is None else seed, reps, self.runner)
        )
        return moments(c)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _mean_moment(m: dict[str, np.ndarray], fact: str) -> float:
    return float(m[fact].mean())


def bisect(
    cal: Calibration,
    p: Parameter,
    target: float,
    steps: int = 6,
    overrides: dict[str, Any] | None = None,
    near: float | None = None,
) -> float:
    """The value of ``p`` whose mean moment equals ``target``: bisection on the bracket
    (the moment is monotone in the parameter under common random numbers), then linear
    interpolation inside the last bracket. With ``near``, the bracket is first narrowed to
    ``near`` +- 8% of the full one (a later sweep), and widened back if the root is not in it."""
    cache: dict[float, float] = {}

    def f(x: float) -> float:
        if x not in cache:
            m = cal.run(cal.reps, overrides=overrides, **{p.name: x})
            cache[x] = _mean_moment(m, p.fact) - target
        return cache[x]

    lo, hi = p.lo, p.hi
    if near is not None:
        w = 0.08 * (p.hi - p.lo)
        lo, hi = max(p.lo, near - w), min(p.hi, near + w)
        if f(lo) * f(hi) > 0:
            lo, hi = p.lo, p.hi
        else:
            steps = max(steps - 2, 2)  # a bracket 16% as wide needs fewer halvings
    f_lo, f_hi = f(lo), f(hi)
    if f_lo * f_hi > 0:  # no root inside: the nearer end, reported as a boundary
        log(f"  {p.name}: the fact is outside the bracket [{lo}, {hi}]")
        return lo if abs(f_lo) < abs(f_hi) else hi
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        f_mid = f(mid)
        if f_mid == 0:
            return mid
        if (f_mid < 0) == (f_lo < 0):
            lo, f_lo = mid, f_mid
        else:
            hi, f_hi = mid, f_mid
    return lo - f_lo * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else 0.5 * (lo + hi)


# ------------------------------------------------------------------ the stages
def stage_start(cal: Calibration) -> None:
    """Start from fixed values (:data:`START`), not from the scenario's current ones, so that
    a rerun on the fitted file reproduces the same fit."""
    cal.values.update(START)
    log("start: " + ", ".join(f"{k} = {v:g}" for k, v in cal.values.items()))


def stage_fit(cal: Calibration, sweeps: int = 2) -> None:
    """Fit each parameter to its fact in turn (Gauss-Seidel sweeps of bisections)."""
    for sweep in range(1, sweeps + 1):
        for p in PARAMETERS:
            target = FIT_FACTS[p.fact]["value"]
            x = bisect(cal, p, target, near=cal.values[p.name] if sweep > 1 else None)
            cal.values[p.name] = round(x, p.digits)
            log(f"sweep {sweep}: {p.name} = {cal.values[p.name]:g} (fact {p.fact} = {target:.4g})")


def stage_confirm(cal: Calibration) -> None:
    """Confirm the fit with more replications (a fresh seed), estimate each parameter's
    interval, and compare the held-out facts with the model's predictions."""
    seed = cal.seed + 1
    reps = cal.confirm_reps
    base = cal.run(reps, seed=seed)
    # Slopes from central differences on common random numbers: half the replications do.
    slope_reps = max(reps // 2, 2)
    fitted = {}
    for p in PARAMETERS:
        fact = FIT_FACTS[p.fact]
        x = cal.values[p.name]
        h = 0.02 * (p.hi - p.lo)
        up = _mean_moment(cal.run(slope_reps, seed=seed, **{p.name: x + h}), p.fact)
        down = _mean_moment(cal.run(slope_reps, seed=seed, **{p.name: x - h}), p.fact)
        slope = (up - down) / (2 * h)
        y = base[p.fact]
        sd_rep = float(y.std(ddof=1))
        se = sd_rep / math.sqrt(len(y))
        s = math.sqrt(sd_rep**2 + se**2 + fact["rounding"] ** 2 / 3.0)
        half = 1.96 * s / abs(slope) if slope else math.inf
        # Without the realisation spread: how precisely this run pins the value down.
        half_mc = 1.96 * math.sqrt(se**2 + fact["rounding"] ** 2 / 3.0) / abs(slope)
        fitted[p.name] = {
            "fact": p.fact,
            "fact_value": fact["value"],
            "fact_text": fact["text"],
            "value": x,
            "interval": [round(x - half, p.digits), round(x + half, p.digits)],
            "interval_mc": [round(x - half_mc, p.digits + 1), round(x + half_mc, p.digits + 1)],
            "model_mean": float(y.mean()),
            "model_se": se,
            "model_p5_p95": [float(v) for v in np.quantile(y, [0.05, 0.95])],
            "slope": slope,
        }
        log(
            f"{p.name} = {x:g} (95% interval {x - half:.{p.digits}f} to "
            f"{x + half:.{p.digits}f}; Monte Carlo and rounding only: "
            f"{x - half_mc:.{p.digits + 1}f} to {x + half_mc:.{p.digits + 1}f}); "
            f"{p.fact}: model {y.mean():.4g} +- {se:.2g} against {fact['value']:.4g}"
        )
    held = {}
    for key, fact in HELD_OUT_FACTS.items():
        y = base[key]
        n = base["appointments"]
        share = float((y * n).sum() / n.sum())
        d = y * n - share * n
        se = math.sqrt(float((d**2).sum()) / (len(d) - 1) / len(d)) / float(n.mean())
        p5, p95 = (float(v) for v in np.quantile(y, [0.05, 0.95]))
        inside = p5 <= fact["value"] <= p95
        held[key] = {
            "fact_value": fact["value"],
            "fact_text": fact["text"],
            "model_share": share,
            "model_se": se,
            "model_p5_p95": [p5, p95],
            "within_5_95": inside,
        }
        lo, hi = share - 1.96 * se, share + 1.96 * se
        log(
            f"held out {key}: model {100 * share:.1f}% (95% interval of the mean "
            f"{100 * lo:.1f}-{100 * hi:.1f}%; 5-95% of single replications "
            f"{100 * p5:.1f}-{100 * p95:.1f}%) against {100 * fact['value']:.1f}%: "
            + ("mean agrees" if lo <= fact["value"] <= hi else "mean misses")
            + ("; within the single-replication range" if inside else "; outside it too")
        )
    cal.record["fitted"] = fitted
    cal.record["held_out"] = held
    cal.record["confirm"] = {"reps": reps, "seed": seed}


def stage_profile(cal: Calibration, probabilities: tuple[float, ...] = (0.6, 0.9)) -> None:
    """The exit hazard that fits the volume at other reappointment probabilities: the two are
    not separately identifiable from one volume."""
    p = PARAMETERS[0]
    rows = [
        {
            "reappointment_probability": float(cal.qb.dynamics.reappointment_probability),
            "exit_hazard_l1": cal.values[p.name],
        }
    ]
    for prob in probabilities:
        fixed = {"dynamics.reappointment_probability": prob}
        x = bisect(cal, p, FIT_FACTS[p.fact]["value"], overrides=fixed)
        rows.append({"reappointment_probability": prob, "exit_hazard_l1": round(x, p.digits)})
        log(f"profile: reappointment probability {prob:g} -> exit hazard {x:.4f}")
    cal.record["profile"] = rows


#: The stages, in order. A later stage (e.g. the congress, ``scripts/calibrate_congress.py``)
#: is a function of a :class:`Calibration` appended here.
STAGES: list[Callable[[Calibration], None]] = [
    stage_start,
    stage_fit,
    stage_confirm,
    stage_profile,
]


# ------------------------------------------------------------------ writing
def _interval_text(f: dict[str, Any], digits: int, unit: str = "") -> str:
    lo, hi = f["interval"]
    return f"95% interval {lo:.{digits}f} to {hi:.{digits}f}{unit}, the fact taken as one draw"


def _widen_ranges(text: str, values: dict[str, float]) -> str:
    """Widen the plausible range of each fitted setting in the file's ``assumptions:`` list
    so that it holds the newly fitted value (the loader refuses a value outside its range)."""
    for setting, value in values.items():
        pattern = re.compile(
            r"^(  - \{path: " + re.escape(setting) + r", range: \[)([^,\]]+), ([^\]]+)(\].*)$",
            re.M,
        )
        m = pattern.search(text)
        if m is None:
            continue
        a, b = float(m.group(2)), float(m.group(3))
        lo, hi = min(a, b, value), max(a, b, value)
        if (lo, hi) != (min(a, b), max(a, b)):
            ends = (lo, hi) if a <= b else (hi, lo)
            text = (
                text[: m.start()]
                + f"{m.group(1)}{ends[0]:g}, {ends[1]:g}{m.group(4)}"
                + text[m.end() :]
            )
    return text


def write_scenario(cal: Calibration, path: Path = SCENARIO) -> None:
    """Write the fitted values, with their facts and intervals, into the scenario file
    (only the lines of the fitted values change)."""
    text = path.read_text(encoding="utf-8")
    fit = cal.record["fitted"]
    sc = cal.scenario()
    hz = sc.dynamics.exit_hazard

    def sub(pattern: str, line: str) -> None:
        nonlocal text
        # ``pattern``'s group 1 is the context kept before the rewritten line.
        repl = "\\g<1>" + line.replace("\\", "\\\\")
        new, n = re.subn(pattern, repl, text, count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"{path}: cannot find the line to rewrite ({pattern!r})")
        text = new

    e = fit["exit_hazard_l1"]
    sub(
        r"^()  exit_hazard: \{l1: .*$",
        f"  exit_hazard: {{l1: {hz.l1:g}, l2: {hz.l2:g}, pool: {hz.pool:g}}}  # L1 fitted by "
        f"scripts/calibrate.py to seed 001's 245 L1 appointments in 2016-2020 "
        f"({_interval_text(e, 3)}); L2, pool: assumption",
    )
    prof = ", ".join(
        f"{r['reappointment_probability']:g} -> {r['exit_hazard_l1']:.3f}"
        for r in cal.record.get("profile", [])[1:]
    )
    sub(
        r"^()  reappointment_probability: .*$",
        f"  reappointment_probability: {sc.dynamics.reappointment_probability:g}   # assumption: "
        "not identifiable from the 2016-2020 volume alone (scripts/calibrate.py fits the L1 "
        f"exit hazard given it; with {prof}); Decree 138/2020 art. 41 makes reappointment a "
        "decision",
    )
    w = fit["women_age_offset"]
    d = w["value"]
    for key, law in (
        ("age_heads", sc.population.l1.age_heads),
        ("age_deputies", sc.population.l1.age_deputies),
    ):
        wl = law_for(law, True)
        sub(
            rf"(^    {key}:\n      men: .*\n)      women: .*$",
            f"      women: {{mean: {wl.mean:g}, sd: {wl.sd:g}, min: {wl.min:g}}}   # men's mean "
            f"less {d:g} years, fitted by scripts/calibrate.py to seed 001's 45 women among "
            f"338 L1 leaders in early 2021 ({_interval_text(w, 1, ' years')})",
        )
    wl = law_for(sc.population.l2.age, True)
    sub(
        r"(^  l2:\n(?:    .*\n)*?    age:\n      men: .*\n)      women: .*$",
        f"      women: {{mean: {wl.mean:g}, sd: {wl.sd:g}, min: {wl.min:g}}}     # men's mean "
        f"less {d:g} years (the offset fitted for L1 by scripts/calibrate.py)",
    )
    y = fit["young_age_mean"]
    young_line = (
        f"    young_age: {{mean: {y['value']:g}, sd: {YOUNG_SD:g}}}          # fitted by "
        f"scripts/calibrate.py to seed 001's 8 under-40s among 338 L1 leaders in early 2021 "
        f"(mean {_interval_text(y, 1)}; SD: assumption)"
    )
    sub(r"(^    age_deputies:\n      men: .*\n      women: .*\n)    young_age: .*$", young_line)
    sub(
        r"(^  l2:\n(?:    .*\n)*?    age:\n      men: .*\n      women: .*\n)    young_age: .*$",
        f"    young_age: {{mean: {y['value']:g}, sd: {YOUNG_SD:g}}}          # as L1 (fitted by "
        "scripts/calibrate.py)",
    )
    text = _widen_ranges(
        text,
        {
            "dynamics.exit_hazard.l1": hz.l1,
            "population.l1.age_heads.women.mean": law_for(sc.population.l1.age_heads, True).mean,
            "population.l1.age_deputies.women.mean": law_for(
                sc.population.l1.age_deputies, True
            ).mean,
            "population.l2.age.women.mean": law_for(sc.population.l2.age, True).mean,
            "population.l1.young_age.mean": y["value"],
            "population.l2.young_age.mean": y["value"],
        },
    )
    path.write_text(text, encoding="utf-8")
    # The file must still load and hold the fitted values.
    check = load_scenario(path)
    assert abs(check.dynamics.exit_hazard.l1 - cal.values["exit_hazard_l1"]) < 1e-9
    log(f"wrote {path}")


def write_record(cal: Calibration, path: Path, argv: list[str], seconds: float) -> None:
    rec = {
        "command": "python scripts/calibrate.py " + " ".join(argv),
        "scenario": "scenarios/quang_binh.yaml",
        "seed": cal.seed,
        "reps_per_evaluation": cal.reps,
        "evaluations": cal.evaluations,
        "seconds": round(seconds, 1),
        "backcast": "2016-01-01 to 2020-12-31, variant bau, pre-2021 retirement ages, "
        "2016 start = the 2021 counts (45 women, 8 under 40)",
        "fit_facts": FIT_FACTS,
        "held_out_facts": HELD_OUT_FACTS,
        "not_identified": [
            "dynamics.reappointment_probability (fixed; profile of the fitted exit hazard)",
            "population.l2.women_share and young_share (priors; tested by the held-out shares)",
            "the men's age laws and every SD (assumptions)",
        ],
        **cal.record,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=40, help="replications per evaluation of a fit")
    ap.add_argument("--confirm-reps", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2016)
    ap.add_argument("--sweeps", type=int, default=3)
    ap.add_argument("--write", action=argparse.BooleanOptionalAction, default=False)
    ap.add_argument("--record", type=Path, default=RECORD)
    ap.add_argument("--scenario", type=Path, default=SCENARIO)
    args = ap.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    started = time.perf_counter()
    print("Fitting Quảng Bình (seed 001) by back-cast from 2016 (variant bau):")
    for p in PARAMETERS:
        print(f"  {p.name:<18} -> {FIT_FACTS[p.fact]['text']}")
    print("Held out (predictions, never fitted):")
    for fact in HELD_OUT_FACTS.values():
        print(f"  {fact['text']}")
    with make_runner(args.workers) as runner:
        cal = Calibration(
            load_scenario(args.scenario), runner, args.reps, args.confirm_reps, args.seed
        )
        for stage in STAGES:
            if stage is stage_fit:
                stage_fit(cal, args.sweeps)
            else:
                stage(cal)
    seconds = time.perf_counter() - started
    log(f"{cal.evaluations} evaluations in {seconds / 60:.1f} min")
    if args.write:
        write_scenario(cal, args.scenario)
        write_record(cal, args.record, argv, seconds)
    print("RESULT " + json.dumps({"values": cal.values, **cal.record}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
