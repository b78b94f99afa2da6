"""Accounts and VPC CIDRs of a seed-format config: read where written, inferred where not.

The blog post's config names no accounts at all. What this module infers, it also says
(`Converter.note`): one account per microservice, deterministic ids on the local cloud,
one VPC CIDR per account carved from `networking.vpcCidr`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass, field
from typing import Any

from meshlink.topology.addressing import largest_vpc_prefix
from meshlink.topology.locations import PathKey
from meshlink.topology.seed_common import (
    LIST,
    OBJECT,
    STRING,
    Converter,
    dotted,
    is_account_id,
    is_id,
    kind_of,
    slug,
)

DEFAULT_VPC_CIDR = "10.0.0.0/16"
# A placeholder that passes the model, for an account whose missing id is already a problem.
MISSING_ID = "000000000000"


def local_account_id(key: str, taken: set[str]) -> str:
    """A 12-digit id for account `key` on the local cloud: the same for the same key.

    From the key, not its position, so adding a microservice never renumbers the others.
    """
    digest = int(hashlib.sha256(f"meshlink-local-account:{key}".encode()).hexdigest(), 16)
    while (candidate := str(digest % 10**12).zfill(12)) in taken:
        digest += 1
    return candidate


def split_cidr(vpc_cidr: str, count: int, az_count: int = 2) -> list[str] | None:
    """`count` equal, non-overlapping blocks of `vpc_cidr`; None when they would be too small."""
    network = ipaddress.IPv4Network(vpc_cidr, strict=False)
    bits = math.ceil(math.log2(count)) if count > 1 else 0
    if network.prefixlen + bits > largest_vpc_prefix(az_count):
        return None
    return [str(block) for block in network.subnets(prefixlen_diff=bits)][:count]


@dataclass
class _Account:
    key: str
    source: PathKey  # where the account comes from in the file (for errors and notes)
    id: str | None = None
    vpc_cidr: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # role, profile
    inferred: str = ""  # why the account exists, when the file does not name it


class AccountBook:
    """The accounts of one seed conversion, as microservices claim them."""

    def __init__(self, conv: Converter, data: dict[str, Any], target: str):
        self.conv = conv
        self.target = target
        self.networking: dict[str, Any] = conv.field(data, (), "networking", OBJECT, {})
        self.aws: dict[str, Any] = conv.field(data, (), "aws", OBJECT, {})
        self.accounts: dict[str, _Account] = {}
        self.ordered_ids: list[str] | None = None  # aws.accounts.microservices, in order
        # aws.accounts.networking: the blog's networking account, which owns the one VPC
        # and shares its subnets with the microservice accounts (network.mode shared).
        self.network_key: str | None = None
        self.explicit = False
        self._read_explicit()

    # -- what the file says -------------------------------------------------------------

    def _read_explicit(self) -> None:
        raw = self.conv.field(self.aws, ("aws",), "accounts", OBJECT, {})
        if isinstance(raw.get("microservices"), list):
            self._read_ordered(raw)
            return
        first: dict[str, str] = {}
        for key, value in raw.items():
            old: PathKey = ("aws", "accounts", key)
            name = slug(key)
            if name in first:
                self.conv.problem(
                    old,
                    f"accounts '{key}' and '{first[name]}' both become '{name}'",
                    "give each account a name that differs by more than case or punctuation",
                    at_key=True,
                )
                continue
            first[name] = key
            self.explicit = True
            self.accounts[name] = self._explicit_account(name, old, value)

    def _explicit_account(self, name: str, old: PathKey, value: Any) -> _Account:
        account = _Account(name, old)
        entry: dict[str, Any] = value if isinstance(value, dict) else {"id": value}
        if not (is_id(value) or isinstance(value, dict)):
            self.conv.problem(
                old,
                f"{dotted(old)} must be an account id or an object, not {kind_of(value)}",
                'e.g. "users": "111111111111" or "users": {"id": "111111111111"}',
            )
            entry = {}
        id_key = "id" if "id" in entry else "accountId"
        account_id = entry.get(id_key, "")
        if not is_id(account_id):
            self.conv.problem(
                (*old, id_key),
                f"{dotted((*old, id_key))} must be a string of 12 digits",
                f'e.g. "{id_key}": "111111111111"',
            )
            account_id = ""
        account.id = str(account_id)
        self.conv.place(("accounts", name, "id"), (*old, id_key) if id_key in entry else old)
        if "vpcCidr" in entry:
            account.vpc_cidr = entry["vpcCidr"]
            self.conv.place(("accounts", name, "vpc_cidr"), (*old, "vpcCidr"))
        for key in ("role", "profile"):
            if key in entry:
                account.extra[key] = entry[key]
                self.conv.place(("accounts", name, key), (*old, key))
        return account

    def _read_ordered(self, raw: dict[str, Any]) -> None:
        """The variant `"accounts": {"networking": id, "microservices": [id, ...]}`."""
        old: PathKey = ("aws", "accounts", "microservices")
        ids: list[str] = []
        for index, value in enumerate(raw["microservices"]):
            if not is_account_id(value):
                self.conv.problem(
                    (*old, index),
                    f"{dotted((*old, index))} must be a string of 12 digits",
                    'e.g. "microservices": ["111111111111", "222222222222"]',
                )
                value = MISSING_ID
            ids.append(value)
        self.ordered_ids = ids
        if "networking" in raw:
            self._read_networking(raw["networking"])
        unknown = sorted(set(raw) - {"networking", "microservices"})
        for key in unknown:
            self.conv.problem(
                ("aws", "accounts", key),
                f"unknown key '{key}' beside aws.accounts.microservices",
                'write either {"<name>": "<id>", ...} or {"networking": …, "microservices": [...]}',
                at_key=True,
            )

    def _read_networking(self, value: Any) -> None:
        """The blog's "Networking Account": it owns the VPC, the others run in its subnets."""
        old: PathKey = ("aws", "accounts", "networking")
        if not is_account_id(value):
            self.conv.problem(
                old,
                "aws.accounts.networking must be a string of 12 digits",
                '"networking" is the id of the account that owns the VPC, e.g. "333333333333"',
            )
            value = MISSING_ID
        key = "networking"
        self.accounts[key] = _Account(key, old, id=value)
        self.conv.place(("accounts", key, "id"), old)
        self.conv.place(("network",), old)
        self.network_key = key
        self.conv.note(
            old,
            f"aws.accounts.networking ({value}) is the networking account 'networking': it "
            "owns the mesh's one VPC (networking.vpcCidr) and shares its private subnets "
            "with the microservice accounts through AWS RAM (network.mode shared); they "
            "run their services in them",
        )

    def network(self) -> dict[str, Any] | None:
        """The topology's `network` section when the file names a networking account."""
        if self.network_key is None:
            return None
        return {"mode": "shared", "account": self.network_key}

    # -- which account runs a microservice --------------------------------------------------

    def for_service(self, micro: dict[str, Any], name: str, index: int, old: PathKey) -> str:
        """The key of the account that runs microservice `name` (microservices[index])."""
        key = "account" if "account" in micro else "accountName"
        if micro.get(key) is not None:
            self.conv.place(("services", name, "account"), (*old, key))
            wanted = self.conv.field(micro, old, key, STRING, "")
            return self._named(wanted, name, (*old, key)) if wanted else ""
        if self.ordered_ids is not None:
            return self._ordered(name, index, old)
        if self.explicit:
            return self._only_or_same_name(name, old)
        return self._infer(name, old, f"microservice '{name}' runs in an account of its own")

    def _named(self, wanted: str, service: str, old: PathKey) -> str:
        if is_account_id(wanted):
            return self._by_id(wanted, service, old)
        name = slug(wanted)
        if name in self.accounts or self.explicit:
            return name  # an unknown name is the rules' to report, with suggestions
        return self._infer(name, old, f"microservice '{service}' names account '{name}'")

    def _by_id(self, account_id: str, service: str, old: PathKey) -> str:
        for account in self.accounts.values():
            if account.id == account_id:
                return account.key
        key = self._free_key(service)
        self.accounts[key] = _Account(key, old, id=account_id)
        self.conv.place(("accounts", key, "id"), old)
        self.conv.note(old, f"account {account_id} is named '{key}' after microservice '{service}'")
        return key

    def _ordered(self, name: str, index: int, old: PathKey) -> str:
        ids = self.ordered_ids or []
        if index < len(ids):
            return self._by_id(ids[index], name, ("aws", "accounts", "microservices", index))
        self.conv.problem(
            ("aws", "accounts", "microservices"),
            f"aws.accounts.microservices has {len(ids)} account ids for more microservices "
            f"(none for '{name}', microservices[{index}])",
            "give one account id per microservice, in the order of microservices",
        )
        return self._infer(name, old, f"microservice '{name}' runs in an account of its own")

    def _only_or_same_name(self, name: str, old: PathKey) -> str:
        if name in self.accounts:
            return name
        if len(self.accounts) == 1:
            return next(iter(self.accounts))
        self.conv.problem(
            old,
            f"cannot tell which account runs microservice '{name}'",
            'add "account": "<key of aws.accounts>" to the microservice',
        )
        return "unknown"

    def _infer(self, key: str, old: PathKey, why: str) -> str:
        if key not in self.accounts:
            self.accounts[key] = _Account(key, old, inferred=why)
            self.conv.place(("accounts", key), old)
            self.conv.place(("accounts", key, "id"), old)
        return key

    def stand_in(self, provider: str, old: PathKey) -> str:
        """The account of a local stand-in for an external service (one of its own)."""
        key = self._free_key(provider)
        return self._infer(key, old, f"the stand-in for '{provider}' runs in an account of its own")

    def _free_key(self, wanted: str) -> str:
        key, number = wanted, 2
        while key in self.accounts:
            key, number = f"{wanted}-{number}", number + 1
        return key

    # -- ids and CIDRs, once every microservice has claimed its account -------------------

    def finish(self) -> dict[str, Any]:
        """The topology's `accounts`: ids filled in (or asked for), a VPC CIDR each."""
        self._fill_ids()
        cidrs = self._cidrs()
        accounts: dict[str, Any] = {}
        for key, account in self.accounts.items():
            self.conv.place(("accounts", key), account.source)
            accounts[key] = {"id": account.id or MISSING_ID, **account.extra}
            if cidrs[key] is not None:
                self.conv.place(("accounts", key, "vpc_cidr"), self._cidr_source(account))
                accounts[key]["vpc_cidr"] = cidrs[key]
        return accounts

    def _fill_ids(self) -> None:
        taken = {a.id for a in self.accounts.values() if a.id}
        for account in self.accounts.values():
            if account.id or not account.inferred:
                continue
            if self.target == "aws":
                self.conv.problem(
                    account.source,
                    f"{account.inferred}, '{account.key}', which has no id: target aws "
                    "needs the 12-digit id of that account",
                    f'add "aws": {{"accounts": {{"{account.key}": "<12-digit id>"}}}}, or '
                    '"account": "<12-digit id>" on the microservice',
                )
                continue
            account.id = local_account_id(account.key, taken)
            taken.add(account.id)
            self.conv.note(
                account.source,
                f"{account.inferred}, '{account.key}' (id {account.id} on the local cloud)",
            )

    def _cidrs(self) -> dict[str, str | None]:
        base = self.conv.field(self.networking, ("networking",), "vpcCidr", STRING, None)
        vpc_cidr = base or DEFAULT_VPC_CIDR
        if self.network_key is not None:
            # One VPC, the networking account's: the others own none (no vpc_cidr).
            if base is None:
                self.conv.note(("networking",), f"VPC CIDR {vpc_cidr}: the file gives none")
            return {k: vpc_cidr if k == self.network_key else None for k in self.accounts}
        open_keys = [k for k, a in self.accounts.items() if a.vpc_cidr is None]
        cidrs: dict[str, str | None] = {
            k: str(a.vpc_cidr) for k, a in self.accounts.items() if a.vpc_cidr is not None
        }
        if len(open_keys) <= 1:
            cidrs.update(dict.fromkeys(open_keys, vpc_cidr))
            if open_keys and base is None:
                self.conv.note(("networking",), f"VPC CIDR {vpc_cidr}: the file gives none")
            return cidrs
        try:
            blocks = split_cidr(vpc_cidr, len(open_keys))
        except ValueError:
            blocks = None  # not a CIDR at all: the model reports it, once per account
            cidrs.update(dict.fromkeys(open_keys, vpc_cidr))
            return cidrs
        if blocks is None:
            self.conv.problem(
                ("networking", "vpcCidr"),
                f"networking.vpcCidr {vpc_cidr} is too small to give {len(open_keys)} "
                f"accounts a VPC each (at most /{largest_vpc_prefix(2)} per VPC)",
                'use a larger block (e.g. "10.0.0.0/16"), or give each account its own vpcCidr',
            )
            blocks = [vpc_cidr] * len(open_keys)
        cidrs.update(zip(open_keys, blocks, strict=True))
        listed = ", ".join(f"{k} {c}" for k, c in zip(open_keys, blocks, strict=True))
        self.conv.note(
            ("networking", "vpcCidr"),
            f"networking.vpcCidr {vpc_cidr} is split into one block per account, so no two "
            f"VPCs overlap (they can later be peered or joined by a transit gateway): {listed}",
        )
        return cidrs

    def _cidr_source(self, account: _Account) -> PathKey:
        if account.vpc_cidr is not None:
            return (*account.source, "vpcCidr")
        if ("networking", "vpcCidr") in self.conv.source.values:
            return ("networking", "vpcCidr")
        return account.source  # the default CIDR: the account is to blame


def note_unused_networking(conv: Converter, networking: dict[str, Any]) -> None:
    """Subnet CIDRs the blog lists are not how meshlink places subnets: say so."""
    for key in ("publicSubnetCidrs", "privateSubnetCidrs"):
        if key in networking:
            conv.field(networking, ("networking",), key, LIST, [])
            conv.note(
                ("networking", key),
                f"networking.{key} is not used: meshlink carves each VPC's public, "
                "private and isolated subnets from its CIDR, one per zone",
            )
