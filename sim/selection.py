"""Selection: who fills a vacant post (eligibility, quota readings, reservation, merit).

The methods here are the part of :class:`sim.model.Model` that decides appointments; they
read and change the model's state (their ``self`` is the model) and call the compiled scans
of :mod:`sim.kernels`. The legal rules they apply are one function each in :mod:`sim.rules`.

- the candidate index: per rank, the people who hold it, kept current on each move
  (:func:`scan_best` reads only the members of the source rank, in one compiled pass);
- a vacancy (:meth:`Selection._open_vacancy`) waits its selection delay, then
  :meth:`Selection._attempt` fills it: the groups the quota reading owes
  (:meth:`Selection._owed_groups`), the best candidate by the order of preference
  (:meth:`Selection._best_owed`), or the post is held for an owed group (reservation), or
  tried again later;
- :meth:`Selection._fill` settles the quota accounts and appoints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from sim import kernels, rules
from sim.codes import LONG, U_LONG, U_WOMEN, U_YOUNG, WOMEN, YOUNG
from sim.events import Due, Vacancy
from sim.scenario import AfterHold, Reading

if TYPE_CHECKING:
    from sim.model import Model


class RankMembers:
    """Per rank, the people who hold it (in no order), kept current on each change of rank,
    so that a scan for candidates reads only the ranks that feed a post."""

    def __init__(self, cap: int) -> None:
        self.ids = np.full((5, cap), -1, dtype=np.int64)  # ids[r, :size[r]]: rank r's people
        self.size = np.zeros(5, dtype=np.int64)
        self.slot = np.full(cap, -1, dtype=np.int64)  # where each person is in their row

    def grow(self, cap: int) -> None:
        old = self.ids.shape[1]
        ids = np.full((5, cap), -1, dtype=np.int64)
        ids[:, :old] = self.ids
        self.ids = ids
        self.slot = np.concatenate([self.slot, np.full(cap - old, -1, dtype=np.int64)])

    def move(self, i: int, old: int, new: int) -> None:
        """Person ``i`` goes from rank ``old`` to rank ``new`` (either may be GONE, -1)."""
        ids, size, slot = self.ids, self.size, self.slot
        if old >= 0:
            k = slot.item(i)
            last = size.item(old) - 1
            j = ids.item(old, last)
            ids[old, k] = j
            slot[j] = k
            size[old] = last
        if new >= 0:
            k = size.item(new)
            ids[new, k] = i
            slot[i] = k
            size[new] = k + 1
        else:
            slot[i] = -1

    def add(self, idx: np.ndarray, ranks: np.ndarray) -> None:
        """New people ``idx`` (in no rank yet) take ``ranks``, in the order given."""
        ranks = np.broadcast_to(ranks, idx.shape)
        for r in range(5):
            who = idx[ranks == r]
            k = int(self.size[r])
            self.ids[r, k : k + len(who)] = who
            self.slot[who] = np.arange(k, k + len(who))
            self.size[r] = k + len(who)

    def drop(self, idx: np.ndarray, ranks: np.ndarray) -> None:
        """People ``idx`` leave their ``ranks``."""
        for i, r in zip(idx.tolist(), np.broadcast_to(ranks, idx.shape).tolist(), strict=True):
            if r >= 0:
                self.move(i, r, -1)


def index_recruits(self: Model, idx: np.ndarray) -> None:
    """Append new pool members to the mirrors and to the pool's waiting heap."""
    self.rank_l.extend(self.rank[idx].tolist())
    self.retire_l.extend(self.retire[idx].tolist())
    self.birth_l.extend(self.birth[idx].tolist())
    self.female_l.extend(self.female[idx].tolist())
    self.hz_left_l.extend(self.hz_left[idx].tolist())
    self.hz_t_l.extend(self.hz_t[idx].tolist())
    self.ef_l.extend(self.elig_from[idx].tolist())
    self.eu_l.extend(self.elig_until[idx].tolist())
    self.unit_l.extend(self.unit[idx].tolist())


def index_move(
    self: Model, i: int, r: int, ef: float = math.inf, eu: float = -math.inf, unit: int = -1
) -> None:
    """Keep the mirrors and sorted lists current after person ``i`` moved to rank ``r``
    (``GONE`` for a departure), with their new eligibility window and unit."""
    self.rank_l[i] = r
    self.ef_l[i] = ef
    self.eu_l[i] = eu
    self.unit_l[i] = unit


def scan_best(self: Model, s: int, t: float, unit: int) -> int:
    """Best eligible person of rank ``s`` at ``t`` on merit (with the same-unit bonus), -1 if
    nobody is eligible: one compiled pass over the rank's members (:func:`kernels.best_of_rank`)."""
    return int(
        kernels.best_of_rank(
            self.members.ids,
            self.members.size,
            s,
            self.elig_from,
            self.elig_until,
            self.score,
            self.unit,
            unit,
            self.same_unit_bonus,
            t,
        )
    )


