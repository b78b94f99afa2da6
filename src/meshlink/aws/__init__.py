"""AWS access: one session factory per run (per-account sessions, local endpoint, retries)."""
