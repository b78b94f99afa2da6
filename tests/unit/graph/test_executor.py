from __future__ import annotations

import threading
import time
from collections.abc import Callable

from meshlink.errors import DeployError
from meshlink.graph.executor import Event, Outcome, execute
from meshlink.graph.planner import DeploymentGraph, Node, plan_graph
from meshlink.topology.loader import load_topology
from tests.helpers import EXAMPLES


def chain() -> DeploymentGraph:
    # a -> b -> c, and an independent d
    graph = DeploymentGraph()
    graph.add(Node("network", "a", "a"))
    graph.add(Node("platform", "b", "a", ("network:a",)))
    graph.add(Node("edge", "c", "a", ("platform:b",)))
    graph.add(Node("network", "d", "d"))
    return graph


def test_nodes_run_after_their_dependencies() -> None:
    order: list[str] = []
    lock = threading.Lock()

    def run(node: Node, _: Callable[[str], None]) -> Outcome:
        with lock:
            order.append(node.id)
        return Outcome("done")

    outcomes = execute(chain(), run, concurrency=4)
    assert all(o.status == "done" for o in outcomes.values())
    assert order.index("network:a") < order.index("platform:b") < order.index("edge:c")


def test_reverse_runs_dependants_first() -> None:
    order: list[str] = []

    def run(node: Node, _: Callable[[str], None]) -> Outcome:
        order.append(node.id)
        return Outcome("done")

    execute(chain(), run, concurrency=1, reverse=True)
    assert order.index("edge:c") < order.index("platform:b") < order.index("network:a")


def test_failure_skips_dependants_and_lets_independent_branches_finish() -> None:
    def run(node: Node, _: Callable[[str], None]) -> Outcome:
        if node.id == "platform:b":
            raise DeployError("Cluster: CREATE_FAILED (bad parameter)")
        return Outcome("done")

    outcomes = execute(chain(), run, concurrency=2)
    assert outcomes["platform:b"].status == "failed"
    assert outcomes["platform:b"].detail == "Cluster: CREATE_FAILED (bad parameter)"
    assert outcomes["edge:c"].status == "skipped"
    assert outcomes["network:d"].status == "done"


def test_unexpected_exception_is_a_failed_node_not_a_crash() -> None:
    def run(node: Node, _: Callable[[str], None]) -> Outcome:
        if node.id == "network:d":
            raise KeyError("boom")
        return Outcome("done")

    outcomes = execute(chain(), run)
    assert outcomes["network:d"].status == "failed"
    assert outcomes["edge:c"].status == "done"


def test_a_node_starts_as_soon_as_its_own_dependencies_finish() -> None:
    # Ready-queue, not levels: edge:c must not wait for the slow independent node.
    started: dict[str, float] = {}
    finished: dict[str, float] = {}

    def run(node: Node, _: Callable[[str], None]) -> Outcome:
        started[node.id] = time.monotonic()
        time.sleep(0.6 if node.id == "network:d" else 0.05)
        finished[node.id] = time.monotonic()
        return Outcome("done")

    execute(chain(), run, concurrency=4)
    assert started["edge:c"] < finished["network:d"]


def test_concurrency_bound_is_respected() -> None:
    graph = plan_graph(load_topology(EXAMPLES / "full-mesh-4.yaml"))
    active = 0
    peak = 0
    lock = threading.Lock()

    def run(node: Node, _: Callable[[str], None]) -> Outcome:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.01)
        with lock:
            active -= 1
        return Outcome("done")

    outcomes = execute(graph, run, concurrency=3)
    assert len(outcomes) == len(graph)
    assert 1 < peak <= 3


def test_by_default_every_ready_node_starts_at_once() -> None:
    """No small global pool: the default is every node whose dependencies are done."""
    graph = plan_graph(load_topology(EXAMPLES / "full-mesh-4.yaml"))
    roots = [n.id for n in graph if not n.depends_on]
    started: list[str] = []
    all_roots_in = threading.Barrier(len(roots), timeout=5)
    lock = threading.Lock()

    def run(node: Node, _: Callable[[str], None]) -> Outcome:
        with lock:
            started.append(node.id)
        if node.id in roots:
            all_roots_in.wait()  # raises (a failed node) unless every root runs at once
        return Outcome("done")

    outcomes = execute(graph, run)
    assert len(roots) > 3
    assert all(o.status == "done" for o in outcomes.values()), outcomes
    assert set(started[: len(roots)]) == set(roots)


def test_events_report_start_progress_and_finish() -> None:
    events: list[Event] = []

    def run(node: Node, progress: Callable[[str], None]) -> Outcome:
        progress("half way")
        return Outcome("unchanged")

    execute(chain(), run, on_event=events.append)
    kinds = [(e.node, e.kind) for e in events if e.node == "network:a"]
    assert kinds == [("network:a", "started"), ("network:a", "progress"), ("network:a", "finished")]


def test_stop_flag_cancels_nodes_not_yet_started() -> None:
    stop = threading.Event()

    def run(node: Node, _: Callable[[str], None]) -> Outcome:
        stop.set()
        return Outcome("done")

    outcomes = execute(chain(), run, concurrency=1, stop=stop)
    assert sum(o.status == "done" for o in outcomes.values()) == 1
    assert sum(o.status == "cancelled" for o in outcomes.values()) == 3


def test_after_an_interrupt_running_nodes_stop_at_their_next_progress_report() -> None:
    stop = threading.Event()
    reached: list[str] = []

    def run(node: Node, progress: Callable[[str], None]) -> Outcome:
        if node.id == "network:a":
            stop.set()  # as Ctrl-C in the main thread would
            progress("still waiting")
            reached.append("after progress")
        return Outcome("done")

    outcomes = execute(chain(), run, concurrency=1, stop=stop)
    assert outcomes["network:a"].status == "cancelled"
    assert outcomes["network:a"].detail == "network:a: stopped by an interrupt before it finished"
    assert reached == []
    assert {o.status for n, o in outcomes.items() if n != "network:a"} <= {"skipped", "cancelled"}
