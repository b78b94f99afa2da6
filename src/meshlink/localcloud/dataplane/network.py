"""The loopback network: ENI listeners for tasks, NLB listeners and endpoint listeners.

All listeners live on one asyncio loop in one thread. Each accepted connection is
judged by :mod:`policy` at every ENI it enters, then piped to where it goes:

* task ENI ``127.a:port``   -> the task's private backend address (what it binds);
* NLB ``127.n:port``        -> a healthy target of the listener's target group;
* endpoint ``127.e:port``   -> the provider's NLB (as PrivateLink traffic) -> a target.

The NLB and endpoint hops are evaluated in-process (same rules, same source
addresses) instead of as extra socket hops: one proxy hop per connection keeps
latency low, and an NLB that finds a dead target retries the next one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from typing import Any, Literal

from meshlink.localcloud.dataplane import policy
from meshlink.localcloud.dataplane.health import HealthBoard, HealthChecker
from meshlink.localcloud.dataplane.model import Eni, LoadBalancer, World
from meshlink.localcloud.dataplane.pipe import Inbound

log = logging.getLogger("meshlink.localcloud.dataplane")
ListenerKind = Literal["task", "nlb", "endpoint"]
CONNECT_TIMEOUT = 2.0


@dataclass(frozen=True)
class ListenerSpec:
    """A listening socket the world needs: kind, address, port."""

    kind: ListenerKind
    address: str
    port: int


@dataclass(frozen=True)
class Refusal:
    """One connection the data plane refused: who, where, when and why."""

    at: float  # time.time()
    source: str  # the sender's address (a task's ENI address for a probe)
    address: str
    port: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def listeners_for(world: World) -> set[ListenerSpec]:
    """Every listener `world` calls for."""
    specs: set[ListenerSpec] = set()
    for address, task in world.tasks.items():
        if task.eni is not None:
            specs.update(ListenerSpec("task", address, port) for port in task.ports)
    for lb in world.load_balancers.values():
        specs.update(ListenerSpec("nlb", lb.eni.address, port) for port in lb.listeners)
    for address, endpoint in world.endpoints.items():
        specs.update(ListenerSpec("endpoint", address, port) for port in endpoint.ports)
    return specs


class Network:
    """Owns the event loop thread, the listeners and the health checker."""

    def __init__(self, health: HealthBoard, on_event: Callable[[str], None] | None = None):
        self.world = World()
        self.health = health
        self.refusals: list[str] = []  # recent refusals, newest last (admin API, debugging)
        self.refused_total = 0
        # The same, structured, for `verify` to say why a probe got no answer.
        self.refused: deque[Refusal] = deque(maxlen=1000)
        self._on_event = on_event or (lambda message: log.info("%s", message))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="dataplane-net", daemon=True)
        self._servers: dict[ListenerSpec, asyncio.AbstractServer] = {}
        self._failed: dict[ListenerSpec, str] = {}
        self._rr = itertools.count()
        self._checker = HealthChecker(health, lambda: self.world, self._loop)
        self._checker_future: Future[None] | None = None

    # --- lifecycle (called from other threads) ---------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._checker_future = asyncio.run_coroutine_threadsafe(self._checker.run(), self._loop)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._close_all(), self._loop)
        try:
            future.result(timeout=5)
        except Exception:
            log.exception("closing listeners")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def apply(self, world: World) -> dict[ListenerSpec, str]:
        """Swap in `world` and open/close listeners to match; returns failed listeners."""
        self.world = world
        future = asyncio.run_coroutine_threadsafe(self._sync(listeners_for(world)), self._loop)
        return future.result(timeout=10)

    def failed(self) -> dict[ListenerSpec, str]:
        return dict(self._failed)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        self._loop.close()

    # --- listeners -----------------------------------------------------------------

    async def _sync(self, wanted: set[ListenerSpec]) -> dict[ListenerSpec, str]:
        for spec in list(self._servers):
            if spec not in wanted:
                self._servers.pop(spec).close()
        self._failed = {spec: why for spec, why in self._failed.items() if spec in wanted}
        for spec in wanted - set(self._servers):
            try:
                self._servers[spec] = await self._loop.create_server(
                    lambda spec=spec: Inbound(  # type: ignore[misc]
                        (spec.address, spec.port), self._router(spec), self._event
                    ),
                    spec.address,
                    spec.port,
                    reuse_address=True,
                    backlog=512,
                )
                self._failed.pop(spec, None)
            except OSError as error:
                if spec not in self._failed:
                    self._event(f"cannot listen on {spec.address}:{spec.port}: {error}")
                self._failed[spec] = str(error)
        return dict(self._failed)

    async def _close_all(self) -> None:
        self._checker.stop()
        if self._checker_future is not None:
            self._checker_future.cancel()
        for server in self._servers.values():
            server.close()
        self._servers.clear()

    def _event(self, message: str) -> None:
        self._on_event(message)

    def refusals_from(self, source: str | None = None, since: float = 0.0) -> list[Refusal]:
        """Recent refusals of connections from `source` (every source when None)."""
        return [
            r
            for r in list(self.refused)
            if r.at >= since and (source is None or r.source == source)
        ]

    def _refuse(self, inbound: Inbound, why: str) -> None:
        self.refused_total += 1
        self.refused.append(Refusal(time.time(), inbound.source, *inbound.listen, why))
        self.refusals.append(f"{inbound.source} -> {inbound.listen[0]}:{inbound.listen[1]}: {why}")
        del self.refusals[:-200]
        log.info("refused %s -> %s:%s: %s", inbound.source, *inbound.listen, why)
        inbound.refuse()

    def _router(self, spec: ListenerSpec) -> Callable[[Inbound], asyncio.Future[None]]:
        route = {"task": self._to_task, "nlb": self._to_nlb, "endpoint": self._to_endpoint}
        return route[spec.kind]  # type: ignore[return-value]

    # --- routing -------------------------------------------------------------------

    async def _to_task(self, inbound: Inbound) -> None:
        world = self.world
        address, port = inbound.listen
        task = world.tasks.get(address)
        if task is None or task.eni is None:
            return self._refuse(inbound, "no task behind this ENI")
        verdict = policy.admit(world, inbound.source, task.eni, port)
        if not verdict:
            return self._refuse(inbound, verdict.reason)
        if not await inbound.connect(task.backend, port, timeout=CONNECT_TIMEOUT):
            inbound.refuse()  # the task is not listening (yet): like a closed port
        return None

    async def _to_nlb(self, inbound: Inbound) -> None:
        world = self.world
        address, port = inbound.listen
        lb = next((lb for lb in world.load_balancers.values() if lb.eni.address == address), None)
        if lb is None:
            return self._refuse(inbound, "no load balancer here")
        verdict = policy.admit(world, inbound.source, lb.eni, port)
        if not verdict:
            return self._refuse(inbound, verdict.reason)
        if not await self._forward(world, lb, port, inbound):
            self._refuse(inbound, f"{lb.arn}: no healthy target on port {port}")
        return None

    async def _to_endpoint(self, inbound: Inbound) -> None:
        world = self.world
        address, port = inbound.listen
        endpoint = world.endpoints.get(address)
        eni = next((e for e in endpoint.enis if e.address == address), None) if endpoint else None
        if endpoint is None or eni is None:
            return self._refuse(inbound, "no endpoint here")
        if time.monotonic() < endpoint.serves_at:
            # AWS: connections fail for a few seconds after the endpoint turns available
            # (meshlink.durations: interface_endpoint.traffic_after_available).
            return self._refuse(inbound, f"{endpoint.id}: just turned available, not serving yet")
        verdict = policy.admit(world, inbound.source, eni, port)
        if not verdict:
            return self._refuse(inbound, verdict.reason)
        for arn in endpoint.load_balancers:
            lb = world.load_balancers.get(arn)
            if lb is None or port not in lb.listeners:
                continue
            # Enter the provider's NLB from the endpoint ENI: PrivateLink traffic.
            verdict = policy.admit(world, eni.address, lb.eni, port)
            if not verdict:
                return self._refuse(inbound, verdict.reason)
            if await self._forward(world, lb, port, inbound):
                return None
            return self._refuse(inbound, f"{lb.arn}: no healthy target on port {port}")
        return self._refuse(inbound, f"{endpoint.id}: the service has no listener on {port}")

    async def _forward(self, world: World, lb: LoadBalancer, port: int, inbound: Inbound) -> bool:
        """Connect `inbound` to a healthy target of `lb`'s listener on `port`."""
        candidates = [
            (arn, target)
            for arn in lb.listeners.get(port, ())
            if (group := world.target_groups.get(arn)) is not None
            for target in group.targets
            if self.health.routable(arn, target)
        ]
        if not candidates:
            return False
        start = next(self._rr) % len(candidates)
        for arn, target in candidates[start:] + candidates[:start]:
            upstream = self._upstream(world, lb.eni, target.address, target.port)
            if upstream is None:
                continue
            if await inbound.connect(upstream, target.port, timeout=CONNECT_TIMEOUT):
                return True
            # A dead target: stop routing to it now rather than at the next check.
            self.health.report_failure(arn, target, "Target.FailedHealthChecks", "connect failed")
        return False

    @staticmethod
    def _upstream(world: World, sender: Eni, address: str, port: int) -> str | None:
        """Where to connect for target `address` (a task's backend), or None if refused."""
        task = world.tasks.get(address)
        if task is None:
            return address  # an IP target outside the data plane (e.g. a server on the host)
        if task.eni is not None and not policy.admit(world, sender.address, task.eni, port):
            return None
        return task.backend
