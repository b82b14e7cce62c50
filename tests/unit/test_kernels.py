"""The compiled kernels against the array expressions and rules they stand for."""

from __future__ import annotations

import numpy as np
import pytest

from sim import kernels, rules
from sim.qualifications import QualArrays
from sim.selection import RankMembers

REQUIREMENTS = list(kernels.STANDARD_BITS)


def random_state(seed: int, n: int = 400) -> tuple[np.ndarray, RankMembers, QualArrays, dict]:
    g = np.random.default_rng(seed)
    rank = g.integers(-1, 5, size=n).astype(np.int8)
    members = RankMembers(n)
    members.add(np.arange(n), rank)
    q = QualArrays.empty(n)
    q.theory[:] = g.integers(0, 3, size=n)
    q.it[:] = g.integers(0, 3, size=n)
    for name in ("language_b1", "degree", "ethnic_minority", "international", "local"):
        getattr(q, name)[:] = g.random(n) < 0.5
    q.update_t[:] = np.where(g.random(n) < 0.6, g.uniform(0, 100, n), -np.inf)
    arrays = {
        "elig_from": g.uniform(0, 100, n),
        "elig_until": g.uniform(50, 200, n),
        "score": g.standard_normal(n),
        "unit": g.integers(0, 5, n).astype(np.int32),
        "female": g.random(n) < 0.3,
        "birth": g.uniform(-600, 0, n),
        "retire": g.uniform(60, 400, n),
    }
    return rank, members, q, arrays


@pytest.mark.parametrize("seed", range(6))
def test_eligible_is_the_window_the_sources_and_the_standard(seed: int) -> None:
    """Eligibility: a source rank, the promotion window, every requirement of the standard
    (rules.meets_standard over QualArrays.flags), for random states and standards."""
    rank, members, q, a = random_state(seed)
    g = np.random.default_rng(100 + seed)
    for _ in range(20):
        required = [r for r in REQUIREMENTS if g.random() < 0.25]
        sources = np.zeros(6, dtype=bool)
        sources[g.integers(1, 6, size=2)] = True
        t = float(g.uniform(40, 120))
        relax = bool(g.random() < 0.3)
        got = kernels.eligible(
            members.ids,
            members.size,
            a["elig_from"],
            a["elig_until"],
            sources,
            t,
            relax,
            kernels.standard_code(required),
            q.theory,
            q.it,
            q.language_b1,
            q.degree,
            q.update_t,
            36.0,
            q.ethnic_minority,
            q.international,
            q.local,
        )
        n = len(rank)
        who = np.arange(n)
        held = {r: q.flags(r, who, t, 36.0) for r in required}
        want = sources[rank.astype(np.int64) + 1] & (a["elig_until"] > t)
        if not relax:
            want &= a["elig_from"] <= t
        want &= rules.meets_standard(held, required, n)
        assert sorted(got.tolist()) == np.flatnonzero(want).tolist()


@pytest.mark.parametrize("seed", range(6))
def test_merit_picks_the_highest_score_and_the_lowest_id_of_equals(seed: int) -> None:
    _, _, _, a = random_state(seed)
    g = np.random.default_rng(seed)
    cand = g.permutation(400)[:60]
    score = np.round(a["score"], 1)  # many equal scores
    best = kernels.best_on_merit(cand, score, a["unit"], 2, 0.3)
    bonus = score[cand] + 0.3 * (a["unit"][cand] == 2)
    top = cand[bonus == bonus.max()]
    assert best == top.min()
    assert kernels.best_on_merit(cand[:0], score, a["unit"], 2, 0.3) == -1


@pytest.mark.parametrize("seed", range(6))
def test_best_of_a_rank_is_merit_over_the_ranks_eligible(seed: int) -> None:
    """The plain post's scan: best_on_merit over eligible with one source rank and no
    standard, for every rank, time and bonus (ties included: scores rounded)."""
    _, members, q, a = random_state(seed)
    g = np.random.default_rng(200 + seed)
    score = np.round(a["score"], 1)
    for _ in range(30):
        s = int(g.integers(0, 5))
        t = float(g.uniform(40, 160))
        bonus = float(g.choice([0.0, 0.3, 2.0]))
        post_unit = int(g.integers(0, 5))
        sources = np.zeros(6, dtype=bool)
        sources[s + 1] = True
        cand = kernels.eligible(
            members.ids, members.size, a["elig_from"], a["elig_until"], sources, t, False, 0,
            q.theory, q.it, q.language_b1, q.degree, q.update_t, 24.0,
            q.ethnic_minority, q.international, q.local,
        )  # fmt: skip
        want = kernels.best_on_merit(cand, score, a["unit"], post_unit, bonus)
        got = kernels.best_of_rank(
            members.ids, members.size, s, a["elig_from"], a["elig_until"], score, a["unit"],
            post_unit, bonus, t,
        )  # fmt: skip
        assert got == want
        if len(cand) == 0:
            assert got == -1
