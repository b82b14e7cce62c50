"""Codes shared by the model, selection, outcomes and mechanisms: exit causes, tiers, groups,
kinds of move, model time."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Causes of exit (columns of the exits table).
CAUSES = (
    "retirement",
    "other_exit",
    "death_illness",
    "not_reappointed",
    "removed",
    "below_standard",
    "restructured",
)
(
    RETIREMENT,
    OTHER_EXIT,
    DEATH_ILLNESS,
    NOT_REAPPOINTED,
    REMOVED,
    BELOW_STANDARD,
    RESTRUCTURED,
) = range(7)

# What a person's next scheduled event is.
NEXT_EXIT, NEXT_RETIRE, NEXT_TERM = 0, 1, 2
# Tiers as codes: 0 pool, 1 l2, 2 l1.
TIER_OF_RANK = np.array([0, 1, 1, 2, 2], dtype=np.int8)
TIER_NAMES = ("pool", "l2", "l1")
# Groups a quota or a preference can owe an appointment.
WOMEN, YOUNG, LONG = 0, 1, 2
GROUP_CODE = {"women": WOMEN, "young": YOUNG, "long_service": LONG}
# Columns of a post's per-vacancy quota draws.
U_WOMEN, U_YOUNG, U_LONG = range(3)

#: Kinds of move in the appointment log (its ``move`` column).
APPOINTMENT, ROTATION, TO_DISTRICT, REASSIGN = 0, 1, 2, 3


def date_time(d: Any) -> float:
    """A date as model time: its month index plus the elapsed part of the month (as the
    congress dates)."""
    return 12 * d.year + d.month - 1 + (d.day - 1) / 31.0
