"""The two kinds of pending work the model schedules: a callback due at a time, a vacancy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL, Event


class Due(Event):
    """A callback due after ``delay``: the least an event costs SimPy (no process behind it).

    The callback receives the event, which carries ``arg`` and ``token`` for it.
    """

    def __init__(
        self,
        env: simpy.Environment,
        delay: float,
        callback: Callable[[Any], None],
        arg: Any = None,
        token: int = 0,
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        self.arg = arg
        self.token = token
        env.schedule(self, NORMAL, delay)


class Vacancy:
    """The state of one vacancy while it waits to be filled."""

    __slots__ = ("drawn", "draws", "due", "first_try", "k", "post", "rule")

    def __init__(self, post: int, k: int, draws: np.ndarray | None) -> None:
        self.post = post
        self.k = k  # the post's k-th vacancy: row k of its draw tables
        self.draws = draws  # overflow draws, when k is past the tables
        # Per group (women, young, long service): whether the vacancy is reserved for it
        # under the expected reading, decided on its first attempt.
        self.drawn: list[bool | None] = [None, None, None]
        self.due = 0  # groups the yearly shares owe it at its latest attempt (bit mask)
        self.rule = False  # the women-staff rule owes it a woman (latest attempt)
        self.first_try: float | None = None
