"""The succession pool (*quy hoạch*): planned successors for leadership posts.

Quy định 50-QĐ/TW (2021): each post is planned for the next term with at most three people,
each person in at most three posts' plans; a member needs enough service left for a full term;
the pool as a whole should be at least 25% women and 15% under 40; members who leave, are
disciplined or become over age drop out at the yearly review, and the whole pool is planned
afresh for each five-year term. With the pool-first policy, a vacancy goes to one of the post's
planned successors when one is eligible.

Choice of successors: for each planned post (higher ranks first, then post order), the plan
first takes ceil(floor x places) women and as many under-40s (one each for three places and
the 25% and 15% floors), then fills its other places on evaluation score, all from the post's
source ranks, people not yet in the pool first. So every post's plan holds the floors when its
candidates allow, and the pool's shares reach them unless the candidates run out.
Selection is deterministic given the state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim import rules
from sim.plugin import Host, Mechanism
from sim.scenario import RANK_CODE, Scenario

# Columns of the yearly pool statistics.
POOL_STATS = ("members", "women", "young", "at_standard", "ready_per_post", "posts_covered")


class SuccessionPlan(Mechanism):
    """The succession pool of one replication."""

    name = "succession"

    def __init__(self, host: Host, scenario: Scenario) -> None:
        super().__init__(host, scenario)
        model = host
        self.cfg = cfg = scenario.policy.succession_pool
        ranks = {RANK_CODE[r] for r in cfg.ranks}
        lay = model.layout
        # Planned posts, higher ranks first.
        posts = [p for p in range(lay.n_posts) if int(lay.post_rank[p]) in ranks]
        self.posts = sorted(posts, key=lambda p: (-int(lay.post_rank[p]), p))
        self.members: dict[int, list[int]] = {p: [] for p in self.posts}
        self.plans_of: dict[int, int] = {}  # person -> number of posts they are planned for
        self.stats = np.full((model.n_years, len(POOL_STATS)), np.nan)

    @classmethod
    def enabled(cls, scenario: Scenario) -> bool:
        return scenario.policy.succession_pool.enabled

    def start(self) -> None:
        """Plan the pool at the start, then review it each year (re-plan in a new term)."""
        now = self.m.env.now  # the start, or the merger date of a merged province
        self.replan(now)
        first_review = 12 * self.sc.start.year + self.cfg.review_month - 1
        while first_review <= now:
            first_review += 12
        self.m.schedule_at(first_review, self._yearly)

    def _yearly(self, _ev: Any = None) -> None:
        """The pool's yearly review, or its full re-plan at the start of a term."""
        t = self.m.env.now
        year = int(t // 12)
        if year in self.cfg.replan_years and year != self.sc.start.year:
            self.replan(t)
        else:
            self.review(t)
        self.m.schedule_at(t + 12, self._yearly)

    def successors(self, p: int) -> Sequence[int]:
        """The post's planned successors, when the pool-first policy is on."""
        return self.members.get(p, ()) if self.cfg.appoint_from_pool else ()

    def year_end(self, yi: int, t: float) -> None:
        self.snapshot(yi, t)

    def result(self) -> dict[str, np.ndarray]:
        return {"pool": self.stats}

    # ---------------------------------------------------------------- planning
    def replan(self, t: float) -> None:
        """Plan the whole pool afresh (a new term)."""
        self.members = {p: [] for p in self.posts}
        self.plans_of = {}
        self.fill(t)

    def review(self, t: float) -> None:
        """The yearly review: drop members who no longer qualify, then fill the gaps."""
        people, posts = self._pairs()
        ok = self.qualify(people, posts, t).tolist()
        k = 0
        for p in self.posts:
            keep = []
            for i in self.members[p]:
                if ok[k]:
                    keep.append(i)
                else:
                    self._release(i)
                k += 1
            self.members[p] = keep
        self.fill(t)

    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (member, post) pair of the plans, post by post, as two arrays."""
        people = [i for p in self.posts for i in self.members[p]]
        posts = [p for p in self.posts for _ in self.members[p]]
        return np.array(people, dtype=np.int64), np.array(posts, dtype=np.int64)

    def qualify(self, people: np.ndarray, posts: np.ndarray, t: float) -> np.ndarray:
        """Whether each ``people[k]`` may stay in (or join) the plan of ``posts[k]`` at ``t``:
        still present, still of a rank that feeds the post (not promoted past it), and with
        enough service left (:func:`sim.rules.pool_service_ok`)."""
        m = self.m
        r = m.rank[people].astype(np.int64)
        present = (r > 0) | ((r == 0) & (m.gone_t[people] > t))
        sources = m.src_lut[m.post_rank[posts], r + 1]
        left = m.retire[people] - t
        return present & sources & rules.pool_service_ok(left, self.cfg.min_service_months)

    def fill(self, t: float) -> None:
        """Fill every plan's empty places (see the module docstring for the order)."""
        m = self.m
        cfg = self.cfg
        need_women = math.ceil(cfg.women_floor * cfg.per_post - 1e-9)
        need_young = math.ceil(cfg.young_floor * cfg.per_post - 1e-9)
        lists: dict[tuple[int, ...], dict[str, list[int]]] = {}
        sets: dict[tuple[int, ...], dict[str, set[int]]] = {}  # the same groups, for look-ups
        self._ptr: dict[tuple[tuple[int, ...], str, bool], int] = {}
        for p in self.posts:
            plan = self.members[p]
            if len(plan) >= cfg.per_post:
                continue
            src = m.src_list[m.post_rank_l[p]]
            if src not in lists:
                cand = self._candidates(src, t).tolist()
                lists[src] = {
                    "all": cand,
                    "women": [i for i in cand if m.female_l[i]],
                    "young": [i for i in cand if self._young(i, t)],
                }
                sets[src] = {"women": set(lists[src]["women"]), "young": set(lists[src]["young"])}
            groups = lists[src]
            for kind, count in (("women", need_women), ("young", need_young)):
                members = sets[src][kind]
                while len(plan) < cfg.per_post and sum(i in members for i in plan) < count:
                    pick = self._best(groups[kind], (src, kind, True), plan, newcomers=True)
                    if pick < 0:
                        pick = self._best(groups[kind], (src, kind, False), plan, False)
                    if pick < 0:
                        break
                    self._add(plan, pick)
            while len(plan) < cfg.per_post:
                pick = self._best(groups["all"], (src, "all", False), plan, newcomers=False)
                if pick < 0:
                    break
                self._add(plan, pick)

    def _best(
        self,
        cand: list[int],
        key: tuple[tuple[int, ...], str, bool],
        plan: list[int],
        newcomers: bool,
    ) -> int:
        """The best of ``cand`` (sorted best first) who can join ``plan``: below the cap of
        plans a person and, with ``newcomers``, in no plan yet; -1 if none.

        People only gain plans during a fill, so whoever fails that test at the head of the
        list fails it for good: a pointer a list moves past them once (linear in all)."""
        cap = self.cfg.posts_per_person
        plans_of = self.plans_of
        k = self._ptr.get(key, 0)
        while k < len(cand):
            c = plans_of.get(cand[k], 0)
            if c >= cap or (newcomers and c > 0):
                k += 1
            else:
                break
        self._ptr[key] = k
        for j in range(k, len(cand)):
            i = cand[j]
            c = plans_of.get(i, 0)
            if c >= cap or (newcomers and c > 0) or i in plan:
                continue
            return i
        return -1

    def _add(self, plan: list[int], i: int) -> None:
        plan.append(i)
        self.plans_of[i] = self.plans_of.get(i, 0) + 1

    def _candidates(self, src: tuple[int, ...], t: float) -> np.ndarray:
        """People of the source ranks who may be planned, best evaluated first."""
        m = self.m
        n = m.n
        ok = np.isin(m.rank[:n], src) & (m.gone_t[:n] > t)
        ok &= (m.retire[:n] - t) >= self.cfg.min_service_months
        who = np.flatnonzero(ok)
        return who[np.lexsort((who, -m.score[who]))]

    def _young(self, i: int, t: float) -> bool:
        return (t - self.m.birth_l[i]) < rules.YOUNG_AGE_MONTHS

    def _release(self, i: int) -> None:
        k = self.plans_of.get(i, 0) - 1
        if k > 0:
            self.plans_of[i] = k
        else:
            self.plans_of.pop(i, None)

    # ------------------------------------------------------------- appointing
    def appointed(self, i: int, p: int) -> None:
        """Person ``i`` took post ``p``: they leave every plan they are in if they now hold a
        rank at or above a planned post's (handled at review) and the post's own plan."""
        plan = self.members.get(p)
        if plan is not None and i in plan:
            plan.remove(i)
            self._release(i)

    # ---------------------------------------------------------------- measures
    def snapshot(self, yi: int, t: float) -> None:
        """Year-end statistics: size, composition, standard, ready successors per post."""
        m = self.m
        people = np.array(sorted(self.plans_of), dtype=np.int64)
        if len(people):
            female = m.female[people]
            young = (t - m.birth[people]) < rules.YOUNG_AGE_MONTHS
            std = self.at_standard(people, t)
            self.stats[yi, 0] = len(people)
            self.stats[yi, 1] = female.mean()
            self.stats[yi, 2] = young.mean()
            self.stats[yi, 3] = std.mean()
        else:
            self.stats[yi, :4] = (0, np.nan, np.nan, np.nan)
        people, posts = self._pairs()
        ok = self.qualify(people, posts, t)
        ok &= (m.elig_from[people] <= t) & (t < m.elig_until[people])
        ok &= m.meets_standard(people, m.post_rank[posts].astype(np.int64), t)
        where = np.repeat(np.arange(len(self.posts)), [len(self.members[p]) for p in self.posts])
        ready = np.bincount(where, weights=ok, minlength=len(self.posts)).tolist()
        self.stats[yi, 4] = float(np.mean(ready)) if ready else np.nan
        self.stats[yi, 5] = float(np.mean([r > 0 for r in ready])) if ready else np.nan

    def at_standard(self, people: np.ndarray, t: float) -> np.ndarray:
        """Whether each member meets the standard of the highest post they are planned for."""
        m = self.m
        top: dict[int, int] = {}
        for p in self.posts:  # higher ranks come first
            for i in self.members[p]:
                top.setdefault(i, m.post_rank_l[p])
        ranks = np.array([top[i] for i in people.tolist()], dtype=np.int64)
        return m.meets_standard(people, ranks, t)

    def members_of(self, ranks: set[int], blocks: set[int] | None = None) -> np.ndarray:
        """Unique members planned for posts of ``ranks`` (and of ``blocks``, if given)."""
        m = self.m
        block = m.layout.post_block
        seen = {
            i
            for p in self.posts
            if m.post_rank_l[p] in ranks and (blocks is None or int(block[p]) in blocks)
            for i in self.members[p]
        }
        return np.array(sorted(seen), dtype=np.int64)
