"""Shared test configuration: hypothesis profiles.

``ci`` (the default): derandomised, so every run draws the same examples, 100 per property;
``slow``: 1,000 examples, still derandomised. Choose with ``HYPOTHESIS_PROFILE=slow pytest ...``.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {"derandomize": True, "deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("slow", max_examples=1_000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
