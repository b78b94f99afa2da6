"""dashboard[mesh]: one CloudWatch dashboard for the whole mesh, in its first account.

Per edge, the provider NLB's healthy hosts and processed bytes; per service, ECS CPU and
memory. Metrics of other accounts carry their `accountId`: CloudWatch shows them once
cross-account observability (or cross-account dashboard sharing) is set up between the
accounts (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Cross-Account-Cross-Region.html);
without it those widgets stay empty, the first account's show as usual.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from meshlink.graph.planner import dashboard_account, node_id
from meshlink.stacks.base import MeshStack
from meshlink.stacks.operations import load_balancer_full_name, target_group_full_name
from meshlink.stacks.outputs import EdgeOutputs
from meshlink.stacks.platform import cluster_name
from meshlink.topology.model import Topology

WIDTH, HEIGHT = 12, 6  # half the dashboard's 24 columns


def dashboard_name(mesh: str) -> str:
    return f"meshlink-{mesh}"


class DashboardStack(MeshStack):
    """The mesh's CloudWatch dashboard."""

    def __init__(self, scope: Construct, topology: Topology) -> None:
        account = dashboard_account(topology)
        super().__init__(
            scope,
            mesh=topology.name,
            kind="dashboard",
            subject=topology.name,
            account_id=topology.accounts[account].id,
            region=topology.region,
        )
        self.topology = topology
        self.variables: dict[str, str] = {}
        widgets = [*self._edge_widgets(), *self._service_widgets()]
        for index, widget in enumerate(widgets):
            widget["x"], widget["y"] = (index % 2) * WIDTH, (index // 2) * HEIGHT
        body = json.dumps({"widgets": widgets}, sort_keys=True)
        cloudwatch.CfnDashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name(topology.name),
            dashboard_body=cdk.Fn.sub(body, self.variables) if self.variables else body,
        )

    def _variable(self, name: str, value: str) -> str:
        """`${name}` in the body, filled by Fn::Sub with a parameter-derived value."""
        self.variables[name] = value
        return "${" + name + "}"

    def _widget(self, title: str, metrics: list[list[Any]], stat: str) -> dict[str, Any]:
        return {
            "type": "metric",
            "width": WIDTH,
            "height": HEIGHT,
            "properties": {
                "title": title,
                "region": self.topology.region,
                "stat": stat,
                "period": 60,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    def _edge_widgets(self) -> list[dict[str, Any]]:
        topology = self.topology
        widgets = []
        for provider in topology.services:
            consumers = topology.consumers_of(provider)
            if not consumers:
                continue
            edge = node_id("edge", provider)
            key = "".join(part.capitalize() for part in provider.split("-"))
            nlb = self._variable(
                f"Nlb{key}",
                load_balancer_full_name(
                    self.upstream(edge, EdgeOutputs.LOAD_BALANCER_ARN).value_as_string
                ),
            )
            group = self._variable(
                f"Tg{key}",
                target_group_full_name(
                    self.upstream(edge, EdgeOutputs.TARGET_GROUP_ARN).value_as_string
                ),
            )
            where = {"accountId": topology.account_of(provider).id}
            edges = ", ".join(f"{c} → {provider}" for c in consumers)
            widgets.append(
                self._widget(
                    f"{edges}: healthy hosts",
                    [
                        [
                            "AWS/NetworkELB",
                            "HealthyHostCount",
                            "LoadBalancer",
                            nlb,
                            "TargetGroup",
                            group,
                            where,
                        ]
                    ],
                    "Minimum",
                )
            )
            widgets.append(
                self._widget(
                    f"{edges}: processed bytes",
                    [["AWS/NetworkELB", "ProcessedBytes", "LoadBalancer", nlb, where]],
                    "Sum",
                )
            )
        return widgets

    def _service_widgets(self) -> list[dict[str, Any]]:
        topology = self.topology
        cluster = cluster_name(topology.name)
        widgets = []
        for metric in ("CPUUtilization", "MemoryUtilization"):
            widgets.append(
                self._widget(
                    f"ECS {metric.removesuffix('Utilization')} % per service",
                    [
                        [
                            "AWS/ECS",
                            metric,
                            "ClusterName",
                            cluster,
                            "ServiceName",
                            service,
                            {"accountId": topology.account_of(service).id, "label": service},
                        ]
                        for service in topology.services
                    ],
                    "Average",
                )
            )
        return widgets
