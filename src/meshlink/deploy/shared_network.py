"""A shared network's participants accept its subnet share (AWS RAM invitations).

A RAM share reaches an account outside the owner's organization by invitation
(https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html),
but subnets are shared only within the organization, with RAM sharing with it enabled
(https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html): their participants
get them at once, and AWS refuses the share to any other account. So this finds no
pending invitation to the subnet share on AWS, nor on the local cloud, which shares
subnets the same way (localcloud/patches/ram.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshlink.engines.network_contract import subnet_share_name
from meshlink.topology.model import Topology

ClientFor = Callable[[str, str], Any]


def pending_invitations(ram: Any, share_name: str, sender: str) -> list[dict[str, Any]]:
    """The receiving account's pending invitations to share `share_name` of `sender`."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {}
    while True:
        page = ram.get_resource_share_invitations(**request)
        found.extend(
            i
            for i in page.get("resourceShareInvitations", [])
            if i.get("status") == "PENDING"
            and i.get("resourceShareName") == share_name
            and i.get("senderAccountId") == sender
        )
        token = page.get("nextToken")
        if not token:
            return found
        request["nextToken"] = token


def accept_share_invitations(topology: Topology, owner: str, client: ClientFor) -> list[str]:
    """Accept, in each participant of `owner`'s shared network, its pending invitation to
    the subnet share; the keys of the accounts that accepted one."""
    if not topology.shared_with(owner):
        return []
    name = subnet_share_name(topology.name, owner)
    sender = topology.accounts[owner].id
    accepted = []
    for participant in topology.participants():
        ram = client(participant, "ram")
        for invitation in pending_invitations(ram, name, sender):
            ram.accept_resource_share_invitation(
                resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
            )
            accepted.append(participant)
    return accepted
