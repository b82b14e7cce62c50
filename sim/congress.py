"""The provincial Party congress: the nominating list, the directive's floors on it, the vote.

The committee is chosen in three steps, one function each (``Model._congress`` calls them):

1. :func:`nominate`: the nominating body draws up a list longer than the seats ("số dư",
   :func:`sim.rules.congress_list_length`) from the eligible candidates in order of their
   standing (merit, plus a bonus for unit heads): re-nominated members first, up to the cap
   on re-election, then newcomers.
2. :func:`comply`: where the list has fewer women or under-40s than Chỉ thị 35-CT/TW's floor
   asks of it (:func:`sim.rules.congress_floor_seats`), the nominating body adds the best
   candidates of the short group, each taking the place of the last man over 40 on the list.
   It closes only a share of the gap, the *compliance* (:func:`list_additions`): 0 ignores the
   directive, 1 puts the floor on the list.
3. :func:`vote`: the delegates elect the candidates with the highest vote scores: standing,
   plus a bonus for members seeking re-election, plus noise (the delegates' own judgement).
   The vote knows nothing of the floors, so a candidate added for the directive can lose.

:func:`floors_by_construction` is the older reading kept as the ``floors_enforced`` variant:
the floors are met whenever candidates exist, with no list and no vote.

Every function takes the candidates in order of standing, best first, as boolean or float
arrays of the same length, and is pure.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from sim import rules

Flags = npt.NDArray[np.bool_]

__all__ = ["comply", "floors_by_construction", "list_additions", "nominate", "vote"]


def nominate(incumbent: Flags, length: int, max_incumbents: int | None) -> Flags:
    """Step 1: the nominating list, ``length`` candidates in order of standing.

    Args:
        incumbent: Candidates who sit on the outgoing committee.
        length: Places on the list (capped by the candidates who exist).
        max_incumbents: At most this many members are re-nominated (Chỉ thị 35-CT/TW: about a
            third new members); ``None`` at the first congress of a run, which has no
            outgoing committee. If too few newcomers exist the list is completed with further
            members rather than left short.

    Returns:
        Who is on the list.
    """
    on = np.zeros(len(incumbent), dtype=bool)
    length = min(length, len(incumbent))
    if max_incumbents is not None:
        on[np.flatnonzero(incumbent)[: max(0, min(max_incumbents, length))]] = True
    rest = length - int(on.sum())
    if rest > 0:
        eligible = ~on & ~incumbent if max_incumbents is not None else ~on
        on[np.flatnonzero(eligible)[:rest]] = True
        rest = length - int(on.sum())
        if rest > 0:
            on[np.flatnonzero(~on)[:rest]] = True
    return on


def list_additions(gap: int, compliance: float, u: float) -> int:
    """How many candidates the nominating body adds for a group ``gap`` short of the floor.

    It adds ``compliance * gap`` candidates, rounded up or down at random so that the expected
    number is exactly ``compliance * gap`` (with ``gap`` 3 and compliance 0.4: one candidate,
    and a second with probability 0.2). The count never falls as the compliance rises.

    Args:
        gap: Candidates of the group missing from the list for it to meet the floor, >= 0.
        compliance: Share of the gap closed, in [0, 1].
        u: A uniform draw in [0, 1) (the congress stream's).

    Returns:
        ``ceil(compliance * gap - u)``, between 0 and ``gap``.
    """
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    if not 0.0 <= compliance <= 1.0:
        raise ValueError(f"compliance must be in [0, 1], got {compliance}")
    if not 0.0 <= u < 1.0:
        raise ValueError(f"u must be in [0, 1), got {u}")
    return min(gap, max(0, math.ceil(compliance * gap - u - 1e-12)))


def comply(
    on: Flags,
    groups: list[tuple[Flags, float]],
    others: Flags,
    compliance: float,
    u: npt.NDArray[np.float64],
) -> Flags:
    """Step 2: the nominating body adds candidates of groups short of the directive's floors.

    For each group in turn (``(flags, floor)``, e.g. under-40s then women), the floor is
    applied to the list (:func:`sim.rules.congress_floor_seats` of its length); of the gap,
    :func:`list_additions` candidates are added, the group's best not yet on the list, each in
    place of the lowest-standing candidate on the list who is in ``others`` (no group: a man
    over 40). So adding for one group never removes a candidate of another, and a higher
    compliance adds a superset of the candidates a lower one adds. Additions stop when the
    group or ``others`` on the list run out.

    Args:
        on: Who is on the list (from :func:`nominate`).
        groups: Each group's flags over the candidates and its floor, in [0, 1].
        others: Candidates in none of the groups, who may give up their place.
        compliance: Share of each gap closed, in [0, 1].
        u: One uniform draw in [0, 1) per group.

    Returns:
        Who is on the list after the additions (same length).
    """
    on = on.copy()
    length = int(on.sum())
    for (flags, floor), uk in zip(groups, u, strict=True):
        need = rules.congress_floor_seats(floor, length)
        gap = max(0, need - int((on & flags).sum()))
        k = list_additions(gap, compliance, float(uk))
        newcomers = np.flatnonzero(flags & ~on)
        leaving = np.flatnonzero(on & others)
        k = min(k, len(newcomers), len(leaving))
        if k > 0:
            on[newcomers[:k]] = True
            on[leaving[len(leaving) - k :]] = False
    return on


def vote(on: Flags, vote_score: npt.NDArray[np.float64], seats: int) -> Flags:
    """Step 3: the delegates elect the ``seats`` candidates on the list with the highest votes.

    Args:
        on: Who is on the list.
        vote_score: Each candidate's vote score (standing + incumbency bonus + noise).
        seats: Seats to fill; all of the list is elected if it is not longer.

    Returns:
        Who is elected.
    """
    idx = np.flatnonzero(on)
    order = idx[np.argsort(-vote_score[idx], kind="stable")]
    elected = np.zeros(len(on), dtype=bool)
    elected[order[:seats]] = True
    return elected


def floors_by_construction(
    female: Flags,
    young: Flags,
    incumbent: Flags,
    seats: int,
    women_floor: float,
    young_floor: float,
    max_incumbents: int | None,
) -> Flags:
    """The ``floors_enforced`` reading: the floors of Chỉ thị 35-CT/TW are met by construction.

    The best under-40s, then the best women, take the seats each floor asks for
    (:func:`sim.rules.congress_floor_seats`) when they exist; then members are re-elected in
    order of standing up to ``max_incumbents``; then newcomers fill the rest (and further
    members, if newcomers run out). No list and no vote.

    Returns:
        Who is elected.
    """
    n = len(female)
    chosen = np.zeros(n, dtype=bool)
    size = min(seats, n)
    for flags, floor in ((young, young_floor), (female, women_floor)):
        need = rules.congress_floor_seats(floor, seats) - int((chosen & flags).sum())
        need = min(need, size - int(chosen.sum()))  # floors never add seats
        if need > 0:
            chosen[np.flatnonzero(flags & ~chosen)[:need]] = True
    if max_incumbents is not None:
        room = min(max_incumbents - int((chosen & incumbent).sum()), size - int(chosen.sum()))
        if room > 0:
            chosen[np.flatnonzero(incumbent & ~chosen)[:room]] = True
    rest = size - int(chosen.sum())
    if rest > 0:
        eligible = ~chosen & ~incumbent if max_incumbents is not None else ~chosen
        chosen[np.flatnonzero(eligible)[:rest]] = True
        rest = size - int(chosen.sum())
        if rest > 0:  # not enough newcomers: re-elect beyond the cap rather than leave seats
            chosen[np.flatnonzero(~chosen)[:rest]] = True
    return chosen
