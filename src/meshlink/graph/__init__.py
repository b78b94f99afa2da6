"""The deployment graph: planner, ready-queue executor, journal, lock."""
