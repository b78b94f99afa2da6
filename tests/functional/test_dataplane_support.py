"""Shared builders for the data-plane functional tests (no tests in here).

Builds, with plain boto3 calls against a real local cloud, a provider service behind
an NLB + endpoint service, a consumer VPC with an interface endpoint, and helpers to
run one-off tasks and read the data plane's admin API.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from meshlink.aws.sessions import SessionFactory

PROVIDER, CONSUMER, THIRD = "710000000001", "720000000002", "730000000003"
PORT = 8080

# A tiny HTTP server for the docker-label path: answers /health with SERVICE_NAME.
TINY_SERVER = [
    sys.executable,
    "-c",
    "import http.server,json,os\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "  def do_GET(self):\n"
    "    b=json.dumps({'status':'healthy','service':os.environ['SERVICE_NAME']}).encode()\n"
    "    self.send_response(200);self.send_header('Content-Length',str(len(b)))\n"
    "    self.end_headers();self.wfile.write(b)\n"
    "  def log_message(self,*a):pass\n"
    "http.server.ThreadingHTTPServer((os.environ['HOST'],int(os.environ['PORT'])),H)"
    ".serve_forever()\n",
]


def admin(endpoint_url: str, path: str) -> Any:
    with urllib.request.urlopen(f"{endpoint_url}/_meshlink{path}", timeout=10) as answer:
        return json.loads(answer.read())


def wait_for(what: str, check: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll `check()` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@dataclass
class Network:
    """A VPC with two subnets in the given zone ids and its security groups."""

    account: str
    vpc: str
    subnets: list[str]
    groups: dict[str, str] = field(default_factory=dict)


def zone_names(sessions: SessionFactory, account: str) -> dict[str, str]:
    """zone id -> AZ name as `account` sees it (they differ per account)."""
    zones = sessions.client(account, "ec2").describe_availability_zones()["AvailabilityZones"]
    return {z["ZoneId"]: z["ZoneName"] for z in zones}


def network(sessions: SessionFactory, account: str, cidr: str, zone_ids: list[str]) -> Network:
    ec2 = sessions.client(account, "ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    names = zone_names(sessions, account)
    base = cidr.split(".")
    subnets = [
        ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=f"{base[0]}.{base[1]}.{i}.0/24",
            AvailabilityZone=names[zone_id],
        )["Subnet"]["SubnetId"]
        for i, zone_id in enumerate(zone_ids)
    ]
    # Fargate tasks must reach their image registry, or the local cloud stops them as AWS
    # does (dataplane/task_networking.py): a NAT gateway on the VPC's main route table.
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=eip)["NatGateway"]
    main = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]["RouteTableId"]
    ec2.create_route(
        RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat["NatGatewayId"]
    )
    return Network(account, vpc, subnets)


def group(sessions: SessionFactory, net: Network, name: str) -> str:
    ec2 = sessions.client(net.account, "ec2")
    group_id = ec2.create_security_group(GroupName=name, Description=name, VpcId=net.vpc)["GroupId"]
    net.groups[name] = str(group_id)
    return str(group_id)


def allow(
    sessions: SessionFactory,
    net: Network,
    to: str,
    *,
    source_group: str | None = None,
    cidr: str | None = None,
    port: int = PORT,
    revoke: bool = False,
) -> None:
    ec2 = sessions.client(net.account, "ec2")
    permission: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if source_group:
        permission["UserIdGroupPairs"] = [{"GroupId": source_group}]
    if cidr:
        permission["IpRanges"] = [{"CidrIp": cidr}]
    call = ec2.revoke_security_group_ingress if revoke else ec2.authorize_security_group_ingress
    call(GroupId=net.groups[to], IpPermissions=[permission])


def task_definition(
    sessions: SessionFactory,
    account: str,
    family: str,
    *,
    env: dict[str, str] | None = None,
    label: list[str] | None = None,
    port: int | None = PORT,
) -> str:
    container: dict[str, Any] = {
        "name": "app",
        "image": "public.ecr.aws/meshlink/service:local",
        "essential": True,
        "environment": [{"name": k, "value": v} for k, v in (env or {}).items()],
    }
    if port:
        container["portMappings"] = [{"containerPort": port, "protocol": "tcp"}]
    if label is not None:
        container["dockerLabels"] = {"meshlink.local.command": json.dumps(label)}
    answer = sessions.client(account, "ecs").register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[container],
    )
    return str(answer["taskDefinition"]["taskDefinitionArn"])


@dataclass
class Provider:
    net: Network
    nlb_arn: str
    nlb_dns: str
    tg_arn: str
    service_name: str  # the endpoint service's name
    cluster: str
    service: str


def provider(
    sessions: SessionFactory,
    net: Network,
    name: str,
    consumers: list[str],
    *,
    label: list[str] | None,
    desired: int = 2,
) -> Provider:
    """NLB (with a security group) + ip target group + endpoint service + ECS service."""
    elb = sessions.client(net.account, "elbv2")
    nlb_sg, task_sg = group(sessions, net, "nlb"), group(sessions, net, "task")
    allow(sessions, net, "task", source_group=nlb_sg)  # targets admit only the NLB
    nlb = elb.create_load_balancer(
        Name=f"{name}-nlb",
        Type="network",
        Scheme="internal",
        Subnets=net.subnets,
        SecurityGroups=[nlb_sg],
    )
    nlb_arn = nlb["LoadBalancers"][0]["LoadBalancerArn"]
    tg_arn = elb.create_target_group(
        Name=f"{name}-tg",
        Protocol="TCP",
        Port=PORT,
        VpcId=net.vpc,
        TargetType="ip",
        HealthCheckProtocol="HTTP",
        HealthCheckPath="/health",
        HealthCheckIntervalSeconds=10,
        HealthCheckTimeoutSeconds=5,
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=nlb_arn,
        Protocol="TCP",
        Port=PORT,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
    )
    ec2 = sessions.client(net.account, "ec2")
    config = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb_arn], AcceptanceRequired=False
    )["ServiceConfiguration"]
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=config["ServiceId"],
        AddAllowedPrincipals=[f"arn:aws:iam::{a}:root" for a in consumers],
    )
    ecs = sessions.client(net.account, "ecs")
    ecs.create_cluster(clusterName=name)
    definition = task_definition(
        sessions, net.account, name, env={"SERVICE_NAME": name}, label=label
    )
    ecs.create_service(
        cluster=name,
        serviceName=name,
        taskDefinition=definition,
        desiredCount=desired,
        launchType="FARGATE",
        loadBalancers=[{"targetGroupArn": tg_arn, "containerName": "app", "containerPort": PORT}],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": net.subnets,
                "securityGroups": [task_sg],
                "assignPublicIp": "DISABLED",
            }
        },
    )
    return Provider(
        net, nlb_arn, nlb["LoadBalancers"][0]["DNSName"], tg_arn, config["ServiceName"], name, name
    )


def endpoint(
    sessions: SessionFactory, net: Network, service_name: str, group_name: str
) -> dict[str, Any]:
    ec2 = sessions.client(net.account, "ec2")
    answer = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=net.vpc,
        ServiceName=service_name,
        SubnetIds=net.subnets,
        SecurityGroupIds=[net.groups[group_name]],
    )
    return dict(answer["VpcEndpoint"])


def run_task(
    sessions: SessionFactory,
    net: Network,
    cluster: str,
    definition: str,
    group_name: str,
    command: list[str],
) -> dict[str, Any]:
    """RunTask in `net` with `group_name`'s SG; waits for STOPPED and returns the task."""
    ecs = sessions.client(net.account, "ecs")
    task = ecs.run_task(
        cluster=cluster,
        taskDefinition=definition,
        launchType="FARGATE",
        count=1,
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": net.subnets[:1],
                "securityGroups": [net.groups[group_name]],
            }
        },
        overrides={"containerOverrides": [{"name": "app", "command": command}]},
    )["tasks"][0]

    def stopped() -> dict[str, Any] | None:
        found = ecs.describe_tasks(cluster=cluster, tasks=[task["taskArn"]])["tasks"][0]
        return found if found["lastStatus"] == "STOPPED" else None

    return dict(wait_for(f"task {task['taskArn']} to stop", stopped, timeout=60, interval=0.1))


def healthy_targets(sessions: SessionFactory, account: str, tg_arn: str) -> list[str]:
    health = sessions.client(account, "elbv2").describe_target_health(TargetGroupArn=tg_arn)
    return [
        d["Target"]["Id"]
        for d in health["TargetHealthDescriptions"]
        if d["TargetHealth"]["State"] == "healthy"
    ]
