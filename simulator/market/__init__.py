"""The market: options, decisions, procurement state and the month's settlement between parties."""
