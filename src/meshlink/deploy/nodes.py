"""What `up` and `down` do for each kind of node."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from meshlink.deploy.acceptance import reconcile_connections
from meshlink.deploy.runtime import MeshRuntime
from meshlink.errors import DeployError
from meshlink.graph.executor import Outcome
from meshlink.graph.parameters import (
    MESH_ZONE_IDS,
    SHARED_ZONE_SUBNETS,
    fill_parameters,
    shared_zone_subnets,
)
from meshlink.graph.planner import Node
from meshlink.topology.naming import stack_name

HEALTHY = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
Progress = Callable[[str], None]


def fingerprint(*parts: Any) -> str:
    """Stable hash of templates and parameter values."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class NodeActions:
    """up/down of every node kind, against one MeshRuntime."""

    def __init__(self, runtime: MeshRuntime):
        self.runtime = runtime
        self.topology = runtime.topology
        self.journal = runtime.journal

    # -- shared -------------------------------------------------------------------------

    def outputs_of(self, nid: str) -> Mapping[str, Any]:
        record = self.journal.get(nid)
        if record.status != "done":
            raise DeployError(f"{nid} is not deployed", hint="run `meshlink up`")
        return record.outputs

    def deployer(self, account: str, progress: Progress) -> Any:
        from meshlink.engines.cdk.deployer import Deployer

        def on_event(event: Any) -> None:
            reason = f" ({event.reason})" if event.reason and event.failed else ""
            progress(f"{event.logical_id} {event.status}{reason}")

        return Deployer(self.runtime.client(account, "cloudformation"), on_event=on_event)

    def resolvers(self) -> dict[str, Any]:
        return {
            SHARED_ZONE_SUBNETS: self._shared_zone_subnets,
            MESH_ZONE_IDS: lambda source, outputs_of: ",".join(self.runtime.zone_ids()),
        }

    def _shared_zone_subnets(self, source: Mapping[str, str], outputs_of: Any) -> str:
        consumer, provider = source["consumer"], source["provider"]
        consumer_account = self.topology.services[consumer].account
        network = outputs_of(f"network:{consumer_account}")
        if provider in self.topology.services:
            from meshlink.stacks.outputs import EdgeOutputs

            zones = set(str(outputs_of(f"edge:{provider}")[EdgeOutputs.ZONE_IDS]).split(","))
        else:
            zones = self._external_zone_ids(consumer_account, provider, network)
        chosen = shared_zone_subnets(network, zones, label=f"{consumer} -> {provider}")
        return ",".join(chosen)

    def _external_zone_ids(
        self, account: str, provider: str, network: Mapping[str, Any]
    ) -> set[str]:
        name = self.topology.external[provider].service_name
        ec2 = self.runtime.client(account, "ec2")
        try:
            details = ec2.describe_vpc_endpoint_services(ServiceNames=[name])["ServiceDetails"]
        except Exception as error:  # botocore ClientError: the service is not visible to us
            raise DeployError(
                f"external service {provider} ({name}) is not available to account {account}: "
                f"{error}",
                hint="ask its owner to allow this account as a principal",
            ) from error
        by_name = dict(zip(network["azs"], network["az_ids"], strict=False))
        zones = {z for d in details for z in d.get("AvailabilityZoneIds", [])}
        return zones or {
            by_name[n] for d in details for n in d.get("AvailabilityZones", []) if n in by_name
        }

    # -- up -----------------------------------------------------------------------------

    def up(self, node: Node, progress: Progress) -> Outcome:
        started = time.time()
        self.journal.update(
            node.id,
            status="running",
            started_at=started,
            error=None,
            account_id=self.runtime.account_id(node.account),
            stack_name=node.stack_name(self.topology.name),
        )
        try:
            if node.kind == "network":
                outcome = self._up_network(node, progress)
            elif node.kind == "accept":
                outcome = self._up_accept(node, progress)
            else:
                outcome = self._up_stack(node, progress)
        except BaseException as error:
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            self.journal.update(node.id, status="failed", error=message, finished_at=time.time())
            raise
        self.journal.update(
            node.id, status="done", outputs=outcome.outputs, finished_at=time.time()
        )
        return outcome

    def _skip(
        self, node: Node, digest: str, live_outputs: Callable[[], Mapping[str, Any] | None]
    ) -> Outcome | None:
        """Unchanged when the fingerprint matches and what is deployed still says what the
        journal says (a journal written by another run must not feed stale outputs on)."""
        record = self.journal.get(node.id)
        if record.fingerprint != digest or not record.outputs:
            return None
        if live_outputs() != record.outputs:
            return None
        return Outcome("unchanged", "fingerprint matches", dict(record.outputs))

    def _up_network(self, node: Node, progress: Progress) -> Outcome:
        engine = self.runtime.network_engine
        account = self.topology.accounts[node.account]
        digest = fingerprint(
            engine.name,
            self._network_code(engine, node.account),
            self.runtime.zone_ids(),
            self.topology.name,
            self.topology.region,
            self.topology.network.model_dump(mode="json"),
            account.model_dump(mode="json"),
        )
        skipped = self._skip(node, digest, lambda: self._network_outputs(node))
        if skipped:
            return skipped
        progress(f"applying with {engine.name}")
        outputs = dict(engine.apply(node.account))
        self.journal.update(node.id, fingerprint=digest, parameters={"engine": engine.name})
        return Outcome("done", f"network via {engine.name}", outputs)

    def _network_code(self, engine: Any, account: str) -> str:
        """What builds the network: a new meshlink whose network code changed re-applies."""
        if engine.name == "cdk":
            return fingerprint(engine.template(account))
        from meshlink.engines.terraform.root import module_dir

        files = sorted(p for p in module_dir().rglob("*.tf") if p.is_file())
        return fingerprint([(str(p.relative_to(module_dir())), p.read_text()) for p in files])

    def _network_outputs(self, node: Node) -> Mapping[str, Any] | None:
        engine = self.runtime.network_engine
        if engine.name == "cdk" and self._live_stack_outputs(node) is None:
            return None
        try:
            return dict(engine.outputs(node.account))
        except (DeployError, KeyError):
            return None

    def _live_stack_outputs(self, node: Node) -> dict[str, str] | None:
        """Outputs of the node's stack when it is healthy, else None."""
        from meshlink.engines.cdk.deployer import Deployer

        name = stack_name(self.topology.name, node.kind, node.subject)
        stack = Deployer(self.runtime.client(node.account, "cloudformation")).describe(name)
        if stack is None or stack.get("StackStatus") not in HEALTHY:
            return None
        return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs") or []}

    def _up_stack(self, node: Node, progress: Progress) -> Outcome:
        from meshlink.engines.cdk.deployer import stack_tags

        name = stack_name(self.topology.name, node.kind, node.subject)
        template = self.runtime.synthesized().template(name)
        parameters = fill_parameters(template, self.outputs_of, self.resolvers())
        digest = fingerprint(template, parameters)
        skipped = self._skip(node, digest, lambda: self._live_stack_outputs(node))
        if skipped:
            return skipped
        result = self.deployer(node.account, progress).deploy(
            name, template, parameters=parameters, tags=stack_tags(self.topology.name, node.id)
        )
        detail = ""
        if node.kind == "service":
            # Also when unchanged: a run cut short while waiting left an updated stack
            # whose tasks were never seen healthy (on a healthy service this returns at once).
            detail = ", " + self._wait_stable(node, result.outputs, progress)
        self.journal.update(node.id, fingerprint=digest, parameters=parameters)
        changes = f"{len(result.changes)} changes" if result.changes else "no changes"
        return Outcome(
            "unchanged" if result.outcome == "unchanged" else "done",
            f"{result.outcome} ({changes}){detail}",
            dict(result.outputs),
        )

    def _wait_stable(
        self,
        node: Node,
        outputs: Mapping[str, str],
        progress: Progress,
    ) -> str:
        from meshlink.deploy.stability import wait_until_stable
        from meshlink.stacks.outputs import EdgeOutputs, PlatformOutputs, ServiceOutputs

        service = node.subject
        return wait_until_stable(
            self.runtime.client(node.account, "ecs"),
            self.runtime.client(node.account, "elbv2"),
            cluster=str(self.outputs_of(f"platform:{node.account}")[PlatformOutputs.CLUSTER_NAME]),
            service=outputs[ServiceOutputs.ECS_SERVICE_ARN],
            target_group=str(self.outputs_of(f"edge:{service}")[EdgeOutputs.TARGET_GROUP_ARN]),
            desired=self.topology.services[service].desired_count,
            progress=progress,
        )

    def _up_accept(self, node: Node, progress: Progress) -> Outcome:
        from meshlink.stacks.outputs import EdgeOutputs, EndpointsOutputs

        provider = node.subject
        service_id = str(self.outputs_of(f"edge:{provider}")[EdgeOutputs.SERVICE_ID])
        expected = {
            str(
                self.outputs_of(f"endpoints:{consumer}")[EndpointsOutputs.endpoint_id(provider)]
            ): consumer
            for consumer in self.topology.consumers_of(provider)
        }
        ec2 = self.runtime.client(node.account, "ec2")
        result = reconcile_connections(ec2, service_id, expected, progress=progress)
        detail = f"{len(expected)} expected available"
        if result.accepted:
            detail += f", accepted {len(result.accepted)}"
        if result.rejected:
            detail += f", rejected {len(result.rejected)} unexpected"
        changed = bool(result.accepted or result.rejected)
        return Outcome("done" if changed else "unchanged", detail, result.as_outputs())

    # -- down ---------------------------------------------------------------------------

    def down(self, node: Node, progress: Progress) -> Outcome:
        self.journal.update(node.id, status="running", started_at=time.time())
        try:
            if node.kind == "accept":
                outcome = Outcome("done", "connections go with the endpoints")
            elif node.kind == "network":
                progress(f"destroying with {self.runtime.network_engine.name}")
                self.runtime.network_engine.destroy(node.account)
                outcome = Outcome("done", "network destroyed")
            else:
                name = stack_name(self.topology.name, node.kind, node.subject)
                result = self.deployer(node.account, progress).delete(name)
                outcome = Outcome(
                    "done" if result.deleted else "unchanged",
                    "deleted" if result.deleted else "was not there",
                )
        except BaseException as error:
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            self.journal.update(node.id, status="failed", error=message, finished_at=time.time())
            raise
        self.journal.forget(node.id)
        return outcome
