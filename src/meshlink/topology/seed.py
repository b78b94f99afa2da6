"""Import the blog post's JSON config (microservices[], networking{}, aws{}) as a topology."""

from __future__ import annotations

import re
from typing import Any

from meshlink.errors import Problem
from meshlink.topology.locations import Locations, PathKey

SEED_SERVICE_KEYS = {
    "name": "name",
    "port": "port",
    "image": "image",
    "cpu": "cpu",
    "memory": "memory",
    "desiredCount": "desired_count",
    "acceptanceRequired": "acceptance_required",
}


class _Converter:
    def __init__(self, source: Locations):
        self.source = source
        self.target = Locations()
        self.problems: list[Problem] = []

    def place(self, new: PathKey, old: PathKey) -> None:
        """The value at `new` comes from `old` in the file: errors point there."""
        self.target.values[new] = self.source.of_value(old)
        self.target.keys[new] = self.source.of_key(old)

    def problem(self, old: PathKey, message: str, hint: str) -> None:
        self.problems.append(Problem(message, *self.source.of_value(old), hint))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "mesh"


def _accounts(data: dict[str, Any], conv: _Converter, vpc_cidr: str) -> dict[str, Any]:
    raw = (data.get("aws") or {}).get("accounts") or {}
    accounts: dict[str, Any] = {}
    if not isinstance(raw, dict):
        conv.problem(("aws", "accounts"), "aws.accounts must be a mapping", "name: account id")
        return accounts
    for key, value in raw.items():
        old: PathKey = ("aws", "accounts", key)
        entry = {"id": value} if isinstance(value, str | int) else dict(value or {})
        account = {
            "id": str(entry.get("id", entry.get("accountId", ""))),
            "vpc_cidr": entry.get("vpcCidr", vpc_cidr),
        }
        if "role" in entry:
            account["role"] = entry["role"]
        if "profile" in entry:
            account["profile"] = entry["profile"]
        name = _slug(str(key))
        accounts[name] = account
        conv.place(("accounts", name), old)
        for field in account:
            conv.place(("accounts", name, field), old)
    return accounts


def _account_for(
    service: dict[str, Any], accounts: dict[str, Any], conv: _Converter, old: PathKey
) -> str:
    wanted = service.get("account") or service.get("accountName")
    name = _slug(str(service.get("name", "")))
    if wanted:
        return _slug(str(wanted))
    if name in accounts:
        return name
    if len(accounts) == 1:
        return next(iter(accounts))
    conv.problem(
        old,
        f"cannot tell which account runs microservice '{name}'",
        'add "account": "<key of aws.accounts>" to the microservice',
    )
    return "unknown"


def convert_seed(
    data: dict[str, Any], locations: Locations, default_name: str = "blog"
) -> tuple[dict[str, Any], Locations, list[Problem]]:
    """Turn seed-format data into topology data, keeping every value's file location."""
    conv = _Converter(locations)
    networking = data.get("networking") or {}
    vpc_cidr = networking.get("vpcCidr", "10.0.0.0/16")
    region = (data.get("aws") or {}).get("region", "us-east-1")
    accounts = _accounts(data, conv, vpc_cidr)
    microservices = data.get("microservices") or []
    internal = {_slug(str(m.get("name", ""))) for m in microservices if isinstance(m, dict)}
    services: dict[str, Any] = {}
    external: dict[str, Any] = {}
    for index, micro in enumerate(microservices):
        old: PathKey = ("microservices", index)
        if not isinstance(micro, dict):
            conv.problem(old, "each microservice must be a mapping", "see the blog post's config")
            continue
        name = _slug(str(micro.get("name", f"service-{index}")))
        service: dict[str, Any] = {"account": _account_for(micro, accounts, conv, old)}
        conv.place(("services", name), old)
        for seed_key, key in SEED_SERVICE_KEYS.items():
            if seed_key in micro and key != "name":
                service[key] = micro[seed_key]
                conv.place(("services", name, key), (*old, seed_key))
        consumes: list[str] = []
        for peer_index, peer in enumerate(micro.get("consumerEndpointServices") or []):
            peer_old: PathKey = (*old, "consumerEndpointServices", peer_index)
            peer_name = _slug(str(peer.get("serviceName", "")))
            conv.place(("services", name, "consumes", len(consumes)), peer_old)
            consumes.append(peer_name)
            if peer_name not in internal and peer_name not in external:
                external[peer_name] = {
                    "service_name": peer.get("vpcEndpointServiceId", ""),
                    "port": peer.get("port", 443),
                }
                conv.place(("external", peer_name), peer_old)
                conv.place(
                    ("external", peer_name, "service_name"), (*peer_old, "vpcEndpointServiceId")
                )
                conv.place(("external", peer_name, "port"), (*peer_old, "port"))
        service["consumes"] = consumes
        services[name] = service
    topology: dict[str, Any] = {
        "name": _slug(str(data.get("name", default_name))),
        "region": region,
        "target": data.get("target", "local"),
        "accounts": accounts,
        "services": services,
    }
    if external:
        topology["external"] = external
    conv.place(("region",), ("aws", "region"))
    conv.place(("accounts",), ("aws", "accounts"))
    conv.place(("services",), ("microservices",))
    return topology, conv.target, conv.problems
