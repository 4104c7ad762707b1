"""Generator: a solar plant or fuel cell selling energy (DOMAIN.md §1)."""
from __future__ import annotations

import mesa

from simulator.config import GeneratorSpec


class Generator(mesa.Agent):
    """A plant. State: its spec (technology, capacity, owner, location)."""

    def __init__(self, model: mesa.Model, spec: GeneratorSpec):
        super().__init__(model)
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name
