"""Bundled KEPCO tariff tables (YAML package data), loaded by ``re100sim.simulator.inputs.tariffs``."""
