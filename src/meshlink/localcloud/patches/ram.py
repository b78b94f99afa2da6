"""AWS RAM as VPC sharing needs it (moto 5.2.5 has a resource-share store, little more).

moto creates, lists and deletes resource shares, but it has no AssociateResourceShare,
DisassociateResourceShare or invitations, reports every association ``ASSOCIATED``
(or whatever status the caller filtered on), ignores the ARNs ``GetResourceShares`` is
asked for, and knows no ``AWS::RAM::ResourceShare`` in CloudFormation. Here, as
https://docs.aws.amazon.com/ram/latest/userguide/working-with-sharing-create.html and
https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html
describe: a principal of the owner's organization (with sharing with the organization
enabled, https://docs.aws.amazon.com/ram/latest/userguide/getting-started-sharing.html#getting-started-sharing-orgs)
is associated at once; any other account gets an invitation, and its association stays
``ASSOCIATING`` until it accepts (``ASSOCIATED``) or rejects it. Only an accepted share
gives access: :func:`shared_resources` is what the shared-subnet patch reads.

Subnets are shared only within the owner's organization, with sharing enabled
(https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html: "You can share
non-default subnets with other accounts within your organization", and the prerequisite
"You must enable resource sharing from the management account for your organization"):
no invitation ever, a share that would put a subnet outside the organization is refused
with AWS's ``InvalidParameterException``. The local cloud's accounts form one organization
with RAM sharing enabled (the prerequisite a shared network needs on AWS); an account that
creates an organization of its own (``CreateOrganization``) is in that one instead, whose
management account enables sharing (``EnableSharingWithAwsOrganization``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from meshlink.localcloud.patches.registry import (
    CfnCall,
    NewModel,
    Properties,
    cfn,
    cfn_model,
    on_delete,
    replace,
    step,
    wrap,
)

RESPONSES = "moto.ram.responses:ResourceAccessManagerResponse"
BACKEND = "moto.ram.models:ResourceAccessManagerBackend"
SHARE = "moto.ram.models:ResourceShare"
NEW_PATHS = (
    "associateresourceshare",
    "disassociateresourceshare",
    "getresourceshareinvitations",
    "acceptresourceshareinvitation",
    "rejectresourceshareinvitation",
    "listresourcesharepermissions",
)


@dataclass
class Invitation:
    """A pending, accepted or rejected invitation of one account to one share."""

    arn: str
    share: Any  # moto's ResourceShare
    receiver: str
    status: str = "PENDING"


@dataclass
class ShareState:
    """What moto's ResourceShare lacks: each principal's status, its invitations."""

    statuses: dict[str, str] = field(default_factory=dict)  # principal -> status
    invitations: dict[str, Invitation] = field(default_factory=dict)  # receiver -> invitation


def account_of_principal(principal: str) -> str | None:
    """The account id a principal (an account id or an IAM ARN) names; None otherwise."""
    if re.fullmatch(r"[0-9]{12}", principal):
        return principal
    match = re.fullmatch(r"arn:aws[a-z-]*:iam::([0-9]{12}):.+", principal)
    return match.group(1) if match else None


# AWS's answer to a share that would take an organization-only resource (a subnet)
# outside the owner's organization, or share it without sharing with the organization on.
ORGANIZATION_ONLY = (
    "The resource you are attempting to share can only be shared within your AWS "
    "Organization. This error may also occur if you have not enabled sharing with your AWS "
    "organization, or that onboarding process is still in progress."
)


def initial_status(owner: str, principal: str, same_organization: bool, sharing: bool) -> str:
    """A new principal association's status: associated at once within the owner's
    organization when RAM sharing with it is enabled, otherwise by invitation."""
    account = account_of_principal(principal)
    if account is None or account == owner:
        return "ASSOCIATED"  # an organization, OU or service principal
    return "ASSOCIATED" if sharing and same_organization else "ASSOCIATING"


def organization_only(resource_arn: str) -> bool:
    """True for a resource RAM shares only within the owner's organization: a subnet."""
    return (
        re.fullmatch(r"arn:aws[a-z-]*:ec2:[a-z0-9-]+:[0-9]{12}:subnet/.+", resource_arn) is not None
    )


def state(share: Any) -> ShareState:
    found = getattr(share, "meshlink_state", None)
    if found is None:
        found = ShareState()
        share.meshlink_state = found
    return found


def _ram_backends() -> Any:
    from moto.ram.models import ram_backends

    return ram_backends


