"""Compiled kernels: the per-vacancy work over the model's state arrays, one call each.

Each kernel is a plain loop over numpy arrays compiled by numba (``cache=True``: compiled
once per machine, then loaded from ``__pycache__``). They compute exactly what the array
expressions they replace computed, to the last bit: the same comparisons, the same float
additions in the same order, the same tie-breaking (of equal scores, the lowest id: the first
in increasing order, as ``numpy.argmax`` over the candidates in order gave).

With ``NUMBA_DISABLE_JIT=1`` in the environment the same source runs as ordinary Python
(slowly); the tests run both and require the same results.

The rules these kernels apply are not defined here: eligibility is
:func:`sim.rules.promotion_window` (the window ``elig_from <= t < elig_until`` the model keeps
per person) and the post's sources (:data:`sim.scenario.SOURCES`); the standard is
:func:`sim.rules.meets_standard` with requirements coded by :func:`standard_code`; the
preference order is the one :meth:`sim.model.Model._best_owed` documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit

F = TypeVar("F", bound=Callable[..., Any])


def jit(fn: F) -> F:
    """Compile ``fn`` (cached on disk; ordinary Python under ``NUMBA_DISABLE_JIT=1``)."""
    return cast(F, njit(cache=True, nogil=True)(fn))


#: Bits of a standard's requirement code (:func:`standard_code`), one per qualification.
STANDARD_BITS = {
    "theory_intermediate": 1 << 0,
    "theory_advanced": 1 << 1,
    "it_basic": 1 << 2,
    "it_advanced": 1 << 3,
    "language_b1": 1 << 4,
    "degree": 1 << 5,
    "knowledge_update": 1 << 6,
    "ethnic_minority": 1 << 7,
    "international": 1 << 8,
    "local": 1 << 9,
}


def standard_code(required: Iterable[str]) -> int:
    """The requirements of a post's standard as a bit mask (:data:`STANDARD_BITS`)."""
    code = 0
    for name in required:
        code |= STANDARD_BITS[name]
    return code


@jit
def eligible(
    members: np.ndarray,
    size: np.ndarray,
    elig_from: np.ndarray,
    elig_until: np.ndarray,
    sources: np.ndarray,
    t: float,
    relax: bool,
    code: int,
    theory: np.ndarray,
    it: np.ndarray,
    language_b1: np.ndarray,
    degree: np.ndarray,
    update_t: np.ndarray,
    update_months: float,
    ethnic_minority: np.ndarray,
    international: np.ndarray,
    local: np.ndarray,
) -> np.ndarray:
    """People eligible for a post at ``t``, in no particular order.

    ``members[r, :size[r]]`` are the people of rank ``r``; ``sources[r + 1]`` says whether
    rank ``r`` feeds the post. A candidate's promotion window holds (``elig_from <= t`` unless
    ``relax``, and ``t < elig_until``) and, when ``code`` is not zero, they meet the post's
    standard.
    """
    total = 0
    for r in range(len(size)):
        if sources[r + 1]:
            total += size[r]
    out = np.empty(total, dtype=np.int64)
    k = 0
    for r in range(len(size)):
        if not sources[r + 1]:
            continue
        for j in range(size[r]):
            i = members[r, j]
            if not elig_until[i] > t:
                continue
            if not relax and not elig_from[i] <= t:
                continue
            if code:  # the standard: every requirement of the code held (STANDARD_BITS)
                if code & 1 and theory[i] < 1:
                    continue
                if code & 2 and theory[i] < 2:
                    continue
                if code & 4 and it[i] < 1:
                    continue
                if code & 8 and it[i] < 2:
                    continue
                if code & 16 and not language_b1[i]:
                    continue
                if code & 32 and not degree[i]:
                    continue
                if code & 64 and not (t - update_t[i]) < update_months:
                    continue
                if code & 128 and not ethnic_minority[i]:
                    continue
                if code & 256 and not international[i]:
                    continue
                if code & 512 and not local[i]:
                    continue
            out[k] = i
            k += 1
    return out[:k]


