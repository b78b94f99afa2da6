"""Pick the availability zones of the mesh by zone ID, once, so every VPC covers the same ones.

`us-east-1a` is a different physical zone in each account; `use1-az1` is the same
everywhere. A consumer can only use an endpoint in zones it shares with the service,
so meshlink places every account's subnets in the same zone IDs.

The zone IDs are chosen once — the first `az_count` (sorted) that every account offers —
and kept: recorded in the state dir (`zones.json`) and, when that is lost, read back
from the deployed networks (their `az_ids`: the live subnets' `AvailabilityZoneId`).
They feed every network's fingerprint, so recomputing them would move every VPC's
subnets the day an account that lacks one joins. Such an account is an error (exit 2)
naming it and the zone, before anything is touched; only a changed `network.az_count`
(which re-plans every subnet anyway) chooses again, keeping what it can.

The record also lists the accounts found to offer those zones: a run whose accounts
were all checked against the kept zones asks none of them again (a no-op `up` makes no
DescribeAvailabilityZones call); an account that joins is asked before it is deployed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from meshlink.errors import EnvironmentProblem, MeshlinkError, UsageError

if TYPE_CHECKING:
    from meshlink.engines.network_engine import NetworkEngine
    from meshlink.graph.journal import Journal
    from meshlink.topology.model import Topology

ZONES_FILE = "zones.json"


class ZoneNotOffered(UsageError):
    """An account of the topology lacks a zone id the mesh's networks are placed in."""

    def __init__(self, *, missing: Mapping[str, Sequence[str]], zone_ids: Sequence[str]):
        self.missing = {account: list(zones) for account, zones in missing.items()}
        self.zone_ids = list(zone_ids)
        lacks = "; ".join(
            f"account {account} does not offer {', '.join(zones)}"
            for account, zones in self.missing.items()
        )
        super().__init__(
            f"{lacks}: the mesh's networks are placed in zone ids {', '.join(zone_ids)}, "
            "chosen when they were first deployed (placing them elsewhere would replace "
            "every VPC's subnets)",
            hint=f"remove {_names(self.missing)} from the topology (or deploy it as a mesh of "
            "its own); or change network.az_count, which re-plans every VPC's subnets",
        )


def _names(accounts: Iterable[str]) -> str:
    names = [f"account {a}" for a in accounts]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def available_zone_ids(ec2: Any) -> set[str]:
    """Zone IDs of the standard availability zones an account can use."""
    zones = ec2.describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}]
    )["AvailabilityZones"]
    return {z["ZoneId"] for z in zones if z.get("State", "available") == "available"}


def _shared(per_account: Mapping[str, set[str]], az_count: int) -> set[str]:
    shared = set.intersection(*per_account.values()) if per_account else set()
    if len(shared) < az_count:
        detail = "; ".join(f"{n}: {', '.join(sorted(z))}" for n, z in per_account.items())
        raise EnvironmentProblem(
            f"the accounts share {len(shared)} availability zone ids "
            f"({', '.join(sorted(shared)) or 'none'}) but network.az_count is {az_count}",
            hint=f"lower network.az_count to {len(shared) or 1}, or enable zones ({detail})",
        )
    return shared


def common_zone_ids(
    accounts: Iterable[str], ec2_for: Callable[[str], Any], az_count: int
) -> list[str]:
    """The first `az_count` zone IDs (sorted) that every account offers."""
    names = list(accounts)
    per_account = {name: available_zone_ids(ec2_for(name)) for name in names}
    return sorted(_shared(per_account, az_count))[:az_count]


def read_recorded(directory: Path) -> list[str] | None:
    """The zone ids recorded in the state dir, or None (absent or unreadable)."""
    try:
        data = json.loads((directory / ZONES_FILE).read_text())
    except (OSError, ValueError):
        return None
    zone_ids = data.get("zone_ids") if isinstance(data, dict) else None
    if not isinstance(zone_ids, list) or not all(isinstance(z, str) for z in zone_ids):
        return None
    return list(zone_ids)


def read_checked(directory: Path) -> set[str]:
    """The account ids the record says offer its zone ids (empty when it says none)."""
    try:
        data = json.loads((directory / ZONES_FILE).read_text())
    except (OSError, ValueError):
        return set()
    accounts = data.get("accounts") if isinstance(data, dict) else None
    if not isinstance(accounts, list):
        return set()
    return {a for a in accounts if isinstance(a, str)}