def _every_share(region: str) -> list[Any]:
    shares = []
    for per_account in list(dict.values(_ram_backends())):
        backend = dict.get(per_account, region)
        if backend is not None:
            shares.extend(list(backend.resource_shares))
    return shares


def _organization(account: str) -> tuple[str, bool]:
    """`account`'s organization (its management account's id; "" for the local cloud's
    own, which holds every account in no organization of its own) and whether RAM
    sharing with it is enabled (always, in the local cloud's own)."""
    from moto.organizations.models import organizations_backends

    for per_account in list(dict.values(organizations_backends)):
        for backend in list(dict.values(per_account)):
            org = getattr(backend, "org", None)
            members = {str(a.id) for a in getattr(backend, "accounts", [])}
            if org is not None and (account in members or account == org.master_account_id):
                manager = str(org.master_account_id)
                return manager, manager in _SHARING_WITH_ORGANIZATION
    return "", True


def _same_organization(owner: str, account: str) -> bool:
    return _organization(owner)[0] == _organization(account)[0]


def _refuse_outside_organization(share: Any, principals: list[str], resources: list[str]) -> None:
    """AWS's refusal when the share would hold a subnet (organization-only) while sharing
    with the owner's organization is off, or with an account outside that organization."""
    from moto.ram.exceptions import InvalidParameterException

    if not any(organization_only(r) for r in [*share.resource_arns, *resources]):
        return
    owner = str(share.owning_account_id)
    accounts = {account_of_principal(p) for p in [*share.principals, *principals]}
    outside = [a for a in accounts if a and a != owner and not _same_organization(owner, a)]
    if outside or not _organization(owner)[1]:
        raise InvalidParameterException(ORGANIZATION_ONLY)


def shared_resources(account_id: str, region: str, kind: str) -> dict[str, str]:
    """Resource id -> owner account, of every `kind` (e.g. ``subnet``) resource an active
    share gives `account_id` access to (its association ``ASSOCIATED``)."""
    found: dict[str, str] = {}
    for share in _every_share(region):
        if share.status != "ACTIVE" or share.owning_account_id == account_id:
            continue
        statuses = state(share).statuses
        if not any(
            account_of_principal(p) == account_id and s == "ASSOCIATED" for p, s in statuses.items()
        ):
            continue
        for arn in share.resource_arns:
            match = re.fullmatch(rf"arn:aws[a-z-]*:ec2:[a-z0-9-]+:[0-9]{{12}}:{kind}/(.+)", arn)
            if match:
                found[match.group(1)] = str(share.owning_account_id)
    return found


def _associate(share: Any, principals: list[str], resources: list[str]) -> None:
    share.add_principals(principals)  # moto validates the shapes (and appends)
    share.add_resources(resources)


@wrap(SHARE, "add_principals")
def _add_principals(original: Any, share: Any, principals: list[str]) -> None:
    _refuse_outside_organization(share, principals, [])
    original(share, [p for p in principals if p not in share.principals])
    owner = str(share.owning_account_id)
    sharing = _organization(owner)[1]
    for principal in principals:
        account = account_of_principal(principal) or ""
        status = initial_status(owner, principal, _same_organization(owner, account), sharing)
        state(share).statuses[principal] = status
        if status == "ASSOCIATING" and account:
            invitation_id = f"{share.arn.rsplit('/', 1)[1]}-{account}"
            arn = share.arn.replace(":resource-share/", ":resource-share-invitation/")
            state(share).invitations[account] = Invitation(
                f"{arn.rsplit('/', 1)[0]}/{invitation_id}", share, account
            )


@wrap(SHARE, "add_resources")
def _add_resources(original: Any, share: Any, resources: list[str]) -> None:
    _refuse_outside_organization(share, [], resources)
    original(share, [r for r in resources if r not in share.resource_arns])


_SHARING_WITH_ORGANIZATION: set[str] = set()


@wrap(BACKEND, "enable_sharing_with_aws_organization")
def _enable_sharing(original: Any, backend: Any) -> dict[str, Any]:
    answer: dict[str, Any] = original(backend)
    _SHARING_WITH_ORGANIZATION.add(str(backend.account_id))
    return answer


@step
def _route_new_operations() -> None:
    from moto.ram import urls
    from moto.ram.responses import ResourceAccessManagerResponse

    for path in NEW_PATHS:
        urls.url_paths.setdefault(f"{{0}}/{path}$", ResourceAccessManagerResponse.dispatch)


def _share_of(response: Any, arn: str | None) -> Any:
    from moto.ram.exceptions import UnknownResourceException

    for share in response.ram_backend.resource_shares:
        if share.arn == arn and share.status == "ACTIVE":
            return share
    raise UnknownResourceException(f"ResourceShare {arn} could not be found.")


