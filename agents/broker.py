"""Broker: the direct-PPA platform operator (DOMAIN.md §1; seed 000: KT)."""
from __future__ import annotations

import mesa

from simulator.config import Broker as BrokerTerms


class Broker(mesa.Agent):
    """Meters, settles and bills PPAs, passing network fees through. State: its fee terms."""

    def __init__(self, model: mesa.Model, terms: BrokerTerms):
        super().__init__(model)
        self.terms = terms

    @property
    def name(self) -> str:
        return self.terms.name
