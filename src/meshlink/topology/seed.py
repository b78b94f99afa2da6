"""Import the blog post's JSON config (microservices[], networking{}, aws{}) as a topology.

What the file leaves out is inferred and said (`Note`s): accounts and CIDRs
(`seed_accounts.py`), the target and region, and, on the local cloud, a stand-in for each
external service, since no such endpoint service exists there.
"""

from __future__ import annotations

from typing import Any

from meshlink.errors import Problem
from meshlink.topology.locations import Locations, PathKey
from meshlink.topology.notes import Note
from meshlink.topology.seed_accounts import AccountBook, note_unused_networking
from meshlink.topology.seed_common import LIST, STRING, Converter, dotted, kind_of, slug

SEED_SERVICE_KEYS = {
    "port": "port",
    "image": "image",
    "cpu": "cpu",
    "memory": "memory",
    "desiredCount": "desired_count",
    "acceptanceRequired": "acceptance_required",
}


def _named_microservices(data: dict[str, Any], conv: Converter) -> dict[str, int]:
    """Slug of each well-formed microservice -> its index; problems for the others."""
    named: dict[str, int] = {}
    written: dict[str, str] = {}
    for index, micro in enumerate(conv.field(data, (), "microservices", LIST, [])):
        old: PathKey = ("microservices", index)
        if not isinstance(micro, dict):
            conv.problem(
                old,
                f"{dotted(old)} must be an object, not {kind_of(micro)}",
                "see the blog post's config",
            )
            continue
        raw = conv.field(micro, old, "name", STRING, f"service-{index}")
        name = slug(raw)
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
    micro: dict[str, Any], name: str, old: PathKey, named: dict[str, int], conv: Converter
) -> tuple[list[str], dict[str, tuple[dict[str, Any], PathKey]]]:
    """Peers this microservice consumes, and the external ones (spec, where written)."""
    consumes: list[str] = []
    external: dict[str, tuple[dict[str, Any], PathKey]] = {}
    for peer_index, peer in enumerate(conv.field(micro, old, "consumerEndpointServices", LIST, [])):
        peer_old: PathKey = (*old, "consumerEndpointServices", peer_index)
        if not isinstance(peer, dict):
            conv.problem(
                peer_old,
                f"{dotted(peer_old)} must be an object, not {kind_of(peer)}",
                'write {"serviceName": …, "vpcEndpointServiceId": …, "port": …}',
            )
            continue
        if peer.get("serviceName") is None:
            conv.problem(peer_old, f"{dotted(peer_old)} has no serviceName", "name the service")
            continue
        raw = conv.field(peer, peer_old, "serviceName", STRING, None)
        if raw is None:
            continue
        peer_name = slug(raw)
        conv.place(("services", name, "consumes", len(consumes)), (*peer_old, "serviceName"))
        consumes.append(peer_name)
        if peer_name not in named:
            spec = {
                "service_name": peer.get("vpcEndpointServiceId", ""),
                "port": peer.get("port", 443),
            }
            external[peer_name] = (spec, peer_old)
    return consumes, external


