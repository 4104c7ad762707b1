"""Utility: KEPCO, the single retail seller on the regulated tariff (docs/domain.md#agents)."""
from __future__ import annotations

import mesa

from re100sim.simulator.inputs.tariffs import TariffPath


class Utility(mesa.Agent):
    """KEPCO. State: the tariff table it applies and the scenario's tariff path."""

    name = "KEPCO"

    def __init__(self, model: mesa.Model, table: str, path: TariffPath):
        super().__init__(model)
        self.table = table
        self.path = path
