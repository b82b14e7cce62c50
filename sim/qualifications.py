"""Qualifications and attributes each person carries, and how a group is read from them.

A person holds a political-theory level (0 none, 1 intermediate *trung cấp*, 2 advanced *cao
cấp*), an IT level (0, 1 basic, 2 advanced), a foreign language at level 3 (B1) or not, a
university degree or not, and the time of their last knowledge update (*bồi dưỡng cập nhật
kiến thức*); and three attributes fixed for life: ethnic minority, able to work in an
international environment, local origin.

Starting values are drawn from the scenario's shares with one uniform per item and person
(:data:`DRAWS` columns), so two scenarios with the same seed give a person the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import numpy as np

from sim.scenario import Group, Qualifications

#: Columns of a person's attribute uniforms.
DRAWS = (
    "theory",
    "it",
    "language_b1",
    "degree",
    "knowledge_update",
    "update_age",
    "ethnic_minority",
    "international",
    "local",
)
COL = {name: k for k, name in enumerate(DRAWS)}

#: Groups read from qualifications (names as in the scenario's targets).
# The scenario's target groups (one list, in sim.scenario) less those not read from
# qualifications.
QUAL_GROUPS: tuple[str, ...] = tuple(
    g
    for g in get_args(Group)
    if g not in ("at_standard", "rotated", "women", "young", "long_service")
)


@dataclass
class QualArrays:
    """Per-person qualification state (one slot a person, like the model's other arrays)."""

    theory: np.ndarray  # int8: 0, 1 intermediate, 2 advanced
    it: np.ndarray  # int8: 0, 1 basic, 2 advanced
    language_b1: np.ndarray  # bool
    degree: np.ndarray  # bool
    update_t: np.ndarray  # float: month index of the last knowledge update (-inf: never)
    ethnic_minority: np.ndarray  # bool
    international: np.ndarray  # bool
    local: np.ndarray  # bool

    @classmethod
    def empty(cls, n: int) -> QualArrays:
        return cls(
            theory=np.zeros(n, np.int8),
            it=np.zeros(n, np.int8),
            language_b1=np.zeros(n, bool),
            degree=np.zeros(n, bool),
            update_t=np.full(n, -np.inf),
            ethnic_minority=np.zeros(n, bool),
            international=np.zeros(n, bool),
            local=np.zeros(n, bool),
        )

    def grow(self, n: int) -> None:
        """Extend every array to ``n`` slots (new slots empty)."""
        fresh = QualArrays.empty(n - len(self.theory))
        for name in self.__dataclass_fields__:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(fresh, name)]))

    def assign(
        self,
        idx: np.ndarray,
        shares: Qualifications,
        u: np.ndarray,
        now: float,
        update_months: float,
    ) -> None:
        """Draw the qualifications of people ``idx`` from ``shares`` with their uniforms ``u``
        (rows of :data:`DRAWS` columns). A current knowledge update happened uniformly within
        its validity period before ``now``."""
        ut = u[:, COL["theory"]]
        self.theory[idx] = np.where(
            ut < shares.theory_advanced, 2, np.where(ut < shares.theory_intermediate, 1, 0)
        )
        ui = u[:, COL["it"]]
        self.it[idx] = np.where(ui < shares.it_advanced, 2, np.where(ui < shares.it_basic, 1, 0))
        self.language_b1[idx] = u[:, COL["language_b1"]] < shares.language_b1
        self.degree[idx] = u[:, COL["degree"]] < shares.degree
        current = u[:, COL["knowledge_update"]] < shares.knowledge_update
        self.update_t[idx] = np.where(
            current, now - u[:, COL["update_age"]] * update_months, -np.inf
        )
        self.ethnic_minority[idx] = u[:, COL["ethnic_minority"]] < shares.ethnic_minority
        self.international[idx] = u[:, COL["international"]] < shares.international
        self.local[idx] = u[:, COL["local"]] < shares.local

    def flags(self, group: str, who: np.ndarray, t: float, update_months: float) -> np.ndarray:
        """Whether each of ``who`` belongs to ``group`` (one of :data:`QUAL_GROUPS`) at ``t``."""
        if group == "theory_intermediate":
            return self.theory[who] >= 1
        if group == "theory_advanced":
            return self.theory[who] >= 2
        if group == "it_basic":
            return self.it[who] >= 1
        if group == "it_advanced":
            return self.it[who] >= 2
        if group == "knowledge_update":
            return (t - self.update_t[who]) < update_months
        if group in ("language_b1", "degree", "ethnic_minority", "international", "local"):
            return getattr(self, group)[who]
        raise ValueError(f"not a qualification group: {group!r}")

    def has(self, group: str, i: int, t: float, update_months: float) -> bool:
        """:meth:`flags` for one person (cheap: no arrays built)."""
        if group == "theory_intermediate":
            return self.theory.item(i) >= 1
        if group == "theory_advanced":
            return self.theory.item(i) >= 2
        if group == "it_basic":
            return self.it.item(i) >= 1
        if group == "it_advanced":
            return self.it.item(i) >= 2
        if group == "knowledge_update":
            return (t - self.update_t.item(i)) < update_months
        if group in ("language_b1", "degree", "ethnic_minority", "international", "local"):
            return bool(getattr(self, group).item(i))
        raise ValueError(f"not a qualification group: {group!r}")