@jit
def best_owed(
    cand: np.ndarray,
    score: np.ndarray,
    unit: np.ndarray,
    post_unit: int,
    bonus: float,
    hard: np.ndarray,
    groups_only: bool,
    soft: bool,
    long_months: float,
    planned: np.ndarray,
    nonlocal_first: bool,
    local: np.ndarray,
    female: np.ndarray,
    birth: np.ndarray,
    retire: np.ndarray,
    t: float,
    young_months: float,
) -> tuple[int, int]:
    """The best candidate by the order of preference, and the owed groups with nobody
    eligible (bit ``g`` for group ``g``); -1 when no level of preference has anyone.

    Levels: candidates in every owed group (``hard``, group codes 0 women, 1 young), then,
    with two owed groups, in the first, then in the second; with none owed, everyone (unless
    ``groups_only``). Within the first level that has anyone, non-local candidates first
    (``nonlocal_first``), then planned successors (``planned``), then long service
    (``soft``), then merit: score plus ``bonus`` for the post's own unit, the first of equal
    scores winning (the lowest id).
    """
    n_hard = len(hard)
    short = 0
    any_in = np.zeros(2, dtype=np.bool_)
    best = -1
    best_level = 1 << 30
    best_sub = 1 << 30
    best_score = 0.0
    for j in range(len(cand)):
        c = cand[j]
        in_w = female[c]
        in_y = (t - birth[c]) < young_months
        if in_w:
            any_in[0] = True
        if in_y:
            any_in[1] = True
        # The first level this candidate is in.
        level = -1
        if n_hard == 0:
            if not groups_only:
                level = 0
        else:
            first = in_w if hard[0] == 0 else in_y
            if n_hard == 1:
                if first:
                    level = 0
            else:
                second = in_w if hard[1] == 0 else in_y
                if first and second:
                    level = 0
                elif first:
                    level = 1
                elif second:
                    level = 2
        if level < 0 or level > best_level:
            continue
        # The order within a level: non-local, then planned, then long service, bit by bit.
        sub = 0
        if nonlocal_first:
            sub = 2 * sub + (0 if not local[c] else 1)
        if len(planned) > 0:
            is_planned = False
            for q in planned:
                if c == q:
                    is_planned = True
            sub = 2 * sub + (0 if is_planned else 1)
        if soft:
            sub = 2 * sub + (0 if (retire[c] - t) >= long_months else 1)
        s = score[c]
        if bonus and unit[c] == post_unit:
            s += bonus
        if (
            level < best_level
            or sub < best_sub
            or (sub == best_sub and (s > best_score or (s == best_score and c < best)))
        ):
            best, best_level, best_sub, best_score = c, level, sub, s
    for k in range(n_hard):
        if not any_in[hard[k]]:
            short |= 1 << hard[k]
    return best, short


@jit
def best_on_merit(
    cand: np.ndarray, score: np.ndarray, unit: np.ndarray, post_unit: int, bonus: float
) -> int:
    """The candidate with the highest score (plus ``bonus`` for the post's own unit), of equal
    scores the lowest id; -1 if there is none."""
    best = -1
    best_score = 0.0
    for j in range(len(cand)):
        c = cand[j]
        s = score[c]
        if bonus and unit[c] == post_unit:
            s += bonus
        if best < 0 or s > best_score or (s == best_score and c < best):
            best, best_score = c, s
    return best


@jit
def best_of_rank(
    members: np.ndarray,
    size: np.ndarray,
    s: int,
    elig_from: np.ndarray,
    elig_until: np.ndarray,
    score: np.ndarray,
    unit: np.ndarray,
    post_unit: int,
    bonus: float,
    t: float,
) -> int:
    """The best eligible person of rank ``s`` at ``t`` on merit: :func:`best_on_merit` over
    :func:`eligible` with one source rank and no standard, in one pass and no allocation."""
    best = -1
    best_score = 0.0
    for j in range(size[s]):
        c = members[s, j]
        if not (elig_until[c] > t and elig_from[c] <= t):
            continue
        v = score[c]
        if bonus and unit[c] == post_unit:
            v += bonus
        if best < 0 or v > best_score or (v == best_score and c < best):
            best, best_score = c, v
    return best


def warm() -> None:
    """Load (or compile) every kernel now, for the argument types the model passes.

    A process that is about to fork workers calls it first, so that the workers inherit the
    loaded kernels instead of each loading them from the disk cache.
    """
    from sim.qualifications import QualArrays  # local: kernels import nothing of the model

    n = 4
    q = QualArrays.empty(n)
    ids = np.zeros((5, n), dtype=np.int64)
    size = np.zeros(5, dtype=np.int64)
    when = np.zeros(n)
    cand = np.zeros(0, dtype=np.int64)
    unit = np.zeros(n, dtype=np.int32)
    female = np.zeros(n, dtype=bool)
    eligible(
        ids,
        size,
        when,
        when,
        np.zeros(6, dtype=bool),
        0.0,
        False,
        0,
        q.theory,
        q.it,
        q.language_b1,
        q.degree,
        q.update_t,
        1.0,
        q.ethnic_minority,
        q.international,
        q.local,
    )
    best_owed(
        cand,
        when,
        unit,
        0,
        0.0,
        np.zeros(0, dtype=np.int64),
        False,
        False,
        0.0,
        np.zeros(0, dtype=np.int64),
        False,
        q.local,
        female,
        when,
        when,
        0.0,
        480.0,
    )
    best_on_merit(cand, when, unit, 0, 0.0)
    best_of_rank(ids, size, 0, when, when, when, unit, 0, 0.0, 0.0)