class _Seed:
    """One conversion: the services, the external ones, and the accounts they claim."""

    def __init__(self, data: dict[str, Any], conv: Converter, target: str):
        self.data, self.conv, self.target = data, conv, target
        self.book = AccountBook(conv, data, target)
        self.named = _named_microservices(data, conv)
        self.services: dict[str, Any] = {}
        self.external: dict[str, dict[str, Any]] = {}
        self.external_at: dict[str, PathKey] = {}

    def convert_services(self) -> None:
        for name, index in self.named.items():
            old: PathKey = ("microservices", index)
            micro: dict[str, Any] = self.data["microservices"][index]
            service: dict[str, Any] = {"account": self.book.for_service(micro, name, index, old)}
            self.conv.place(("services", name), old)
            for seed_key, key in SEED_SERVICE_KEYS.items():
                if seed_key in micro:
                    service[key] = micro[seed_key]
                    self.conv.place(("services", name, key), (*old, seed_key))
            service["consumes"], found = _consumes(micro, name, old, self.named, self.conv)
            for peer_name, (spec, where) in found.items():
                self._add_external(peer_name, spec, where, old)
            self.services[name] = service

    def _add_external(
        self, name: str, spec: dict[str, Any], where: PathKey, consumer: PathKey
    ) -> None:
        if name in self.external:
            if self.external[name] != spec:
                self.conv.problem(
                    (*consumer, "consumerEndpointServices"),
                    f"external service '{name}' is described differently by two microservices",
                    "give every consumer the same vpcEndpointServiceId and port for it",
                )
            return
        self.external[name] = spec
        self.external_at[name] = where

    def place_externals(self) -> dict[str, Any]:
        """External services as such (AWS), or a stand-in service for each (local cloud)."""
        if self.target != "local":
            for name, where in self.external_at.items():
                self.conv.place(("external", name), where)
                self.conv.place(
                    ("external", name, "service_name"), (*where, "vpcEndpointServiceId")
                )
                self.conv.place(("external", name, "port"), (*where, "port"))
                self.conv.note(
                    where,
                    f"'{name}' names no microservice of this file: it is the external "
                    f"endpoint service {self.external[name]['service_name'] or '(no id)'}",
                )
            return dict(self.external)
        for name, spec in self.external.items():
            self._stand_in(name, spec, self.external_at[name])
        return {}

    def _stand_in(self, name: str, spec: dict[str, Any], where: PathKey) -> None:
        account = self.book.stand_in(name, where)
        self.services[name] = {"account": account, "port": spec["port"], "consumes": []}
        self.conv.place(("services", name), where)
        self.conv.place(("services", name, "port"), (*where, "port"))
        self.conv.note(
            where,
            f"'{name}' names no microservice of this file, and its endpoint service "
            f"{spec['service_name'] or '(no id)'} cannot exist on the local cloud: meshlink "
            f"runs a stand-in for it there (the bundled service on port {spec['port']}); "
            'with "target": "aws" it is that external endpoint service',
        )


def _say_defaults(data: dict[str, Any], aws: dict[str, Any], conv: Converter, name: str) -> None:
    if "name" not in data:
        conv.note((), f"mesh name '{name}' comes from the file name")
    if "target" not in data:
        conv.note((), 'target local (the local cloud); add "target": "aws" to deploy to AWS')
    if "region" not in aws:
        conv.note(("aws",) if "aws" in data else (), "region us-east-1: the file names none")


def convert_seed(
    data: dict[str, Any], locations: Locations, default_name: str = "blog"
) -> tuple[dict[str, Any], Locations, list[Problem], list[Note]]:
    """Turn seed-format data into topology data, keeping every value's file location."""
    conv = Converter(locations)
    target = data.get("target", "local")
    seed = _Seed(data, conv, target)
    seed.convert_services()
    external = seed.place_externals()
    note_unused_networking(conv, seed.book.networking)
    name = slug(conv.field(data, (), "name", STRING, default_name))
    _say_defaults(data, seed.book.aws, conv, name)
    topology: dict[str, Any] = {
        "name": name,
        "region": conv.field(seed.book.aws, ("aws",), "region", STRING, "us-east-1"),
        "target": target,
        "accounts": seed.book.finish(),
        "services": seed.services,
    }
    network = seed.book.network()
    if network is not None:
        topology["network"] = network
    probe_image = conv.field(data, (), "probeImage", STRING, None)
    if probe_image is not None:  # verify's probe image (target aws: pinned by digest)
        topology["probe_image"] = probe_image
    if external:
        topology["external"] = external
    for new, old_path in (
        (("name",), ("name",)),
        (("region",), ("aws", "region")),
        (("target",), ("target",)),
        (("accounts",), ("aws", "accounts")),
        (("services",), ("microservices",)),
        *([(("probe_image",), ("probeImage",))] if probe_image is not None else []),
    ):
        conv.place(new, old_path)
    notes = sorted(conv.notes, key=lambda n: (n.line, n.col))
    return topology, conv.target, conv.problems, notes
