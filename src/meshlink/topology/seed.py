"""Import the blog post's JSON config (microservices[], networking{}, aws{}) as a topology."""

from __future__ import annotations

import re
from typing import Any

from meshlink.errors import Problem
from meshlink.topology.locations import Locations, PathKey

SEED_SERVICE_KEYS = {
    "port": "port",
    "image": "image",
    "cpu": "cpu",
    "memory": "memory",
    "desiredCount": "desired_count",
    "acceptanceRequired": "acceptance_required",
}
OBJECT = (dict, "an object")
LIST = (list, "a list")
STRING = (str, "a string")


class _Converter:
    def __init__(self, source: Locations):
        self.source = source
        self.target = Locations()
        self.problems: list[Problem] = []

    def place(self, new: PathKey, old: PathKey) -> None:
        """The value at `new` comes from `old` in the file: errors point there."""
        self.target.values[new] = self.source.of_value(old)
        self.target.keys[new] = self.source.of_key(old)

    def problem(self, old: PathKey, message: str, hint: str, *, at_key: bool = False) -> None:
        where = self.source.of_key(old) if at_key else self.source.of_value(old)
        self.problems.append(Problem(message, *where, hint))

    def field(
        self, parent: dict[str, Any], old: PathKey, key: str, kind: tuple[type, str], default: Any
    ) -> Any:
        """parent[key] if it has the expected type; the default (and a problem) if not."""
        value = parent.get(key)
        if value is None:
            return default
        if not isinstance(value, kind[0]):
            self.problem(
                (*old, key),
                f"{_dotted((*old, key))} must be {kind[1]}, not {_kind_of(value)}",
                "see the blog post's config for the expected shape",
            )
            return default
        return value


