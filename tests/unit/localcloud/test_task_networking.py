"""The Fargate start rule (dataplane/task_networking.py) on stand-ins for moto's objects."""

from __future__ import annotations

from types import SimpleNamespace as NS
from typing import Any

import pytest

from meshlink.localcloud.dataplane.task_networking import is_stop_reason, start_failure

REGION = "us-east-1"
ECR_IMAGE = "111111111111.dkr.ecr.us-east-1.amazonaws.com/shop/web:1.0"


def route(cidr: str = "0.0.0.0/0", **target: Any) -> NS:
    fields = {"nat_gateway": None, "transit_gateway": None, "gateway": None, **target}
    return NS(destination_cidr_block=cidr, **fields)


def table(table_id: str, routes: list[NS], subnets: tuple[str, ...] = (), main: bool = False) -> NS:
    associations = {f"rtbassoc-{s}": s for s in subnets}
    return NS(
        id=table_id,
        vpc_id="vpc-1",
        routes=routes,
        _associations=associations,
        main_association_id="rtbassoc-main" if main else None,
    )


def endpoint(service: str, kind: str, **fields: Any) -> NS:
    defaults = {"private_dns_enabled": kind == "Interface", "route_table_ids": []}
    return NS(
        id=f"vpce-{service}",
        vpc_id="vpc-1",
        state="available",
        service_name=f"com.amazonaws.{REGION}.{service}",
        vpc_endpoint_type=kind,
        **{**defaults, **fields},
    )


def ec2(tables: list[NS], endpoints: list[NS] = ()) -> NS:  # type: ignore[assignment]
    subnet = NS(id="subnet-1", vpc_id="vpc-1")
    return NS(
        region_name=REGION,
        enis={"eni-1": NS(subnet=subnet)},
        subnets={"us-east-1a": {"subnet-1": subnet}},
        route_tables={t.id: t for t in tables},
        vpc_end_points={e.id: e for e in endpoints},
    )


def task(public_ip: bool = False, launch_type: str = "FARGATE") -> NS:
    config = {"subnets": ["subnet-1"], "assignPublicIp": "ENABLED" if public_ip else "DISABLED"}
    return NS(launch_type=launch_type, network_configuration={"awsvpcConfiguration": config})


CONTAINER = {"image": ECR_IMAGE, "logConfiguration": {"logDriver": "awslogs"}}
ALL_ENDPOINTS = [
    endpoint("ecr.api", "Interface"),
    endpoint("ecr.dkr", "Interface"),
    endpoint("logs", "Interface"),
    endpoint("s3", "Gateway", route_table_ids=["rtb-private"], private_dns_enabled=False),
]


def failure(cloud: NS, the_task: NS | None = None, container: dict[str, Any] = CONTAINER) -> Any:
    return start_failure(the_task or task(), cloud, container, "eni-1")


def test_a_nat_route_is_enough() -> None:
    nat = route(nat_gateway=NS(id="nat-1", state="available"))
    assert failure(ec2([table("rtb-private", [nat], ("subnet-1",))])) is None


def test_an_internet_gateway_counts_only_with_a_public_ip() -> None:
    igw = route(gateway=NS(id="igw-1"))
    cloud = ec2([table("rtb-public", [igw], ("subnet-1",))])
    reason = failure(cloud)
    assert reason.startswith(
        "ResourceInitializationError: unable to pull secrets or registry auth: execution "
        "resource retrieval failed: unable to retrieve ecr registry auth"
    )
    assert 'Post "https://api.ecr.us-east-1.amazonaws.com/"' in reason
    assert failure(cloud, task(public_ip=True)) is None


def test_the_main_route_table_applies_without_an_association() -> None:
    nat = route(nat_gateway=NS(id="nat-1", state="available"))
    assert failure(ec2([table("rtb-main", [nat], main=True)])) is None
    assert failure(ec2([table("rtb-main", [], main=True)])) is not None


def test_endpoints_with_private_dns_and_the_s3_gateway_suffice() -> None:
    cloud = ec2([table("rtb-private", [], ("subnet-1",))], ALL_ENDPOINTS)
    assert failure(cloud) is None


@pytest.mark.parametrize(
    ("missing", "starts"),
    [
        ("ecr.api", "ResourceInitializationError: unable to pull secrets or registry auth"),
        ("ecr.dkr", "CannotPullContainerError: pull image manifest has been retried"),
        ("s3", "CannotPullContainerError: ref pull has been retried"),
        ("logs", "ResourceInitializationError: failed to validate logger args"),
    ],
)
def test_each_missing_endpoint_has_its_own_reason(missing: str, starts: str) -> None:
    endpoints = [e for e in ALL_ENDPOINTS if not e.service_name.endswith("." + missing)]
    reason = failure(ec2([table("rtb-private", [], ("subnet-1",))], endpoints))
    assert reason is not None and reason.startswith(starts), reason
    assert is_stop_reason(reason)


def test_an_endpoint_without_private_dns_or_on_another_table_does_not_count() -> None:
    endpoints = [
        endpoint("ecr.api", "Interface", private_dns_enabled=False),
        *ALL_ENDPOINTS[1:3],
        endpoint("s3", "Gateway", route_table_ids=["rtb-other"], private_dns_enabled=False),
    ]
    reason = failure(ec2([table("rtb-private", [], ("subnet-1",))], endpoints))
    assert reason is not None and "ecr registry auth" in reason
    fixed = [ALL_ENDPOINTS[0], *endpoints[1:]]
    reason = failure(ec2([table("rtb-private", [], ("subnet-1",))], fixed))
    assert reason is not None and "starport-layer-bucket" in reason


def test_logs_are_needed_only_with_awslogs() -> None:
    endpoints = [e for e in ALL_ENDPOINTS if not e.service_name.endswith(".logs")]
    cloud = ec2([table("rtb-private", [], ("subnet-1",))], endpoints)
    assert failure(cloud, container={"image": ECR_IMAGE}) is None


def test_tasks_outside_fargate_awsvpc_are_not_judged() -> None:
    cloud = ec2([table("rtb-private", [], ("subnet-1",))])
    assert failure(cloud, task(launch_type="EC2")) is None
    bridge = NS(launch_type="FARGATE", network_configuration={})
    assert start_failure(bridge, cloud, CONTAINER, None) is None


def test_a_stop_reason_is_recognised_by_its_ecs_prefix() -> None:
    assert not is_stop_reason("python: No such file or directory")
