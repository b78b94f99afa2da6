"""A shared network's participants accept its subnet share (AWS RAM invitations).

An account outside the owner's organization (or any account, when RAM sharing with the
organization is off) gets the shared subnets only once it accepts the share's invitation
(https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html).
meshlink deploys in every account of the mesh, so after the owner's network is applied it
accepts, in each participant, the pending invitation to exactly that share (found by the
share's name and the owner's account id). Within an organization with sharing enabled
there is no invitation, and nothing to do.
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
