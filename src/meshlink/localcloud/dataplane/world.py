"""Build a :class:`World` from moto's EC2/ELBv2 backends (caller holds the moto lock).

Gives every NLB and every ENI of an ``available`` interface endpoint its loopback
address, and writes endpoint ENI addresses back into moto so that
``DescribeNetworkInterfaces`` shows where the endpoint really is.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from meshlink.localcloud.dataplane.addresses import AddressPool
from meshlink.localcloud.dataplane.model import (
    Endpoint,
    Eni,
    HealthCheck,
    LoadBalancer,
    Network,
    Rule,
    Target,
    TargetGroup,
    TaskNet,
    World,
)
from meshlink.localcloud.patches import lifecycle

ENFORCE_ATTR = "enforce_security_group_inbound_rules_on_private_link_traffic"


def backends(service: str) -> Iterator[tuple[str, str, Any]]:
    """(account, region, backend) for every backend moto has created for `service`."""
    from moto.backends import get_backend

    for account, per_account in list(dict.items(get_backend(service))):  # type: ignore[call-overload]
        for region, backend in list(dict.items(per_account)):
            yield str(account), str(region), backend


def network_of(cidr: str | None) -> tuple[Network, ...]:
    """The IPv4 network of a CIDR, as a 0- or 1-tuple (bad or IPv6 CIDRs give none)."""
    if not cidr:
        return ()
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return ()
    return (net,) if isinstance(net, ipaddress.IPv4Network) else ()


def _rules(group: Any) -> tuple[Rule, ...]:
    rules = []
    for rule in group.ingress_rules:
        cidrs: list[Network] = []
        cidr = (rule.ip_range or {}).get("CidrIp")
        if cidr:
            cidrs.extend(network_of(cidr))
        source = (rule.source_group or {}).get("GroupId")
        rules.append(
            Rule(
                protocol=str(rule.ip_protocol or "-1"),
                from_port=rule.from_port,
                to_port=rule.to_port,
                cidrs=tuple(cidrs),
                groups=(str(source),) if source else (),
            )
        )
    return tuple(rules)


def security_groups(world: dict[str, Any]) -> None:
    """Fill world["groups"] and world["default_groups"] from every EC2 backend."""
    for _, _, ec2 in backends("ec2"):
        for per_vpc in list(ec2.groups.values()):
            for group in list(per_vpc.values()):
                world["groups"][group.id] = _rules(group)
                if group.name == "default" and group.vpc_id:
                    world["default_groups"][group.vpc_id] = group.id


def _subnet(ec2: Any, subnet_id: str) -> Any | None:
    try:
        return ec2.get_subnet(subnet_id)
    except Exception:  # moto raises its own InvalidSubnetIdError
        return None


def _listeners(lb: Any) -> dict[int, tuple[str, ...]]:
    result: dict[int, tuple[str, ...]] = {}
    for listener in list(lb.listeners.values()):
        arns: list[str] = []
        for action in listener.default_actions:
            data = getattr(action, "data", action)
            if str(data.get("Type", "")).lower() != "forward":
                continue
            if data.get("TargetGroupArn"):
                arns.append(str(data["TargetGroupArn"]))
            for entry in (data.get("ForwardConfig") or {}).get("TargetGroups") or []:
                arns.append(str(entry["TargetGroupArn"]))
        if listener.protocol in ("TCP", "TLS", "TCP_UDP") and listener.port:
            result[int(listener.port)] = tuple(dict.fromkeys(arns))
    return result


def load_balancers(world: dict[str, Any], pool: AddressPool) -> set[str]:
    """Fill world["load_balancers"] (NLBs only) and their DNS names; returns live ARNs."""
    live: set[str] = set()
    for account, region, elbv2 in backends("elbv2"):
        for lb in list(elbv2.load_balancers.values()):
            if lb.type != "network":
                continue
            live.add(lb.arn)
            networks = tuple(
                net for s in lb.subnets for net in network_of(getattr(s, "cidr_block", None))
            )
            eni = Eni(
                id=f"eni-nlb/{lb.name}",
                kind="nlb",
                address=pool.allocate(lb.arn),
                account=account,
                region=region,
                vpc_id=str(lb.vpc_id or ""),
                groups=tuple(lb.security_groups or ()),
                networks=networks,
                owner=lb.arn,
            )
            enforce = str(getattr(lb, ENFORCE_ATTR, "on") or "on").lower() != "off"
            world["load_balancers"][lb.arn] = LoadBalancer(
                lb.arn, eni, str(lb.dns_name), _listeners(lb), enforce
            )
            world["enis"][eni.address] = eni
            world["dns"][str(lb.dns_name).lower()] = eni.address
    return live


def _health(group: Any) -> HealthCheck:
    protocol = str(group.health_check_protocol or group.protocol or "TCP").upper()
    port = group.health_check_port
    matcher = (getattr(group, "matcher", None) or {}).get("HttpCode", "200-399")
    return HealthCheck(
        protocol=protocol,
        port=int(port) if port and str(port).isdigit() else None,
        path=str(group.health_check_path or "/"),
        matcher=str(matcher),
        interval=float(group.health_check_interval_seconds or 30),
        timeout=float(group.health_check_timeout_seconds or 10),
        healthy_threshold=int(group.healthy_threshold_count or 5),
        unhealthy_threshold=int(group.unhealthy_threshold_count or 2),
    )


def target_groups(world: dict[str, Any]) -> None:
    """Fill world["target_groups"]; which NLBs feed a group comes from their listeners."""
    feeding: dict[str, list[str]] = {}
    for lb in world["load_balancers"].values():
        for arns in lb.listeners.values():
            for arn in arns:
                feeding.setdefault(arn, []).append(lb.arn)
    for account, region, elbv2 in backends("elbv2"):
        for group in list(elbv2.target_groups.values()):
            targets = []
            for target in list(group.targets.values()):
                try:
                    ipaddress.ip_address(target["Id"])
                except ValueError:
                    continue  # instance/lambda targets have no loopback address
                targets.append(Target(str(target["Id"]), int(target.get("Port") or group.port)))
            world["target_groups"][group.arn] = TargetGroup(
                arn=group.arn,
                account=account,
                region=region,
                targets=tuple(targets),
                health=_health(group),
                load_balancers=tuple(dict.fromkeys(feeding.get(group.arn, []))),
            )


def _service_of(endpoint: Any, region: str) -> Any | None:
    wanted_id = getattr(endpoint, "meshlink_service_id", None)
    for _, r, ec2 in backends("ec2"):
        if r != region:
            continue
        for config in list(ec2.configurations.values()):
            if config.id == wanted_id or config.service_name == endpoint.service_name:
                return config
    return None


def endpoints(world: dict[str, Any], pool: AddressPool) -> set[str]:
    """Fill world["endpoints"] for every available interface endpoint; returns live ENI ids."""
    live: set[str] = set()
    for account, region, ec2 in backends("ec2"):
        for endpoint in list(ec2.vpc_end_points.values()):
            if str(endpoint.vpc_endpoint_type or "").lower() != "interface":
                continue
            if endpoint.state != "available":
                continue
            config = _service_of(endpoint, region)
            nlbs = tuple(config.network_load_balancer_arns) if config is not None else ()
            enis, zones = _endpoint_enis(endpoint, ec2, pool, account, region)
            live.update(eni.id for eni in enis)
            if not enis:
                continue
            value = Endpoint(
                endpoint.id,
                tuple(enis),
                nlbs,
                _listener_ports(world, nlbs),
                lifecycle.endpoint_serves_at(endpoint),
            )
            for eni in enis:
                world["enis"][eni.address] = eni
                world["endpoints"][eni.address] = value
            _endpoint_dns(world, endpoint, zones, enis[0].address)
    return live


def _listener_ports(world: dict[str, Any], nlbs: tuple[str, ...]) -> tuple[int, ...]:
    """Every listener port of the endpoint service's known load balancers, sorted."""
    balancers = world["load_balancers"]
    return tuple(sorted({p for a in nlbs if a in balancers for p in balancers[a].listeners}))


