"""The reconciler: one thread that makes moto's ECS/ELBv2/EC2 state real on loopback.

It polls (every :data:`POLL_INTERVAL`, or at once when woken) rather than hooking
moto's mutations: one pass over a laptop-sized control plane takes well under a
millisecond under the lock, and polling also sees changes made by CloudFormation,
by moto internals and by patches this package does not know about.

A pass: reap exited processes -> plan under the lock (scheduler + world snapshot) ->
start/stop processes outside the lock -> record the outcome under the lock ->
apply the new world to the listeners.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from meshlink.localcloud import clock
from meshlink.localcloud.dataplane import ecs, world
from meshlink.localcloud.dataplane.addresses import AddressPool
from meshlink.localcloud.dataplane.command import (
    CommandError,
    build_command,
    build_env,
    rewrite,
    unresolved_names,
)
from meshlink.localcloud.dataplane.health import HealthBoard
from meshlink.localcloud.dataplane.model import Eni, TaskNet, World
from meshlink.localcloud.dataplane.network import Network
from meshlink.localcloud.dataplane.processes import (
    MARKER,
    STOP_GRACE,
    Supervisor,
    append_log,
    kill_leftovers,
)
from meshlink.localcloud.dataplane.records import TaskRecord
from meshlink.localcloud.dataplane.scheduler import Plan, Scheduler, register
from meshlink.localcloud.dataplane.xray_daemon import XrayDaemons

log = logging.getLogger("meshlink.localcloud.dataplane")
POLL_INTERVAL = 0.2
# How long a task waits for endpoint names in its env to become known (an endpoint still
# pendingAcceptance); a service task started without them is replaced once they resolve.
DNS_WAIT = 10.0


def host_access_default() -> bool:
    """$MESHLINK_LOCAL_HOST_ACCESS (default on): may the host connect to any ENI?"""
    return os.environ.get("MESHLINK_LOCAL_HOST_ACCESS", "1").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


class Reconciler:
    """Owns the scheduler, the task processes and the loopback network."""

    def __init__(
        self,
        state_dir: Path,
        lock: threading.RLock,
        octet: int,
        host_access: bool | None = None,
    ):
        self.lock = lock
        self.root = state_dir / "dataplane"
        self.eni_pool = AddressPool(octet)
        self.scheduler = Scheduler(self.eni_pool, AddressPool(octet + 1), self.root / "logs")
        self.supervisor = Supervisor(self.root / "processes.json", str(state_dir.resolve()))
        self.health = HealthBoard()
        self.xray = XrayDaemons(lock)
        self.network = Network(self.health)
        self.host_access = host_access_default() if host_access is None else host_access
        self.world = World()
        self.passes = 0
        self.last_pass_seconds = 0.0
        self.errors: list[str] = []
        self._infrastructure: set[str] = set()  # NLB ARNs and endpoint ENI ids with addresses
        self._tasks_expected = False  # an ECS cluster exists: tasks will follow
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dataplane", daemon=True)

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        leftovers = kill_leftovers(self.root / "processes.json", self.supervisor.marker)
        if leftovers:
            log.warning(
                "killed %d task processes left by a previous run: %s", len(leftovers), leftovers
            )
        self.network.start()
        self._thread.start()

    def wake(self) -> None:
        """Run a pass now (e.g. right after an API call changed something)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the loop, every task process (no orphans) and every listener."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=15)
        if self.supervisor.all():
            self._stop_processes()  # loop never started (tests) or did not finish in time
        self.network.stop()
        self.xray.stop_all()

    def _stop_processes(self) -> None:
        # Runs on the thread that spawned the tasks: when that thread ends, Linux sends
        # the parent-death SIGKILL, so SIGTERM must come (and be waited for) before.
        self.supervisor.stop_all()
        with self.lock:
            for record in list(self.scheduler.records.values()):
                proc = record.proc
                code = proc.poll() if proc is not None else None
                record.stop_requested_at = record.stop_requested_at or time.monotonic()
                record.stop_reason = record.stop_reason or "The local cloud stopped"
                self._finish(record, code, None)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.reconcile()
            except Exception as error:  # keep converging; the admin API shows the error
                if not self.errors or not self.errors[-1].endswith(repr(error)):
                    log.exception("data plane pass failed")  # once per distinct error
                self.errors.append(f"{time.strftime('%H:%M:%S')} {error!r}")
                del self.errors[:-50]
            self.last_pass_seconds = time.monotonic() - started
            self.passes += 1
            self._wake.wait(self._pause())
            self._wake.clear()
        try:
            self._stop_processes()
        except Exception:
            log.exception("stopping task processes")

    # --- one pass ------------------------------------------------------------------

    def reconcile(self) -> World:
        """One pass; returns the world it applied."""
        exits = self._reap()
        with self.lock:
            for record, code in exits:
                self._finish(record, code, None)
            plan = self.scheduler.plan()
            current = self._snapshot()
            self._tasks_expected = self._tasks_expected or self._cluster_exists()
            self._replace_when_resolvable(current, plan)
        if self._tasks_expected:
            # Tasks will follow: the zygote imports their code now (once), started from
            # this thread, the one that spawns tasks, so the parent-death signal ties it here.
            self.supervisor.prepare()
        for record in plan.stops:
            self.supervisor.signal(record.arn, signal.SIGTERM)
        self.world = current
        self.network.apply(current)
        started: list[TaskRecord] = []
        failed: list[tuple[TaskRecord, str]] = []
        for record in list(self.scheduler.records.values()):
            if record.state != "pending" or record.stop_requested_at is not None:
                continue
            outcome = self._spawn(record, current)
            if outcome is True:
                started.append(record)
            elif isinstance(outcome, str):
                failed.append((record, outcome))
        if started or failed:
            self._started(started, failed)
        return current

    def _started(self, started: list[TaskRecord], failed: list[tuple[TaskRecord, str]]) -> None:
        with self.lock:
            for record in started:
                ecs.mark_running(record.task)
                if record.service_key is not None:
                    register(record)  # as ECS does once the task runs, not a pass later
                    # In AWS time it runs since _running_at (its process started after
                    # that, a fork later): its registration settles from then.
                    self.health.running_since(
                        record.address, min(time.monotonic(), _running_at(record))
                    )
            for record, error in failed:
                self._finish(record, None, error)
        self._wake.set()  # the next pass puts the new targets in front of the checks

    def _pause(self) -> float:
        """Until the next pass: POLL_INTERVAL, or less when a pending task is due sooner."""
        now = time.monotonic()
        due = [
            _running_at(record) - now
            for record in list(self.scheduler.records.values())
            if record.state == "pending" and record.stop_requested_at is None
        ]
        return min([POLL_INTERVAL, *(left for left in due if left > 0)])

    def _replace_when_resolvable(self, current: World, plan: Plan) -> None:
        """Under the lock: restart service tasks whose missing endpoint names now resolve."""
        for record in list(self.scheduler.records.values()):
            if (
                record.unresolved
                and record.service_key is not None
                and record.stop_requested_at is None
                and all(name.lower() in current.dns for name in record.unresolved)
            ):
                reason = "Replaced: the endpoint names in its environment now resolve"
                self.scheduler.request_stop(record, reason, "ServiceSchedulerInitiated", plan)

    @staticmethod
    def _cluster_exists() -> bool:
        """Under the lock: whether any account has an ECS cluster (tasks will follow)."""
        return any(backend.clusters for _, _, backend in world.backends("ecs"))

    def _reap(self) -> list[tuple[TaskRecord, int | None]]:
        exits: list[tuple[TaskRecord, int | None]] = []
        for record in list(self.scheduler.records.values()):
            proc = record.proc
            if proc is None:
                if record.stop_requested_at is not None and record.state == "pending":
                    exits.append((record, None))  # never started: just gone
                continue
            code = proc.poll()
            if code is not None:
                exits.append((record, code))
            elif record.stop_requested_at and time.monotonic() - record.stop_requested_at > (
                STOP_GRACE
            ):
                self.supervisor.signal(record.arn, signal.SIGKILL)
        return exits

    def _finish(self, record: TaskRecord, code: int | None, error: str | None) -> None:
        """Under the lock: the task is over (exited, or could not start)."""
        if code is not None:
            shown = ecs.exit_code(code)
            signame = ecs.SIGNAL_NAMES.get(-code) if code < 0 else None
            append_log(
                record.log_path, f"exited with code {shown}" + (f" ({signame})" if signame else "")
            )
        if error is not None:
            append_log(record.log_path, f"could not start: {error}")
        self.scheduler.exited(record, code, error)
        self.supervisor.forget(record.arn)
        self.xray.stop(record.arn)
        if record.address:
            self.health.task_ended(record.address)

    def _spawn(self, record: TaskRecord, current: World) -> bool | str | None:
        """Start the record's process: True, an error message, or None (still waiting)."""
        if time.monotonic() < _running_at(record):
            return None  # --timing aws: PENDING as long as a Fargate task on AWS
        try:
            command = build_command(record.container, record.override)
        except CommandError as error:
            return str(error)
        env = build_env(
            record.container,
            record.override,
            service_name=record.service_name or str(record.container.get("name") or "task"),
            port=record.ports[0] if record.ports else None,
            host=record.backend,
            bind_address=record.address,
            names=current.dns,
        )
        env.update(record.secrets)  # as ECS injects them: after the declared environment
        if record.xray_daemon:  # the sidecar shares the task's address (awsvpc)
            env["AWS_XRAY_DAEMON_ADDRESS"] = self.xray.start(
                record.arn, record.address, record.account, record.region
            )
        env[MARKER] = self.supervisor.marker
        env["MESHLINK_TASK_ARN"] = record.arn
        # No DNS server on loopback: names in arguments (a probe's URL) are rewritten too.
        command = [rewrite(arg, current.dns) for arg in command]
        missing = unresolved_names({**env, **{str(i): a for i, a in enumerate(command)}})
        if missing and time.monotonic() - record.created < DNS_WAIT:
            return None  # e.g. the endpoint is still pendingAcceptance: start once it is up
        record.unresolved = tuple(missing)
        record.state = "running"
        try:
            record.proc = self.supervisor.spawn(
                record.arn, command, env, record.log_path, self.root / "work" / record.task_id
            )
        except OSError as error:
            record.state = "pending"
            return f"{command[0]}: {error.strerror or error}"
        log.info(
            "started %s (%s) pid %s on %s",
            record.display_name,
            record.task_id,
            record.proc.pid,
            record.address,
        )
        return True

    def _snapshot(self) -> World:
        """Under the lock: the world as moto describes it now."""
        parts = world.empty_parts()
        world.security_groups(parts)
        live = world.load_balancers(parts, self.eni_pool)
        world.target_groups(parts)
        live |= world.endpoints(parts, self.eni_pool)
        for owner in self._infrastructure - live:  # deleted NLBs and endpoint ENIs
            self.eni_pool.release(owner)
        self._infrastructure = live
        tasks: dict[str, TaskNet] = {}
        for record in self.scheduler.records.values():
            if record.stop_requested_at is not None:
                continue
            tasks[record.address] = TaskNet(
                record.arn, self._task_eni(record), record.backend, record.ports
            )
        return world.assemble(parts, tasks, self.host_access)

    @staticmethod
    def _task_eni(record: TaskRecord) -> Eni | None:
        eni = record.ec2.enis.get(record.eni_id) if record.eni_id else None
        if eni is None:
            return None
        subnet = eni.subnet
        return Eni(
            id=eni.id,
            kind="task",
            address=record.address,
            account=record.account,
            region=record.region,
            vpc_id=str(subnet.vpc_id),
            groups=tuple(g.id for g in eni.group_set),
            networks=world.network_of(subnet.cidr_block),
            owner=record.arn,
        )

    # --- views for the admin API ---------------------------------------------------

    def tasks(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in list(self.scheduler.records.values())]

    def describe(self) -> dict[str, Any]:
        current = self.world
        return {
            "passes": self.passes,
            "last_pass_ms": round(self.last_pass_seconds * 1000, 3),
            "host_access": self.host_access,
            "errors": self.errors[-10:],
            "tasks": self.tasks(),
            "load_balancers": {
                a: {
                    "address": lb.eni.address,
                    "dns_name": lb.dns_name,
                    "ports": sorted(lb.listeners),
                }
                for a, lb in current.load_balancers.items()
            },
            "endpoints": {
                a: {
                    "endpoint": e.id,
                    "ports": list(e.ports),
                    "load_balancers": list(e.load_balancers),
                }
                for a, e in current.endpoints.items()
            },
            "dns": current.dns,
            "health": self.health.snapshot(),
            "listeners_failed": {
                f"{s.address}:{s.port}": why for s, why in self.network.failed().items()
            },
            "refusals": self.network.refusals[-50:],
            "refused_total": self.network.refused_total,
        }


def _running_at(record: TaskRecord) -> float:
    """When the task turns RUNNING (monotonic): as long after its creation as a Fargate
    task takes on AWS under --timing aws (durations: fargate_task.running), at once under
    instant timing."""
    return record.created + clock.current().seconds("fargate_task.running")
