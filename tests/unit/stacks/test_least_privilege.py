"""The deploy role's CloudFormation-on-behalf actions are exactly what the stacks need.

MESHLINK_REGENERATE_ACTIONS=1 rewrites actions.json's resource_types and on_behalf.
"""

from __future__ import annotations

import os

from meshlink.bootstrap import derive
from meshlink.bootstrap.policy import load_actions
from tests.unit.stacks.stacks_helpers import ONE_WAY, Mesh, synthesize

REGENERATE = os.environ.get("MESHLINK_REGENERATE_ACTIONS") == "1"


def test_the_policy_knows_every_resource_type_the_stacks_create_and_no_other(
    all_meshes: list[Mesh],
) -> None:
    found = derive.resource_types(t for mesh in all_meshes for t in mesh.templates.values())
    if REGENERATE:
        derive.write(resource_types=sorted(found))
    assert set(load_actions().resource_types) == found


def test_on_behalf_actions_are_the_resource_handlers_permissions() -> None:
    expected = derive.on_behalf_actions(load_actions().resource_types)
    if REGENERATE:
        derive.write(on_behalf=sorted(expected))
    assert set(load_actions().on_behalf) == expected
    assert "iam:PassRole" in expected  # task definitions pass the execution role


KMS_KEY = "arn:aws:kms:us-east-1:400000000001:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_a_log_key_encrypts_every_log_group_and_none_means_a_reason(one_way: Mesh) -> None:
    keyed = synthesize(dict(ONE_WAY, logs={"kms_key_arn": KMS_KEY}))
    for mesh, expected in ((keyed, KMS_KEY), (one_way, None)):
        groups = [
            resource
            for template in mesh.templates.values()
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::Logs::LogGroup"
        ]
        assert len(groups) >= 3  # flow logs per network, the platform's, the services'
        for group in groups:
            assert group["Properties"].get("KmsKeyId") == expected
            skipped = [
                s["id"] for s in group.get("Metadata", {}).get("checkov", {}).get("skip", [])
            ]
            assert skipped == ([] if expected else ["CKV_AWS_158"])


def test_the_flow_log_role_lists_log_groups_of_its_account_and_region_only(
    one_way: Mesh,
) -> None:
    role = one_way.templates["network:front"]["Resources"]["FlowLogRole"]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    (listing,) = [s for s in statements if s["Action"] == "logs:DescribeLogGroups"]
    assert listing["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
    }
