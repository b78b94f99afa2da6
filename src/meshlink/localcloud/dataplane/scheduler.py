"""The ECS scheduler: from moto's services and tasks, which tasks to start and stop.

Runs under the moto lock, touches only in-memory objects (no processes, no sockets):
the reconciler then does the slow part outside the lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshlink.localcloud.dataplane import ecs, task_networking, task_secrets, xray_daemon
from meshlink.localcloud.dataplane.addresses import AddressPool
from meshlink.localcloud.dataplane.command import container_override, container_ports, get
from meshlink.localcloud.dataplane.processes import append_log
from meshlink.localcloud.dataplane.records import TaskRecord, log_path
from meshlink.localcloud.dataplane.world import backends

# A service whose tasks keep dying is restarted with growing delays (as ECS throttles).
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
HEALTHY_RUN = 10.0  # a task that ran this long resets its service's backoff
KEEP_STOPPED = 50  # stopped tasks kept per ECS group for DescribeTasks


@dataclass
class Backoff:
    failures: int = 0
    not_before: float = 0.0


@dataclass
class Plan:
    """What one pass decided."""

    starts: list[TaskRecord] = field(default_factory=list)
    stops: list[TaskRecord] = field(default_factory=list)


class Scheduler:
    """Keeps desiredCount tasks per service and adopts tasks made by RunTask."""

    def __init__(self, eni_pool: AddressPool, backend_pool: AddressPool, logs: Path):
        self.eni_pool = eni_pool
        self.backend_pool = backend_pool
        self.logs = logs
        self.records: dict[str, TaskRecord] = {}
        self.backoff: dict[str, Backoff] = {}

    # --- tasks ---------------------------------------------------------------------

    def _record(self, account: str, region: str, ecs_backend: Any, task: Any) -> TaskRecord:
        from moto.ec2.models import ec2_backends

        ec2 = ec2_backends[account][region]
        containers = ecs.containers(ecs_backend, task)
        container = containers[0] if containers else {}
        override = container_override(task.overrides, container.get("name"))
        eni_id = ecs.eni_of(task)
        address = self.eni_pool.allocate(eni_id or task.task_arn)
        if eni_id:
            ecs.set_eni_address(ec2, task, address)
        record = TaskRecord(
            arn=task.task_arn,
            account=account,
            region=region,
            cluster=task.cluster_name,
            group=str(task.group or ""),
            task=task,
            ec2=ec2,
            container=container,
            override=override,
            ports=container_ports(container),
            address=address,
            backend=self.backend_pool.allocate(task.task_arn),
            eni_id=eni_id,
            log_path=Path(),
        )
        record.xray_daemon = xray_daemon.wants_daemon(containers)
        record.log_path = log_path(
            self.logs, account, record.cluster, record.display_name, record.task_id
        )
        self.records[record.arn] = record
        ecs.mark_pending(task)
        return record

    def release(self, record: TaskRecord) -> None:
        """Forget a finished task: its ENI and addresses go."""
        self.records.pop(record.arn, None)
        ecs.delete_eni(record.ec2, record.task)
        self.eni_pool.release(record.eni_id or record.arn)
        self.backend_pool.release(record.arn)

    def request_stop(self, record: TaskRecord, reason: str, code: str, plan: Plan) -> None:
        if record.stop_requested_at is not None:
            return
        record.stop_reason, record.stop_code = reason, code
        record.stop_requested_at = time.monotonic()
        record.task.desired_status = "STOPPED"
        if record.task.last_status != "STOPPED":
            record.task.last_status = "DEACTIVATING"  # until the process has exited
        deregister(record)
        plan.stops.append(record)

    def _adopt_run_tasks(self, plan: Plan) -> None:
        for account, region, backend in backends("ecs"):
            for tasks in list(backend.tasks.values()):
                groups: dict[str, list[Any]] = {}
                for arn, task in list(tasks.items()):
                    record = self.records.get(arn)
                    if record is not None:
                        if task.desired_status == "STOPPED":
                            reason = task.stopped_reason or "Task stopped by user"
                            self.request_stop(record, reason, "UserInitiated", plan)
                        continue
                    status = task.last_status
                    if status == "STOPPED" or task.desired_status == "STOPPED":
                        groups.setdefault(str(task.group), []).append(arn)
                        continue
                    plan.starts.append(self._record(account, region, backend, task))
                for arns in groups.values():
                    for arn in arns[:-KEEP_STOPPED]:
                        del tasks[arn]

    # --- services ------------------------------------------------------------------

    def _live(self, key: str) -> list[TaskRecord]:
        return [
            r for r in self.records.values() if r.service_key == key and r.stop_requested_at is None
        ]

    def _subnet(self, service: Any, live: list[TaskRecord]) -> str | None:
        config = (service.network_configuration or {}).get("awsvpcConfiguration") or {}
        subnets = list(config.get("subnets") or [])
        if not subnets:
            return None
        used = {s: 0 for s in subnets}
        for record in live:
            subnet = (record.task.network_configuration or {}).get("awsvpcConfiguration", {})
            first = (subnet.get("subnets") or [None])[0]
            if first in used:
                used[first] += 1
        return str(min(subnets, key=lambda s: (used[s], subnets.index(s))))

    def _service(self, account: str, region: str, backend: Any, service: Any, plan: Plan) -> None:
        key = f"{account}/{region}/{service.cluster_name}:{service.name}"
        live = self._live(key)
        cluster_alive = service.cluster_name in backend.clusters
        desired = service.desired_count if service.status == "ACTIVE" and cluster_alive else 0
        current = [r for r in live if r.task.task_definition_arn == service.task_definition]
        old = [r for r in live if r not in current]
        backoff = self.backoff.setdefault(key, Backoff())
        if len(current) < desired and time.monotonic() >= backoff.not_before:
            for _ in range(desired - len(current)):
                task = ecs.create_service_task(backend, service, self._subnet(service, live))
                record = self._record(account, region, backend, task)
                record.service_key, record.service = key, service
                live.append(record)
                current.append(record)
                plan.starts.append(record)
                ecs.record_event(service, f"has started 1 tasks: (task {record.task_id}).")
        deployment = service.deployments[0]["id"] if service.deployments else "ecs-svc"
        for record in sorted(current, key=lambda r: r.created)[desired:]:
            reason = f"Scaling activity initiated by (deployment {deployment})"
            self.request_stop(record, reason, "ServiceSchedulerInitiated", plan)
            ecs.record_event(service, f"has stopped 1 running tasks: (task {record.task_id}).")
        if sum(1 for r in current if r.state == "running") >= desired:
            for record in old:
                reason = f"Deployment replaced the task (deployment {deployment})"
                self.request_stop(record, reason, "ServiceSchedulerInitiated", plan)
        running = sum(1 for r in self._live(key) if r.state == "running")
        pending = sum(1 for r in self._live(key) if r.state == "pending")
        ecs.update_counts(service, running, pending)
        for record in self._live(key):
            if record.state == "running":
                register(record)

    def plan(self) -> Plan:
        """Decide this pass's starts and stops (caller holds the moto lock)."""
        plan = Plan()
        self._adopt_run_tasks(plan)
        seen: set[str] = set()
        for account, region, backend in backends("ecs"):
            for service in list(backend.services.values()):
                seen.add(f"{account}/{region}/{service.cluster_name}:{service.name}")
                self._service(account, region, backend, service, plan)
        for record in list(self.records.values()):
            if record.service_key is not None and record.service_key not in seen:
                self.request_stop(record, "Service deleted", "ServiceSchedulerInitiated", plan)
        self._fail_unreachable(plan)
        return plan

    def _fail_unreachable(self, plan: Plan) -> None:
        """New Fargate tasks that reach neither the internet nor ECR, or cannot read their
        secrets, stop, as on AWS."""
        for record in plan.starts:
            reason = task_networking.start_failure(
                record.task, record.ec2, record.container, record.eni_id
            )
            if reason is None:
                secrets = task_secrets.resolve(record.container, record.account, record.region)
                if isinstance(secrets, str):
                    reason = secrets
                else:
                    record.secrets = secrets
            if reason is not None:
                append_log(record.log_path, f"could not start: {reason}")
                self.exited(record, None, reason)

    def exited(self, record: TaskRecord, returncode: int | None, error: str | None) -> None:
        """A task's process is gone: STOPPED in moto, backoff for its service."""
        if record.stop_requested_at is not None:
            reason, code = record.stop_reason or "Task stopped", record.stop_code or "UserInitiated"
        elif error is not None:
            shown = task_networking.is_stop_reason(error)
            reason = error if shown else f"CannotStartContainerError: {error}"
            code = "TaskFailedToStart"
        else:
            reason, code = ecs.ESSENTIAL_EXIT, "EssentialContainerExited"
        exit_code = None if returncode is None else ecs.exit_code(returncode)
        ecs.mark_stopped(record.task, exit_code, reason, code)
        deregister(record)
        if record.service_key is not None and record.stop_requested_at is None:
            backoff = self.backoff.setdefault(record.service_key, Backoff())
            ran = time.monotonic() - record.created
            backoff.failures = 1 if ran >= HEALTHY_RUN else backoff.failures + 1
            delay = 0.0 if backoff.failures <= 1 else BACKOFF_FIRST * 2 ** (backoff.failures - 2)
            backoff.not_before = time.monotonic() + min(delay, BACKOFF_MAX)
            if record.service is not None:
                if time.monotonic() - record.created < HEALTHY_RUN:
                    ecs.task_failed(record.service)
                what = f"exit code {exit_code}" if exit_code is not None else reason
                ecs.record_event(record.service, f"task {record.task_id} stopped ({what}).")
        self.release(record)


def _target_groups(record: TaskRecord) -> list[tuple[Any, int]]:
    """(moto target group, port) for each load balancer of the task's service."""
    from moto.elbv2.models import elbv2_backends

    if record.service is None:
        return []
    elbv2 = elbv2_backends[record.account][record.region]
    found = []
    for entry in record.service.load_balancers or []:
        arn = get(entry, "targetGroupArn")
        group = elbv2.target_groups.get(arn) if arn else None
        port = get(entry, "containerPort") or (record.ports[0] if record.ports else None)
        if group is not None and port:
            found.append((group, int(port)))
    return found


def register(record: TaskRecord) -> None:
    for group, port in _target_groups(record):
        if record.address not in group.targets:
            group.targets[record.address] = {"Id": record.address, "Port": port}
            group.deregistered_targets.pop(record.address, None)


def deregister(record: TaskRecord) -> None:
    for group, _ in _target_groups(record):
        target = group.targets.pop(record.address, None)
        if target is not None:
            group.deregistered_targets[record.address] = target
