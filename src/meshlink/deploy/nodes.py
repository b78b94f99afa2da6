"""What `up` and `down` do to one node: its kind's handler, with the journal kept;
a drifted node is repaired first (deploy/drift/repair.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from meshlink.deploy.handlers import HANDLERS, NodeContext, NodeHandler
from meshlink.deploy.handlers.model import Progress
from meshlink.deploy.runtime import MeshRuntime
from meshlink.graph.executor import Outcome
from meshlink.graph.planner import Node

if TYPE_CHECKING:
    from meshlink.deploy.drift.model import Finding


class NodeActions:
    """up/down of every node kind, against one MeshRuntime (handlers looked up by kind)."""

    def __init__(
        self,
        runtime: MeshRuntime,
        *,
        handlers: Mapping[str, NodeHandler] = HANDLERS,
        context: Callable[[MeshRuntime], NodeContext] = NodeContext,
        repairs: Mapping[str, Sequence[Finding]] | None = None,
    ):
        self.runtime = runtime
        self.journal = runtime.journal
        self.handlers = handlers
        self.ctx = context(runtime)
        # Drift found before the run, by node: repaired right before the node deploys.
        self.repairs = repairs or {}

    def up(self, node: Node, progress: Progress) -> Outcome:
        from meshlink.deploy.estimate import measure

        before, started = self.journal.get(node.id).status, time.time()
        self.journal.update(
            node.id,
            status="running",
            started_at=started,
            error=None,
            account_id=self.runtime.account_id(node.account),
            stack_name=node.stack_name(self.runtime.topology.name),
        )
        outcome = self._recorded(node, lambda: self._up(node, progress))
        timed = measure(self.runtime, before, started, outcome)
        self.journal.update(
            node.id,
            status="done",
            outputs=outcome.outputs,
            finished_at=time.time(),
            **({"measured": timed} if timed else {}),
        )
        return outcome

    def _up(self, node: Node, progress: Progress) -> Outcome:
        findings = self.repairs.get(node.id)
        if not findings:
            return self.handlers[node.kind].up(self.ctx, node, progress)
        from meshlink.deploy.drift.repair import repair_node

        repaired = repair_node(self.ctx, node, findings, progress)
        outcome = self.handlers[node.kind].up(self.ctx, node, progress)
        return replace(outcome, status="done", detail=f"{repaired}; {outcome.detail or ''}")

    def down(self, node: Node, progress: Progress) -> Outcome:
        self.journal.update(node.id, status="running", started_at=time.time())
        outcome = self._recorded(
            node, lambda: self.handlers[node.kind].down(self.ctx, node, progress)
        )
        self.journal.forget(node.id)
        return outcome

    def _recorded(self, node: Node, run: Callable[[], Outcome]) -> Outcome:
        """`run()`; its error, if any, recorded in the journal before it goes on."""
        try:
            return run()
        except BaseException as error:
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            # No fingerprint survives a failure: whatever the node was left as (rolled
            # back, half-applied, cut short) is never "unchanged" to the next plan or up.
            self.journal.update(
                node.id,
                status="failed",
                error=message,
                finished_at=time.time(),
                fingerprint=None,
            )
            raise
