"""`meshlink plan` as a table: replacements with their reason, property-level changes."""

from __future__ import annotations

import io

from rich.console import Console

from meshlink.cli.context import CliContext
from meshlink.cli.render_plan import property_lines, render_plan
from meshlink.deploy.handlers.model import Change, NodePlan, PropertyDiff
from meshlink.deploy.plan import MeshPlan

TARGET_GROUP = Change(
    "Modify",
    "TargetGroup",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "True",
    [PropertyDiff("Port", "Always", "DirectModification", None, "8081", "8082")],
    ["Port"],
)
PERMISSIONS = Change(
    "Modify",
    "EndpointServicePermissions",
    "AWS::EC2::VPCEndpointServicePermissions",
    "False",
    [
        PropertyDiff(
            "AllowedPrincipals",
            "Never",
            "DirectModification",
            None,
            '["arn:aws:iam::111111111111:root"]',
            '["arn:aws:iam::333333333333:root"]',
            added=["arn:aws:iam::333333333333:root"],
            removed=["arn:aws:iam::111111111111:root"],
        )
    ],
)


def test_property_lines_say_values_principals_and_replacement() -> None:
    assert property_lines(TARGET_GROUP) == ["Port: 8081 -> 8082 (requires replacement)"]
    assert property_lines(PERMISSIONS) == [
        "AllowedPrincipals: +arn:aws:iam::333333333333:root -arn:aws:iam::111111111111:root"
    ]


def test_the_table_fits_100_columns_and_says_why_it_replaces() -> None:
    out = io.StringIO()
    cli = CliContext(console=Console(file=out, width=100, color_system=None))
    plan = MeshPlan(
        [
            NodePlan(
                "edge:notification-service",
                "replace",
                "replaces TargetGroup (Port requires recreation)",
                [TARGET_GROUP, PERMISSIONS],
            ),
            NodePlan("service:notification-service", "update", "after edge (replace)"),
            NodePlan("network:users", "unchanged", "fingerprint matches"),
        ]
    )
    render_plan(cli, plan)
    text = out.getvalue()
    assert all(len(line) <= 100 for line in text.splitlines())
    assert "replaces TargetGroup (Port requires recreation)" in text
    assert "Port: 8081 -> 8082 (requires replacement)" in text
    assert "+arn:aws:iam::333333333333:root" in text
    assert "1 to replace" in text
