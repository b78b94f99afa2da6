"""Ready-queue scheduler: a node starts the moment its last dependency finishes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

from meshlink.errors import MeshlinkError
from meshlink.graph.planner import DeploymentGraph, Node

OutcomeStatus = Literal["done", "unchanged", "failed", "skipped", "cancelled"]


@dataclass
class Outcome:
    """How one node ended."""

    status: OutcomeStatus
    detail: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("done", "unchanged")


@dataclass(frozen=True)
class Event:
    """Progress of a node, for displays and --json event streams."""

    node: str
    kind: Literal["started", "progress", "finished"]
    message: str = ""
    outcome: Outcome | None = None
    at: float = field(default_factory=time.time)


NodeRunner = Callable[[Node, Callable[[str], None]], Outcome]
EventSink = Callable[[Event], None]


class Cancelled(MeshlinkError):
    """Raised inside a node runner when the run is being stopped."""


def describe(error: Exception) -> str:
    """A node's failure for people: an AWS SDK error as what it means, not its class."""
    from meshlink.aws.errors import from_sdk_error, is_sdk_error

    if is_sdk_error(error):
        return from_sdk_error(error).message
    return f"{type(error).__name__}: {error}"


def execute(
    graph: DeploymentGraph,
    run_node: NodeRunner,
    *,
    concurrency: int | None = None,
    reverse: bool = False,
    on_event: EventSink | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Outcome]:
    """Run every node of `graph` (dependants first when `reverse`), at most `concurrency`
    at once (None: every node the moment it is ready). A failed node's dependants are
    skipped; independent branches go on.
    Ctrl-C (KeyboardInterrupt) stops starting nodes, lets running ones finish, re-raises.

    No small pool by default: a node spends its time waiting on AWS, and what limits a
    run there is each account's API rate, which the session factory's clients throttle
    (botocore adaptive retries, per account and service) rather than a global count.
    """
    limit = len(graph) if concurrency is None else max(1, concurrency)
    run = _Run(
        graph=graph,
        run_node=run_node,
        concurrency=limit,
        sink=on_event or (lambda event: None),
        stop=stop or threading.Event(),
        waits_for={
            node.id: set(graph.dependants(node.id) if reverse else node.depends_on)
            for node in graph
        },
    )
    pool = ThreadPoolExecutor(max_workers=max(1, limit), thread_name_prefix="meshlink")
    try:
        run.drive(pool)
    except KeyboardInterrupt:
        run.stop.set()
        for future in list(run.running):
            run.finish(future)
        raise
    finally:
        pool.shutdown(wait=True)
        run.cancel_unstarted()
    return run.outcomes


@dataclass
class _Run:
    """The state of one execute() call: who waits for whom, what runs, how each ended."""

    graph: DeploymentGraph
    run_node: NodeRunner
    concurrency: int
    sink: EventSink
    stop: threading.Event
    waits_for: dict[str, set[str]]
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    running: dict[Future[Outcome], str] = field(default_factory=dict)

    def drive(self, pool: ThreadPoolExecutor) -> None:
        """Start ready nodes and collect finished ones until nothing runs."""
        while True:
            if not self.stop.is_set():
                for nid in self.ready()[: max(0, self.concurrency - len(self.running))]:
                    self.running[pool.submit(self.guarded, self.graph.nodes[nid])] = nid
            if not self.running:
                return
            finished, _ = wait(list(self.running), timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                nid = self.finish(future)
                if not self.outcomes[nid].ok:
                    self.skip_dependants(nid, f"not started: {nid} {self.outcomes[nid].status}")

    def finish(self, future: Future[Outcome]) -> str:
        """Record (and report) how a node ended (waiting for it if needed); its id."""
        nid = self.running.pop(future)
        self.outcomes[nid] = outcome = future.result()
        self.sink(Event(nid, "finished", outcome.detail or "", outcome))
        return nid

    def report(self, nid: str) -> Callable[[str], None]:
        def progress(message: str) -> None:
            # Every wait reports progress: after Ctrl-C, that is where a node stops.
            if self.stop.is_set():
                raise Cancelled(f"{nid}: stopped by an interrupt before it finished")
            self.sink(Event(nid, "progress", message))

        return progress

    def guarded(self, node: Node) -> Outcome:
        started = time.monotonic()
        self.sink(Event(node.id, "started"))
        try:
            outcome = self.run_node(node, self.report(node.id))
        except Cancelled as error:
            outcome = Outcome("cancelled", error.message)
        except MeshlinkError as error:
            outcome = Outcome("failed", error.message)
        except Exception as error:  # a bug in one node must not take the others down
            outcome = Outcome("failed", describe(error))
        outcome.seconds = time.monotonic() - started
        return outcome

    def skip_dependants(self, nid: str, reason: str) -> None:
        for other, deps in self.waits_for.items():
            if nid in deps and other not in self.outcomes:
                self.outcomes[other] = Outcome("skipped", reason)
                self.sink(Event(other, "finished", reason, self.outcomes[other]))
                self.skip_dependants(other, reason)

    def ready(self) -> list[str]:
        busy = set(self.running.values())
        return [
            nid
            for nid, deps in self.waits_for.items()
            if nid not in self.outcomes
            and nid not in busy
            and all(self.outcomes.get(d) is not None and self.outcomes[d].ok for d in deps)
        ]

    def cancel_unstarted(self) -> None:
        for nid in self.waits_for:
            if nid not in self.outcomes:
                self.outcomes[nid] = Outcome("cancelled", "run stopped before this node started")
