"""Test doubles for the node-handler unit tests: a real MeshRuntime and journal, with a
fake network engine, fake stack deployers and canned AWS clients.

The same behaviour runs for real against the local cloud in
tests/functional/test_deploy_cli.py (and test_engine_choice.py, test_cdk_network.py);
these only pin each handler's decisions down.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from meshlink.deploy.handlers import NodeContext
from meshlink.deploy.runtime import MeshRuntime, RunOptions
from meshlink.engines.cdk.deployer import Duration
from meshlink.engines.cdk.events import (
    DeleteResult,
    DeployResult,
    EventSink,
    ResourceChange,
    StackPlan,
)
from meshlink.engines.cdk.synth import Synthesized
from meshlink.errors import DeployError
from meshlink.topology.model import Topology
from meshlink.topology.naming import stack_name
from tests.unit.verify.fakes import FakeSessions, Stub, topology

ZONES = ["use1-az1", "use1-az2"]
NETWORK = {
    "vpc_id": "vpc-1",
    "vpc_cidr": "10.1.0.0/16",
    "azs": ["us-east-1a", "us-east-1b"],
    "az_ids": ZONES,
    "public_subnet_ids": ["subnet-p1", "subnet-p2"],
    "private_subnet_ids": ["subnet-a", "subnet-b"],
    "isolated_subnet_ids": ["subnet-i1", "subnet-i2"],
    "private_route_table_ids": ["rtb-1", "rtb-2"],
}


class FakeNetworkEngine:
    """A NetworkEngine keeping each account's network in memory."""

    def __init__(self, *, name: str = "fake", stack_backed: bool = False) -> None:
        self.name = name
        self.stack_backed = stack_backed
        self.code = "code-v1"
        self.planned: Any = None
        self.deployed: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []

    def available(self, account: str | None = None) -> tuple[bool, str]:
        return True, "always"

    def prepare_all(self) -> None:
        self.calls.append(("prepare_all", "*"))

    def plan(self, account: str) -> Any:
        self.calls.append(("plan", account))
        return self.planned

    def apply(self, account: str) -> dict[str, Any]:
        self.calls.append(("apply", account))
        self.deployed[account] = dict(NETWORK)
        return dict(NETWORK)

    def destroy(self, account: str) -> Any:
        """Terraform's answer: how many resources it destroyed."""
        from meshlink.engines.terraform.events import ChangeSummary

        self.calls.append(("destroy", account))
        existed = self.deployed.pop(account, None) is not None
        return ChangeSummary(account, "destroy", destroy=len(NETWORK) if existed else 0)

    def outputs(self, account: str) -> dict[str, Any]:
        if account not in self.deployed:
            raise DeployError(f"no network in {account}")
        return dict(self.deployed[account])

    def code_fingerprint(self, account: str) -> str:
        return self.code


