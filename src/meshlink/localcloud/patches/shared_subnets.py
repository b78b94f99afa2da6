"""Shared VPC subnets, as https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html
and its "Responsibilities and permissions for owners and participants"
(https://docs.aws.amazon.com/vpc/latest/userguide/vpc-share-limitations.html) describe.

moto keeps each account's EC2 resources apart, so a subnet shared through AWS RAM
(patches/ram.py: only once its share is accepted) stays invisible to the participant.
Here the participant:

* sees the shared subnets (``DescribeSubnets``, with the owner's ``OwnerId``) and their
  VPC, and places its own ENIs there (tasks, NLBs, target groups, security groups);
* may reference, in its security group rules, groups the owner or another participant
  created in that VPC, and they its groups ("you can reference security groups that
  belong to other participants or the owner in the same VPC");
* cannot modify or delete the subnets ("Participants cannot view, modify, or delete
  resources that belong to other participants or the VPC owner");
* cannot create an interface endpoint in the shared VPC: AWS answers
  ``UnauthorizedOperation`` "This operation does not support shared VPCs"
  (https://repost.aws/knowledge-center/vpc-interface-endpoint-creation-errors); the
  owner creates endpoints ("VPC owners are responsible for ... interface endpoints").
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches import ram
from meshlink.localcloud.patches.registry import backend, wrap

SUBNETS = "moto.ec2.models.subnets:SubnetBackend"
VPCS = "moto.ec2.models.vpcs:VPCBackend"
GROUPS = "moto.ec2.models.security_groups:SecurityGroupBackend"
NOT_SHARED = "This operation does not support shared VPCs."
NOT_YOURS = "You are not authorized to perform this operation."


def _unauthorized(message: str) -> Exception:
    from moto.ec2.exceptions import EC2ClientError

    return EC2ClientError("UnauthorizedOperation", message)


def shared_subnets(ec2: Any) -> dict[str, str]:
    """Subnet id -> owner account, of the subnets shared with `ec2`'s account."""
    return ram.shared_resources(str(ec2.account_id), str(ec2.region_name), "subnet")


def _owner_subnet(ec2: Any, subnet_id: str) -> Any | None:
    owner = shared_subnets(ec2).get(subnet_id)
    if owner is None:
        return None
    subnets = backend("ec2", owner, ec2.region_name).subnets
    return next((z[subnet_id] for z in list(subnets.values()) if subnet_id in z), None)


def _own(ec2: Any, subnet_id: str) -> bool:
    return any(subnet_id in per_zone for per_zone in list(ec2.subnets.values()))


def shared_vpcs(ec2: Any) -> dict[str, str]:
    """VPC id -> owner account, of the VPCs a subnet of which is shared with `ec2`'s account."""
    found: dict[str, str] = {}
    for subnet_id in shared_subnets(ec2):
        subnet = _owner_subnet(ec2, subnet_id)
        if subnet is not None:
            found[str(subnet.vpc_id)] = str(subnet.ec2_backend.account_id)
    return found


def vpc_members(region: str, vpc_id: str) -> set[str]:
    """The accounts that own `vpc_id` or take part in it through a shared subnet."""
    from moto.ec2.models import ec2_backends

    members: set[str] = set()
    for account, per_region in list(dict.items(ec2_backends)):
        ec2 = dict.get(per_region, region)
        if ec2 is None:
            continue
        if vpc_id in ec2.vpcs or vpc_id in shared_vpcs(ec2):
            members.add(str(account))
    return members


@wrap(SUBNETS, "get_subnet")
def _get_subnet(original: Any, ec2: Any, subnet_id: str) -> Any:
    try:
        return original(ec2, subnet_id)
    except Exception:
        shared = _owner_subnet(ec2, subnet_id)
        if shared is None:
            raise
        return shared


