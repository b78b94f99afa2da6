"""Orchestration: plan, up, down and status of a whole mesh over the deployment graph."""
