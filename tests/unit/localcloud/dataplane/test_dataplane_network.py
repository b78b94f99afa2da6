"""The listeners with real sockets on loopback: ENI enforcement, NLB balancing, endpoints."""

from __future__ import annotations

import contextlib
import ipaddress
import random
import socket
import threading
from collections.abc import Iterator

import pytest

from meshlink.localcloud.dataplane.health import HealthBoard
from meshlink.localcloud.dataplane.model import (
    Endpoint,
    Eni,
    HealthCheck,
    LoadBalancer,
    Rule,
    Target,
    TargetGroup,
    TaskNet,
    World,
)
from meshlink.localcloud.dataplane.network import Network

PORT = random.randint(20000, 60000)
NET = (ipaddress.IPv4Network("10.1.1.0/24"),)
CHECK = HealthCheck("TCP", None, "/", "200", 30, 10, 3, 2)


def eni(address: str, kind: str, groups: tuple[str, ...], owner: str) -> Eni:
    return Eni(f"eni-{address}", kind, address, "1", "r", "vpc-a", groups, NET, owner)  # type: ignore[arg-type]


class Backend:
    """A server that answers every connection with its name, then echoes one line."""

    def __init__(self, address: str, name: str):
        self.sock = socket.create_server((address, PORT))
        self.name = name
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                conn.sendall(self.name.encode() + b"\n")
                data = conn.recv(100)
                conn.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.sock.close()


def call(address: str, payload: bytes = b"ping") -> bytes:
    """Connect, read the greeting, send `payload`, read it back; b"" when refused/reset."""
    try:
        with socket.create_connection((address, PORT), timeout=3) as conn:
            greeting = conn.recv(100)
            if not greeting:
                return b""
            conn.sendall(payload)
            return greeting + conn.recv(100)
    except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError):
        return b""


TASK1 = eni("127.254.0.2", "task", ("sg-task",), "task-1")
TASK2 = eni("127.254.0.3", "task", ("sg-task",), "task-2")
NLB = eni("127.254.0.10", "nlb", (), "arn:nlb")
EPI = eni("127.254.0.20", "endpoint", ("sg-ep",), "vpce-1")
TG = TargetGroup(
    "arn:tg",
    "1",
    "r",
    (Target(TASK1.address, PORT), Target(TASK2.address, PORT)),
    CHECK,
    ("arn:nlb",),
)


def world(host_access: bool = True) -> World:
    return World(
        enis={e.address: e for e in (TASK1, TASK2, NLB, EPI)},
        groups={"sg-task": (Rule("tcp", PORT, PORT, cidrs=NET),), "sg-ep": ()},
        tasks={
            TASK1.address: TaskNet("task-1", TASK1, "127.254.1.2", (PORT,)),
            TASK2.address: TaskNet("task-2", TASK2, "127.254.1.3", (PORT,)),
        },
        load_balancers={
            "arn:nlb": LoadBalancer("arn:nlb", NLB, "nlb.example", {PORT: ("arn:tg",)}, False)
        },
        target_groups={"arn:tg": TG},
        endpoints={EPI.address: Endpoint("vpce-1", (EPI,), ("arn:nlb",), (PORT,))},
        host_access=host_access,
    )


@pytest.fixture()
def net() -> Iterator[Network]:
    backends = [Backend("127.254.1.2", "one"), Backend("127.254.1.3", "two")]
    network = Network(HealthBoard())
    network.start()
    try:
        yield network
    finally:
        network.stop()
        for backend in backends:
            backend.close()


def wait_healthy(net: Network, targets: int) -> None:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sum(net.health.routable("arn:tg", t) for t in TG.targets) == targets:
            return
        time.sleep(0.05)
    raise AssertionError(net.health.snapshot())


def test_task_eni_forwards_to_its_backend(net: Network) -> None:
    assert net.apply(world()) == {}
    assert call(TASK1.address) == b"one\nping"


def test_refused_source_is_reset(net: Network) -> None:
    net.apply(world(host_access=False))
    assert call(TASK1.address) == b""
    assert any("host access is off" in line for line in net.refusals)


def test_refusals_are_kept_by_source_and_time_for_verify(net: Network) -> None:
    import time

    net.apply(world(host_access=False))
    before = time.time()
    call(TASK1.address)
    [refusal] = net.refusals_from("127.0.0.1", since=before)
    assert (refusal.address, refusal.port) == (TASK1.address, PORT)
    assert refusal.reason == "127.0.0.1 is not an ENI and host access is off"
    assert refusal.to_dict()["source"] == "127.0.0.1"
    assert net.refusals_from("127.9.9.9") == []
    assert net.refusals_from("127.0.0.1", since=time.time() + 60) == []


def test_nlb_spreads_over_healthy_targets_only(net: Network) -> None:
    net.apply(world())
    wait_healthy(net, 2)
    seen = {call(NLB.address)[:3] for _ in range(10)}
    assert seen == {b"one", b"two"}
    net.health.report_failure("arn:tg", TG.targets[0], "x", "y")
    assert {call(NLB.address)[:3] for _ in range(6)} == {b"two"}


def test_endpoint_forwards_through_the_nlb(net: Network) -> None:
    net.apply(world())
    wait_healthy(net, 2)
    assert call(EPI.address)[:3] in (b"one", b"two")


def test_dead_target_is_skipped_and_marked(net: Network) -> None:
    net.apply(world())
    wait_healthy(net, 2)
    dead = World(
        **{
            **world().__dict__,
            "tasks": {
                TASK1.address: TaskNet("task-1", TASK1, "127.254.1.99", (PORT,)),
                TASK2.address: world().tasks[TASK2.address],
            },
        }
    )
    net.apply(dead)
    assert {call(NLB.address)[:3] for _ in range(6)} == {b"two"}
    assert not net.health.routable("arn:tg", TG.targets[0])


def test_listener_that_cannot_bind_is_reported(net: Network) -> None:
    blocker = socket.create_server((TASK1.address, PORT))
    try:
        failed = net.apply(world())
        assert any(spec.address == TASK1.address for spec in failed)
    finally:
        blocker.close()