@wrap(SUBNETS, "describe_subnets")
def _describe_subnets(
    original: Any, ec2: Any, subnet_ids: list[str] | None = None, filters: Any = None
) -> list[Any]:
    shared = shared_subnets(ec2)
    wanted = list(subnet_ids or [])
    theirs = [s for s in wanted if s in shared and not _own(ec2, s)]
    mine = [s for s in wanted if s not in theirs]
    found = original(ec2, mine, filters) if mine or not wanted else []
    by_owner: dict[str, list[str]] = {}
    for subnet_id, owner in shared.items():
        if (not wanted or subnet_id in theirs) and owner != ec2.account_id:
            by_owner.setdefault(owner, []).append(subnet_id)
    for owner, ids in by_owner.items():
        found.extend(original(backend("ec2", owner, ec2.region_name), ids, filters))
    return list(found)


@wrap(SUBNETS, "delete_subnet")
def _delete_subnet(original: Any, ec2: Any, subnet_id: str) -> Any:
    if not _own(ec2, subnet_id) and subnet_id in shared_subnets(ec2):
        raise _unauthorized(NOT_YOURS)
    return original(ec2, subnet_id)


@wrap(SUBNETS, "modify_subnet_attribute")
def _modify_subnet(original: Any, ec2: Any, subnet_id: str, *args: Any) -> Any:
    if not _own(ec2, subnet_id) and subnet_id in shared_subnets(ec2):
        raise _unauthorized(NOT_YOURS)
    return original(ec2, subnet_id, *args)


@wrap(VPCS, "get_vpc")
def _get_vpc(original: Any, ec2: Any, vpc_id: str) -> Any:
    try:
        return original(ec2, vpc_id)
    except Exception:
        owner = shared_vpcs(ec2).get(vpc_id)
        if owner is None:
            raise
        return backend("ec2", owner, ec2.region_name).vpcs[vpc_id]


@wrap(VPCS, "describe_vpcs")
def _describe_vpcs(
    original: Any, ec2: Any, vpc_ids: list[str] | None = None, filters: Any = None
) -> list[Any]:
    shared = {v: o for v, o in shared_vpcs(ec2).items() if v not in ec2.vpcs}
    wanted = list(vpc_ids or [])
    theirs = [v for v in wanted if v in shared]
    mine = [v for v in wanted if v not in theirs]
    found = list(original(ec2, mine, filters)) if mine or not wanted else []
    for vpc_id, owner in shared.items():
        if not wanted or vpc_id in theirs:
            found.extend(original(backend("ec2", owner, ec2.region_name), [vpc_id], filters))
    return found


@wrap(VPCS, "create_vpc_endpoint")
def _create_vpc_endpoint(original: Any, ec2: Any, vpc_id: str, *args: Any, **kwargs: Any) -> Any:
    if vpc_id not in ec2.vpcs and vpc_id in shared_vpcs(ec2):
        raise _unauthorized(NOT_SHARED)
    return original(ec2, vpc_id, *args, **kwargs)


def _group_in_shared_vpc(ec2: Any, group_id: str, vpc_id: str | None) -> Any | None:
    """Another account's security group `group_id`, when `ec2`'s account takes part in
    the group's VPC too (its owner, or a participant through a shared subnet), and that
    VPC is `vpc_id` when the caller names one (moto's CloudFormation path does not)."""
    from moto.ec2.models import ec2_backends

    me = str(ec2.account_id)
    for account, per_region in list(dict.items(ec2_backends)):
        other = dict.get(per_region, ec2.region_name)
        if str(account) == me or other is None:
            continue
        group = other.get_security_group_from_id(group_id)
        if group is None or (vpc_id and group.vpc_id != vpc_id):
            continue
        if me in vpc_members(str(ec2.region_name), str(group.vpc_id)):
            return group
        return None
    return None


@wrap(GROUPS, "_add_source_group")
def _add_source_group(
    original: Any, ec2: Any, source_groups: list[dict[str, Any]] | None, vpc_id: str | None
) -> list[dict[str, Any]]:
    mine: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for item in source_groups or []:
        group_id = item.get("GroupId")
        if group_id and ec2.get_security_group_from_id(group_id) is None:
            group = _group_in_shared_vpc(ec2, str(group_id), vpc_id)
            if group is not None:
                item.setdefault("OwnerId", str(group.owner_id))
                item.setdefault("UserId", str(group.owner_id))
                theirs.append(item)
                continue
        mine.append(item)
    return [*original(ec2, mine, vpc_id), *theirs]
