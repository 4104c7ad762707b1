"""Rules: bills, contract settlement, the settlement kernel, certificates, policy, finance."""
