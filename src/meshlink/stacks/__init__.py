"""CDK stacks of the mesh: network, platform, edge, endpoints, service."""