def _dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _kind_of(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return "null" if value is None else kinds.get(type(value), "a number")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "mesh"


def _is_id(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _accounts(aws: dict[str, Any], conv: _Converter, networking: dict[str, Any]) -> dict[str, Any]:
    raw = conv.field(aws, ("aws",), "accounts", OBJECT, {})
    vpc_cidr = conv.field(networking, ("networking",), "vpcCidr", STRING, "10.0.0.0/16")
    accounts: dict[str, Any] = {}
    first: dict[str, str] = {}
    for key, value in raw.items():
        old: PathKey = ("aws", "accounts", key)
        name = _slug(key)
        if name in first:
            conv.problem(
                old,
                f"accounts '{key}' and '{first[name]}' both become '{name}'",
                "give each account a name that differs by more than case or punctuation",
                at_key=True,
            )
            continue
        first[name] = key
        entry: dict[str, Any] = value if isinstance(value, dict) else {"id": value}
        if not (_is_id(value) or isinstance(value, dict)):
            # Keep the account (services name it) with no id: that problem is this one.
            conv.problem(
                old,
                f"{_dotted(old)} must be an account id or an object, not {_kind_of(value)}",
                'e.g. "users": "111111111111" or "users": {"id": "111111111111"}',
            )
            entry = {}
        id_key = "id" if "id" in entry else "accountId"
        account_id = entry.get(id_key, "")
        if not _is_id(account_id):
            conv.problem(
                (*old, id_key),
                f"{_dotted((*old, id_key))} must be a string of 12 digits",
                f'e.g. "{id_key}": "111111111111"',
            )
            account_id = ""
        account = {"id": str(account_id), "vpc_cidr": entry.get("vpcCidr", vpc_cidr)}
        conv.place(("accounts", name), old)
        conv.place(("accounts", name, "id"), (*old, id_key) if id_key in entry else old)
        cidr_from = (*old, "vpcCidr") if "vpcCidr" in entry else ("networking", "vpcCidr")
        if cidr_from not in conv.source.values:  # the default CIDR: the account is to blame
            cidr_from = old
        conv.place(("accounts", name, "vpc_cidr"), cidr_from)
        for field in ("role", "profile"):
            if field in entry:
                account[field] = entry[field]
                conv.place(("accounts", name, field), (*old, field))
        accounts[name] = account
    return accounts


def _account_for(
    service: dict[str, Any], name: str, accounts: dict[str, Any], conv: _Converter, old: PathKey
) -> str:
    key = "account" if "account" in service else "accountName"
    if service.get(key) is not None:
        conv.place(("services", name, "account"), (*old, key))
        wanted = conv.field(service, old, key, STRING, "")
        return _slug(wanted) if wanted else ""
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


def _named_microservices(data: dict[str, Any], conv: _Converter) -> dict[str, int]:
    """Slug of each well-formed microservice -> its index; problems for the others."""
    named: dict[str, int] = {}
    written: dict[str, str] = {}
    for index, micro in enumerate(conv.field(data, (), "microservices", LIST, [])):
        old: PathKey = ("microservices", index)
        if not isinstance(micro, dict):
            conv.problem(
                old,
                f"{_dotted(old)} must be an object, not {_kind_of(micro)}",
                "see the blog post's config",
            )
            continue
        raw = conv.field(micro, old, "name", STRING, f"service-{index}")
        name = _slug(raw)
        if name in named:
            conv.problem(
                (*old, "name"),
                f"microservices '{raw}' and '{written[name]}' both become '{name}'",
                "give each microservice a name that differs by more than case or punctuation",
            )
            continue
        named[name] = index
        written[name] = raw
    return named


def _consumes(
    micro: dict[str, Any], name: str, old: PathKey, named: dict[str, int], conv: _Converter
) -> tuple[list[str], dict[str, Any]]:
    """Peers this microservice consumes, and the external services among them."""
    consumes: list[str] = []
    external: dict[str, Any] = {}
    for peer_index, peer in enumerate(conv.field(micro, old, "consumerEndpointServices", LIST, [])):
        peer_old: PathKey = (*old, "consumerEndpointServices", peer_index)
        if not isinstance(peer, dict):
            conv.problem(
                peer_old,
                f"{_dotted(peer_old)} must be an object, not {_kind_of(peer)}",
                'write {"serviceName": …, "vpcEndpointServiceId": …, "port": …}',
            )
            continue
        if peer.get("serviceName") is None:
            conv.problem(peer_old, f"{_dotted(peer_old)} has no serviceName", "name the service")
            continue
        raw = conv.field(peer, peer_old, "serviceName", STRING, None)
        if raw is None:
            continue
        peer_name = _slug(raw)
        conv.place(("services", name, "consumes", len(consumes)), (*peer_old, "serviceName"))
        consumes.append(peer_name)
        if peer_name not in named:
            external[peer_name] = {
                "service_name": peer.get("vpcEndpointServiceId", ""),
                "port": peer.get("port", 443),
            }
            conv.place(("external", peer_name), peer_old)
            conv.place(("external", peer_name, "service_name"), (*peer_old, "vpcEndpointServiceId"))
            conv.place(("external", peer_name, "port"), (*peer_old, "port"))
    return consumes, external


def convert_seed(
    data: dict[str, Any], locations: Locations, default_name: str = "blog"
) -> tuple[dict[str, Any], Locations, list[Problem]]:
    """Turn seed-format data into topology data, keeping every value's file location."""
    conv = _Converter(locations)
    aws = conv.field(data, (), "aws", OBJECT, {})
    accounts = _accounts(aws, conv, conv.field(data, (), "networking", OBJECT, {}))
    named = _named_microservices(data, conv)
    services: dict[str, Any] = {}
    external: dict[str, Any] = {}
    for name, index in named.items():
        old: PathKey = ("microservices", index)
        micro: dict[str, Any] = data["microservices"][index]
        service: dict[str, Any] = {"account": _account_for(micro, name, accounts, conv, old)}
        conv.place(("services", name), old)
        for seed_key, key in SEED_SERVICE_KEYS.items():
            if seed_key in micro:
                service[key] = micro[seed_key]
                conv.place(("services", name, key), (*old, seed_key))
        service["consumes"], found = _consumes(micro, name, old, named, conv)
        for peer_name, spec in found.items():
            if peer_name in external and external[peer_name] != spec:
                conv.problem(
                    (*old, "consumerEndpointServices"),
                    f"external service '{peer_name}' is described differently by two microservices",
                    "give every consumer the same vpcEndpointServiceId and port for it",
                )
            external.setdefault(peer_name, spec)
        services[name] = service
    topology: dict[str, Any] = {
        "name": _slug(conv.field(data, (), "name", STRING, default_name)),
        "region": conv.field(aws, ("aws",), "region", STRING, "us-east-1"),
        "target": data.get("target", "local"),
        "accounts": accounts,
        "services": services,
    }
    if external:
        topology["external"] = external
    for new, old_path in (
        (("name",), ("name",)),
        (("region",), ("aws", "region")),
        (("target",), ("target",)),
        (("accounts",), ("aws", "accounts")),
        (("services",), ("microservices",)),
    ):
        conv.place(new, old_path)
    return topology, conv.target, conv.problems
