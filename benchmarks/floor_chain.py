"""The floor: a minimal vacancy chain, compiled, with the default scenario's posts.

Not the model: the least work a replication of a vacancy chain can cost. Posts of four ranks
(Quảng Bình's counts) and a pool of specialists; holders leave at exponential times or at
retirement; a vacancy waits a gamma-distributed selection delay, then goes to the best-scored
eligible person of the rank below, whose post falls vacant in turn; the pool is refilled each
year. Everything runs in one compiled function with its own event heap (no SimPy, no Python
per event), so its time per replication is what compiled code over the same state costs: the
benchmark reports the engine's time against it.

    python benchmarks/floor_chain.py      # prints events and microseconds a replication
"""

# ruff: noqa: NPY002  (numba compiles the legacy np.random functions to its own fast generator)
from __future__ import annotations

import heapq
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@njit(cache=True)
def chain(
    post_rank: np.ndarray, n_pool: int, years: int, seed: int
) -> tuple[int, int]:  # pragma: no cover - compiled
    """One replication; returns (events processed, appointments)."""
    np.random.seed(seed)
    n_posts = len(post_rank)
    cap = n_posts + n_pool * (years + 2) + 16
    rank = np.full(cap, -1, np.int64)
    score = np.random.standard_normal(cap)
    retire = np.empty(cap)
    post_of = np.full(cap, -1, np.int64)
    holder = np.full(n_posts, -1, np.int64)
    token = np.zeros(cap, np.int64)
    n = 0
    horizon = 12.0 * years
    heap = [(0.0, 0, 0, 0)]  # (time, kind, id, token); kinds: 0 exit, 1 attempt, 2 year
    heap.pop()
    for p in range(n_posts):
        holder[p] = n
        post_of[n] = p
        rank[n] = post_rank[p]
        retire[n] = np.random.uniform(0.0, 300.0)
        t_exit = min(retire[n], np.random.exponential(400.0))
        heapq.heappush(heap, (t_exit, 0, n, 0))
        n += 1
    for _ in range(n_pool):
        rank[n] = 0
        retire[n] = np.random.uniform(60.0, 400.0)
        n += 1
    heapq.heappush(heap, (12.0, 2, 0, 0))
    events = 0
    appointments = 0
    while heap:
        t, kind, i, tok = heapq.heappop(heap)
        if t >= horizon:
            break
        events += 1
        if kind == 0:  # a holder leaves: the post falls vacant
            if token[i] != tok or post_of[i] < 0:
                continue
            p = post_of[i]
            holder[p] = -1
            post_of[i] = -1
            rank[i] = -1
            heapq.heappush(heap, (t + np.random.gamma(2.0, 2.0), 1, p, 0))
        elif kind == 1:  # a vacancy's attempt: the best of the rank below moves up
            p = i
            src = post_rank[p] - 1
            best = -1
            best_score = -1e300
            for j in range(n):
                if rank[j] == src and retire[j] > t and score[j] > best_score:
                    best, best_score = j, score[j]
            if best < 0:
                heapq.heappush(heap, (t + 1.0, 1, p, 0))
                continue
            old = post_of[best]
            holder[p] = best
            post_of[best] = p
            rank[best] = post_rank[p]
            token[best] += 1
            t_exit = min(retire[best], t + np.random.exponential(400.0))
            heapq.heappush(heap, (t_exit, 0, best, token[best]))
            appointments += 1
            if old >= 0:
                holder[old] = -1
                heapq.heappush(heap, (t + np.random.gamma(2.0, 2.0), 1, old, 0))
        else:  # the yearly intake to the pool
            alive = 0
            for j in range(n):
                if rank[j] == 0 and retire[j] > t:
                    alive += 1
            for _ in range(max(0, n_pool - alive)):
                if n < cap:
                    rank[n] = 0
                    retire[n] = t + np.random.uniform(120.0, 400.0)
                    n += 1
            heapq.heappush(heap, (t + 12.0, 2, 0, 0))
    return events, appointments


def quang_binh_posts() -> tuple[np.ndarray, int, int]:
    """The default scenario's post ranks, pool size and years."""
    from sim.params import compile_params
    from sim.population import pool_size
    from sim.scenario import load_scenario, resolve_scenario_path

    sc = load_scenario(resolve_scenario_path("quang_binh"))
    prm = compile_params(sc)
    return (
        np.asarray(prm.layout.post_rank, dtype=np.int64),
        int(pool_size(sc, prm.layout)),
        prm.n_years,
    )


def per_replication(reps: int = 20) -> tuple[float, float]:
    """Seconds a replication of the floor, and its events a replication (compiled, warm)."""
    post_rank, n_pool, years = quang_binh_posts()
    chain(post_rank, n_pool, years, 0)  # compile or load, warm
    t0 = time.perf_counter()
    events = 0
    for r in range(reps):
        events += chain(post_rank, n_pool, years, r + 1)[0]
    return (time.perf_counter() - t0) / reps, events / reps


if __name__ == "__main__":
    secs, events = per_replication()
    print(f"floor: {events:.0f} events, {secs * 1e6:.0f} us a replication")
