"""Target health: active checks (TCP or HTTP, as the target group says) and their board.

Checks are sent from the NLB's own ENI address, so a task whose security group does
not admit the NLB is unhealthy, as in AWS. Intervals are capped for a laptop: a new
target is probed every 0.1 s until it answers (and counts as failed only once it has
not answered for ``min(interval * UnhealthyThreshold, 5 s)``: a process takes a moment
to start), a registered one every second at most; one success makes a target
healthy, ``min(UnhealthyThreshold, 2)`` failures in a row unhealthy.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from meshlink.localcloud import clock
from meshlink.localcloud.dataplane import policy
from meshlink.localcloud.dataplane.model import Target, TargetGroup, World

MAX_INTERVAL = 1.0
INITIAL_INTERVAL = 0.1
MAX_INITIAL_GRACE = 5.0
TICK = 0.05

Key = tuple[str, str, int]  # target group ARN, address, port


@dataclass
class Health:
    """What DescribeTargetHealth reports for one target."""

    state: str = "initial"  # initial | healthy | unhealthy | unused | draining
    reason: str | None = "Elb.RegistrationInProgress"
    description: str | None = "Target registration is in progress"
    failures: int = 0
    next_check: float = 0.0
    registered: float = field(default_factory=time.monotonic)
    # When the target's task turned RUNNING in AWS time (--timing aws), which is when
    # ECS registers it: its registration settles from then, not from whenever this
    # laptop's process came up (HealthBoard.running_since).
    running_since: float | None = None


def _matches(status: int, matcher: str) -> bool:
    for part in matcher.replace(" ", "").split(","):
        if "-" in part:
            low, high = part.split("-", 1)
            if low.isdigit() and high.isdigit() and int(low) <= status <= int(high):
                return True
        elif part.isdigit() and int(part) == status:
            return True
    return False


class HealthBoard:
    """Thread-safe health of every registered target (read by the moto patch)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[Key, Health] = {}
        self._running_since: dict[str, float] = {}  # by task address

    def running_since(self, address: str, when: float) -> None:
        """The task at `address` runs since `when` (monotonic; its AWS-time RUNNING)."""
        with self._lock:
            self._running_since[address] = when

    def task_ended(self, address: str) -> None:
        """The task at `address` is gone: a later one there starts afresh."""
        with self._lock:
            self._running_since.pop(address, None)

    def get(self, arn: str, address: str, port: int) -> Health | None:
        with self._lock:
            found = self._states.get((arn, address, port))
            return None if found is None else Health(**vars(found))

    def routable(self, arn: str, target: Target) -> bool:
        with self._lock:
            found = self._states.get((arn, target.address, target.port))
            return found is not None and found.state == "healthy"

    def sync(self, world: World) -> list[tuple[Key, TargetGroup]]:
        """Forget targets no longer registered; returns every (key, group) to check."""
        keys: dict[Key, TargetGroup] = {
            (group.arn, t.address, t.port): group
            for group in world.target_groups.values()
            for t in group.targets
        }
        with self._lock:
            for key in list(self._states):
                if key not in keys:
                    del self._states[key]
            for key, group in keys.items():
                state = self._states.get(key)
                if state is None:
                    # The task's RUNNING time, said before its target reached this world
                    # (kept until then, whatever passes come first); used once.
                    state = self._states[key] = Health(
                        running_since=self._running_since.pop(key[1], None)
                    )
                if not group.load_balancers:
                    state.state, state.reason = "unused", "Target.NotInUse"
                    state.description = "Target group is not configured to receive traffic"
                elif state.state == "unused":
                    self._states[key] = Health()
        return list(keys.items())

    def due(self, key: Key, now: float) -> bool:
        with self._lock:
            state = self._states.get(key)
            return state is not None and state.state != "unused" and state.next_check <= now

    def record(self, key: Key, group: TargetGroup, ok: bool, detail: str, now: float) -> None:
        with self._lock:
            state = self._states.get(key)
            if state is None:
                return
            interval = min(group.health.interval, MAX_INTERVAL)
            # --timing aws: a new target passes its checks only after registration
            # completes, "a few minutes" on AWS (durations: nlb_target.healthy), counted
            # from when its task turned RUNNING, as ECS registers it then.
            delay = clock.current().seconds("nlb_target.healthy")
            since = state.registered if state.running_since is None else state.running_since
            settling = delay > 0 and now < since + delay
            if ok and state.state == "initial" and settling:
                state.failures = 0
            elif ok:
                state.state, state.reason, state.description = "healthy", None, None
                state.failures = 0
            else:
                state.failures += 1
                grace = min(
                    group.health.interval * group.health.unhealthy_threshold, MAX_INITIAL_GRACE
                )
                starting = state.state == "initial" and now - state.registered < grace
                if not starting and (
                    state.failures >= min(group.health.unhealthy_threshold, 2)
                    or state.state == "unhealthy"
                ):
                    state.state, state.reason = "unhealthy", "Target.FailedHealthChecks"
                    state.description = detail
            fast = state.state == "initial"
            state.next_check = now + (INITIAL_INTERVAL if fast else interval)

    def report_failure(self, arn: str, target: Target, reason: str, description: str) -> None:
        """Passive failure seen by a listener: take the target out of rotation now."""
        with self._lock:
            state = self._states.get((arn, target.address, target.port))
            if state is not None and state.state != "unused":
                state.state, state.reason, state.description = "unhealthy", reason, description
                state.failures = max(state.failures, 1)
                state.next_check = time.monotonic() + INITIAL_INTERVAL

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return {f"{a} {ip}:{p}": h.state for (a, ip, p), h in self._states.items()}