class FakeDeployer:
    """A StackDeployer over an in-memory dict of stacks (CloudFormation minus the waiting)."""

    def __init__(self, stacks: dict[str, dict[str, Any]]) -> None:
        self.stacks = stacks
        self.outputs_after_deploy: dict[str, dict[str, str]] = {}
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.expected: dict[str, float | None] = {}  # what each deploy's `duration` said

    def put(self, name: str, status: str, **outputs: str) -> None:
        self.stacks[name] = {
            "StackName": name,
            "StackStatus": status,
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
        }

    def describe(self, stack_name: str) -> dict[str, Any] | None:
        return self.stacks.get(stack_name)

    def diff(
        self,
        stack_name: str,
        template: Mapping[str, Any],
        *,
        parameters: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> StackPlan:
        self.calls.append(("diff", stack_name, dict(parameters or {})))
        change = ResourceChange("Modify", "Listener", "AWS::ElasticLoadBalancingV2::Listener")
        return StackPlan(stack_name, "UPDATE", (change,))

    def deploy(
        self,
        stack_name: str,
        template: Mapping[str, Any],
        *,
        parameters: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        absent: bool = False,
        duration: Duration | None = None,
    ) -> DeployResult:
        assert not (absent and stack_name in self.stacks), f"{stack_name} said absent, exists"
        self.calls.append(("deploy", stack_name, dict(parameters or {})))
        outputs = self.outputs_after_deploy.get(stack_name, {})
        created = stack_name not in self.stacks
        self.put(stack_name, "CREATE_COMPLETE" if created else "UPDATE_COMPLETE", **outputs)
        added = tuple(ResourceChange("Add", lid, "AWS::X") for lid in template["Resources"])
        self.expected[stack_name] = duration(added) if duration else None
        return DeployResult(stack_name, "created" if created else "updated", outputs, added)

    def delete(self, stack_name: str) -> DeleteResult:
        self.calls.append(("delete", stack_name, {}))
        return DeleteResult(stack_name, deleted=self.stacks.pop(stack_name, None) is not None)


def template(resources: Mapping[str, str], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A synthesized template: resources by type, parameter sources in its Metadata."""
    return {
        "Resources": {lid: {"Type": kind} for lid, kind in resources.items()},
        "Metadata": {"meshlink": {"parameters": dict(parameters)}},
    }


def zones_client() -> Stub:
    return Stub(
        describe_availability_zones={
            "AvailabilityZones": [{"ZoneId": z, "State": "available"} for z in ZONES]
        }
    )


class Mesh:
    """One mesh's runtime with fakes behind every factory, and a NodeContext over it."""

    def __init__(self, state: Path, topo: Topology | None = None, **engine: Any) -> None:
        self.topology = topo or topology()
        self.engine = FakeNetworkEngine(**engine)
        self.templates: dict[str, dict[str, Any]] = {}
        self.stacks: dict[str, dict[str, Any]] = {}
        self.deployer = FakeDeployer(self.stacks)
        self.clients: dict[tuple[str, str], Any] = {}
        for account in self.topology.accounts.values():
            self.clients[(account.id, "ec2")] = zones_client()
        self.state = state
        self.events: list[EventSink | None] = []
        self.next_run()

    def next_run(self) -> None:
        """A new run (runtime and NodeContext) over the same journal and fakes: what is
        live is read afresh."""
        state = self.state
        self.runtime = MeshRuntime(
            self.topology,
            RunOptions(workdir=state),
            sessions=FakeSessions(self.clients),
            network_engine=lambda runtime: self.engine,
            synthesize=lambda runtime: Synthesized(self.templates, state, True),
        )
        # Live stacks as the fake deployer left them (the run's StackSnapshot on AWS).
        self.ctx = NodeContext(
            self.runtime,
            deployers=self._deployer,
            stacks=lambda account, name: self.stacks.get(name),
        )

    def _deployer(self, account: str, on_event: EventSink | None) -> FakeDeployer:
        self.events.append(on_event)
        return self.deployer

    def client(self, account: str, service: str, client: Any) -> None:
        self.clients[(self.topology.accounts[account].id, service)] = client

    def stack(self, kind: str, subject: str) -> str:
        return stack_name(self.topology.name, kind, subject)

    def live_stacks(self, account: str, statuses: Mapping[str, str]) -> FakeCloudFormation:
        """Give `account` a CloudFormation client that lists these stacks of the mesh."""
        cfn = FakeCloudFormation(self.topology.name, statuses)
        self.client(account, "cloudformation", cfn)
        return cfn

    def record(self, node: str, **outputs: Any) -> None:
        self.runtime.journal.update(node, status="done", outputs=outputs)


class Pages:
    """A paginator over canned describe_stacks pages."""

    def __init__(self, owner: FakeCloudFormation) -> None:
        self.owner = owner

    def paginate(self) -> list[dict[str, Any]]:
        self.owner.calls.append("describe_stacks")
        return [{"Stacks": self.owner.stacks}]


class FakeCloudFormation:
    """What deploy.live reads: this mesh's stacks, tagged as meshlink tags them."""

    def __init__(self, mesh: str, statuses: Mapping[str, str]) -> None:
        self.calls: list[str] = []
        self.stacks = [
            {
                "StackName": name,
                "StackStatus": status,
                "Tags": [{"Key": "meshlink:mesh", "Value": mesh}],
            }
            for name, status in statuses.items()
        ]

    def get_paginator(self, operation: str) -> Pages:
        assert operation == "describe_stacks"
        return Pages(self)
