"""One handler per node kind, in one table: every caller looks the kind up here.

See docs/ARCHITECTURE.md ("node kinds and their handlers", "how to add a node kind").
"""

from __future__ import annotations

from meshlink.deploy.handlers.accept import AcceptHandler
from meshlink.deploy.handlers.base import NodeHandler
from meshlink.deploy.handlers.context import NodeContext
from meshlink.deploy.handlers.model import (
    HEALTHY,
    Drift,
    NodePlan,
    account_edges,
    consumer_edges,
    no_edges,
    provider_edges,
)
from meshlink.deploy.handlers.network import NetworkHandler
from meshlink.deploy.handlers.stack import EdgeHandler, ServiceHandler, StackHandler
from meshlink.graph.planner import Node

HANDLERS: dict[str, NodeHandler] = {
    "network": NetworkHandler(),
    "platform": StackHandler("platform", account_edges),
    "edge": EdgeHandler("edge", provider_edges),
    "endpoints": StackHandler("endpoints", consumer_edges),
    "accept": AcceptHandler(),
    "service": ServiceHandler("service", provider_edges),
    "dashboard": StackHandler("dashboard", no_edges),
}


def handler_for(node: Node) -> NodeHandler:
    """The handler of the node's kind."""
    return HANDLERS[node.kind]


__all__ = ["HANDLERS", "HEALTHY", "Drift", "NodeContext", "NodeHandler", "NodePlan", "handler_for"]
