"""CDK stacks of the mesh: network, platform, edge, endpoints, service."""

import os

# Before aws_cdk loads anywhere below: otherwise jsii prints an end-of-life banner for Node 20.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
