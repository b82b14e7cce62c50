"""A restructuring shock on a date: units abolished or merged, deputies capped, early retirement.

SPEC §8 (Resolution 60-NQ/TW and Resolution 202/2025/QH15: the district level abolished from
1 July 2025; Decree 45/2025: departments capped, merged units keeping surplus deputies for up
to 5 years; Decree 178/2024 as amended by 67/2025: early retirement on favourable terms).

On the date, in this order:

1. posts go: every post of an abolished block; the head posts of units merged into another
   (their deputies' posts move to the merged unit); deputy posts beyond the cap of a unit
   (vacant ones first, then those whose holders retire soonest). A post that goes is never
   filled again; a vacancy it had is closed.
2. early retirement: each leader takes it with the uptake of their band of years to
   retirement (one uniform draw a person, from the ``restructuring`` stream);
3. the surplus (leaders whose post went and who stayed) are moved to a vacant post of their
   rank elsewhere, longest-waiting first; those left over wait as surplus until they leave or
   the grace period ends (``reassign_or_wait``), or retire at once (``reassign_or_retire``).
   At the end of the grace period the remaining surplus are moved if a post is free, else
   they leave.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim import rules
from sim.codes import REASSIGN, RESTRUCTURED
from sim.plugin import Host, Mechanism
from sim.population import L1_DEPUTY, L1_HEAD
from sim.scenario import Scenario


class RestructuringDesk(Mechanism):
    """The restructuring of one replication."""

    name = "restructuring"
    moves_posts = True

    def __init__(self, host: Host, scenario: Scenario) -> None:
        super().__init__(host, scenario)
        cfg = scenario.policy.restructuring
        d = cfg.date
        self._configure(cfg, 12 * d.year + d.month - 1 + (d.day - 1) / 31.0)

    def _configure(self, cfg: Any, when: float) -> None:
        """The shock's settings (``grace_months``, ``surplus``, ``early_retirement``, read
        from a restructuring or a merger) and its date."""
        self.cfg = cfg
        self.when = when
        self.bands = [(b.min_years, b.max_years, b.uptake) for b in cfg.early_retirement]
        self.surplus: list[int] = []  # posts that went while held
        self.gone_posts = 0
        self.early = 0

    @classmethod
    def enabled(cls, scenario: Scenario) -> bool:
        return scenario.policy.restructuring.enabled

    def start(self) -> None:
        self.m.schedule_at(self.when, self.apply)

    def apply(self, _ev: Any = None) -> None:
        m = self.m
        t = m.env.now
        lay = m.layout
        cut = np.zeros(lay.n_posts, dtype=bool)
        blocks = [lay.block_ids.index(b) for b in self.cfg.abolish_blocks]
        cut |= np.isin(lay.post_block, blocks)
        for mg in self.cfg.merge:
            b = lay.block_ids.index(mg.block)
            units = np.flatnonzero(lay.unit_block == b).tolist()
            keep = units[: mg.into_units]
            for j, u in enumerate(units[mg.into_units :]):
                target = keep[j % len(keep)]
                posts = np.flatnonzero(m.post_unit == u)
                cut[posts[m.post_rank[posts] == L1_HEAD]] = True
                m.set_post_unit(posts, target)
        if self.cfg.deputy_cap is not None:
            cut |= self._over_cap(cut, t)
        self._settle(cut, t)

    def _settle(self, cut: np.ndarray, t: float) -> None:
        """Posts ``cut`` go; early retirement; the surplus reassigned, kept or retired."""
        m = self.m
        for p in np.flatnonzero(cut).tolist():
            if m.post_active[p]:
                self.gone_posts += 1
                m.abolish_post(p)
                if m.post_holder.item(p) >= 0:
                    self.surplus.append(p)
        # Early retirement, surplus or not.
        if self.bands:
            draw = m.rng["restructuring"].random(m.cap)
            holders = m.post_holder[m.post_holder >= 0].tolist()
            for i in holders:
                if draw[i] < rules.early_retirement_uptake(m.retire_l[i] - t, self.bands):
                    m.remove(i, RESTRUCTURED)
                    self.early += 1
        self._absorb(t, final=self.cfg.surplus == "reassign_or_retire")
        if self.surplus:
            m.schedule_at(t + self.cfg.grace_months, self._grace_end)
        m.refresh_unit_counts()

    def _over_cap(self, cut: np.ndarray, t: float) -> np.ndarray:
        """Deputy posts beyond the cap of their unit: vacant ones first, then those whose
        holders retire soonest."""
        m = self.m
        over = np.zeros_like(cut)
        cap = self.cfg.deputy_cap
        assert cap is not None
        deputies = np.flatnonzero((m.post_rank == L1_DEPUTY) & ~cut & np.array(m.post_active))
        for u in np.unique(m.post_unit[deputies]).tolist():
            posts = deputies[m.post_unit[deputies] == u]
            if len(posts) <= cap:
                continue
            holder = m.post_holder[posts]
            left = np.where(holder >= 0, m.retire[np.maximum(holder, 0)] - t, -np.inf)
            order = np.lexsort((posts, left))  # vacant (-inf) first, then soonest to retire
            over[posts[order[: len(posts) - cap]]] = True
        return over

    def _absorb(self, t: float, final: bool) -> None:
        """Move the surplus to vacant posts of their rank; the rest wait or, if ``final``,
        leave."""
        m = self.m
        waiting = []
        # The vacant posts of each rank, longest-waiting first (what m.longest_vacant would
        # return one call at a time; nothing else fills a post while this runs).
        free: dict[int, list[int]] = {}
        for q, _opened in sorted(m.vacant_since.items(), key=lambda kv: kv[1]):  # stable
            free.setdefault(m.post_rank_l[q], []).append(q)
        for lst in free.values():
            lst.reverse()  # pop() from the end: the longest-waiting
        for p in self.surplus:
            i = m.post_holder.item(p)
            if i < 0:
                continue  # left meanwhile: the post is simply gone
            if m.retire_l[i] <= t:
                continue  # retires this very moment: their retirement is already scheduled
            queue = free.get(m.post_rank_l[p], [])
            q = queue.pop() if queue else -1
            if q >= 0:
                m.move(i, q, REASSIGN)
            elif final:
                m.remove(i, RESTRUCTURED)
            else:
                waiting.append(p)
        self.surplus = waiting

    def _grace_end(self, _ev: Any = None) -> None:
        self._absorb(self.m.env.now, final=True)
