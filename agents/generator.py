"""Generator: a solar plant or fuel cell selling energy (docs/domain.md#agents)."""
from __future__ import annotations

import mesa

from re100sim.simulator.rules.finance import crf, levelisation_factor
from re100sim.simulator.scenario.config import GeneratorSpec

# [E] No published PPA cost build-up (docs/domain.md#gaps). A private seller gives up its market
# revenue (SMP + REC): a long fixed price is worth that revenue less a discount for its certainty;
# it never signs below its LCOE at its hurdle rate. A public owner (the Namdong direct-PPA
# proposal: a public supplier priced below the tariff) asks its LCOE (docs/decisions.md#prices).
CERTAINTY_DISCOUNT = 0.30


class Generator(mesa.Agent):
    """A plant. State: its spec (technology, capacity, owner, costs) and its outages.
    Decision: :meth:`offer`, the PPA volume and reservation price (ask) it puts to the broker."""

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

    def ask_krw_per_kwh(self, yield_kwh_per_kw: float, capture_smp_krw_per_kwh: float, rec_krw_per_rec: float,
                        escalation_pct_per_year: float, term_years: int) -> float:
        """Reservation price, KRW/kWh ex VAT, as the first-year price of a contract escalating at
        ``escalation_pct_per_year`` over ``term_years``: the flat value it must earn (public: LCOE at
        the hurdle rate; private: the larger of that and its market revenue x (1 - certainty
        discount)) divided by the contract's levelisation factor at the owner's hurdle rate."""
        s = self.spec
        flat = self.lcoe_krw_per_kwh(yield_kwh_per_kw)
        if s.owner != "public":
            market = capture_smp_krw_per_kwh + rec_krw_per_rec * s.effective_rec_weight() / 1000.0
            flat = max(flat, market * (1 - CERTAINTY_DISCOUNT))
        lev = float(levelisation_factor(escalation_pct_per_year / 100.0, s.hurdle_rate_pct, term_years))
        return flat / lev

    def offer(self, expected_mwh: float, free_share: float, capture_smp_krw_per_kwh: float,
              rec_krw_per_rec: float, escalation_pct_per_year: float = 0.0, term_years: int = 20) -> tuple[float, float]:
        """(MWh offered, ask KRW/kWh) for the year's uncontracted share of its expected output."""
        s = self.spec
        if not s.offers_ppa or s.green_pool or s.host_tenant or free_share <= 0 or expected_mwh <= 0:
            return 0.0, float("nan")
        ask = self.ask_krw_per_kwh(expected_mwh * 1000.0 / s.capacity_kw, capture_smp_krw_per_kwh, rec_krw_per_rec,
                                   escalation_pct_per_year, term_years)
        return expected_mwh * free_share, ask
