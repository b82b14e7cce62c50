"""Rotation (*luân chuyển*): yearly plans that move leaders to equivalent posts elsewhere.

Quy định 65-QĐ/TW (2022): rotation is for succession-pool members and key posts, with at least
10 years of service left, for at least 3 years, to an equivalent post; no post is created for
it. So a rotation here moves a leader into a post of the same rank that is vacant at plan time
in another unit (or side, or area, as the scenario chooses); the post they leave falls vacant
and is filled like any other. Seed 001 §II.6 also sends 1-2 young provincial cadres to each
district; seed 002 counts the share of leaders in rotation age rotated by 2025.

Who is rotated first: the best evaluated among those eligible (rotation develops promising
cadres). Destinations: the vacant post of the right kind that has waited longest. Selection is
deterministic given the state, so rotation draws no random numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim import rules
from sim.codes import ROTATION, TO_DISTRICT, date_time
from sim.plugin import Host, Mechanism
from sim.population import SIDES
from sim.scenario import RANK_CODE, Scenario
from sim.succession import SuccessionPlan

# Columns of the yearly rotation table.
ROTATION_COLUMNS = ("rotations", "young_to_districts")
DISTRICT_SIDE = SIDES.index("district")


class RotationDesk(Mechanism):
    """The rotation plans of one replication."""

    name = "rotation"
    moves_posts = True

    def __init__(self, host: Host, scenario: Scenario) -> None:
        super().__init__(host, scenario)
        self.cfg = cfg = scenario.policy.rotation
        self.ranks = [RANK_CODE[r] for r in cfg.ranks]
        self.table = np.zeros((host.n_years, len(ROTATION_COLUMNS)), dtype=np.int64)
        self.t_levers = max(float(host.t0), date_time(scenario.levers_start))

    @classmethod
    def enabled(cls, scenario: Scenario) -> bool:
        return scenario.policy.rotation.enabled

    def start(self) -> None:
        """The first yearly plan under the levers."""
        first_rot = 12 * self.sc.start.year + self.cfg.month - 1
        while first_rot < max(self.m.t0, self.t_levers, self.m.env.now):
            first_rot += 12
        self.m.schedule_at(first_rot, self.plan)

    def result(self) -> dict[str, np.ndarray]:
        return {"rotations": self.table}

    def plan(self, _ev: Any = None) -> None:
        """The yearly rotation plan, then the young cadres sent to the districts."""
        m = self.m
        t = m.env.now
        yi = m.year_index(t)
        for r in self.ranks:
            for i in self.chosen(r, t):
                q = self.destination(i, r, t)
                if q >= 0:
                    m.move(i, q, ROTATION)
                    self.table[yi, 0] += 1
        if self.cfg.young_to_districts:
            self.table[yi, 1] += self.young_to_districts(t)
        m.schedule_at(t + 12, self.plan)

    def eligible(self, i: int, t: float) -> bool:
        m = self.m
        ok = rules.rotation_eligible(
            m.retire_l[i] - t,
            t - m.rot_last[i],
            self.cfg.min_service_months,
            self.cfg.min_stay_months,
        )
        pool = m.mechanism(SuccessionPlan.name)
        if ok and self.cfg.pool_members_only and isinstance(pool, SuccessionPlan):
            ok = i in pool.plans_of
        return ok

    def chosen(self, r: int, t: float) -> list[int]:
        """The leaders of rank ``r`` to rotate this year, best evaluated first."""
        m = self.m
        holders = m.post_holder[m.layout.post_rank == r]
        holders = holders[holders >= 0].tolist()
        in_age = [i for i in holders if m.retire_l[i] - t >= self.cfg.min_service_months]
        quota = round(self.cfg.share_per_year * len(in_age))
        cand = [i for i in in_age if self.eligible(i, t)]
        cand.sort(key=lambda i: (-m.score.item(i), i))
        return cand[:quota]

    def destination(self, i: int, r: int, t: float) -> int:
        """The vacant post of rank ``r`` elsewhere that has waited longest, -1 if none."""
        m = self.m
        lay = m.layout
        u = m.unit_l[i]
        best, since = -1, np.inf
        for q, opened in m.vacant_since.items():
            if m.post_rank_l[q] != r or opened >= since:
                continue
            v = m.post_unit_l[q]
            if v == u:
                continue
            if self.cfg.across == "side" and lay.unit_side[v] == lay.unit_side[u]:
                continue
            if self.cfg.across == "area" and lay.unit_district[v] == lay.unit_district[u]:
                continue
            best, since = q, opened
        return best

    def young_to_districts(self, t: float) -> int:
        """Send up to ``young_to_districts`` young provincial division leaders to each district,
        into vacant division posts of their rank. Returns how many went."""
        m = self.m
        lay = m.layout
        limit = 12.0 * self.cfg.young_max_age
        sent = 0
        young = [
            i
            for i in m.post_holder[(lay.post_rank <= 2) & ~lay.post_district].tolist()
            if i >= 0
            and t - m.birth_l[i] <= limit
            and rules.rotation_eligible(
                m.retire_l[i] - t, t - m.rot_last[i], 0.0, self.cfg.min_stay_months
            )
        ]
        young.sort(key=lambda i: (-m.score.item(i), i))
        for d in np.flatnonzero(lay.unit_district).tolist():
            for _ in range(self.cfg.young_to_districts):
                placed = False
                for k, i in enumerate(young):
                    q = self._vacant_in(d, m.rank_l[i])
                    if q >= 0:
                        m.move(i, q, TO_DISTRICT)
                        del young[k]
                        sent += 1
                        placed = True
                        break
                if not placed:
                    break
        return sent

    def _vacant_in(self, unit: int, r: int) -> int:
        m = self.m
        found = [
            (opened, q)
            for q, opened in m.vacant_since.items()
            if m.post_unit_l[q] == unit and m.post_rank_l[q] == r
        ]
        return min(found)[1] if found else -1