def _endpoint_enis(
    endpoint: Any, ec2: Any, pool: AddressPool, account: str, region: str
) -> tuple[list[Eni], dict[str, str]]:
    """The endpoint's ENIs (each given its loopback address) and AZ name -> first address."""
    enis = []
    zones: dict[str, str] = {}
    for eni_id in endpoint.network_interface_ids or []:
        moto_eni = ec2.enis.get(eni_id)
        if moto_eni is None:
            continue
        address = pool.allocate(eni_id)
        if moto_eni.private_ip_address != address:
            moto_eni.private_ip_address = address
            moto_eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]
        subnet = moto_eni.subnet
        zones.setdefault(str(subnet.availability_zone), address)
        enis.append(
            Eni(
                id=eni_id,
                kind="endpoint",
                address=address,
                account=account,
                region=region,
                vpc_id=str(endpoint.vpc_id),
                groups=tuple(endpoint.security_group_ids or ()),
                networks=network_of(subnet.cidr_block),
                owner=endpoint.id,
            )
        )
    return enis, zones


def _endpoint_dns(world: dict[str, Any], endpoint: Any, zones: dict[str, str], first: str) -> None:
    """Each DNS name of the endpoint resolves to its zone's address (regional: the first)."""
    for entry in endpoint.dns_entries or []:
        name = str(entry.get("dns_name") or entry.get("DnsName") or "").lower()
        if not name:
            continue
        zonal = [a for zone, a in zones.items() if f"-{zone}." in name]
        world["dns"][name] = zonal[0] if zonal else first


def assemble(parts: dict[str, Any], tasks: dict[str, TaskNet], host_access: bool) -> World:
    """Freeze the collected parts (plus the tasks' ENIs) into a World."""
    enis = dict(parts["enis"])
    for address, task in tasks.items():
        if task.eni is not None:
            enis[address] = task.eni
    return World(
        enis=enis,
        groups=parts["groups"],
        default_groups=parts["default_groups"],
        tasks=tasks,
        load_balancers=parts["load_balancers"],
        target_groups=parts["target_groups"],
        endpoints=parts["endpoints"],
        dns=parts["dns"],
        host_access=host_access,
    )


def empty_parts() -> dict[str, Any]:
    keys = (
        "enis",
        "groups",
        "default_groups",
        "load_balancers",
        "target_groups",
        "endpoints",
        "dns",
    )
    return {key: {} for key in keys}