class HealthChecker:
    """Runs the checks on the data plane's event loop."""

    def __init__(
        self, board: HealthBoard, world: Callable[[], World], loop: asyncio.AbstractEventLoop
    ):
        self._board = board
        self._world = world
        self._loop = loop
        self._running: set[Key] = set()
        self._stopped = False

    def stop(self) -> None:
        self._stopped = True

    async def run(self) -> None:
        while not self._stopped:
            world = self._world()
            now = time.monotonic()
            for key, group in self._board.sync(world):
                if key not in self._running and self._board.due(key, now):
                    self._running.add(key)
                    self._loop.create_task(self._check(world, key, group))
            await asyncio.sleep(TICK)

    async def _check(self, world: World, key: Key, group: TargetGroup) -> None:
        try:
            ok, detail = await self._probe(world, key, group)
        except Exception as error:  # a check must never kill the checker
            ok, detail = False, repr(error)
        finally:
            self._running.discard(key)
        self._board.record(key, group, ok, detail, time.monotonic())

    async def _probe(self, world: World, key: Key, group: TargetGroup) -> tuple[bool, str]:
        _, address, traffic_port = key
        check = group.health
        port = check.port or traffic_port
        lb = next(
            (world.load_balancers[a] for a in group.load_balancers if a in world.load_balancers),
            None,
        )
        host = address
        task = world.tasks.get(address)
        if task is not None:
            if lb is not None and task.eni is not None:
                verdict = policy.admit(world, lb.eni.address, task.eni, port)
                if not verdict:
                    return False, f"health check refused: {verdict.reason}"
            host = task.backend
        timeout = min(check.timeout, 2.0)
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError) as error:
            return False, f"connect to {address}:{port} failed: {error!r}"
        try:
            if check.protocol == "TCP":
                return True, "connected"
            request = (
                f"GET {check.path or '/'} HTTP/1.1\r\nHost: {address}:{port}\r\n"
                "User-Agent: ELB-HealthChecker/2.0\r\nConnection: close\r\n\r\n"
            )
            writer.write(request.encode())
            line = await asyncio.wait_for(reader.readline(), timeout)
            parts = line.decode("latin-1").split()
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            if _matches(status, check.matcher):
                return True, f"HTTP {status}"
            return False, f"Health checks failed with these codes: [{status}]"
        except (OSError, TimeoutError) as error:
            return False, f"HTTP check failed: {error!r}"
        finally:
            writer.close()
