"""meshlink's corrections and additions to moto 5.2.5 (DESIGN.md §4), installed once.

Each submodule patches one area and has an ``install()``; :func:`install` runs them all.
Only the server process (and tests that exercise moto in-process) call this.
"""

from __future__ import annotations

import importlib

_MODULES = (
    "identity",
    "zones",
    "subnet_zone_id",
    "elbv2",
    "endpoint_services",
    "privatelink",
    "connections",
    "ecs",
    "ec2_rules",
    "ec2_network",
    "changesets",
    "cloudformation",
)
_installed = False


def install() -> None:
    """Apply every patch (idempotent)."""
    global _installed
    if _installed:
        return
    for name in _MODULES:
        importlib.import_module(f"meshlink.localcloud.patches.{name}").install()
    _installed = True