def open_vacancy(self: Model, p: int) -> None:
    if not self.post_active[p]:
        return  # the post was abolished: it goes with its holder
    self.vacant_since[p] = self.env.now
    k = self.post_nvac[p]
    self.post_nvac[p] = k + 1
    if k < self.k_max:
        delay = self.post_delay.item(p, k)
        draws = None  # read from the post's table when needed
    else:
        g = self.rng["overflow"]
        sh = self.sc.dynamics.selection_delay_shape
        mean = self.sc.dynamics.selection_delay_months
        delay = float(g.gamma(sh, mean / sh)) if mean > 0 else 0.0
        draws = g.random(3)
    Due(self.env, delay, self._attempt, Vacancy(p, k, draws))


def quota_u(self: Model, v: Vacancy, col: int) -> float:
    """The vacancy's uniform draw for a quota decision (column ``col``)."""
    if v.draws is None:
        return self.post_u.item(v.post, v.k, col)
    return float(v.draws[col])


def candidates(self: Model, p: int, t: float, relax: bool = False) -> np.ndarray:
    """People eligible for post ``p`` at time ``t`` (see :mod:`sim.rules` for the rules).

    ``relax`` waives the 24-months-in-post rule (used once a reservation has run out).
    """
    r = self.post_rank_l[p]
    q = self.qual
    return kernels.eligible(
        self.members.ids,
        self.members.size,
        self.elig_from,
        self.elig_until,
        self.src_lut[r],
        t,
        relax,
        self.std_code[r] if self.std_block[r] else 0,
        q.theory,
        q.it,
        q.language_b1,
        q.degree,
        q.update_t,
        self.update_months,
        q.ethnic_minority,
        q.international,
        q.local,
    )


def on_merit(self: Model, cand: np.ndarray, p: int) -> int:
    """The best of ``cand`` on merit for post ``p`` (with the same-unit bonus)."""
    return int(
        kernels.best_on_merit(
            cand, self.score, self.unit, self.post_unit_l[p], self.same_unit_bonus
        )
    )


def attempt(self: Model, ev: Due) -> None:
    """Try to fill a vacant post: merit within the groups the policies say it owes.

    The groups an appointment owes (:meth:`_owed_groups`) are served on their own
    accounts: the best candidate in every owed group first (a young woman serves both
    shares), else the best in one of them, the group further behind first; the other
    is owed again at the next appointment. Only when no candidate is in any owed group
    and vacancy reservation is on is the post held, re-examined every
    ``recheck_months`` until the holding time runs out; then it is filled on merit (or,
    with ``after: relax``, from the owed groups with the 24-month rule waived). A post
    is never held for a combination of groups.
    """
    v = ev.arg
    t = self.env.now
    p = v.post
    if self.guard_vacancies and (
        self.post_holder.item(p) >= 0 or v.k != self.post_nvac[p] - 1 or not self.post_active[p]
    ):
        return  # filled by a move or abolished meanwhile (and perhaps vacant again since)
    if v.first_try is None:
        v.first_try = t
    if self.fast and self.post_plain[p]:  # no policy can apply: straight to merit
        best = self._scan_best(self.post_source[p], t, self.post_unit_l[p])
        if best < 0:
            self._retry(v, reserved=False)
        else:
            self._appoint(best, p)
        return
    r = self.post_rank_l[p]
    found: list[np.ndarray] = []

    def candidates() -> np.ndarray:
        if not found:
            found.append(self._candidates(p, t))
        return found[0]

    owed = self._owed_groups(v, p, r, self.post_tier_l[p], candidates, t)
    if owed is None:  # a draw needs candidates and nobody is eligible
        self._retry(v, reserved=False)
        return
    hard, soft = owed
    planned = self._successors(p)
    use_plan = bool(planned)
    nonlocal_first = self.nonlocal_post[p]
    if (
        self.fast
        and not (hard or soft or use_plan or nonlocal_first or self.std_block[r])
        and len(self.src_list[r]) == 1
    ):
        # (With a blocking standard the vectorised path below checks it for everyone at
        # once: far cheaper than person by person when few meet it.)
        best = self._scan_best(self.src_list[r][0], t, self.post_unit_l[p])
        if best < 0:
            self._retry(v, reserved=False)
        else:
            self._fill(best, p, v, hard, 0)
        return
    cand = candidates()
    if len(cand) == 0:
        self._retry(v, reserved=False)
        return
    if not (hard or soft or use_plan or nonlocal_first):
        self._fill(self._on_merit(cand, p), p, v, hard, 0)
        return
    best, short = self._best_owed(cand, p, r, t, hard, soft, planned)
    if best >= 0:
        self._fill(best, p, v, hard, short)
        return
    if self.reserve:  # nobody in any owed group: hold the post for them
        if t - v.first_try < self.max_hold - 1e-9:
            self._retry(v, reserved=True)
            return
        if self.after_hold is AfterHold.RELAX:
            wide = self._candidates(p, t, relax=True)
            best, _ = self._best_owed(wide, p, r, t, hard, soft, [], groups_only=True)
            if best >= 0:
                self._fill(best, p, v, hard, short)
                return
    self._fill(self._on_merit(cand, p), p, v, hard, short)


