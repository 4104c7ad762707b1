"""Generator: a solar plant or fuel cell selling energy (docs/domain.md#agents)."""
from __future__ import annotations

import mesa

from re100sim.simulator.rules.finance import crf
from re100sim.simulator.scenario.config import GeneratorSpec

# [E] No published PPA cost build-up (docs/domain.md#gaps). A private seller wants its market
# alternative (SMP + REC), discounted for a long fixed price's certainty, and at least its
# LCOE plus a margin; a public owner (the Namdong direct-PPA proposal: Namdong, supply price below the tariff) asks LCOE + margin.
CERTAINTY_DISCOUNT = 0.30
MARGIN = 0.10


class Generator(mesa.Agent):
    """A plant. State: its spec (technology, capacity, owner, costs) and its outages.
    Decision: :meth:`offer`, the PPA volume and minimum price it puts to the broker."""

    def __init__(self, model: mesa.Model, spec: GeneratorSpec):
        super().__init__(model)
        self.spec = spec
        self.outages: list[list[float]] = []
        self.in_service_month_key: int | None = None  # first settled month (its capital cost starts then)

    @property
    def name(self) -> str:
        return self.spec.name

    def lcoe_krw_per_kwh(self, yield_kwh_per_kw: float) -> float:
        """Levelised cost: (capex x CRF(hurdle, life) + O&M) / yearly kWh per kW."""
        s = self.spec
        annual = s.capex_krw_per_kw * float(crf(s.hurdle_rate_pct, s.lifetime_years)) + s.opex_krw_per_kw_year
        return annual / max(yield_kwh_per_kw, 1e-9)

    def offer(self, expected_mwh: float, free_share: float, capture_smp_krw_per_kwh: float,
              rec_krw_per_rec: float) -> tuple[float, float]:
        """(MWh offered, minimum price KRW/kWh) for the year's uncontracted share of output."""
        s = self.spec
        if not s.offers_ppa or s.green_pool or s.host_tenant or free_share <= 0 or expected_mwh <= 0:
            return 0.0, float("nan")
        lcoe = self.lcoe_krw_per_kwh(expected_mwh * 1000.0 / s.capacity_kw)
        floor = lcoe * (1 + MARGIN)
        if s.owner == "public":
            return expected_mwh * free_share, floor
        market = capture_smp_krw_per_kwh + rec_krw_per_rec * s.effective_rec_weight() / 1000.0
        return expected_mwh * free_share, max(floor, market * (1 - CERTAINTY_DISCOUNT))
