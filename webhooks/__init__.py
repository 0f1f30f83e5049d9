"""The webhook receiver: forge payloads in, events into kg's event log, nothing else."""
