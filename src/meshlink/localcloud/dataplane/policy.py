"""Who may connect to an ENI: VPC isolation, PrivateLink, then security groups.

Judged where a connection enters an ENI (task, NLB, endpoint). The source address
identifies the sender's ENI, hence its VPC and security groups, exactly like a
packet's source IP does in a VPC.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from meshlink.localcloud.dataplane.model import Eni, World


@dataclass(frozen=True)
class Decision:
    """Allowed or not, and why (logged, and shown by the admin API)."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def admit(world: World, source: str, dest: Eni, port: int) -> Decision:
    """May a TCP connection from address `source` enter ENI `dest` on `port`?"""
    sender = world.enis.get(source)
    if sender is None:
        if world.host_access:
            return Decision(True, f"host {source} (not an ENI) is allowed: host access is on")
        return Decision(False, f"{source} is not an ENI and host access is off")
    if sender.id == dest.id:
        return Decision(True, "same ENI")
    privatelink = _privatelink(world, sender, dest, port)
    if privatelink is not None:
        return privatelink
    if sender.vpc_id != dest.vpc_id:
        return _across_vpcs(sender, dest)
    return _security_groups(world, sender, dest, port)


def _privatelink(world: World, sender: Eni, dest: Eni, port: int) -> Decision | None:
    """An interface endpoint's ENI entering its service's NLB, or None when it is not that.

    It is PrivateLink traffic whichever VPC the endpoint is in: also an endpoint in the
    provider's own VPC (a consumer in the same account). The NLB's security groups judge
    it only when "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic" is on, "for
    traffic sent to a Network Load Balancer through AWS PrivateLink" - with no exception
    for the NLB's own VPC:
    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SetSecurityGroups.html
    https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html
    """
    endpoint = world.endpoints.get(sender.address)
    if dest.kind != "nlb" or endpoint is None or dest.owner not in endpoint.load_balancers:
        return None
    lb = world.load_balancers.get(dest.owner)
    if lb is None or not lb.enforce_on_privatelink or not dest.groups:
        return Decision(True, f"PrivateLink from {endpoint.id}")
    verdict = _security_groups(world, sender, dest, port)
    return Decision(verdict.allowed, f"PrivateLink from {endpoint.id}: {verdict.reason}")


def _across_vpcs(sender: Eni, dest: Eni) -> Decision:
    # No peering or transit gateway exists in a mesh: the only way between VPCs is an
    # interface endpoint, whose ENI forwards to the provider's NLB as PrivateLink traffic.
    return Decision(
        False,
        f"{sender.id} in {sender.vpc_id} cannot reach {dest.id} in {dest.vpc_id}: "
        "VPCs are isolated (only an interface endpoint crosses them)",
    )


def _security_groups(world: World, sender: Eni, dest: Eni, port: int) -> Decision:
    groups = dest.groups
    if not groups:
        if dest.kind == "nlb":
            # An NLB created without security groups filters nothing itself (AWS).
            return Decision(True, f"{dest.id} has no security groups")
        default = world.default_groups.get(dest.vpc_id)
        groups = (default,) if default else ()
    source_ip = ipaddress.ip_address(sender.address)
    for group_id in groups:
        for rule in world.groups.get(group_id, ()):
            if not rule.covers_port(port):
                continue
            for source_group in rule.groups:
                if source_group in sender.groups:
                    return Decision(True, f"{group_id} admits {source_group} on {port}")
            for cidr in rule.cidrs:
                if source_ip in cidr or any(
                    net.version == cidr.version and net.subnet_of(cidr) for net in sender.networks
                ):
                    return Decision(True, f"{group_id} admits {cidr} on {port}")
    return Decision(
        False,
        f"no ingress rule of {', '.join(groups) or 'any group'} on {dest.id} admits "
        f"{sender.id} ({', '.join(sender.groups) or 'no groups'}) on tcp/{port}",
    )
