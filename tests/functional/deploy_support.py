"""Helpers for functional tests that deploy meshes to the real local cloud."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from meshlink.cli.app import app
from tests.helpers import EXAMPLES

runner = CliRunner()


def write_topology(directory: Path, example: str, name: str, **replace: str) -> Path:
    """Copy an example under a unique mesh name (tests share one local cloud).

    `engine: auto` becomes `engine: cdk` unless `replace` says otherwise: under the tests
    auto resolves to CDK anyway (terraform_support.set_aside hides the provider), without
    a `terraform init` probe on every fresh deploy; test_engine_choice tests auto itself.
    """
    text = (EXAMPLES / example).read_text()
    first = text.index("\nname: ") + 1
    end = text.index("\n", first)
    text = text[:first] + f"name: {name}" + text[end:]
    if not any("engine:" in old for old in replace):
        text = text.replace("\n  engine: auto\n", "\n  engine: cdk\n")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = directory / f"{name}.yaml"
    path.write_text(text)
    return path


def cli(topology: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        ["-f", str(topology), *args, "--workdir", str(topology.parent)],
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr


def cli_json(topology: Path, *args: str) -> tuple[int, Any]:
    code, stdout, _stderr = cli(topology, "--json", *args)
    try:
        return code, json.loads(stdout)
    except ValueError:
        # up/down stream one JSON object per line, the summary last: every line parses.
        events = [json.loads(line) for line in stdout.splitlines() if line.strip()]
        assert events[-1]["event"] == "summary", events[-1]
        return code, events[-1]


def local_cli(*args: str) -> tuple[int, str, str]:
    """`meshlink local ...` (no topology, no workdir)."""
    result = runner.invoke(app, ["local", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def leftovers(sessions: Any, topology_accounts: list[str], mesh: str) -> dict[str, list[str]]:
    """Everything tagged with (or named after) the mesh that still exists, per account."""
    found: dict[str, list[str]] = {}
    tag = [{"Name": "tag:meshlink:mesh", "Values": [mesh]}]
    for account in topology_accounts:
        cfn = sessions.client(account, "cloudformation")
        ec2 = sessions.client(account, "ec2")
        elb = sessions.client(account, "elbv2")
        ecs = sessions.client(account, "ecs")
        items = [
            s["StackName"]
            for s in cfn.describe_stacks()["Stacks"]
            if s["StackName"].startswith(f"meshlink-{mesh}-")
        ]
        items += [v["VpcId"] for v in ec2.describe_vpcs(Filters=tag)["Vpcs"]]
        items += [s["SubnetId"] for s in ec2.describe_subnets(Filters=tag)["Subnets"]]
        items += [
            e["VpcEndpointId"]
            for e in ec2.describe_vpc_endpoints(Filters=tag)["VpcEndpoints"]
            if e["State"] not in ("deleted",)
        ]
        items += [
            lb["LoadBalancerName"]
            for lb in elb.describe_load_balancers()["LoadBalancers"]
            if lb["LoadBalancerName"].startswith(f"{mesh}-")
        ]
        items += [c for c in ecs.list_clusters()["clusterArns"] if f"/{mesh}-" in c]
        if items:
            found[account] = items
    return found
