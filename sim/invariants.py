"""Invariants every replication must satisfy, checked by replaying its event log."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sim.model import GONE, RETIREMENT, RepResult
from sim.scenario import Scenario

EPS = 1e-9


def check_invariants(result: RepResult, post_rank: np.ndarray) -> list[str]:
    """Replay a replication's log and return every violation found (empty when all hold).

    Checked: no post is held by two people and nobody holds two posts; nobody is appointed
    at or after their retirement date and nobody is in post after it; a retirement happens
    exactly on the retirement date; every departure from the leadership is logged once;
    the final state equals the replayed one; people are conserved (holders + pool + gone).
    """
    log = result.log
    if log is None:
        raise ValueError("run the replication with keep_log=True to check its invariants")
    errors: list[str] = []
    appts = log["appointments"]
    exits = log["exits"]
    retire = log["retire"]
    holder = log["initial_holder"].copy()
    t_end = float(log["t_end"][0])
    person_post: dict[int, int] = {int(i): int(p) for p, i in enumerate(holder) if i >= 0}
    post_exits = exits[exits["post"] >= 0]
    # Replay in sequence: exit k happened after ``after`` appointments.
    order = np.argsort(post_exits["after"], kind="stable")
    post_exits = post_exits[order]
    e = 0
    exited: dict[int, int] = {}

    def do_exit(row: np.void) -> None:
        i, p = int(row["person"]), int(row["post"])
        if holder[p] != i:
            errors.append(f"exit of person {i} from post {p} held by {holder[p]}")
        holder[p] = GONE
        person_post.pop(i, None)
        exited[i] = exited.get(i, 0) + 1
        if row["t"] > retire[i] + EPS:
            errors.append(f"person {i} left at {row['t']:.2f}, after retiring at {retire[i]}")
        if row["cause"] == RETIREMENT and abs(row["t"] - retire[i]) > EPS:
            errors.append(f"person {i} retired at {row['t']:.2f}, not on their date {retire[i]}")

    for k, a in enumerate(appts):
        while e < len(post_exits) and post_exits[e]["after"] <= k:
            do_exit(post_exits[e])
            e += 1
        i, p, t = int(a["person"]), int(a["post"]), float(a["t"])
        if holder[p] != GONE:
            errors.append(f"post {p} given to {i} at {t:.2f} while held by {holder[p]}")
        if i in exited:
            errors.append(f"person {i} appointed at {t:.2f} after leaving the leadership")
        if t >= retire[i] - EPS:
            errors.append(f"person {i} appointed at {t:.2f}, at or after retiring at {retire[i]}")
        if int(a["rank"]) != int(post_rank[p]):
            errors.append(f"appointment to post {p} logged with rank {a['rank']}")
        old = person_post.pop(i, None)
        if old is not None:
            holder[old] = GONE
        holder[p] = i
        person_post[i] = p
    while e < len(post_exits):
        do_exit(post_exits[e])
        e += 1

    final = log["post_holder"]
    if not np.array_equal(final, holder):
        bad = np.flatnonzero(final != holder)[:5]
        errors.append(f"final holders differ from the replayed log at posts {bad.tolist()}")
    held = final[final >= 0]
    if len(np.unique(held)) != len(held):
        errors.append("a person holds two posts at the end")
    late = held[retire[held] < t_end - EPS]
    if len(late):
        errors.append(f"{len(late)} people still in post after their retirement date")
    rank = log["rank"]
    n_people = int(log["n_people"][0])
    n_holders = int(np.count_nonzero(rank >= 1))
    if n_holders != len(held):
        errors.append(f"{n_holders} people have a leader rank but {len(held)} posts are held")
    if np.any(rank[held] != post_rank[np.flatnonzero(final >= 0)]):
        errors.append("a holder's rank differs from the rank of their post")
    n_pool = int(np.count_nonzero(rank == 0))
    n_gone = int(np.count_nonzero(rank == GONE))
    if n_holders + n_pool + n_gone != n_people:
        errors.append("people are not conserved (holders + pool + gone != created)")
    for i, count in exited.items():
        if count != 1:
            errors.append(f"person {i} left the leadership {count} times")
        if rank[i] != GONE:
            errors.append(f"person {i} left the leadership but is not marked gone")
    ever_held = {int(x) for x in log["initial_holder"][log["initial_holder"] >= 0]}
    ever_held |= {int(x) for x in appts["person"]}
    for i in ever_held:
        if rank[i] == GONE and i not in exited:
            errors.append(f"person {i} held a post and is gone without a logged exit")
    return errors


def check_scenario_replications(
    scenario: Scenario, seed: int, reps: Iterable[int]
) -> list[tuple[int, list[str]]]:
    """Run replications ``reps`` with their event logs and check each one's invariants.

    Returns ``(rep, violations)`` for every replication with a violation (empty if none).
    A plain function of picklable arguments, so that a process pool can share the work.
    """
    from sim.model import Model
    from sim.population import build_layout

    bad = []
    if scenario.merger is not None:  # every part of the replication, and the merger date
        from sim import merger

        for rep in reps:
            errors = merger.check_invariants(scenario, seed, rep)
            if errors:
                bad.append((rep, errors))
        return bad
    layout = build_layout(scenario)
    for rep in reps:
        model = Model(scenario, seed, rep, keep_log=True, layout=layout)
        errors = check_invariants(model.run(), layout.post_rank)
        if errors:
            bad.append((rep, errors))
    return bad
