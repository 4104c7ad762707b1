"""Market agents (Mesa): each holds its state and its decision method, nothing else."""
