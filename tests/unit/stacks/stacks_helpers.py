"""Meshes for the stack tests and helpers to read their templates."""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from meshlink.stacks.base import MeshStack
from meshlink.stacks.mesh import build_mesh
from meshlink.topology.model import Topology

ECR_IMAGE = "333333333333.dkr.ecr.us-east-1.amazonaws.com/acme/payments:2.0"

TWO_WAY: dict[str, Any] = {
    "name": "shop",
    "accounts": {
        "users": {"id": "111111111111", "vpc_cidr": "10.1.0.0/16"},
        "notify": {"id": "222222222222", "vpc_cidr": "10.2.0.0/16"},
    },
    "services": {
        "user-service": {
            "account": "users",
            "port": 8080,
            "image": "public.ecr.aws/acme/user-service:1.4.0",
            "desired_count": 3,
            "cpu": 512,
            "memory": 1024,
            "consumes": ["notification-service"],
            "environment": {"LOG_LEVEL": "debug", "PORT": "9999"},
            "local": {"command": ["python", "-m", "meshlink_service", "--fast"]},
            "scaling": {"min": 2, "max": 6, "cpu_target": 60},
            "secrets": {
                "DB_PASSWORD": "shop/db-password",
                "API_KEY": "arn:aws:secretsmanager:us-east-1:111111111111:secret:shop/api-AbCdEf",
            },
            "log_retention_days": 7,
            "tracing": "xray",
        },
        "notification-service": {
            "account": "notify",
            "port": 8081,
            "consumes": ["user-service"],
            "acceptance_required": True,
            "health_path": "/ready",
            "scaling": {"min": 1, "max": 4, "requests_target": 500},
        },
    },
    "alerts": {"email": "oncall@example.com"},
    "dashboard": True,
}

# Every service consumes every other; orders and inventory share an account, so the
# principals of payments and shipping must name that account once.
_FULL = ["orders", "inventory", "payments", "shipping"]
FULL_MESH_4: dict[str, Any] = {
    "name": "full",
    "accounts": {
        "retail": {"id": "100000000001", "vpc_cidr": "10.10.0.0/16"},
        "money": {"id": "100000000002", "vpc_cidr": "10.20.0.0/16"},
        "logistics": {"id": "100000000003", "vpc_cidr": "10.30.0.0/16"},
    },
    "services": {
        name: {
            "account": account,
            "port": 9000 + index,
            "consumes": [peer for peer in _FULL if peer != name],
            **({"image": ECR_IMAGE} if name == "payments" else {}),
        }
        for index, (name, account) in enumerate(
            zip(_FULL, ["retail", "retail", "money", "logistics"], strict=True)
        )
    },
}

ONE_WAY: dict[str, Any] = {
    "name": "oneway",
    "accounts": {
        "front": {"id": "400000000001", "vpc_cidr": "10.40.0.0/16"},
        "back": {"id": "400000000002", "vpc_cidr": "10.41.0.0/16"},
    },
    "services": {
        "web": {"account": "front", "port": 8000, "consumes": ["api"]},
        "api": {"account": "back", "port": 8001},
    },
    "alerts": {"sns_topic_arn": "arn:aws:sns:us-east-1:400000000001:oncall"},
}

EXTERNAL: dict[str, Any] = {
    "name": "ext",
    "region": "eu-west-1",
    "accounts": {"app": {"id": "500000000001", "vpc_cidr": "10.50.0.0/16"}},
    "services": {"checkout": {"account": "app", "port": 8443, "consumes": ["billing"]}},
    "external": {
        "billing": {"service_name": "com.amazonaws.vpce.eu-west-1.vpce-svc-0abc123", "port": 443}
    },
}


SHARED: dict[str, Any] = {
    "name": "shared",
    "network": {"mode": "shared", "account": "net"},
    "accounts": {
        "net": {"id": "333333333333", "vpc_cidr": "10.0.0.0/16"},
        "users": {"id": "111111111111"},
        "notify": {"id": "222222222222"},
    },
    "services": {
        "user-service": {"account": "users", "port": 8080, "consumes": ["notification-service"]},
        "notification-service": {"account": "notify", "port": 8081},
    },
}


@dataclass
class Mesh:
    """A synthesized mesh: its topology, app, stacks and templates by node id."""

    topology: Topology
    app: cdk.App
    stacks: dict[str, MeshStack]
    templates: dict[str, dict[str, Any]]

    def template(self, node: str) -> Template:
        return Template.from_json(self.templates[node])


def synthesize(data: dict[str, Any]) -> Mesh:
    topology = Topology.model_validate(data)
    app = cdk.App(analytics_reporting=False, stack_traces=False)
    stacks = build_mesh(app, topology)
    assembly = app.synth()
    templates = {
        node: assembly.get_stack_by_name(stack.stack_name).template
        for node, stack in stacks.items()
    }
    return Mesh(topology, app, stacks, templates)


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The template's resources of CloudFormation type `kind`, by logical id."""
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def parameter_sources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(template["Metadata"]["meshlink"]["parameters"])
