"""meshlink's corrections and additions to moto 5.2.5, installed once per process.

See docs/ARCHITECTURE.md ("The local cloud"). Each module in :data:`MODULES` declares
its changes with :mod:`meshlink.localcloud.patches.registry`; :func:`install` applies
them all, in this order. Only the server process (and tests that exercise moto
in-process) call it.
"""

from __future__ import annotations

from meshlink.localcloud.patches import registry

# The one list: control-plane fixes, then what the data plane needs of moto.
MODULES = (
    "meshlink.localcloud.patches.identity",
    "meshlink.localcloud.patches.zones",
    "meshlink.localcloud.patches.zone_offerings",
    "meshlink.localcloud.patches.subnet_zone_id",
    "meshlink.localcloud.patches.elbv2",
    "meshlink.localcloud.patches.endpoint_services",
    "meshlink.localcloud.patches.privatelink",
    "meshlink.localcloud.patches.endpoints",
    "meshlink.localcloud.patches.service_endpoints",
    "meshlink.localcloud.patches.connections",
    "meshlink.localcloud.patches.ecs",
    "meshlink.localcloud.patches.ec2_rules",
    "meshlink.localcloud.patches.ec2_network",
    # VPC sharing: AWS RAM's associations and invitations, then what a participant sees.
    "meshlink.localcloud.patches.ram",
    "meshlink.localcloud.patches.shared_subnets",
    "meshlink.localcloud.patches.changesets",
    "meshlink.localcloud.patches.cloudformation",
    "meshlink.localcloud.patches.operations",
    # Under --timing aws: in-between states, eventual consistency, stack schedules.
    "meshlink.localcloud.patches.lifecycle",
    "meshlink.localcloud.patches.consistency",
    "meshlink.localcloud.patches.stack_timing",
    "meshlink.localcloud.patches.limits",
    "meshlink.localcloud.patches.s3_policies",
    "meshlink.localcloud.dataplane.patches",
)


def install() -> None:
    """Apply every patch of :data:`MODULES` (idempotent)."""
    registry.install_modules(MODULES)
