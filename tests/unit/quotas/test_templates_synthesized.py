"""Security-group rules and template sizes counted on the stacks as CDK synthesizes them."""

from __future__ import annotations

import copy

from meshlink.quotas.check import check
from meshlink.quotas.templates import mesh_security_group_rules, security_group_rules
from tests.unit.stacks.stacks_helpers import TWO_WAY, synthesize

EDGE = "meshlink-shop-edge-user-service"
ENDPOINTS = "meshlink-shop-endpoints-user-service"


def test_rules_and_sizes_of_a_real_mesh() -> None:
    data = copy.deepcopy(TWO_WAY)
    data["network"] = {"nat_gateways": "none", "az_count": 3}  # AWS service endpoints too
    mesh = synthesize(data)
    templates = {mesh.stacks[node].stack_name: t for node, t in mesh.templates.items()}
    node_stacks = {node: stack.stack_name for node, stack in mesh.stacks.items()}
    own = security_group_rules(templates[EDGE])["TaskSecurityGroup"]
    # Rules the endpoints stack adds to the consumer's task group (its GroupId is a
    # parameter traced to edge:user-service's TaskSecurityGroupId output).
    param = next(
        name
        for name, source in templates[ENDPOINTS]["Metadata"]["meshlink"]["parameters"].items()
        if source.get("output") == "TaskSecurityGroupId"
    )
    added = [
        r["Type"]
        for r in templates[ENDPOINTS]["Resources"].values()
        if r["Type"].startswith("AWS::EC2::SecurityGroup")
        and r["Properties"].get("GroupId") == {"Ref": param}
    ]
    expected = (
        own[0] + added.count("AWS::EC2::SecurityGroupIngress"),
        own[1] + added.count("AWS::EC2::SecurityGroupEgress"),
    )
    whole = mesh_security_group_rules(templates, node_stacks)
    assert whole[(EDGE, "TaskSecurityGroup")] == expected
    assert (ENDPOINTS, param) not in whole  # counted for the group it names, not apart
    # The NLB's group: no ingress at all.
    assert whole[(EDGE, "LoadBalancerSecurityGroup")][0] == 0
    # The AWS service endpoints' group: HTTPS from each of the 3 private subnets.
    assert whole[("meshlink-shop-network-users", "ServiceEndpointsSecurityGroup")][0] == 3

    report = check(mesh.topology, templates=templates)
    assert report.blocking() == []
    highest = {use.quota.key: use for use in report.highest()}
    assert highest["rules_per_security_group"].used == max(max(v) for v in whole.values())
    assert 1_000 < highest["template_body_bytes"].used < 51_200
