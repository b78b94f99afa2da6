"""A short account of a valid topology, for `validate` and friends."""

from __future__ import annotations

from typing import Any

from meshlink.topology.model import Topology


def summarise(topology: Topology) -> dict[str, Any]:
    """Counts and edges of `topology`, as plain data (also the --json shape)."""
    return {
        "valid": True,
        "name": topology.name,
        "region": topology.region,
        "target": topology.target,
        "accounts": {key: account.id for key, account in topology.accounts.items()},
        "services": {
            name: {"account": svc.account, "port": svc.port, "consumes": list(svc.consumes)}
            for name, svc in topology.services.items()
        },
        "external": {name: ext.service_name for name, ext in topology.external.items()},
        "edges": [
            {
                "consumer": consumer,
                "provider": provider,
                "external": provider in topology.external,
            }
            for consumer, provider in topology.edges()
        ],
    }
