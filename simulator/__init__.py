"""re100sim: agent-based market and policy simulator for renewable-electricity
procurement in Korean industrial complexes."""

__version__ = "0.1.0"
