"""Tenant: a factory in the complex (docs/domain.md#agents)."""
from __future__ import annotations

import mesa
import numpy as np

from re100sim.simulator.scenario.population import TenantSpec


class Tenant(mesa.Agent):
    """A factory that buys electricity.

    State: its attributes (``spec``), its current procurement option (``option``, one of
    ``re100sim.simulator.market.options.OPTIONS``) and whether it knows of the alternatives to the grid
    (``aware``). Decisions: :meth:`learn` (Bass diffusion of awareness) and :meth:`choose`
    (multinomial logit over the options' utilities). Bookkeeping is the ledger's job.
    """

    def __init__(self, model: mesa.Model, spec: TenantSpec, aware: bool = False):
        super().__init__(model)
        self.spec = spec
        self.option = "grid"
        self.aware = aware

    @property
    def name(self) -> str:
        return self.spec.name

    def learn(self, adopter_share: float, p: float, q: float, rng: np.random.Generator,
              tariff_increase_pct: float = 0.0, attention_per_pct: float = 0.0) -> None:
        """Bass (1969) awareness: an unaware tenant learns this year with probability
        p + q x (share of the complex's tenants that already adopted an option), plus
        attention drawn by a tariff increase (percent points x ``attention_per_pct``)."""
        chance = p + q * adopter_share + attention_per_pct * max(0.0, tariff_increase_pct)
        if not self.aware and rng.random() < min(1.0, chance):
            self.aware = True

    @staticmethod
    def utilities(cost_krw, re_mwh, spread_krw, claim_cap_mwh, value_re_krw_per_mwh, risk_aversion,
                  switching_krw, current: int) -> np.ndarray:
        """Utility of each option, KRW: -cost + value of RE progress (claims up to the
        target) - risk_aversion x cost s.d. - switching cost for leaving the current option.
        Unavailable options (cost nan) get -inf."""
        u = -cost_krw + value_re_krw_per_mwh * np.minimum(re_mwh, claim_cap_mwh) - risk_aversion * spread_krw
        u = u - switching_krw * (np.arange(len(u)) != current)
        return np.where(np.isnan(cost_krw), -np.inf, u)

    @staticmethod
    def reservation_price(utilities_at_zero: np.ndarray, option: int, paid_kwh: float) -> float:
        """Bid: the highest price (KRW/kWh) at which ``option`` still beats the tenant's best other
        option, when its utility falls by ``paid_kwh`` KRW per KRW/kWh of price:
        ``U_o(0) - paid_kwh x p >= max_{j != o} U_j``, so ``p* = (U_o(0) - max_{j != o} U_j) / paid_kwh``
        (docs/decisions.md#prices). NaN when the option is unavailable or bills nothing."""
        u = np.asarray(utilities_at_zero, float)
        if not (np.isfinite(u[option]) and paid_kwh > 0):
            return float("nan")
        best_other = np.delete(u, option).max()
        return float((u[option] - best_other) / paid_kwh)

    def choose(self, utilities: np.ndarray, scale_krw: float, rng: np.random.Generator) -> int:
        """Multinomial logit: P(i) = exp(U_i / s) / sum_j exp(U_j / s); an unaware tenant
        knows only the grid (option 0)."""
        if not self.aware:
            return 0
        z = (utilities - utilities.max()) / scale_krw
        p = np.exp(z)
        p /= p.sum()
        return int(np.searchsorted(np.cumsum(p), rng.random() * p.sum() * (1 - 1e-12), side="right"))
