"""What every node handler works with: one run's runtime, its journal and its deployers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from meshlink.deploy.handlers.model import HEALTHY, Progress
from meshlink.deploy.runtime import MeshRuntime
from meshlink.engines.cdk.waiting import AccountListings
from meshlink.errors import DeployError
from meshlink.graph.executor import Outcome
from meshlink.graph.planner import Node

if TYPE_CHECKING:
    from meshlink.deploy.handlers.outlook import Outlook
    from meshlink.engines.cdk.deployer import Duration
    from meshlink.engines.cdk.events import (
        DeleteResult,
        DeployResult,
        EventSink,
        StackEvent,
        StackPlan,
    )
    from meshlink.engines.network_engine import NetworkEngine
    from meshlink.verify.context import VerifyContext


class StackDeployer(Protocol):
    """Change-set deployments of one account's stacks (engines/cdk/deployer.Deployer)."""

    def describe(self, stack_name: str) -> dict[str, Any] | None: ...

    def diff(
        self,
        stack_name: str,
        template: Mapping[str, Any],
        *,
        parameters: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> StackPlan: ...

    def deploy(
        self,
        stack_name: str,
        template: Mapping[str, Any],
        *,
        parameters: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        absent: bool = False,
        duration: Duration | None = None,
    ) -> DeployResult: ...

    def delete(self, stack_name: str) -> DeleteResult: ...


# (account key, CloudFormation event sink or None) -> that account's deployer.
DeployerFactory = Callable[[str, "EventSink | None"], StackDeployer]
# (account key, stack name) -> DescribeStacks' answer for the stack, None when absent.
StackReader = Callable[[str, str], "Mapping[str, Any] | None"]


class NodeContext:
    """One run's view for handlers: runtime, journal, deployers, live stacks (read once).

    `deployers` builds the account's stack deployer and `stacks` describes one stack of
    an account (None when absent; default: the run's StackSnapshot, one DescribeStacks
    per account); tests swap them for fakes.
    """

    def __init__(
        self,
        runtime: MeshRuntime,
        *,
        deployers: DeployerFactory | None = None,
        stacks: StackReader | None = None,
    ):
        self.runtime = runtime
        self.topology = runtime.topology
        self.journal = runtime.journal
        self._deployers = deployers or self._cloudformation_deployer
        self._stacks = stacks or self._snapshot_stack
        self._lock = threading.Lock()
        # Set while `plan` runs: upstream outputs as `up` will see them (outlook.py).
        self.outlook: Outlook | None = None
        # What `up` read before its first node (drift detection's reads), and the nodes
        # for which nothing this run did since can have changed them.
        self.seen: VerifyContext | None = None
        self._current: set[str] = set()
        self._created: set[str] = set()  # nodes whose stack this run created
        # By account: the stack listing its Deployers' waits share (waiting.StackStatuses).
        self._listings = AccountListings()

    @property
    def network_engine(self) -> NetworkEngine:
        return self.runtime.network_engine

    def client(self, account: str, service: str) -> Any:
        return self.runtime.client(account, service)

    def stack_name(self, node: Node) -> str:
        """The CloudFormation stack of a stack node (whatever the engine)."""
        name = node.stack_name(self.topology.name)
        if name is None:
            raise DeployError(f"{node.id} is not a stack")
        return name

    def outputs_of(self, nid: str) -> Mapping[str, Any]:
        """The journal's outputs of an upstream node, which must be deployed.

        While planning, an upstream node planned in the same run gives the outputs `up`
        will have for it (outlook.UnknownUntilApplied for those only `up` can know).
        """
        predicted = self.outlook.outputs_of(nid) if self.outlook is not None else None
        if predicted is not None:
            return predicted
        record = self.journal.get(nid)
        if record.status != "done":
            raise DeployError(f"{nid} is not deployed", hint="run `meshlink up`")
        return record.outputs

    def deployer(self, account: str, progress: Progress | None = None) -> StackDeployer:
        """The account's deployer; stack events go to `progress` as one line each."""
        if progress is None:
            return self._deployers(account, None)
        say = progress

        def on_event(event: StackEvent) -> None:
            reason = f" ({event.reason})" if event.reason and event.failed else ""
            say(f"{event.logical_id} {event.status}{reason}")

        return self._deployers(account, on_event)

    def _cloudformation_deployer(self, account: str, on_event: EventSink | None) -> Any:
        from meshlink.deploy.template_bucket import template_bucket
        from meshlink.engines.cdk.deployer import Deployer
        from meshlink.engines.cdk.waiting import Pacing

        pacing = Pacing.within(self.runtime.deadlines)
        client = self.client(account, "cloudformation")
        # Templates over CloudFormation's inline limit go through the account's bucket.
        templates = template_bucket(self.runtime, self.runtime.account_id(account))
        return Deployer(
            client,
            on_event=on_event,
            pacing=pacing,
            templates=templates,
            statuses=self._listings.of(account, client, pacing),
        )

    def _snapshot_stack(self, account: str, name: str) -> Mapping[str, Any] | None:
        found = self.runtime.stacks.stack(self.runtime.account_id(account), name)
        return None if found is None else found.description

    def live_stack(self, node: Node) -> Mapping[str, Any] | None:
        """DescribeStacks' answer for the node's stack now (None when it is absent)."""
        return self._stacks(node.account, self.stack_name(node))

    def live_stack_outputs(self, node: Node) -> dict[str, str] | None:
        """Outputs of the node's stack when it is healthy, else None."""
        stack = self.live_stack(node)
        if stack is None or stack.get("StackStatus") not in HEALTHY:
            return None
        return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs") or []}

    def live_stacks(self, account: str) -> dict[str, str]:
        """Status of every stack of this mesh in `account` (one paginated call per run)."""
        found = self.runtime.stacks.stacks(self.runtime.account_id(account))
        return {name: stack.status for name, stack in found.items()}

    def forget(self, node: Node) -> None:
        """The node's stack is about to change (or changed): read it afresh from now on."""
        name = node.stack_name(self.topology.name)
        if name is not None:
            self.runtime.stacks.forget(self.runtime.account_id(node.account), name)

    def still_current(self, node: Node) -> None:
        """The run's earlier reads still hold for `node` (nothing it depends on changed)."""
        with self._lock:
            self._current.add(node.id)

    def mark_created(self, node: Node) -> None:
        """The node's stack did not exist before this run: this run created it."""
        with self._lock:
            self._created.add(node.id)

    def created(self, nid: str) -> bool:
        """Whether this run created the node's stack (mark_created)."""
        with self._lock:
            return nid in self._created

    def seen_connections(self, node: Node, provider: str) -> Mapping[str, Any] | None:
        """The provider's endpoint connections as read before the run's first node, when
        they still hold for `node`; None: read them now."""
        key = ("connections", provider)
        with self._lock:
            current = node.id in self._current
        if not current or self.seen is None or key not in self.seen.memo_keys():
            return None
        return self.seen.connections(provider)

    def unchanged(
        self, node: Node, digest: str, live_outputs: Callable[[], Mapping[str, Any] | None]
    ) -> Outcome | None:
        """An `unchanged` outcome when the fingerprint matches and what is deployed still
        says what the journal says (a journal written by another run must not feed stale
        outputs on); None when the node must be deployed."""
        record = self.journal.get(node.id)
        if record.fingerprint != digest or not record.outputs:
            return None
        if live_outputs() != record.outputs:
            return None
        return Outcome("unchanged", "fingerprint matches", dict(record.outputs))
