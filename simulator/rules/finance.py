"""Finance rules: annuities and levelisation used by decisions and generators' offers.

Standard engineering-economics formulas (e.g. the capital recovery factor
r / (1 - (1 + r)^-n)); rates are in percent per year.
"""
from __future__ import annotations

import numpy as np


def crf(rate_pct, years: int):
    """Capital recovery factor: the yearly annuity per KRW of capex at ``rate_pct`` %/yr over ``years``."""
    r = np.asarray(rate_pct, dtype=float) / 100.0
    safe = np.where(r == 0, 1.0, r)
    return np.where(r == 0, 1.0 / years, safe / (1.0 - (1.0 + safe) ** -years))


def levelisation_factor(growth, rate_pct, years: int) -> np.ndarray:
    """Ratio of the present value of a cost growing at ``growth`` per year to that of a flat
    cost, over ``years`` at discount rate ``rate_pct``: how much more a grid kWh bought over
    the horizon weighs than this year's price says."""
    r = np.asarray(rate_pct, dtype=float)[..., None] / 100.0
    g = np.asarray(growth, dtype=float)[..., None]
    t = np.arange(1, years + 1)
    return (((1 + g) / (1 + r)) ** t).sum(-1) / ((1 / (1 + r)) ** t).sum(-1)
