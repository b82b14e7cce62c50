"""Training: yearly training plans send people to courses with a limited number of seats.

At the yearly plan, the policy ranks the people who lack the course's qualification and
nominates the first ``intake_per_year``; nominees queue for a seat, study for the course's
duration and then hold the qualification. Nominees ask for places in the order of the plan's
list, and plans come once a year, so the first-come-first-served queue serves earlier plans
first and, within a plan, the policy's order. People who start together form a cohort, which
costs two SimPy events (its start and its end) whatever its size. Someone who leaves while
queueing gives up the place; someone who leaves during the course keeps the place until it
ends (the seat is spent) and graduates nowhere.

Selection is deterministic given the state, so training draws no random numbers.
"""

from __future__ import annotations

import functools
from collections import deque
from typing import Any

import numpy as np

from sim.plugin import Host, Mechanism
from sim.scenario import Course, Scenario
from sim.succession import SuccessionPlan

TIER_CODE = {"pool": 0, "l2": 1, "l1": 2}
# Columns of the training table: nominated, started, completed.
NOMINATED, STARTED, COMPLETED = range(3)


class TrainingDesk(Mechanism):
    """The courses of one replication and the people on them."""

    name = "training"

    def __init__(self, host: Host, scenario: Scenario) -> None:
        super().__init__(host, scenario)
        model = host
        self.cfg = cfg = scenario.policy.training
        self.courses: list[Course] = list(cfg.courses)
        self.free = [c.seats for c in self.courses]  # seats not taken
        self.queue: list[deque[int]] = [deque() for _ in self.courses]  # waiting, in order
        self.enrolled: list[set[int]] = [set() for _ in self.courses]
        self.table = np.zeros((model.n_years, len(self.courses), 3), dtype=np.int64)

    @classmethod
    def enabled(cls, scenario: Scenario) -> bool:
        tr = scenario.policy.training
        return tr.enabled and bool(tr.courses)

    def start(self) -> None:
        """The first yearly plan: the plan's month of the first year, or of the next."""
        first_plan = 12 * self.sc.start.year + self.cfg.month - 1
        while first_plan < max(self.m.t0, self.m.env.now):
            first_plan += 12
        self.m.schedule_at(first_plan, self.plan)

    def result(self) -> dict[str, np.ndarray]:
        return {"training": self.table}

    # ------------------------------------------------------------------ plans
    def plan(self, _ev: Any = None) -> None:
        """The yearly training plan: nominate, per course, the first people on the policy's list."""
        m = self.m
        t = m.env.now
        yi = m.year_index(t)
        for c_idx, course in enumerate(self.courses):
            nominees = self.nominees(c_idx, course, t)
            people = nominees.tolist()
            if not people:
                continue
            self.enrolled[c_idx].update(people)
            self.table[yi, c_idx, NOMINATED] += len(people)
            m.schedule_in(0.0, functools.partial(self._join, c_idx, people), urgent=True)
        m.schedule_at(t + 12, self.plan)

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
            pool = m.mechanism(SuccessionPlan.name)
            if isinstance(pool, SuccessionPlan) and pool.plans_of:
                in_pool = np.array([i in pool.plans_of for i in who.tolist()])
                if in_pool.any():
                    members = who[in_pool]
                    planned[in_pool] = ~pool.at_standard(members, t)
            below = ~m.meets_standard(who, rank[who], t) & (rank[who] > 0)
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
    # A course is a first-come-first-served queue in front of its seats. People who start
    # together study together and finish together, so a cohort costs one event to start and
    # one to finish, whatever its size.
    #
    # The events mirror, one for one, the order in which a SimPy ``Resource`` with one
    # process per nominee would act (request, grant, study, release, grant the next), so the
    # results are those of that model to the last bit:
    # - joining the queue (the nominees' first step, urgent) tries once per nominee to give
    #   the head of the queue a free seat;
    # - a grant is acted on in a later event at the same time: the grantee starts, or, if
    #   they have left meanwhile, gives the seat back at once;
    # - at the end of a course the cohort's seats are freed and its members who are still
    #   present graduate; each freed seat then tries once, in a later event at the same
    #   time, to give the head of the queue a place.
    def _join(self, c_idx: int, people: list[int], _ev: Any = None) -> None:
        """The plan's nominees join the queue of course ``c_idx`` (one try each for a seat)."""
        self.queue[c_idx].extend(people)
        self._offer(c_idx, len(people))

    def _offer(self, c_idx: int, tries: int) -> None:
        """Up to ``tries`` times, give the head of the queue a free seat; the people granted
        act on it in one event at the same time."""
        queue = self.queue[c_idx]
        granted = []
        for _ in range(tries):
            if not queue or self.free[c_idx] == 0:
                break
            self.free[c_idx] -= 1
            granted.append(queue.popleft())
        if granted:
            self.m.schedule_in(0.0, lambda _ev: self._start(c_idx, granted))

    def _start(self, c_idx: int, granted: list[int]) -> None:
        """The people granted a seat start the course; those who have left give it back."""
        m = self.m
        t = m.env.now
        course = self.courses[c_idx]
        cohort = []
        returned = 0
        for i in granted:
            if m.present(i, t):
                cohort.append(i)
            else:  # left while waiting: the place goes to the next in line
                self.enrolled[c_idx].discard(i)
                self.free[c_idx] += 1
                returned += 1
        if cohort:
            self.table[m.year_index(t), c_idx, STARTED] += len(cohort)
            m.schedule_in(course.months, lambda _ev: self._finish(c_idx, cohort))
        if returned:
            m.schedule_in(0.0, lambda _ev: self._offer(c_idx, returned))

    def _finish(self, c_idx: int, cohort: list[int]) -> None:
        """The course ends for a cohort: its seats are freed and those present graduate.

        Someone who left during the course kept the place until it ended (the seat is spent)
        and graduates nowhere.
        """
        m = self.m
        t = m.env.now
        course = self.courses[c_idx]
        yi = m.year_index(t)
        for i in cohort:
            self.free[c_idx] += 1
            if m.present(i, t):
                self.grant(i, course.grants, t)
                self.table[yi, c_idx, COMPLETED] += 1
            self.enrolled[c_idx].discard(i)
        m.schedule_in(0.0, lambda _ev: self._offer(c_idx, len(cohort)))

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
