"""The plug-in interface of mechanisms: the levers that act on a replication besides selection.

A mechanism (training, the succession pool, rotation, a restructuring, and any later lever)
is one class in one module, listed once in :data:`sim.mechanisms.REGISTRY`. The model builds
those the scenario switches on and talks to them only through the hooks of
:class:`Mechanism`; they talk to the model only through :class:`Host`, the small interface
below (schedule at a time, move a person, remove a person, abolish a post or move it to
another unit, read the state). No mechanism imports the model.

Adding a mechanism: write a subclass of :class:`Mechanism` in its own module (its settings
in :mod:`sim.scenario`, its random stream, if it draws, appended to ``STREAMS`` in
:mod:`sim.model`), append it to :data:`sim.mechanisms.REGISTRY`, and give the tables it adds to the
replication's result in :meth:`Mechanism.result`.

The registry's order is the order in which mechanisms start, and so the order of their
events at equal times: it is part of the results (when adding one, append it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol

import numpy as np

from sim.population import Layout
from sim.qualifications import QualArrays
from sim.scenario import Scenario


class Host(Protocol):
    """What a mechanism may read from and do to a replication (the model provides it).

    State (read; change it only through the methods): people as arrays (``rank``,
    ``female``, ``birth``, ``retire``, ``score``, ``gone_t``, ``qual``, and the lists
    ``*_l`` kept current person by person), posts (``post_holder``, ``post_rank``,
    ``post_unit``, ``post_active``, ``vacant_since``), the layout, the random streams.
    """

    env: Any
    layout: Layout
    n_years: int
    n: int
    cap: int
    t0: int  # start of the horizon (month index)
    rng: dict[str, np.random.Generator]
    update_months: float
    t_begin: float  # when the run begins (the start, or a merged province's merger date)
    handoff: Any  # a merged province's people on the merger date (sim.merger.Handoff), or None
    # records (read only)
    appt_log: list[tuple[Any, ...]]  # appointments and moves, in order (sim/outcomes.py)
    exits: np.ndarray  # (years, causes) exits of post holders
    # people
    rank: np.ndarray
    female: np.ndarray
    birth: np.ndarray
    retire: np.ndarray
    score: np.ndarray
    gone_t: np.ndarray
    elig_from: np.ndarray
    elig_until: np.ndarray
    qual: QualArrays
    rank_l: list[int]
    female_l: list[bool]
    birth_l: list[float]
    retire_l: list[float]
    unit_l: list[int]
    ef_l: list[float]
    eu_l: list[float]
    rot_last: list[float]
    src_list: list[tuple[int, ...]]
    src_lut: np.ndarray
    # posts
    post_holder: np.ndarray
    post_rank: np.ndarray
    post_rank_l: list[int]
    post_unit: np.ndarray
    post_unit_l: list[int]
    post_active: list[bool]
    vacant_since: dict[int, float]

    def year_index(self, t: float) -> int:
        """The index of the model year that holds time ``t``."""

    def schedule_at(self, t: float, callback: Callable[[Any], None], urgent: bool = False) -> None:
        """Call ``callback(event)`` at time ``t`` (months)."""

    def schedule_in(
        self, delay: float, callback: Callable[[Any], None], urgent: bool = False
    ) -> None:
        """Call ``callback(event)`` ``delay`` months from now."""

    def present(self, i: int, t: float) -> bool:
        """Whether person ``i`` is still in the model at ``t``."""

    def meets_standard(self, who: np.ndarray, ranks: np.ndarray, t: float) -> np.ndarray:
        """Whether each of ``who`` meets the standard of the rank beside them."""

    def move(self, i: int, q: int, kind: int) -> None:
        """Move holder ``i`` to the vacant post ``q`` of their rank (logged as ``kind``)."""

    def remove(self, i: int, cause: int) -> None:
        """Person ``i`` leaves (``cause``, a column of the exits table); their post falls
        vacant."""

    def abolish_post(self, p: int) -> None:
        """Post ``p`` goes: never filled again; a vacancy it had is closed."""

    def set_post_unit(self, posts: np.ndarray, unit: int) -> None:
        """Posts ``posts`` (and their holders) now belong to ``unit``."""

    def refresh_unit_counts(self) -> None:
        """Recount what depends on units after posts moved or went."""

    def longest_vacant(self, r: int) -> int:
        """The vacant post of rank ``r`` that has waited longest, -1 if none."""

    def mechanism(self, name: str) -> Mechanism | None:
        """The mechanism called ``name`` if the scenario switches it on."""


class Mechanism:
    """A lever acting on a replication. Subclasses set :attr:`name` and override
    :meth:`enabled`, :meth:`start` and whichever hooks they need."""

    #: The name other mechanisms and the model look it up by.
    name: ClassVar[str] = ""
    #: Whether it fills or removes posts outside selection (then a vacancy's pending attempt
    #: may find its post filled or gone, and is checked).
    moves_posts: ClassVar[bool] = False

    def __init__(self, host: Host, scenario: Scenario) -> None:
        self.m = host
        self.sc = scenario

    @classmethod
    def enabled(cls, scenario: Scenario) -> bool:
        """Whether ``scenario`` switches this mechanism on."""
        raise NotImplementedError

    def start(self) -> None:
        """Schedule the first events (called once, before the run)."""

    def appointed(self, i: int, p: int) -> None:
        """Person ``i`` was just appointed to post ``p`` by selection."""

    def year_end(self, yi: int, t: float) -> None:
        """31 December of model year ``yi``, before the targets are measured."""

    def successors(self, p: int) -> Sequence[int]:
        """People selection should prefer for post ``p`` (planned successors), if any."""
        return ()

    def result(self) -> dict[str, np.ndarray]:
        """The tables this mechanism adds to the replication's result (fields of
        :class:`sim.model.RepResult`)."""
        return {}
