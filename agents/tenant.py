"""Tenant: a factory in the complex (DOMAIN.md §1)."""
from __future__ import annotations

import mesa

from simulator.population import TenantSpec


class Tenant(mesa.Agent):
    """A factory that buys electricity.

    State: its attributes (``spec``: archetype, annual use, contract power,
    tariff option) and its current procurement option (``option``: one of
    ``grid``, ``green_premium``, ``green_tariff``, ``direct_ppa``, ``rec``,
    ``self_generation``). Bookkeeping (bills, energy) is the ledger's job.
    """

    def __init__(self, model: mesa.Model, spec: TenantSpec):
        super().__init__(model)
        self.spec = spec
        self.option = "grid"

    @property
    def name(self) -> str:
        return self.spec.name
