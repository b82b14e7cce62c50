"""Training: yearly training plans send people to courses whose seats are SimPy resources.

Each course is a :class:`simpy.Resource` with one place per seat. At the yearly plan, the
policy ranks the people who lack the course's qualification and nominates the first
``intake_per_year``; each nominee is a SimPy process that queues for a place, studies for the
course's duration and then holds the qualification. Nominees ask for places in the order of
the plan's list, and plans come once a year, so the first-come-first-served queue serves
earlier plans first and, within a plan, the policy's order (a priority queue would give the
same order at a higher cost). Someone who leaves while queueing gives up the place; someone
who leaves during the course keeps the place until it ends (the seat is spent) and graduates
nowhere.

Selection is deterministic given the state, so training draws no random numbers.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.scenario import Course, Training

if TYPE_CHECKING:
    from sim.model import Model

TIER_CODE = {"pool": 0, "l2": 1, "l1": 2}
# Columns of the training table: nominated, started, completed.
NOMINATED, STARTED, COMPLETED = range(3)


class TrainingDesk:
    """The courses of one replication and the people on them."""

    def __init__(self, model: Model, cfg: Training) -> None:
        self.m = model
        self.cfg = cfg
        self.courses: list[Course] = list(cfg.courses)
        self.seats = [simpy.Resource(model.env, capacity=c.seats) for c in self.courses]
        self.enrolled: list[set[int]] = [set() for _ in self.courses]
        self.table = np.zeros((model.n_years, len(self.courses), 3), dtype=np.int64)

    # ------------------------------------------------------------------ plans
    def plan(self, _ev: Any = None) -> None:
        """The yearly training plan: nominate, per course, the first people on the policy's list."""
        m = self.m
        t = m.env.now
        yi = m._year_index(t)
        for c_idx, course in enumerate(self.courses):
            nominees = self.nominees(c_idx, course, t)
            for i in nominees.tolist():
                self.enrolled[c_idx].add(i)
                self.table[yi, c_idx, NOMINATED] += 1
                m.env.process(self.attend(i, c_idx, course))
        m._at(t + 12, self.plan)

    def nominees(self, c_idx: int, course: Course, t: float) -> np.ndarray:
        """People to send to ``course`` now, in the policy's order (at most the intake)."""
        m = self.m
        n = m.n
        if course.intake_per_year == 0:
            return np.zeros(0, dtype=np.int64)
        rank = m.rank[:n]
        alive = (rank >= 0) & (m.gone_t[:n] > t)
        tiers = {TIER_CODE[x] for x in course.tiers}
        tier = np.where(rank >= 0, np.asarray([0, 1, 1, 2, 2])[np.maximum(rank, 0)], -1)
        who = np.flatnonzero(alive & np.isin(tier, list(tiers)))
        who = who[self.lacks(course, who, t)]
        enrolled = self.enrolled[c_idx]
        if enrolled:
            who = who[[i not in enrolled for i in who.tolist()]]
        if len(who) == 0:
            return who
        priority = course.priority or self.cfg.priority
        if priority == "merit_first":
            order = np.lexsort((who, -m.score[who]))
        elif priority == "youngest_first":
            order = np.lexsort((who, -m.birth[who]))
        else:  # standard_first
            # First succession-pool members below the standard of the post they are planned
            # for, then holders below the standard of their own post, then leaders before
            # specialists, then merit.
            planned = np.zeros(len(who), dtype=bool)
            if m.succession is not None and m.succession.plans_of:
                in_pool = np.array([i in m.succession.plans_of for i in who.tolist()])
                if in_pool.any():
                    members = who[in_pool]
                    planned[in_pool] = ~m.succession.at_standard(members, t)
            below = ~m._meets_std(who, rank[who], t) & (rank[who] > 0)
            order = np.lexsort((who, -m.score[who], -rank[who], ~below, ~planned))
        return who[order[: course.intake_per_year]]

    def lacks(self, course: Course, who: np.ndarray, t: float) -> np.ndarray:
        """Who of ``who`` does not hold what ``course`` grants (an update lapsing within the
        next year counts as lacking)."""
        q = self.m.qual
        g = course.grants
        if g == "knowledge_update":
            return (t + 12.0 - q.update_t[who]) >= self.m.update_months
        return ~q.flags(g, who, t, self.m.update_months)

    # --------------------------------------------------------------- courses
    def attend(
        self, i: int, c_idx: int, course: Course
    ) -> Generator[simpy.events.Event, Any, None]:
        """One nominee: wait for a place, study, graduate (SimPy process)."""
        m = self.m
        try:
            with self.seats[c_idx].request() as req:
                yield req
                if not m._present(i, m.env.now):
                    return  # left while waiting: the place goes to the next in line
                self.table[m._year_index(m.env.now), c_idx, STARTED] += 1
                yield m.env.timeout(course.months)
            if m._present(i, m.env.now):
                self.grant(i, course.grants, m.env.now)
                self.table[m._year_index(m.env.now), c_idx, COMPLETED] += 1
        finally:
            self.enrolled[c_idx].discard(i)

    def grant(self, i: int, what: str, t: float) -> None:
        q = self.m.qual
        if what == "theory_intermediate":
            q.theory[i] = max(int(q.theory[i]), 1)
        elif what == "theory_advanced":
            q.theory[i] = 2
        elif what == "it_basic":
            q.it[i] = max(int(q.it[i]), 1)
        elif what == "it_advanced":
            q.it[i] = 2
        elif what == "knowledge_update":
            q.update_t[i] = t
        else:  # language_b1, degree
            getattr(q, what)[i] = True
