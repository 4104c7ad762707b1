"""Outputs: the ledger, KPIs and results files, reporting."""
