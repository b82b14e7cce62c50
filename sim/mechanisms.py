"""The registry of mechanisms (the plug-in interface is :mod:`sim.plugin`).

Adding a mechanism means adding its module and one entry here. The order is the order in
which mechanisms start, and so the order of their events at equal times: it is part of the
results, so a new mechanism is appended.
"""

from __future__ import annotations

from sim.mergerdesk import MergerDesk
from sim.plugin import Host, Mechanism
from sim.restructuring import RestructuringDesk
from sim.rotation import RotationDesk
from sim.scenario import Scenario
from sim.succession import SuccessionPlan
from sim.training import TrainingDesk

REGISTRY: list[type[Mechanism]] = [
    SuccessionPlan,
    RestructuringDesk,
    RotationDesk,
    TrainingDesk,
    MergerDesk,
]


def build(host: Host, scenario: Scenario) -> list[Mechanism]:
    """The mechanisms ``scenario`` switches on, in registry order."""
    return [cls(host, scenario) for cls in REGISTRY if cls.enabled(scenario)]
