"""The CDK network engine: each account's network stack, deployed with the change-set deployer."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import meshlink
from meshlink.engines.cdk.deployer import Deployer, Duration, stack_tags
from meshlink.engines.cdk.events import DeleteResult, EventSink, StackPlan
from meshlink.engines.cdk.synth import Synthesized, load_cached, synth
from meshlink.engines.cdk.waiting import AccountListings, Pacing
from meshlink.engines.network_contract import NetworkOutputs, contract_outputs
from meshlink.engines.network_engine import ClientSource
from meshlink.errors import DeployError, UsageError
from meshlink.fingerprint import fingerprint
from meshlink.graph.planner import node_id
from meshlink.topology.model import Topology
from meshlink.topology.naming import stack_name

KIND = "network"


# stacks/network.py::ZONE_IDS_PARAMETER, not imported from there: that module loads
# aws_cdk, whose jsii runtime starts Node (seconds, tens under load) on every `up`, even
# when the templates come from the cache (tests/unit/deploy/test_estimate.py pins it).
ZONE_IDS_PARAMETER = "ZoneIds"


def network_cache_key(topology: Topology) -> str:
    """Changes whenever a network template could: topology network inputs + versions."""
    inputs = {
        "meshlink": meshlink.__version__,
        "aws-cdk-lib": _version("aws-cdk-lib"),
        "mesh": topology.name,
        "region": topology.region,
        "network": topology.network.model_dump(mode="json", exclude={"engine", "state_bucket"}),
        "accounts": {
            key: {"id": account.id, "vpc_cidr": account.vpc_cidr}
            for key, account in sorted(topology.accounts.items())
        },
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    return f"network-{digest[:24]}"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


class CdkNetworkEngine:
    """plan / apply / destroy / outputs for `network:<account>` nodes, through CloudFormation.

    `zone_ids` returns the mesh's zone ids (meshlink.deploy.zones.common_zone_ids), in
    which every account's subnets are placed (stack parameter `ZoneIds`) so that
    PrivateLink consumers share zones with providers. It is called at most once, and
    only by plan/apply: destroy and outputs never look zones up (that needs every
    account's credentials, and reading or deleting a network must not).
    """

    name = "cdk"
    stack_backed = True  # each account's network is one CloudFormation stack

    def __init__(
        self,
        topology: Topology,
        *,
        sessions: ClientSource,
        cache_dir: Path,
        on_event: EventSink | None = None,
        pacing: Pacing | None = None,
        zone_ids: Callable[[], Sequence[str]] | None = None,
        expect: Callable[[Mapping[str, Any]], Duration] | None = None,
    ) -> None:
        self.topology = topology
        # A template -> how long CloudFormation should take to make its changes (what
        # the stack's wait polls around; Deployer.deploy's `duration`).
        self.expect = expect
        self.sessions = sessions
        self.cache_dir = cache_dir
        self.on_event = on_event
        self.pacing = pacing
        self._synth_lock = threading.Lock()
        self._synthesized: Synthesized | None = None
        self.zone_ids = zone_ids
        self._zone_lock = threading.Lock()
        # By account: the stack listing its waits share (waiting.StackStatuses).
        self._listings = AccountListings()
        self._mesh_zone_ids: tuple[str, ...] | None = None

    def stack_name(self, account: str) -> str:
        return stack_name(self.topology.name, KIND, account)

    def synthesized(self) -> Synthesized:
        """Every account's network template, synthesized once (one Node start) and cached."""
        with self._synth_lock:  # jsii is not thread-safe; accounts deploy in parallel
            if self._synthesized is None:
                key = network_cache_key(self.topology)
                # A hit needs neither Node nor aws_cdk (a no-op `up` loads neither).
                self._synthesized = load_cached(self.cache_dir / key)
            if self._synthesized is None:
                from meshlink.stacks.network import build_network

                self._synthesized = synth(
                    build_network(self.topology), key=key, cache_dir=self.cache_dir
                )
            return self._synthesized

    def available(self, account: str | None = None) -> tuple[bool, str]:
        """Always: the CDK engine needs only CloudFormation (and Node.js to synthesize)."""
        del account
        return True, "needs only CloudFormation"

    def prepare_all(self) -> None:
        """Synthesize every account's network template (or read them from the cache)."""
        self.synthesized()

    def code_fingerprint(self, account: str) -> str:
        """Hash of the account's network template (what this meshlink would deploy)."""
        return fingerprint(self.template(account))

    def template(self, account: str) -> dict[str, Any]:
        self._account_id(account)
        return self.synthesized().template(self.stack_name(account))

    def mesh_zone_ids(self) -> tuple[str, ...]:
        """The mesh's zone ids from the `zone_ids` callable, evaluated once and checked."""
        if self.zone_ids is None:
            raise UsageError(
                "the CDK network engine needs the mesh's zone ids to plan or apply",
                hint="construct CdkNetworkEngine with zone_ids= "
                "(meshlink.deploy.zones.common_zone_ids)",
            )
        # Accounts run in threads; the first one looks the zones up, the others wait.
        with self._zone_lock:
            if self._mesh_zone_ids is None:
                found = tuple(self.zone_ids())
                wanted = self.topology.network.az_count
                if len(found) != wanted or len(set(found)) != wanted:
                    raise UsageError(
                        f"network.az_count is {wanted} but the mesh's zone ids are "
                        f"{', '.join(found) or 'none'}",
                        hint=f"give exactly {wanted} distinct zone ids",
                    )
                self._mesh_zone_ids = found
            return self._mesh_zone_ids

    def parameters(self) -> dict[str, str]:
        """The network stack's parameters (every account has the same)."""
        return {ZONE_IDS_PARAMETER: ",".join(self.mesh_zone_ids())}

    def plan(self, account: str) -> StackPlan:
        """The resource changes `apply` would make (a change set, never executed)."""
        return self._deployer(account).diff(
            self.stack_name(account),
            self.template(account),
            parameters=self.parameters(),
            tags=self._tags(account),
        )

    def apply(self, account: str) -> NetworkOutputs:
        """Deploy the account's network; its outputs, normalised to the contract."""
        template = self.template(account)
        result = self._deployer(account).deploy(
            self.stack_name(account),
            template,
            parameters=self.parameters(),
            tags=self._tags(account),
            duration=self.expect(template) if self.expect else None,
        )
        try:
            outputs = contract_outputs(result.outputs)
        except KeyError as exc:
            raise DeployError(
                f"stack {result.stack}: {exc.args[0]}",
                hint="the stack was not deployed by this meshlink version; run `meshlink up`",
            ) from exc
        vpc_id = str(outputs["vpc_id"])
        try:
            strip_default_security_group(
                self.sessions.client(self._account_id(account), "ec2"), vpc_id
            )
        except Exception as exc:
            if not hasattr(exc, "response"):  # botocore ClientError: say what it was for
                raise
            raise DeployError(
                f"cannot empty the default security group of {vpc_id}: {exc}",
                hint="the deploy role needs ec2:RevokeSecurityGroupIngress/Egress",
            ) from exc
        return outputs

    def destroy(self, account: str) -> DeleteResult:
        """Delete the account's network stack (nothing to do when it is not there)."""
        return self._deployer(account).delete(self.stack_name(account))

    def outputs(self, account: str) -> NetworkOutputs:
        """The deployed network's outputs, normalised to the contract."""
        raw = self._deployer(account).outputs(self.stack_name(account))
        try:
            return contract_outputs(raw)
        except KeyError as exc:
            raise DeployError(f"stack {self.stack_name(account)}: {exc.args[0]}") from exc

    def _account_id(self, account: str) -> str:
        try:
            return self.topology.accounts[account].id
        except KeyError:
            raise UsageError(f"no account {account!r} in mesh {self.topology.name}") from None

    def _deployer(self, account: str) -> Deployer:
        client = self.sessions.client(self._account_id(account), "cloudformation")
        pacing = self.pacing or Pacing()
        statuses = self._listings.of(account, client, pacing)
        return Deployer(client, on_event=self.on_event, pacing=pacing, statuses=statuses)

    def _tags(self, account: str) -> dict[str, str]:
        return stack_tags(self.topology.name, node_id(KIND, account), self.topology.identity)


def strip_default_security_group(ec2: Any, vpc_id: str) -> None:
    """Remove every rule of the VPC's default security group (CloudFormation cannot).

    Nothing meshlink creates uses the default group; empty, it cannot admit anything
    that lands in it by accident.
    """
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    for group in groups:
        if group.get("IpPermissions"):
            ec2.revoke_security_group_ingress(
                GroupId=group["GroupId"], IpPermissions=group["IpPermissions"]
            )
        if group.get("IpPermissionsEgress"):
            ec2.revoke_security_group_egress(
                GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"]
            )
