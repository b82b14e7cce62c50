"""The floor under SimPy: the minimal vacancy chain of ``floor_chain.py``, scheduled by SimPy.

The engine must keep SimPy as its event scheduler, so the least an event of it can cost is
SimPy's own work plus one call into compiled code. This script measures that: the same chain
as ``floor_chain.py`` (Quảng Bình's posts, exits, selection delays, the best of the rank below,
a yearly intake), but every event is a SimPy event whose callback makes exactly one compiled
call, which does all of the event's work and returns what to schedule next. No Python per
person, no logs, no mechanisms, no quotas: what is left is SimPy, one callback and one
compiled call an event.

    python benchmarks/floor_simpy.py      # events, microseconds a replication and an event
"""

# ruff: noqa: NPY002  (numba compiles the legacy np.random functions to its own fast generator)
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import simpy
from numba import njit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from floor_chain import quang_binh_posts  # noqa: E402

from sim.events import Due  # noqa: E402


@njit(cache=True)
def seed_draws(seed: int) -> None:  # pragma: no cover - compiled
    np.random.seed(seed)


@njit(cache=True)
def setup(post_rank, n_pool, rank, score, retire, post_of, holder, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The starting holders and pool; ``out[k]`` is holder k's first exit time."""
    n = 0
    for p in range(len(post_rank)):
        holder[p] = n
        post_of[n] = p
        rank[n] = post_rank[p]
        retire[n] = np.random.uniform(0.0, 300.0)
        out[n] = min(retire[n], np.random.exponential(400.0))
        n += 1
    for _ in range(n_pool):
        rank[n] = 0
        retire[n] = np.random.uniform(60.0, 400.0)
        n += 1
    for j in range(len(score)):
        score[j] = np.random.standard_normal()
    return n


@njit(cache=True)
def on_exit(i, tok, token, post_of, holder, rank):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """A holder leaves; returns (post that fell vacant or -1, its selection delay)."""
    if token[i] != tok or post_of[i] < 0:
        return -1, 0.0
    p = post_of[i]
    holder[p] = -1
    post_of[i] = -1
    rank[i] = -1
    return p, np.random.gamma(2.0, 2.0)


@njit(cache=True)
def on_attempt(p, t, n, post_rank, rank, score, retire, post_of, holder, token):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """A vacancy's attempt. Returns (winner or -1, their exit time, their token, old post or
    -1, the old post's delay)."""
    src = post_rank[p] - 1
    best = -1
    best_score = -1e300
    for j in range(n):
        if rank[j] == src and retire[j] > t and score[j] > best_score:
            best, best_score = j, score[j]
    if best < 0:
        return -1, 0.0, 0, -1, 0.0
    old = post_of[best]
    holder[p] = best
    post_of[best] = p
    rank[best] = post_rank[p]
    token[best] += 1
    t_exit = min(retire[best], t + np.random.exponential(400.0))
    delay = 0.0
    if old >= 0:
        holder[old] = -1
        delay = np.random.gamma(2.0, 2.0)
    return best, t_exit, token[best], old, delay


@njit(cache=True)
def on_year(t, n, n_pool, rank, retire):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    alive = 0
    for j in range(n):
        if rank[j] == 0 and retire[j] > t:
            alive += 1
    for _ in range(max(0, n_pool - alive)):
        if n < len(rank):
            rank[n] = 0
            retire[n] = t + np.random.uniform(120.0, 400.0)
            n += 1
    return n


def replication(post_rank: np.ndarray, n_pool: int, years: int, seed: int) -> int:
    """One replication under SimPy; returns the events processed."""
    seed_draws(seed)
    n_posts = len(post_rank)
    cap = n_posts + n_pool * (years + 2) + 16
    rank = np.full(cap, -1, np.int64)
    score = np.empty(cap)
    retire = np.zeros(cap)
    post_of = np.full(cap, -1, np.int64)
    holder = np.full(n_posts, -1, np.int64)
    token = np.zeros(cap, np.int64)
    first = np.empty(n_posts)
    state = {"n": setup(post_rank, n_pool, rank, score, retire, post_of, holder, first)}
    env = simpy.Environment()
    horizon = 12.0 * years
    events = [0]

    def exit_(ev: Due) -> None:
        events[0] += 1
        p, delay = on_exit(ev.arg, ev.token, token, post_of, holder, rank)
        if p >= 0:
            Due(env, delay, attempt, p)

    def attempt(ev: Due) -> None:
        events[0] += 1
        t = env.now
        best, t_exit, tok, old, delay = on_attempt(
            ev.arg, t, state["n"], post_rank, rank, score, retire, post_of, holder, token
        )
        if best < 0:
            Due(env, 1.0, attempt, ev.arg)
            return
        if t_exit < horizon:
            Due(env, t_exit - t, exit_, best, tok)
        if old >= 0:
            Due(env, delay, attempt, old)

    def year(ev: Due) -> None:
        events[0] += 1
        state["n"] = on_year(env.now, state["n"], n_pool, rank, retire)
        Due(env, 12.0, year)

    for p in range(n_posts):
        if first[p] < horizon:
            Due(env, first[p], exit_, p, 0)
    Due(env, 12.0, year)
    env.run(until=horizon)
    return events[0]


def per_replication(reps: int = 20) -> tuple[float, float]:
    """Seconds a replication and events a replication (compiled, warm)."""
    post_rank, n_pool, years = quang_binh_posts()
    replication(post_rank, n_pool, years, 0)
    t0 = time.perf_counter()
    events = 0
    for r in range(reps):
        events += replication(post_rank, n_pool, years, r + 1)
    return (time.perf_counter() - t0) / reps, events / reps


if __name__ == "__main__":
    secs, events = per_replication()
    print(
        f"floor under SimPy: {events:.0f} events, {secs * 1e6:.0f} us a replication, "
        f"{secs / events * 1e6:.2f} us an event"
    )