def best_owed(
    self: Model,
    cand: np.ndarray,
    p: int,
    r: int,
    t: float,
    hard: tuple[int, ...],
    soft: tuple[int, ...],
    planned: Sequence[int],
    groups_only: bool = False,
) -> tuple[int, int]:
    """The best candidate for post ``p`` by the order of preference, and the owed groups
    with nobody eligible (a bit mask, bit ``g`` for group ``g``).

    Preference: candidates in every owed group, else in one of them (in the order of
    ``hard``); within that, the post's planned successors first, long-service members
    (``soft``) first, and for a district secretary non-local candidates first. -1 when
    some group is owed and no candidate is in any (``groups_only``: also when nobody is
    owed).
    """
    best, short = kernels.best_owed(
        cand,
        self.score,
        self.unit,
        self.post_unit_l[p],
        self.same_unit_bonus,
        np.array(hard, dtype=np.int64),
        groups_only,
        bool(soft),
        float(self.long_months[r]),
        np.array(planned, dtype=np.int64),
        bool(self.nonlocal_post[p]),
        self.qual.local,
        self.female,
        self.birth,
        self.retire,
        t,
        float(rules.YOUNG_AGE_MONTHS),
    )
    return int(best), int(short)


def owed_groups(
    self: Model,
    v: Vacancy,
    p: int,
    r: int,
    tier: int,
    candidates: Callable[[], np.ndarray],
    t: float,
) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The groups this appointment owes: hard (women, young), in the order to serve
    them, and soft (long service).

    A woman is owed first under the women-staff rule (a rule of the post's unit); then
    the yearly shares in the scenario's reading, the group further behind its share
    first (:func:`sim.rules.quota_priority`): under ``floor`` every group the year's
    count says is due (:func:`sim.rules.floor_requires_group`); under ``expected`` each
    group this vacancy holds a reservation for (:meth:`_share_token`). Only hard groups
    can hold a post vacant; the long-service preference is soft. ``None`` means a draw
    needed candidates and nobody is eligible yet.
    """
    v.rule = self._women_rule_applies(p)
    hard: list[int] = [WOMEN] if v.rule else []
    if self.share_tiers[tier] and self.share_reading is not Reading.NONE:
        n = self.year_count[tier] + 1
        so_far = (self.year_women[tier], self.year_young[tier])
        due: list[int] = []
        for g in (WOMEN, YOUNG):
            q = self.share_q[g]
            if q <= 0:
                continue
            if self.share_reading is Reading.FLOOR:
                need = rules.floor_requires_group(q, n, so_far[g])
            else:
                if v.drawn[g] is None:  # drawn once per vacancy, on its first attempt
                    token = self._share_token(v, g, tier, r, candidates, t)
                    if token is None:
                        return None
                    v.drawn[g] = token
                need = bool(v.drawn[g])
            if need:
                due.append(g)
        if len(due) > 1:
            order = rules.quota_priority(self.share_q, n, so_far)
            due.sort(key=order.index)
        v.due = sum(1 << g for g in due)
        hard.extend(g for g in due if g not in hard)
    soft: tuple[int, ...] = ()
    if self.long_on and self.long_months[r] > 0:
        if v.drawn[LONG] is None:
            drawn = self._long_service_required(v, candidates, r, t)
            if drawn is None:
                return None
            v.drawn[LONG] = drawn
        if v.drawn[LONG]:
            soft = (LONG,)
    return tuple(hard), soft


def share_token(
    self: Model,
    v: Vacancy,
    g: int,
    tier: int,
    r: int,
    candidates: Callable[[], np.ndarray],
    t: float,
) -> bool | None:
    """The ``expected`` reading: is this vacancy reserved for group ``g``?

    It is when its uniform falls below the reservation probability that makes the
    expected share equal the target (:func:`sim.rules.expected_share_probability`, on
    the rates realised so far in the tier: :func:`sim.rules.realised_rate`), or when an
    earlier appointment owed the group and served the other one instead (a reservation
    carried over). ``None``: the prior needs candidates and nobody is eligible.
    """
    accounts = self.share_stats[tier][g]
    if accounts is None:  # the prior: the group's share of the first contest's candidates
        cand = candidates()
        if len(cand) == 0:
            return None
        base = np.count_nonzero(self._group_flags(g, cand, r, t)) / len(cand)
        accounts = self.share_stats[tier][g] = rules.new_accounts(base)
    u = self._quota_u(v, U_WOMEN if g == WOMEN else U_YOUNG)
    aim = rules.share_to_aim(self.share_q[g], accounts)
    pi = rules.expected_share_probability(aim, *rules.contest_rates(accounts))
    if u < pi:
        return True
    debt = self.share_debt[tier]
    if debt[g] > 0:
        debt[g] -= 1
        return True
    return False


def fill(self: Model, i: int, p: int, v: Vacancy, hard: tuple[int, ...], short: int) -> None:
    """Appoint ``i`` to ``p`` and settle the quota accounts of the vacancy ``v``.

    Under the ``expected`` reading the tier's realised rates are updated: a reserved
    vacancy that went to its group counts as a success; one that served another owed
    group instead passes its reservation on to the next vacancy of the tier; one that
    went to nobody owed counts as a miss; an unreserved one is an open contest. The
    long-service preference is counted likewise over first-time appointments.
    """
    t = self.env.now
    r = self.post_rank_l[p]
    tier = self.post_tier_l[p]
    inside = (self.female_l[i], (t - self.birth_l[i]) < rules.YOUNG_AGE_MONTHS)
    if self.share_reading is Reading.EXPECTED and self.share_tiers[tier]:
        served_any = any(inside[g] for g in hard)
        for g in (WOMEN, YOUNG):
            if self.share_q[g] <= 0:
                continue
            accounts = self.share_stats[tier][g]
            if accounts is None or v.drawn[g] is None:
                continue
            if v.drawn[g] and served_any and not inside[g]:
                self.share_debt[tier][g] += 1  # served the other owed group: owed again
            else:
                rules.record_contest(accounts, bool(v.drawn[g]), inside[g])
    if (
        self.long_on
        and self.long_reading is Reading.EXPECTED
        and self.long_months[r] > 0
        and self.max_rank.item(i) < r
        and v.drawn[LONG] is not None
        and (accounts := self.long_stats[r]) is not None
    ):
        long = self.retire_l[i] - t >= self.long_months[r]
        rules.record_contest(accounts, bool(v.drawn[LONG]), long)
    self._appoint(i, p, (v.due, v.rule, short))


def women_rule_applies(self: Model, p: int) -> bool:
    """The >30%-women-staff rule: the post's unit has no woman at this tier (seed 001)."""
    tier = self.post_tier_l[p]
    u = self.post_unit_l[p]
    return self.rule_tier_l[tier] and self.flagged_l[u] and self.women_at[u][tier] == 0


def long_service_required(
    self: Model, v: Vacancy, candidates: Callable[[], np.ndarray], r: int, t: float
) -> bool | None:
    """The 65% preference: first-time appointees with 2 (heads) or 3 (deputies) terms left.

    Under ``expected`` the vacancy prefers the group with the probability that makes the
    expected share of first-time appointees equal the target, on the rates realised so
    far at the rank (as :meth:`_share_token`); under ``floor`` it always prefers the
    group. ``None`` when the draw needs candidates and nobody is eligible yet.
    """
    if self.long_reading is Reading.NONE:
        return False
    accounts = self.long_stats[r]
    if self.long_reading is Reading.EXPECTED and accounts is not None:
        u = self._quota_u(v, U_LONG)
        aim = rules.share_to_aim(self.long_share, accounts)
        return u < rules.expected_share_probability(aim, *rules.contest_rates(accounts))
    cand = candidates()
    if len(cand) == 0:
        return None
    first = self.max_rank[cand] < r
    if not first.any():
        return False
    base = np.count_nonzero(self._group_flags(LONG, cand[first], r, t)) / np.count_nonzero(first)
    if self.long_reading is Reading.FLOOR:
        return bool(base < 1.0)  # always prefer the group when the floor reading is chosen
    self.long_stats[r] = rules.new_accounts(base)  # the prior: this contest's candidates
    return self._long_service_required(v, candidates, r, t)


def group_flags(self: Model, g: int, cand: np.ndarray, r: int, t: float) -> np.ndarray:
    if g == WOMEN:
        return self.female[cand]
    if g == YOUNG:
        return (t - self.birth[cand]) < rules.YOUNG_AGE_MONTHS
    return (self.retire[cand] - t) >= self.long_months[r]


def retry(self: Model, v: Vacancy, reserved: bool) -> None:
    if reserved and v.post not in self.reserved_since:
        self.reserved_since[v.post] = self.env.now
    Due(self.env, self.recheck, self._attempt, v)
