"""Codes shared by the model and its mechanisms: exit causes, kinds of move, model time."""

from __future__ import annotations

from typing import Any

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

#: Kinds of move in the appointment log (its ``move`` column).
APPOINTMENT, ROTATION, TO_DISTRICT, REASSIGN = 0, 1, 2, 3


def date_time(d: Any) -> float:
    """A date as model time: its month index plus the elapsed part of the month (as the
    congress dates)."""
    return 12 * d.year + d.month - 1 + (d.day - 1) / 31.0