def _association(share: Any, entity: str, kind: str, status: str) -> dict[str, Any]:
    return {
        "resourceShareArn": share.arn,
        "resourceShareName": share.name,
        "associatedEntity": entity,
        "associationType": kind,
        "status": status,
        "external": kind == "PRINCIPAL"
        and not _same_organization(
            str(share.owning_account_id), account_of_principal(entity) or str(entity)
        ),
    }


@replace(RESPONSES, "associate_resource_share")
def _associate_resource_share(response: Any) -> str:
    params = response.request_params
    share = _share_of(response, params.get("resourceShareArn"))
    principals = list(params.get("principals") or [])
    resources = list(params.get("resourceArns") or [])
    _associate(share, principals, resources)
    made = [_association(share, p, "PRINCIPAL", state(share).statuses[p]) for p in principals]
    made += [_association(share, r, "RESOURCE", "ASSOCIATED") for r in resources]
    return json.dumps({"resourceShareAssociations": made})


@replace(RESPONSES, "disassociate_resource_share")
def _disassociate_resource_share(response: Any) -> str:
    params = response.request_params
    share = _share_of(response, params.get("resourceShareArn"))
    gone = []
    for principal in list(params.get("principals") or []):
        if principal in share.principals:
            share.principals.remove(principal)
            state(share).statuses.pop(principal, None)
            state(share).invitations.pop(account_of_principal(principal) or "", None)
            gone.append(_association(share, principal, "PRINCIPAL", "DISASSOCIATING"))
    for resource in list(params.get("resourceArns") or []):
        if resource in share.resource_arns:
            share.resource_arns.remove(resource)
            gone.append(_association(share, resource, "RESOURCE", "DISASSOCIATING"))
    return json.dumps({"resourceShareAssociations": gone})


@replace(RESPONSES, "get_resource_share_associations")
def _get_associations(response: Any) -> str:
    kind = response._get_param("associationType")
    wanted_status = response._get_param("associationStatus")
    arns = response._get_param("resourceShareArns") or []
    resource = response._get_param("resourceArn")
    principal = response._get_param("principal")
    # moto's own checks of the arguments (and its error messages), on an empty answer.
    response.ram_backend.get_resource_share_associations(kind, None, ["-"], resource, principal)
    found = []
    for share in response.ram_backend.resource_shares:
        if (arns and share.arn not in arns) or share.status != "ACTIVE":
            continue
        if kind == "PRINCIPAL":
            for entity in share.principals:
                if principal in (None, entity):
                    status = state(share).statuses.get(entity, "ASSOCIATED")
                    found.append(_association(share, entity, kind, status))
        else:
            for entity in share.resource_arns:
                if resource in (None, entity):
                    found.append(_association(share, entity, kind, "ASSOCIATED"))
    if wanted_status:
        found = [a for a in found if a["status"] == wanted_status]
    return json.dumps({"resourceShareAssociations": found})


@replace(RESPONSES, "get_resource_shares")
def _get_resource_shares(response: Any) -> str:
    owner = response._get_param("resourceOwner")
    arns = response._get_param("resourceShareArns") or []
    name = response._get_param("name")
    status = response._get_param("resourceShareStatus")
    if owner == "OTHER-ACCOUNTS":
        me = response.current_account
        shares = [
            s
            for s in _every_share(response.region)
            if any(account_of_principal(p) == me for p in s.principals)
            and str(s.owning_account_id) != me
        ]
    else:
        response.ram_backend.get_resource_shares(owner)  # moto's check of resourceOwner
        shares = list(response.ram_backend.resource_shares)
    shares = [
        s
        for s in shares
        if (not arns or s.arn in arns) and name in (None, s.name) and status in (None, s.status)
    ]
    return json.dumps({"resourceShares": [s.describe() for s in shares]})


def _invitation_view(invitation: Invitation) -> dict[str, Any]:
    share = invitation.share
    return {
        "resourceShareInvitationArn": invitation.arn,
        "resourceShareName": share.name,
        "resourceShareArn": share.arn,
        "senderAccountId": str(share.owning_account_id),
        "receiverAccountId": invitation.receiver,
        "status": invitation.status,
    }


def _invitations_for(account_id: str, region: str) -> list[Invitation]:
    return [
        i
        for share in _every_share(region)
        if share.status == "ACTIVE"
        for i in state(share).invitations.values()
        if i.receiver == account_id
    ]


