"""Imported by the fork server of a process pool (start method ``forkserver``, which the app
uses): the model's modules are imported and every compiled kernel is loaded once, in the server,
so that the workers forked from it start warm instead of each loading the kernels from the
disk cache."""

from __future__ import annotations

from sim import kernels, runner  # noqa: F401 - imported for the workers forked from here

kernels.warm()
