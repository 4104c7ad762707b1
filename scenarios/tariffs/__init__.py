"""Bundled KEPCO tariff tables (YAML package data), loaded by ``simulator.tariffs``."""