@replace(RESPONSES, "get_resource_share_invitations")
def _get_invitations(response: Any) -> str:
    arns = response._get_param("resourceShareInvitationArns") or []
    shares = response._get_param("resourceShareArns") or []
    found = [
        _invitation_view(i)
        for i in _invitations_for(response.current_account, response.region)
        if (not arns or i.arn in arns) and (not shares or i.share.arn in shares)
    ]
    return json.dumps({"resourceShareInvitations": found})


def _answer_invitation(response: Any, accept: bool) -> str:
    from moto.ram.exceptions import UnknownResourceException

    arn = response._get_param("resourceShareInvitationArn")
    for invitation in _invitations_for(response.current_account, response.region):
        if invitation.arn != arn:
            continue
        if invitation.status != "PENDING":
            from moto.core.exceptions import JsonRESTError

            # AWS's error for an invitation answered before (RAM API reference).
            raise JsonRESTError(
                f"ResourceShareInvitation{invitation.status.capitalize()}Exception",
                f"The invitation {arn} is already {invitation.status.lower()}.",
            )
        invitation.status = "ACCEPTED" if accept else "REJECTED"
        statuses = state(invitation.share).statuses
        for principal in list(statuses):
            if account_of_principal(principal) == invitation.receiver:
                statuses[principal] = "ASSOCIATED" if accept else "FAILED"
        return json.dumps({"resourceShareInvitation": _invitation_view(invitation)})
    raise UnknownResourceException(f"ResourceShareInvitation {arn} could not be found.")


@replace(RESPONSES, "accept_resource_share_invitation")
def _accept_invitation(response: Any) -> str:
    return _answer_invitation(response, True)


@replace(RESPONSES, "reject_resource_share_invitation")
def _reject_invitation(response: Any) -> str:
    return _answer_invitation(response, False)


@replace(RESPONSES, "list_resource_share_permissions")
def _list_share_permissions(response: Any) -> str:
    share = _share_of(response, response._get_param("resourceShareArn"))
    kinds = {a.split(":")[5].split("/")[0] for a in share.resource_arns}
    default = [
        {
            "arn": f"arn:aws:ram::aws:permission/AWSRAMDefaultPermission{k.capitalize()}",
            "version": "1",
            "defaultVersion": True,
            "name": f"AWSRAMDefaultPermission{k.capitalize()}",
            "resourceType": f"ec2:{k.capitalize()}",
            "status": "ATTACHABLE",
            "isResourceTypeDefault": True,
        }
        for k in sorted(kinds)
    ]
    return json.dumps({"permissions": default})


# -- CloudFormation ------------------------------------------------------------------------


@cfn_model("AWS::RAM::ResourceShare", module="moto.ram.models.meshlink_resource_share")
class ResourceShareModel(NewModel):
    """``AWS::RAM::ResourceShare``: Ref and ``Arn`` are the share's ARN
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ram-resourceshare.html)."""

    CFN_ATTRIBUTE = "Arn"

    def __init__(self, share: Any):
        super().__init__()
        self.share = share
        self.id = share.arn


@cfn(ResourceShareModel, "create", backend="ram")
def _create_share(properties: Properties, backend: Any, call: CfnCall) -> Any:
    from moto.ram.models import ResourceShare

    share = ResourceShare(
        backend.account_id,
        backend.region_name,
        name=properties.get("Name") or call.name,
        allowExternalPrincipals=properties.get("AllowExternalPrincipals", True),
    )
    _associate(
        share, list(properties.get("Principals") or []), list(properties.get("ResourceArns") or [])
    )
    backend.resource_shares.append(share)
    return call.model(share)


@cfn(ResourceShareModel, "update", backend="ram")
def _update_share(properties: Properties, backend: Any, call: CfnCall) -> Any:
    share = call.current.share
    principals = list(properties.get("Principals") or [])
    resources = list(properties.get("ResourceArns") or [])
    for principal in [p for p in share.principals if p not in principals]:
        share.principals.remove(principal)
        state(share).statuses.pop(principal, None)
        state(share).invitations.pop(account_of_principal(principal) or "", None)
    share.resource_arns[:] = [r for r in share.resource_arns if r in resources]
    _associate(share, principals, resources)
    share.update(properties.get("AllowExternalPrincipals", True), properties.get("Name"))
    return call.model(share)


@on_delete(ResourceShareModel, backend="ram")
def _delete_share(model: Any, backend: Any) -> None:
    share = model.share
    if share.status == "ACTIVE":
        share.delete()
    state(share).invitations.clear()
