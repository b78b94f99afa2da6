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


def execute(
    graph: DeploymentGraph,
    run_node: NodeRunner,
    *,
    concurrency: int = 8,
    reverse: bool = False,
    on_event: EventSink | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Outcome]:
    """Run every node of `graph` (dependants first when `reverse`), at most `concurrency`
    at once. A failed node's dependants are skipped; independent branches go on.
    Ctrl-C (KeyboardInterrupt) stops starting nodes, lets running ones finish, re-raises.
    """
    sink = on_event or (lambda event: None)
    stop = stop or threading.Event()
    waits_for: dict[str, set[str]] = {
        node.id: set(graph.dependants(node.id) if reverse else node.depends_on) for node in graph
    }
    outcomes: dict[str, Outcome] = {}
    running: dict[Future[Outcome], str] = {}

    def report(nid: str) -> Callable[[str], None]:
        def progress(message: str) -> None:
            # Every wait reports progress: after Ctrl-C, that is where a node stops.
            if stop.is_set():
                raise Cancelled(f"{nid}: stopped by an interrupt before it finished")
            sink(Event(nid, "progress", message))

        return progress

    def guarded(node: Node) -> Outcome:
        started = time.monotonic()
        sink(Event(node.id, "started"))
        try:
            outcome = run_node(node, report(node.id))
        except Cancelled as error:
            outcome = Outcome("cancelled", error.message)
        except MeshlinkError as error:
            outcome = Outcome("failed", error.message)
        except Exception as error:  # a bug in one node must not take the others down
            outcome = Outcome("failed", f"{type(error).__name__}: {error}")
        outcome.seconds = time.monotonic() - started
        return outcome

    def skip_dependants(nid: str, reason: str) -> None:
        for other, deps in waits_for.items():
            if nid in deps and other not in outcomes:
                outcomes[other] = Outcome("skipped", reason)
                sink(Event(other, "finished", reason, outcomes[other]))
                skip_dependants(other, reason)

    def ready() -> list[str]:
        busy = set(running.values())
        return [
            nid
            for nid, deps in waits_for.items()
            if nid not in outcomes
            and nid not in busy
            and all(outcomes.get(d) is not None and outcomes[d].ok for d in deps)
        ]

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="meshlink")
    try:
        while True:
            if not stop.is_set():
                for nid in ready()[: max(0, concurrency - len(running))]:
                    running[pool.submit(guarded, graph.nodes[nid])] = nid
            if not running:
                break
            finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                nid = running.pop(future)
                outcomes[nid] = future.result()
                sink(Event(nid, "finished", outcomes[nid].detail or "", outcomes[nid]))
                if not outcomes[nid].ok:
                    skip_dependants(nid, f"not started: {nid} {outcomes[nid].status}")
    except KeyboardInterrupt:
        stop.set()
        for future in list(running):
            nid = running.pop(future)
            outcomes[nid] = future.result()
            sink(Event(nid, "finished", outcomes[nid].detail or "", outcomes[nid]))
        raise
    finally:
        pool.shutdown(wait=True)
        for nid in waits_for:
            if nid not in outcomes:
                outcomes[nid] = Outcome("cancelled", "run stopped before this node started")
    return outcomes
