"""CloudFormation ECS resources with the properties meshlink's stacks (and its data plane) need.

moto 5.2.5 drops a Service's ``LoadBalancers``, ``NetworkConfiguration``, ``LaunchType``
and ``DeploymentConfiguration``; a TaskDefinition's ``NetworkMode``, ``Cpu``,
``RequiresCompatibilities`` and roles; a Cluster's settings; and deletes no cluster,
service or task definition with its stack.
"""

from __future__ import annotations

from typing import Any

from meshlink.localcloud.patches._util import as_classmethod, patch


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


def install() -> None:
    from moto.ecs.models import Cluster, Service, TaskDefinition, ecs_backends

    # -- cluster ----------------------------------------------------------------------
    def cluster_create(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        backend = ecs_backends[account_id][region_name]
        return backend.create_cluster(
            cluster_name=resource_name,
            tags=_tags(properties) or None,
            cluster_settings=_camel(properties.get("ClusterSettings")) or None,
            configuration=_camel(properties.get("Configuration")),
            capacity_providers=properties.get("CapacityProviders"),
        )

    def cluster_delete(self: Any, account_id: str, region_name: str) -> None:
        ecs_backends[account_id][region_name].delete_cluster(self.arn)

    patch(Cluster, "create_from_cloudformation_json", as_classmethod(cluster_create))
    patch(Cluster, "delete", cluster_delete)

    # -- task definition ------------------------------------------------------------------
    def task_create(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        return _register(ecs_backends[account_id][region_name], properties)

    def task_update(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        # Task definitions are immutable: a change registers a new revision.
        backend = ecs_backends[account_id][region_name]
        replacement = _register(backend, cloudformation_json.get("Properties") or {})
        backend.deregister_task_definition(original_resource.arn)
        return replacement

    def task_delete(self: Any, account_id: str, region_name: str) -> None:
        backend = ecs_backends[account_id][region_name]
        if self.status == "ACTIVE":
            backend.deregister_task_definition(self.arn)

    patch(TaskDefinition, "create_from_cloudformation_json", as_classmethod(task_create))
    patch(TaskDefinition, "update_from_cloudformation_json", as_classmethod(task_update))
    patch(TaskDefinition, "delete", task_delete)
    patch(
        TaskDefinition,
        "has_cfn_attr",
        as_classmethod(lambda cls, attr: attr == "TaskDefinitionArn"),
    )
    patch(TaskDefinition, "get_cfn_attribute", lambda self, attr: self.arn)

    # -- service ------------------------------------------------------------------------
    def service_create(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        backend = ecs_backends[account_id][region_name]
        service: Any = backend.create_service(
            _name(properties.get("Cluster", "default")),
            resource_name,
            int(properties.get("DesiredCount", 1)),
            task_definition_str=_name(properties["TaskDefinition"]),
            **_service_kwargs(properties),
        )
        service.deployment_configuration = _camel(properties.get("DeploymentConfiguration"))
        service.health_check_grace_period_seconds = properties.get("HealthCheckGracePeriodSeconds")
        return service

    def service_update(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        backend = ecs_backends[account_id][region_name]
        cluster = _name(properties.get("Cluster", "default")).split("/")[-1]
        if cluster != original_resource.cluster_name or (
            "ServiceName" in properties and properties["ServiceName"] != original_resource.name
        ):
            backend.delete_service(original_resource.cluster_name, original_resource.name, True)
            return service_create(
                cls, new_resource_name, cloudformation_json, account_id, region_name
            )
        service: Any = backend.update_service(
            {
                "cluster": cluster,
                "service": original_resource.name,
                "task_definition": _name(properties["TaskDefinition"]),
                "desired_count": int(properties.get("DesiredCount", 1)),
                "force_new_deployment": True,
            }
        )
        service.load_balancers = _camel(properties.get("LoadBalancers") or [])
        service.network_configuration = _camel(properties.get("NetworkConfiguration"))
        service.deployment_configuration = _camel(properties.get("DeploymentConfiguration"))
        return service

    def service_delete(self: Any, account_id: str, region_name: str) -> None:
        ecs_backends[account_id][region_name].delete_service(self.cluster_name, self.name, True)

    patch(Service, "create_from_cloudformation_json", as_classmethod(service_create))
    patch(Service, "update_from_cloudformation_json", as_classmethod(service_update))
    patch(Service, "delete", service_delete)
