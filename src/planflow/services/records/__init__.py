"""The audit trail and its checks: the hash chain, signed checkpoints, the records' consistency, the
scheduler's runs."""
