"""Martell, Lane & Emrich (1996) rebuilt, and run on cadresim's engine: a validation study.

Martell, R. F., Lane, D. M. & Emrich, C. (1996). Male-female differences: A computer
simulation. American Psychologist 51(2), 157-158 ("MLE"). An organisation of 8 levels (500,
350, 200, 150, 100, 75, 40 and 10 positions) starts with 50% women at every level. Each cycle
15% of the incumbents of every level leave at random; vacancies are filled, top down, by
promoting the highest scorers of the level below; the bottom level hires men and women in
equal numbers. Performance scores are normal and men get a small bonus: 1% of the score
variance (point-biserial r = 0.1, so d = 2r / sqrt(1 - r^2) = 0.201 SD) or 5% (d = 0.459 SD).
After about 20 cycles women held far fewer of the top posts than of the bottom ones.

This module has:

- :func:`standalone`: MLE's procedure in a few lines of numpy, on any list of levels;
- :func:`on_engine`: ``validation/martell_lane_emrich.yaml`` (MLE's bottom five levels mapped
  onto cadresim's five ranks) run on the engine, with a bias-0 control;
- :func:`section`: the Markdown section for ``docs/VALIDATION.md``.

Regenerate the section with::

    python validation/mle.py --reps 200 --workers 2 --seed 1996 --standalone-reps 2000
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCENARIO = Path(__file__).with_name("martell_lane_emrich.yaml")

#: MLE's levels, bottom to top.
MLE_LEVELS = (500, 350, 200, 150, 100, 75, 40, 10)
#: The five levels the engine can hold (MLE's levels 1-5).
ENGINE_LEVELS = MLE_LEVELS[:5]
#: cadresim's ranks, bottom to top, matched to MLE's levels 1-5.
RANKS = ("pool", "l2_deputy", "l2_head", "l1_deputy", "l1_head")
#: The stock targets of the scenario that measure each leadership rank (the pool is read from
#: the year-end headcount).
RANK_TARGET = {
    "l2_deputy": "W-L2-DEPUTY",
    "l2_head": "W-L2-HEAD",
    "l1_deputy": "W-L1-DEPUTY",
    "l1_head": "W-L1-HEAD",
}


def bias_from_variance(share: float) -> float:
    """The mean difference (in SD of the score) that explains ``share`` of the score variance
    between two equal groups: r = sqrt(share), d = 2r / sqrt(1 - r^2)."""
    r = math.sqrt(share)
    return 2.0 * r / math.sqrt(1.0 - r * r)


#: MLE's two biases, in SD of the score (1%: 0.201 SD; 5%: 0.459 SD, i.e. 4.59 points on MLE's
#: scale of SD 10).
BIAS_1PCT = bias_from_variance(0.01)
BIAS_5PCT = bias_from_variance(0.05)

#: Share of women at MLE's top level (level 8, 10 positions) after the simulation, as
#: published. QUOTED FROM MEMORY: the paper's table could not be consulted from this project
#: (a search of the stored public pages found the paper, its Table 1 caption "Effect Size 5%
#: of the Variance" and later replications, but not the table's figures).
PUBLISHED_TOP = {"1%": 0.35, "5%": 0.29}
PUBLISHED_NOTE = (
    "quoted from memory, not checked against the paper: women held about 35% of the "
    "top-level positions with the 1% bias and about 29% with the 5% bias"
)


@dataclass(frozen=True)
class LevelShares:
    """The share of women at each level (bottom to top) at the end: mean over replications
    and its Monte Carlo standard error."""

    levels: tuple[str, ...]
    mean: np.ndarray
    se: np.ndarray
    reps: int
    per_rep: np.ndarray  # (reps, levels)

    def at(self, level: str) -> tuple[float, float]:
        k = self.levels.index(level)
        return float(self.mean[k]), float(self.se[k])


def _shares(levels: Sequence[str], per_rep: np.ndarray) -> LevelShares:
    per_rep = np.asarray(per_rep, dtype=float)
    n = len(per_rep)
    se = per_rep.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(len(levels), np.nan)
    return LevelShares(tuple(levels), per_rep.mean(axis=0), se, n, per_rep)


# --------------------------------------------------------------------------- #
# MLE's procedure, stand-alone
# --------------------------------------------------------------------------- #


def standalone(
    levels: Sequence[int] = MLE_LEVELS,
    attrition: float = 0.15,
    bias_sd: float = BIAS_1PCT,
    cycles: int = 20,
    reps: int = 2000,
    seed: int = 1996,
    rescore: bool = False,
    wait_cycles: int = 0,
) -> LevelShares:
    """MLE's model: the share of women at each level (bottom to top) after ``cycles`` cycles.

    Each person has a score ~ N(0, 1) plus ``bias_sd`` for men, drawn when they are hired
    (``rescore``: drawn again for everyone at every cycle instead). A cycle is: every
    incumbent leaves with probability ``attrition``; then, from the top level down, each
    level's vacancies go to the highest scorers of the level below; then the bottom level
    hires, each hire a woman with probability 1/2. ``wait_cycles`` (0 in MLE) is the number of
    cycles someone promoted must serve before the next promotion: 2 imitates the engine's
    24 months in post, with one cycle a year.
    """
    rng = np.random.default_rng(seed)
    n_levels = len(levels)
    out = np.zeros((reps, n_levels))

    def draw(female: np.ndarray) -> np.ndarray:
        return rng.standard_normal(len(female)) + bias_sd * ~female

    for rep in range(reps):
        female, score, since = [], [], []
        for n in levels:
            f = np.zeros(n, dtype=bool)
            f[rng.permutation(n)[: n // 2]] = True  # 50% women at every level
            female.append(f)
            score.append(draw(f))
            since.append(np.full(n, -(10**6)))  # the starting incumbents may all be promoted
        for cycle in range(cycles):
            for k in range(n_levels):  # random attrition
                stay = rng.random(len(female[k])) >= attrition
                female[k], score[k], since[k] = female[k][stay], score[k][stay], since[k][stay]
            for k in range(n_levels - 1, 0, -1):  # promotions, top down
                need = levels[k] - len(female[k])
                ready = np.flatnonzero(cycle - since[k - 1] >= wait_cycles)
                best = ready[np.argsort(-score[k - 1][ready], kind="stable")[:need]]
                if len(best) == 0:
                    continue
                female[k] = np.concatenate([female[k], female[k - 1][best]])
                score[k] = np.concatenate([score[k], score[k - 1][best]])
                since[k] = np.concatenate([since[k], np.full(len(best), cycle)])
                keep = np.ones(len(female[k - 1]), dtype=bool)
                keep[best] = False
                female[k - 1], score[k - 1] = female[k - 1][keep], score[k - 1][keep]
                since[k - 1] = since[k - 1][keep]
            hires = rng.random(levels[0] - len(female[0])) < 0.5  # 50/50 hiring
            female[0] = np.concatenate([female[0], hires])
            score[0] = np.concatenate([score[0], draw(hires)])
            since[0] = np.concatenate([since[0], np.full(len(hires), -(10**6))])
            if rescore:
                score = [draw(f) for f in female]
        out[rep] = [f.mean() if len(f) else np.nan for f in female]
    return _shares([f"level {k + 1}" for k in range(n_levels)], out)


# --------------------------------------------------------------------------- #
# The same set-up on cadresim's engine
# --------------------------------------------------------------------------- #


def load(bias: float | None = None):  # -> sim.scenario.Scenario
    """The validation scenario, with ``policy.evaluation_bias`` set to ``bias`` if given."""
    from sim.scenario import load_scenario

    sc = load_scenario(SCENARIO)
    if bias is not None:
        sc = sc.with_overrides({"policy.evaluation_bias": float(bias)})
    return sc


def engine_shares(scenario, reps: int, workers: int = 1, seed: int = 1996) -> LevelShares:
    """Women's share by rank (pool to l1_head) on 31 December of the last year, per
    replication of ``scenario`` on the engine."""
    from sim.runner import make_runner, run_many

    index = {t.id: k for k, t in enumerate(scenario.targets)}
    out = np.zeros((reps, len(RANKS)))
    runner = make_runner(workers if reps >= 2 * workers else 1)
    for res in run_many(scenario, seed, reps, runner):
        holders, women, _young = res.headcount[-1, 0]  # the pool at the year end
        row = [women / holders]
        row += [res.target_value[index[RANK_TARGET[r]]] for r in RANKS[1:]]
        out[res.rep] = row
    return _shares(RANKS, out)


@dataclass(frozen=True)
class EngineRun:
    biased: LevelShares
    control: LevelShares  # the same scenario with no evaluation bias
    bias_5pct: LevelShares | None
    seconds: float


def on_engine(
    reps: int = 200, workers: int = 1, seed: int = 1996, with_5pct: bool = False
) -> EngineRun:
    """Run ``validation/martell_lane_emrich.yaml`` on cadresim's engine (1% bias), its bias-0
    control and, with ``with_5pct``, the 5% bias: women's share per rank at the end of 2040
    with Monte Carlo standard errors."""
    t0 = time.perf_counter()
    biased = engine_shares(load(), reps, workers, seed)
    control = engine_shares(load(0.0), reps, workers, seed)
    five = engine_shares(load(BIAS_5PCT), reps, workers, seed) if with_5pct else None
    return EngineRun(biased, control, five, time.perf_counter() - t0)


def age_check(reps: int = 20, seed: int = 1996) -> tuple[float, float, int]:
    """Leaders past the age limit for promotion (fewer than 60 months to retirement) on the
    last day, mean per replication: (women, men, posts). The scenario makes everyone young so
    that this stays small; women reach it two years before men (retirement at 60, men 62)."""
    from sim.model import run_model

    sc = load()
    women = men = 0.0
    posts = 0
    for rep in range(reps):
        log = run_model(sc, seed, rep, keep_log=True).log
        assert log is not None
        holders = log["post_holder"][log["post_holder"] >= 0]
        out = (log["retire"][holders] - 60) < log["t_end"][0]
        female = log["female"][holders]
        women += np.count_nonzero(out & female) / reps
        men += np.count_nonzero(out & ~female) / reps
        posts = len(log["post_holder"])
    return women, men, posts


# --------------------------------------------------------------------------- #
# The report
# --------------------------------------------------------------------------- #


def _pct(m: float, se: float | None = None) -> str:
    if m is None or math.isnan(m):
        return "n/a"
    if se is None:
        return f"{100 * m:.1f}"
    return f"{100 * m:.1f} ± {100 * 1.96 * se:.1f}"


def _table(
    published_top: float,
    sa8: LevelShares,
    sa5: LevelShares,
    wait5: LevelShares,
    eng: LevelShares,
    control: LevelShares | None,
) -> list[str]:
    head = (
        "| MLE level (positions) | cadresim rank | published, 8 levels | standalone, 8 levels "
        "| standalone, 5 levels | standalone, 5 levels, 2-cycle wait | engine, 5 levels |"
    )
    sep = "|---|---|---:|---:|---:|---:|---:|"
    if control is not None:
        head += " engine, bias 0 |"
        sep += "---:|"
    lines = [head, sep]
    for k in range(len(MLE_LEVELS) - 1, -1, -1):
        rank = RANKS[k] if k < len(RANKS) else "(none)"
        top = k == len(MLE_LEVELS) - 1
        pub = _pct(published_top) + " (from memory)" if top else "not recalled"
        row = f"| {k + 1} ({MLE_LEVELS[k]}) | {rank} | {pub} | {_pct(sa8.mean[k], sa8.se[k])} |"
        cols = [sa5, wait5, eng] + ([control] if control is not None else [])
        for c in cols:
            row += f" {_pct(c.mean[k], c.se[k])} |" if k < len(RANKS) else " — |"
        lines.append(row)
    return lines


def section(
    reps: int = 200, workers: int = 1, seed: int = 1996, standalone_reps: int = 2000
) -> str:
    """The Markdown section on MLE for docs/VALIDATION.md (runs everything it reports)."""
    t0 = time.perf_counter()

    def run(levels: Sequence[int], bias: float, k: int, **kw: int | bool) -> LevelShares:
        return standalone(levels, bias_sd=bias, reps=standalone_reps, seed=seed + k, **kw)

    sa = {  # (8 levels, 5 levels, 5 levels with a two-cycle wait, 8 levels rescored)
        "1%": (
            run(MLE_LEVELS, BIAS_1PCT, 0),
            run(ENGINE_LEVELS, BIAS_1PCT, 1),
            run(ENGINE_LEVELS, BIAS_1PCT, 2, wait_cycles=2),
            run(MLE_LEVELS, BIAS_1PCT, 3, rescore=True),
        ),
        "5%": (
            run(MLE_LEVELS, BIAS_5PCT, 4),
            run(ENGINE_LEVELS, BIAS_5PCT, 5),
            run(ENGINE_LEVELS, BIAS_5PCT, 6, wait_cycles=2),
            run(MLE_LEVELS, BIAS_5PCT, 7, rescore=True),
        ),
    }
    sa0 = run(MLE_LEVELS, 0.0, 8)
    t_sa = time.perf_counter() - t0
    eng = on_engine(reps, workers, seed, with_5pct=True)
    assert eng.bias_5pct is not None
    n_age = min(reps, 20)
    aged_w, aged_m, posts = age_check(n_age, seed)

    def gap(s: LevelShares) -> str:  # bottom minus top level, in points, with 1.96 SE
        d = s.per_rep[:, 0] - s.per_rep[:, -1]
        return _pct(float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d))))

    sa8, sa5, wait5, resc = sa["1%"]
    sa8b, sa5b, wait5b, rescb = sa["5%"]
    top_sd = 100 * float(sa8.per_rep[:, -1].std(ddof=1))
    diff_plain = np.abs(eng.biased.mean - sa5.mean)
    diff_wait = np.abs(eng.biased.mean - wait5.mean)
    diff_plain_b = np.abs(eng.bias_5pct.mean - sa5b.mean)
    diff_wait_b = np.abs(eng.bias_5pct.mean - wait5b.mean)
    ctl_dev = np.abs(eng.control.mean - 0.5) / np.maximum(eng.control.se, 1e-12)
    sa0_dev = np.abs(sa0.mean - 0.5) / np.maximum(sa0.se, 1e-12)

    out: list[str] = []
    w = out.append
    w("## Martell, Lane & Emrich (1996): a small evaluation bias up a promotion pyramid")
    w("")
    w(
        "Martell, Lane & Emrich (1996), *Male-female differences: A computer simulation*, "
        "American Psychologist 51(2):157-158 (MLE), is the classic demonstration that a bias too "
        "small to notice in any one evaluation leaves few women at the top of a promotion "
        "pyramid. Their set-up, **as recalled** (not checked against the paper): 8 levels of "
        "500, 350, 200, 150, 100, 75, 40 and 10 positions, 50% women at every level at the "
        "start; each cycle 15% of the incumbents of every level leave at random, vacancies are "
        "filled top down by the highest scorers of the level below, and the bottom level hires "
        "men and women in equal numbers; normal performance scores with a bonus for men "
        f"explaining 1% of the variance (r = 0.1, d = 2r/√(1−r²) = {BIAS_1PCT:.3f} SD) or 5% "
        f"(d = {BIAS_5PCT:.3f} SD, the paper's 4.58 points on a scale of SD 10); about 20 "
        "cycles, until all the original incumbents had gone."
    )
    w("")
    w(
        f"**Published result, {PUBLISHED_NOTE}.** A search of the stored public pages found the "
        "paper (and the caption of its Table 1, *Effect Size 5% of the Variance*) and later "
        "replications (Robison-Cox, Martell & Emrich 2007; Meldgin, Mitchell & Oswald 2024), "
        "but not the table's figures, so the published column below holds these two recalled "
        "numbers and nothing else."
    )
    w("")
    w("### The mapping to cadresim's 5 ranks")
    w("")
    w(
        "cadresim has five ranks (pool → l2_deputy → l2_head → l1_deputy → l1_head), so "
        "`validation/martell_lane_emrich.yaml` keeps MLE's **bottom five levels**: pool 500, "
        "l2_deputy 350, l2_head 200, l1_deputy 150, l1_head 100 (three blocks: 100 units with one "
        "L1 head, one division and two L2 deputies each; 2 × 50 units with 75 L1 deputies each "
        "and one division with two or one L2 deputies). MLE's levels 6-8 (75, 40, 10) have no "
        "rank. 50% women at every rank at the start and among recruits; a 15% yearly exit "
        "hazard at every tier and nothing else that removes people (no death, removal or "
        "non-renewal; everyone is aged 18-40 at the start so nobody retires before 2041); no "
        "quota, reservation, women-staff or long-service rule; no selection delay; recruits may "
        "be promoted at once; the pool is refilled to 500 every December; fixed scores "
        f"(`evaluation_noise_sd: 0`, so the bias {BIAS_1PCT:.3f} is in SD of the whole score); "
        "20 years (2021-2040), one year standing for one of MLE's cycles. The shares at the end "
        "of 2040 come from stock targets (measurement only) and, for the pool, the year-end "
        "headcount. The *standalone* columns run MLE's procedure as re-implemented in "
        "`validation/mle.py` (`standalone`): on MLE's 8 levels, on the same 5 levels as the "
        "engine (the like-for-like check), and on 5 levels with a two-cycle wait after each "
        "promotion (`wait_cycles=2`, imitating the engine's 24 months in post)."
    )
    w("")
    w(f"### Women's share at the end, 1% bias (d = {BIAS_1PCT:.3f} SD), in %")
    w("")
    out.extend(_table(PUBLISHED_TOP["1%"], sa8, sa5, wait5, eng.biased, eng.control))
    w("")
    w(
        f"Standalone: {standalone_reps} replications a column; engine: {reps} replications a "
        "column (master seed "
        f"{seed}); ± is 1.96 Monte Carlo standard errors of the mean over replications, not the "
        "spread between replications, which is much wider at small levels (at MLE's level 8, "
        f"10 posts, one replication's share has an SD of {top_sd:.0f} points). The bias-0 "
        "column is the engine with `policy.evaluation_bias: 0`; the standalone model with no "
        f"bias gives {_pct(sa0.mean[-1], sa0.se[-1])}% at level 8 and "
        f"{_pct(sa0.mean[0], sa0.se[0])}% at level 1 (largest deviation from 50% over its 8 "
        f"levels: {sa0_dev.max():.1f} SE)."
    )
    w("")
    w(f"### Women's share at the end, 5% bias (d = {BIAS_5PCT:.3f} SD), in %")
    w("")
    out.extend(_table(PUBLISHED_TOP["5%"], sa8b, sa5b, wait5b, eng.bias_5pct, None))
    w("")
    w("The engine column is the scenario's `bias_5pct` variant.")
    w("")
    w("### Regenerate")
    w("")
    w("```")
    w(
        f"python validation/mle.py --reps {reps} --workers {workers} --seed {seed} "
        f"--standalone-reps {standalone_reps}"
    )
    w("```")
    w("")
    w(
        f"This run: standalone models {t_sa:.0f} s; engine {eng.seconds:.0f} s for 3 × {reps} "
        f"replications on {workers} worker(s)."
    )
    w("")
    w("### Discussion")
    w("")
    w(
        "- **MLE's result, 8 levels.** The standalone re-implementation puts "
        f"{_pct(*sa8.at('level 8'))}% women at the top level with the 1% bias and "
        f"{_pct(*sa8b.at('level 8'))}% with the 5% bias, against the ~35% and ~29% recalled "
        "from the paper. The direction and the rough size are reproduced; the exact figures "
        "are not, and they depend on details that could not be checked here: with every score "
        "drawn again at every cycle (`rescore=True`) instead of kept, the top level ends at "
        f"{_pct(*resc.at('level 8'))}% (1%) and {_pct(*rescb.at('level 8'))}% (5%). Neither "
        "reading matches both recalled figures (fixed scores come out above the recalled 35% "
        "and below the recalled 29%), and a published figure from a 10-post level carries "
        "several points of Monte Carlo error unless it averages many runs."
    )
    w(
        "- **Engine against MLE's procedure on the same 5 levels.** With the 1% bias the "
        f"engine ends with {_pct(*eng.biased.at('l1_head'))}% women among L1 heads and "
        f"{_pct(*eng.biased.at('pool'))}% in the pool; MLE's procedure on the same five levels "
        f"gives {_pct(*sa5.at('level 5'))}% and {_pct(*sa5.at('level 1'))}%. The pool-to-top "
        f"gap is {gap(eng.biased)} points on the engine and {gap(sa5)} standalone. The largest "
        f"difference between engine and standalone over the five levels is "
        f"{100 * diff_plain.max():.1f} points (5% bias: {100 * diff_plain_b.max():.1f}); "
        "against the standalone model with a two-cycle wait after each promotion it is "
        f"{100 * diff_wait.max():.1f} points (5% bias: {100 * diff_wait_b.max():.1f}). The "
        "engine reproduces the mechanism: women's share falls rank by rank, and the pool gains "
        "women because men are promoted out of it faster."
    )
    w(
        "- **Five levels are not the top of eight.** Cutting MLE's pyramid at level 5 changes "
        f"level 5: it holds {_pct(*sa8.at('level 5'))}% women inside the 8-level organisation "
        f"and {_pct(*sa5.at('level 5'))}% when it is the top (1% bias), since its best people, "
        "mostly men, are no longer promoted out of it. The engine's L1 heads are therefore "
        "compared with the 5-level columns; the published top-level figure belongs to MLE's "
        "level 8, which cadresim has no rank for."
    )
    w(
        "- **The bias-0 control.** With no bias the engine gives "
        f"{_pct(*eng.control.at('l1_head'))}% women among L1 heads and "
        f"{_pct(*eng.control.at('pool'))}% in the pool; the largest deviation from 50% over "
        f"the five ranks is {ctl_dev.max():.1f} standard errors. The engine's own rules add no "
        "detectable gap."
    )
    w(
        "- **What differs between the engine and MLE's procedure.** (1) *24 months in post*: "
        "the engine applies the rule (Decree 138/2020, Quy định 80-QĐ/TW) that a leader serves "
        "24 months in a post before the next promotion. It is statutory in the engine, not a "
        "setting, and the starting leaders have served 0-60 months, so some of them wait too; "
        "MLE lets the best be promoted at every cycle. The two-cycle-wait column imitates the "
        "rule; compare it with the plain 5-level column to see what it changes. "
        "(2) *Continuous time*: exits happen at random moments in the year (a constant monthly "
        "hazard equal to 15% a year) and a vacancy is filled at once from whoever is eligible "
        "then, so a vacancy chain runs down the ranks the day someone leaves; MLE removes 15% "
        "at once and then promotes. (3) *Pool refilled yearly*: the engine tops the pool up "
        "to 500 each December and it shrinks in between, so candidates for L2 deputy posts "
        "late in the year are fewer and already thinned of the best; MLE's level 1 is "
        "refilled every cycle after the promotions. (4) *Scores*: fixed (latent merit, no "
        "yearly noise) in this scenario, as in the standalone default; with cadresim's usual "
        "`evaluation_noise_sd` the bias would have to be rescaled to 0.201·√(1 + sd²) to stay "
        "1% of the score variance. (5) *Age rules*: everyone starts under 40 so nobody "
        "retires within the horizon, but the engine's promotion limit (at least 60 months to "
        "retirement) still catches some who started near 40, and women reach it two years "
        "before men (retirement at 60 against 62). On the last day "
        f"{aged_w:.1f} women and {aged_m:.1f} men per replication (of {posts} leadership "
        f"posts; mean of {n_age} replications of the 1% scenario) are past it: a slight extra "
        "handicap for women in the last years, which the bias-0 control bounds."
    )
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=200, help="engine replications per run")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1996)
    ap.add_argument("--standalone-reps", type=int, default=2000)
    args = ap.parse_args(argv)
    sys.stdout.write(section(args.reps, args.workers, args.seed, args.standalone_reps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
