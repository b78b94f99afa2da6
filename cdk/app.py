"""CDK CLI entry: the very stacks `meshlink up` deploys, for `cdk synth` / `cdk diff`.

    cd cdk && npx aws-cdk synth -c topology=../examples/two-accounts.yaml

The topology path is read from the `topology` context value (relative paths are
taken from this folder, where the CDK CLI runs the app), or from $MESHLINK_TOPOLOGY.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Before aws_cdk loads: otherwise jsii prints an end-of-life banner for Node 20.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk

from meshlink.errors import MeshlinkError
from meshlink.stacks.mesh import build_mesh
from meshlink.topology.loader import load_topology


def main() -> int:
    """Synthesize every stack of the mesh named by the `topology` context value."""
    app = cdk.App()
    path = app.node.try_get_context("topology") or os.environ.get("MESHLINK_TOPOLOGY")
    if not path:
        print(
            "meshlink cdk app: no topology; pass -c topology=path/to/meshlink.yaml",
            file=sys.stderr,
        )
        return 2
    try:
        topology = load_topology(Path(path))
    except MeshlinkError as exc:
        print(f"meshlink cdk app: {exc}", file=sys.stderr)
        return exc.exit_code
    build_mesh(app, topology)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
