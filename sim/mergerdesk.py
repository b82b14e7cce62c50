"""The merger date inside the merged province's model: a plug-in (:mod:`sim.plugin`).

:class:`MergerDesk` is the mechanism of a merged province (a scenario with a ``merger``
block switched on): its model starts on the merger date from the source provinces' people
(:class:`sim.merger.Handoff`, which also carries the union layout), and on that date the desk
applies the merged structure as a restructuring does (:mod:`sim.restructuring`): the posts
above the merged norm cut (vacant ones first, then those whose holders retire soonest), early
retirement by years to retirement (Decree 178/2024), the surplus reassigned to a vacant post
of their rank, kept until the grace period ends (Decree 45/2025) or retired. Its counts are
:data:`LEDGER`. Running a merged replication is :mod:`sim.merger`; like every mechanism this
module never imports the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.codes import REASSIGN, RESTRUCTURED
from sim.plugin import Host, Mechanism
from sim.population import POOL
from sim.restructuring import RestructuringDesk
from sim.scenario import Scenario

#: The merger's ledger (:attr:`MergerDesk.ledger`), in this order, and what each count is.
LEDGER_MEANING = {
    "holders": "leaders (L1 and L2) handed over on the date",
    "pool": "specialists of the pool handed over",
    "posts_cut": "posts above the merged structure's norm, cut on the date",
    "early_retired": "leaders who took early retirement on the date (Decree 178/2024)",
    "reassigned": "surplus leaders moved on the date to a vacant post of their rank",
    "retired_surplus": "surplus leaders retired on the date (surplus: reassign_or_retire)",
    "waiting": "surplus leaders kept on the date, waiting for a post or the grace period's end",
    "in_post": "leaders in a post of the merged structure after the date",
    "grace_reassigned": "surplus leaders moved to a post at the end of the grace period",
    "grace_left": "surplus leaders who left at the end of the grace period",
    "retiring": "surplus leaders whose statutory retirement falls on the date itself",
}
LEDGER = tuple(LEDGER_MEANING)


class MergerDesk(RestructuringDesk):
    """The merger date in the merged model: the merged structure applied to the people handed
    over (see the module's docstring). Its counts are :data:`LEDGER`."""

    name = "merger"
    moves_posts = True

    def __init__(self, host: Host, scenario: Scenario) -> None:
        Mechanism.__init__(self, host, scenario)
        handoff = getattr(host, "handoff", None)
        if handoff is None:
            raise RuntimeError(
                "a merged province runs through sim.merger.run_replication (its model starts "
                "from the source provinces' people on the merger date)"
            )
        assert scenario.merger is not None
        self._configure(scenario.merger, float(host.t_begin))
        self.ledger = np.zeros(len(LEDGER), dtype=np.int64)
        assert handoff.union is not None
        self.union: Any = handoff.union  # sim.merger.UnionLayout

    @classmethod
    def enabled(cls, scenario: Scenario) -> bool:
        return scenario.merged

    def start(self) -> None:
        self.m.schedule_at(self.when, self.apply, urgent=True)

    def apply(self, _ev: Any = None) -> None:
        m = self.m
        t = m.env.now
        led = self.ledger
        led[0] = int(np.count_nonzero(m.post_holder >= 0))
        led[1] = int(np.count_nonzero(np.asarray(m.rank_l) == POOL))
        cut = self._over_norm(t)
        n_moves = len(m.appt_log)
        yi = m.year_index(t)
        exits_before = int(m.exits[yi, RESTRUCTURED])
        self._settle(cut, t)
        led[2] = self.gone_posts
        led[3] = self.early
        led[4] = sum(1 for a in m.appt_log[n_moves:] if a[11] == REASSIGN)
        led[5] = int(m.exits[yi, RESTRUCTURED]) - exits_before - self.early
        held = m.post_holder >= 0
        active = np.asarray(m.post_active)
        surplus = held & ~active
        retiring = surplus.copy()
        retiring[surplus] = m.retire[m.post_holder[surplus]] <= t
        led[6] = int(np.count_nonzero(surplus & ~retiring))
        led[7] = int(np.count_nonzero(held & active))
        led[10] = int(np.count_nonzero(retiring))

    def _over_norm(self, t: float) -> np.ndarray:
        """Posts above the merged norm in each group: vacant ones first, then those whose
        holders retire soonest (ties: the later post)."""
        m = self.m
        u = self.union
        cut = np.zeros(m.layout.n_posts, dtype=bool)
        grouped = np.flatnonzero(u.post_group >= 0)
        for g in np.unique(u.post_group[grouped]).tolist():
            posts = grouped[u.post_group[grouped] == g]
            over = len(posts) - int(u.group_keep[g])
            if over <= 0:
                continue
            holder = m.post_holder[posts]
            left = np.where(holder >= 0, m.retire[np.maximum(holder, 0)] - t, -np.inf)
            order = np.lexsort((-posts, left))
            cut[posts[order[:over]]] = True
        return cut

    def _grace_end(self, _ev: Any = None) -> None:
        m = self.m
        before = sum(1 for p in self.surplus if m.post_holder.item(p) >= 0)
        n_moves = len(m.appt_log)
        super()._grace_end(_ev)
        moved = sum(1 for a in m.appt_log[n_moves:] if a[11] == REASSIGN)
        self.ledger[8] += moved
        self.ledger[9] += before - moved

    def result(self) -> dict[str, np.ndarray]:
        return {"merger": self.ledger}