def record(directory: Path, zone_ids: Sequence[str], accounts: Iterable[str] = ()) -> None:
    """Write the mesh's zone ids, and the account ids that offer them, to the state dir
    (atomically)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ZONES_FILE
    temporary = path.with_suffix(".tmp")
    payload = {"zone_ids": list(zone_ids), "accounts": sorted(accounts)}
    temporary.write_text(json.dumps(payload, indent=2) + "\n")
    temporary.replace(path)


def resize(kept: Sequence[str], shared: set[str], az_count: int) -> list[str]:
    """After an az_count change: the kept zones every account still offers, then more."""
    chosen = [z for z in kept if z in shared][:az_count]
    chosen += sorted(shared - set(chosen))[: az_count - len(chosen)]
    return chosen


def mesh_zone_ids(
    accounts: Iterable[str],
    ec2_for: Callable[[str], Any],
    az_count: int,
    *,
    kept: Callable[[], Sequence[str] | None],
) -> tuple[list[str], str]:
    """The mesh's zone ids and where they came from: `kept`, `resized` or `chosen`.

    `kept()` gives the zone ids the deployed networks use (recorded or live), or None
    for a mesh with no network yet. Raises ZoneNotOffered when an account lacks one.
    """
    names = list(accounts)
    per_account = {name: available_zone_ids(ec2_for(name)) for name in names}
    previous = list(kept() or [])
    if not previous:
        return sorted(_shared(per_account, az_count))[:az_count], "chosen"
    if len(previous) != az_count:
        return resize(previous, _shared(per_account, az_count), az_count), "resized"
    missing = {
        name: [z for z in previous if z not in offered]
        for name, offered in per_account.items()
        if any(z not in offered for z in previous)
    }
    if missing:
        raise ZoneNotOffered(missing=missing, zone_ids=previous)
    return previous, "kept"


class ZoneHost(Protocol):
    """What the zone choice needs of a run (MeshRuntime)."""

    topology: Topology
    state_dir: Path
    options: Any

    @property
    def journal(self) -> Journal: ...

    @property
    def network_engine(self) -> NetworkEngine: ...

    def client(self, account: str, service: str) -> Any: ...

    def notice(self, message: str) -> None: ...


def zone_ids_of(host: ZoneHost) -> list[str]:
    """The mesh's zone ids for this run: kept, or chosen and (unless read-only) recorded."""
    topology = host.topology
    ids = {account.id for account in topology.accounts.values()}
    kept = deployed_zone_ids(host)
    checked = read_checked(host.state_dir)
    recorded = read_recorded(host.state_dir)
    if kept and kept == recorded and len(kept) == topology.network.az_count and ids <= checked:
        host.notice(f"availability zones (by id): {', '.join(kept)}")
        return kept  # every account was found to offer them: nothing to ask
    chosen, source = mesh_zone_ids(
        topology.accounts,
        lambda account: host.client(account, "ec2"),
        topology.network.az_count,
        kept=lambda: kept,
    )
    recording = not host.options.read_only
    if recording and (recorded != chosen or not ids <= checked):
        # Every account of this run offers them (mesh_zone_ids raised otherwise).
        record(host.state_dir, chosen, ids | (checked if source == "kept" else set()))
    said = {
        "kept": "",
        "chosen": " (chosen for this mesh and kept from now on)"
        if recording
        else " (would be chosen for this mesh; `up` keeps them from then on)",
        "resized": " (chosen again: network.az_count changed)",
    }[source]
    host.notice(f"availability zones (by id): {', '.join(chosen)}{said}")
    return chosen


def deployed_zone_ids(host: ZoneHost) -> list[str] | None:
    """The zone ids the mesh's deployed networks use, or None when none is deployed.

    The record in the state dir while the journal knows a network; else the journal's
    network outputs; else (journal lost) each account's deployed network, read live.
    """
    with host.journal.lock:
        records = [
            r
            for nid, r in host.journal.records.items()
            if nid.startswith("network:") and (r.outputs or r.status in ("done", "failed"))
        ]
    recorded = read_recorded(host.state_dir)
    if recorded and records:
        return recorded
    for found in records:
        zone_ids = found.outputs.get("az_ids")
        if zone_ids:
            return [str(z) for z in zone_ids]
    for account in host.topology.accounts:
        try:
            outputs = host.network_engine.outputs(account)
        except (MeshlinkError, KeyError):
            continue
        zone_ids = outputs.get("az_ids")
        if zone_ids:
            return [str(z) for z in zone_ids]
    return None
