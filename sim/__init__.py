"""cadresim: a discrete-event succession-planning simulator for provincial leadership corps."""

__version__ = "0.1.0"
