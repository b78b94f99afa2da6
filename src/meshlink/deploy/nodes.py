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
    from meshlink.verify.context import VerifyContext


class NodeActions:
    """up/down of every node kind, against one MeshRuntime (handlers looked up by kind)."""

    def __init__(
        self,
        runtime: MeshRuntime,
        *,
        handlers: Mapping[str, NodeHandler] = HANDLERS,
        context: Callable[[MeshRuntime], NodeContext] = NodeContext,
        repairs: Mapping[str, Sequence[Finding]] | None = None,
        seen: VerifyContext | None = None,
    ):
        self.runtime = runtime
        self.journal = runtime.journal
        self.handlers = handlers
        self.ctx = context(runtime)
        # Drift found before the run, by node: repaired right before the node deploys.
        self.repairs = repairs or {}
        self._staged = False
        # What drift detection read before the first node (reused while still true), and
        # how each node of this run ended so far.
        self.ctx.seen = seen
        self._ended: dict[str, str] = {}

    def up(self, node: Node, progress: Progress) -> Outcome:
        from meshlink.deploy.estimate import measure

        record = self.journal.get(node.id)
        before, started = record.status, time.time()
        where = {
            "account_id": self.runtime.account_id(node.account),
            "stack_name": node.stack_name(self.runtime.topology.name),
        }
        # A node deployed before is most often skipped: its records go to disk with the
        # run's next write (one for a whole no-op `up`, `flush`), not two writes each.
        settled = before == "done" and all(getattr(record, k) == v for k, v in where.items())
        mark = self.journal.stage if settled else self.journal.update
        mark(node.id, status="running", started_at=started, error=None, **where)
        if not self.repairs.get(node.id) and all(
            self._ended.get(d) == "unchanged" for d in node.depends_on
        ):
            self.ctx.still_current(node)  # nothing upstream changed: earlier reads hold
        try:
            outcome = self._recorded(node, lambda: self._up(node, progress))
        except BaseException:
            self._ended[node.id] = "failed"
            self.ctx.forget(node)  # whatever the node left of its stack is read afresh
            raise
        self._ended[node.id] = outcome.status
        if outcome.status != "unchanged":
            self.ctx.forget(node)  # later reads of its stack see what it deployed
        timed = measure(self.runtime, before, started, outcome)
        same = settled and outcome.status == "unchanged" and outcome.outputs == record.outputs
        if same:
            self._staged = True
        (self.journal.stage if same else self.journal.update)(
            node.id,
            status="done",
            outputs=outcome.outputs,
            finished_at=time.time(),
            **({"measured": timed} if timed else {}),
        )
        return outcome

    def flush(self) -> None:
        """Write what skipped nodes left in memory (their run's timestamps)."""
        if self._staged:
            self.journal.save()
            self._staged = False

    def _up(self, node: Node, progress: Progress) -> Outcome:
        findings = self.repairs.get(node.id)
        if not findings:
            return self.handlers[node.kind].up(self.ctx, node, progress)
        from meshlink.deploy.drift.repair import repair_node

        self.ctx.forget(node)  # the repair changes the stack: the skip test reads it anew
        repaired = repair_node(self.ctx, node, findings, progress)
        outcome = self.handlers[node.kind].up(self.ctx, node, progress)
        return replace(outcome, status="done", detail=f"{repaired}; {outcome.detail or ''}")

    def down(self, node: Node, progress: Progress) -> Outcome:
        self.journal.update(node.id, status="running", started_at=time.time())
        try:
            outcome = self._recorded(
                node, lambda: self.handlers[node.kind].down(self.ctx, node, progress)
            )
        finally:
            self.ctx.forget(node)
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
