"""What an account already uses of a per-Region quota, outside this mesh (target aws).

NLBs per Region counts every NLB of the account, not only the mesh's: another team's
load balancers leave this mesh less room. The mesh's own NLBs carry its identity in the
`meshlink:mesh-id` tag (CloudFormation copies stack tags to them) and are not counted
here: the mesh's own count has them already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshlink.deploy.live import MESH_ID_TAG
from meshlink.topology.model import Topology

# (account key) -> a boto3 elbv2 client acting in that account
ElbClientFor = Callable[[str], Any]
TAGS_PER_CALL = 20  # DescribeTags takes at most 20 ARNs


def other_nlbs(topology: Topology, client_for: ElbClientFor) -> dict[str, int]:
    """Per account: Network Load Balancers that are not this mesh's."""
    found: dict[str, int] = {}
    for account in topology.accounts:
        client = client_for(account)
        arns = [
            balancer["LoadBalancerArn"]
            for page in client.get_paginator("describe_load_balancers").paginate()
            for balancer in page.get("LoadBalancers", [])
            if balancer.get("Type") == "network"
        ]
        ours = 0
        for start in range(0, len(arns), TAGS_PER_CALL):
            answer = client.describe_tags(ResourceArns=arns[start : start + TAGS_PER_CALL])
            for description in answer.get("TagDescriptions", []):
                tags = {tag["Key"]: tag.get("Value") for tag in description.get("Tags", [])}
                ours += tags.get(MESH_ID_TAG) == topology.identity
        found[account] = len(arns) - ours
    return found
