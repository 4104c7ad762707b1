"""Inputs: calendar, tariffs, load and solar profiles, wholesale prices (lowest stage)."""
