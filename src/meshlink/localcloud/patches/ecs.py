"""CloudFormation ECS resources with the properties meshlink's stacks (and its data plane) need.

moto 5.2.5 drops a Service's ``LoadBalancers``, ``NetworkConfiguration``, ``LaunchType``
and ``DeploymentConfiguration``; a TaskDefinition's ``NetworkMode``, ``Cpu``,
``RequiresCompatibilities`` and roles; a Cluster's settings; and deletes no cluster,
service or task definition with its stack.

Under ``--timing aws`` a task reads ``PROVISIONING`` (its ENI being created and attached)
for ``fargate_task.provisioning`` x F after it was asked for, then ``PENDING`` until the
data plane starts it (``RUNNING``, ``fargate_task.running`` x F after it was asked for),
as the task lifecycle goes on Fargate
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html).

With eventual consistency on, a task asked for less than
``describe.not_found_after_create`` x F ago is not in DescribeTasks yet: "the result of
an API command you run that affects your Amazon ECS resources might not be immediately
visible to all subsequent commands you run"
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html);
a task DescribeTasks does not find is listed in ``failures`` with reason ``MISSING``
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html),
which moto left empty.

UpdateService with a new ``desiredCount`` changes what the scheduler aims for, not what
runs: ``runningCount`` stays what it was until tasks start or stop ("the number of tasks
in the cluster that are in the RUNNING state",
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html). moto sets
it to the new desired count at once, so a scale-up read as done before any task ran.
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud import clock
from meshlink.localcloud.patches.registry import (
    CfnCall,
    Properties,
    cfn,
    on_delete,
    replace,
    resolve,
    step,
    wrap,
)

ASKED = "_meshlink_asked"  # when the task was asked for (made; monotonic)
_BACKEND = "moto.ecs.models:EC2ContainerServiceBackend"


def _camel(value: Any) -> Any:
    from moto.core.utils import pascal_to_camelcase, remap_nested_keys

    return remap_nested_keys(value, pascal_to_camelcase)


def _tags(properties: dict[str, Any]) -> list[dict[str, str]]:
    return [{"key": t["Key"], "value": t["Value"]} for t in properties.get("Tags") or []]


def _name(value: Any) -> str:
    return str(getattr(value, "arn", value))


def _register(backend: Any, properties: dict[str, Any]) -> Any:
    from moto.moto_api._internal import mock_random

    family = properties.get("Family") or f"task-definition-{int(mock_random.random() * 10**6)}"
    return backend.register_task_definition(
        family=family,
        container_definitions=_camel(properties.get("ContainerDefinitions") or []),
        volumes=_camel(properties.get("Volumes") or []),
        network_mode=properties.get("NetworkMode"),
        tags=_tags(properties),
        requires_compatibilities=properties.get("RequiresCompatibilities"),
        cpu=None if properties.get("Cpu") is None else str(properties["Cpu"]),
        memory=None if properties.get("Memory") is None else str(properties["Memory"]),
        task_role_arn=properties.get("TaskRoleArn"),
        execution_role_arn=properties.get("ExecutionRoleArn"),
        runtime_platform=_camel(properties.get("RuntimePlatform")),
    )


def _service_kwargs(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "load_balancers": _camel(properties.get("LoadBalancers") or []),
        "launch_type": properties.get("LaunchType") or "FARGATE",
        "network_configuration": _camel(properties.get("NetworkConfiguration")),
        "propagate_tags": properties.get("PropagateTags") or "NONE",
        "tags": _tags(properties),
        "platform_version": properties.get("PlatformVersion"),
    }


_CLUSTER = "moto.ecs.models:Cluster"
_TASK_DEFINITION = "moto.ecs.models:TaskDefinition"
_SERVICE = "moto.ecs.models:Service"


# -- cluster --------------------------------------------------------------------------------
@cfn(_CLUSTER, "create", backend="ecs")
def _create_cluster(properties: Properties, ecs: Any, call: CfnCall) -> Any:
    return ecs.create_cluster(
        cluster_name=call.name,
        tags=_tags(properties) or None,
        cluster_settings=_camel(properties.get("ClusterSettings")) or None,
        configuration=_camel(properties.get("Configuration")),
        capacity_providers=properties.get("CapacityProviders"),
    )


@on_delete(_CLUSTER, backend="ecs")
def _delete_cluster(cluster: Any, ecs: Any) -> None:
    ecs.delete_cluster(cluster.arn)


# -- task definition ------------------------------------------------------------------------
@cfn(_TASK_DEFINITION, "create", backend="ecs")
def _create_task_definition(properties: Properties, ecs: Any, call: CfnCall) -> Any:
    return _register(ecs, properties)


@cfn(_TASK_DEFINITION, "update", backend="ecs")
def _update_task_definition(properties: Properties, ecs: Any, call: CfnCall) -> Any:
    # Task definitions are immutable: a change registers a new revision.
    replacement = _register(ecs, properties)
    ecs.deregister_task_definition(call.current.arn)
    return replacement


@on_delete(_TASK_DEFINITION, backend="ecs")
def _delete_task_definition(task_definition: Any, ecs: Any) -> None:
    if task_definition.status == "ACTIVE":
        ecs.deregister_task_definition(task_definition.arn)


@replace(_TASK_DEFINITION, "has_cfn_attr", as_=classmethod)
def _task_definition_has_cfn_attr(cls: Any, attr: str) -> bool:
    return attr == "TaskDefinitionArn"


@replace(_TASK_DEFINITION, "get_cfn_attribute")
def _task_definition_cfn_attribute(self: Any, attr: str) -> Any:
    return self.arn


# -- service --------------------------------------------------------------------------------
@cfn(_SERVICE, "create", backend="ecs")
def _create_service(properties: Properties, ecs: Any, call: CfnCall) -> Any:
    service: Any = ecs.create_service(
        _name(properties.get("Cluster", "default")),
        call.name,
        int(properties.get("DesiredCount", 1)),
        task_definition_str=_name(properties["TaskDefinition"]),
        **_service_kwargs(properties),
    )
    service.deployment_configuration = _camel(properties.get("DeploymentConfiguration"))
    service.health_check_grace_period_seconds = properties.get("HealthCheckGracePeriodSeconds")
    return service


@cfn(_SERVICE, "update", backend="ecs")
def _update_service(properties: Properties, ecs: Any, call: CfnCall) -> Any:
    current = call.current
    cluster = _name(properties.get("Cluster", "default")).split("/")[-1]
    if cluster != current.cluster_name or (
        "ServiceName" in properties and properties["ServiceName"] != current.name
    ):
        ecs.delete_service(current.cluster_name, current.name, True)
        return _create_service(properties, ecs, call)
    service: Any = ecs.update_service(
        {
            "cluster": cluster,
            "service": current.name,
            "task_definition": _name(properties["TaskDefinition"]),
            "desired_count": int(properties.get("DesiredCount", 1)),
            "force_new_deployment": True,
        }
    )
    service.load_balancers = _camel(properties.get("LoadBalancers") or [])
    service.network_configuration = _camel(properties.get("NetworkConfiguration"))
    service.deployment_configuration = _camel(properties.get("DeploymentConfiguration"))
    return service


@wrap(_BACKEND, "update_service")
def _update_service_counts(original: Any, self: Any, service_properties: dict[str, Any]) -> Any:
    """UpdateService leaves runningCount and pendingCount to the scheduler (the data plane
    updates them as tasks start and stop)."""
    cluster = service_properties.get("cluster", "default")
    name = str(service_properties.get("service", "")).split("/")[-1]
    before = self._get_service(cluster, name)
    counts = (before.running_count, before.pending_count)
    forced = bool(service_properties.get("force_new_deployment"))  # moto pops it
    service = original(self, service_properties)
    owner = self._get_cluster(cluster)
    self.update_cluster_resources(owner, counts[0] - service.running_count, task_state="RUNNING")
    self.update_cluster_resources(owner, counts[1] - service.pending_count, task_state="PENDING")
    service.running_count, service.pending_count = counts
    if forced and service.deployments:
        # A new deployment starts in progress, with no failed task (moto only renames it).
        service.deployments[0].update(rolloutState="IN_PROGRESS", failedTasks=0)
    return service


@on_delete(_SERVICE, backend="ecs")
def _delete_service(service: Any, ecs: Any) -> None:
    ecs.delete_service(service.cluster_name, service.name, True)


# -- task status ----------------------------------------------------------------------------
class TaskStatus:
    """``Task.last_status``: moto's managed ``status``, shown ``PROVISIONING`` while the
    task's ENI would still be attaching on AWS (``--timing aws``); the data plane sets
    ``PENDING`` as soon as it has placed the task."""

    def __get__(self, task: Any, owner: type | None = None) -> Any:
        if task is None:
            return self
        status = task.status
        asked = task.__dict__.get(ASKED)
        if status == "PENDING" and asked is not None:
            timing = clock.current()
            if timing.aws and clock.now() < asked + timing.seconds("fargate_task.provisioning"):
                return "PROVISIONING"
        return status

    def __set__(self, task: Any, value: str) -> None:
        task.__dict__.setdefault(ASKED, clock.now())
        task.status = value


@step
def _timed_task_status() -> None:
    resolve("moto.ecs.models:Task").last_status = TaskStatus()


@wrap("moto.ecs.models:Task", "__init__")
def _asked_for(original: Any, self: Any, *args: Any, **kwargs: Any) -> None:
    # RunTask's tasks get no status before they are placed: asked for when made.
    self.__dict__[ASKED] = clock.now()
    original(self, *args, **kwargs)


def visible(task: Any, now: float, lag: float) -> bool:
    """Whether DescribeTasks shows `task` yet (`lag`: the consistency delay in force)."""
    asked = task.__dict__.get(ASKED)
    return not lag or asked is None or now >= asked + lag


@wrap(_BACKEND, "describe_tasks")
def _describe_tasks(original: Any, self: Any, cluster_str: str, tasks: list[str]) -> Any:
    found = original(self, cluster_str, tasks)
    lag = clock.current().lag("describe.not_found_after_create")
    now = clock.now()
    return [task for task in found if visible(task, now, lag)]


def missing(asked: list[str], found: list[Any]) -> list[dict[str, str]]:
    """DescribeTasks' ``failures`` for each task asked for by ARN or id and not found."""
    known = {str(task.task_arn) for task in found}
    known |= {arn.rsplit("/", 1)[-1] for arn in known}
    return [{"arn": name, "reason": "MISSING"} for name in asked if name not in known]


@wrap("moto.ecs.responses:EC2ContainerServiceResponse", "describe_tasks")
def _describe_tasks_failures(original: Any, self: Any) -> Any:
    answer = original(self)
    result = getattr(answer, "result", None)
    if isinstance(result, dict) and not result.get("failures"):
        result["failures"] = missing(self._get_param("tasks", []), result.get("tasks") or [])
    return answer
