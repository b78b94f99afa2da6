"""Drift: what is live against what should be, per node; `plan` shows it, `up` repairs it.

See docs/ARCHITECTURE.md ("Drift and repair").
"""

from __future__ import annotations

from meshlink.deploy.drift.model import DriftReport, Finding

__all__ = ["DriftReport", "Finding"]
