"""The base every meshlink stack builds on: no bootstrap, tags, traced parameters."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from meshlink.topology.naming import logical_id, stack_name


class MeshStack(cdk.Stack):
    """A stack of one graph node: bootstrapless, tagged, with upstream values as parameters.

    Every parameter records where its value comes from in the template's
    Metadata.meshlink.parameters (docs/CONTRACTS.md), so the executor can fill it.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        mesh: str,
        kind: str,
        subject: str,
        account_id: str,
        region: str,
    ) -> None:
        self.node_id = f"{kind}:{subject}"
        super().__init__(
            scope,
            logical_id(kind, subject),
            stack_name=stack_name(mesh, kind, subject),
            synthesizer=cdk.BootstraplessSynthesizer(),
            env=cdk.Environment(account=account_id, region=region),
            description=f"meshlink {mesh}: {kind} {subject}",
        )
        self._sources: dict[str, dict[str, Any]] = {}
        cdk.Tags.of(self).add("meshlink:mesh", mesh)
        cdk.Tags.of(self).add("meshlink:node", self.node_id)
        self.template_options.metadata = {
            "meshlink": {"node": self.node_id, "parameters": self._sources}
        }

    def upstream(
        self, node: str, output: str, *, type: str = "String", description: str | None = None
    ) -> cdk.CfnParameter:
        """A parameter filled from `output` of upstream graph node `node`."""
        name = logical_id(node.replace(":", " "), output)
        return self._parameter(name, {"node": node, "output": output}, type, description)

    def resolved(
        self, name: str, resolver: str, *, type: str = "String", **args: str
    ) -> cdk.CfnParameter:
        """A parameter computed at deploy time by resolver `resolver` (graph.parameters)."""
        return self._parameter(logical_id(name), {"resolver": resolver, **args}, type, None)

    def _parameter(
        self, name: str, source: dict[str, Any], type: str, description: str | None
    ) -> cdk.CfnParameter:
        existing = self.node.try_find_child(name)
        if isinstance(existing, cdk.CfnParameter):
            return existing
        self._sources[name] = source
        # jsii copies the metadata when it is assigned: assign it again with the new entry.
        self.template_options.metadata = {
            "meshlink": {"node": self.node_id, "parameters": dict(self._sources)}
        }
        return cdk.CfnParameter(self, name, type=type, description=description or f"from {source}")

    def output(self, name: str, value: str, description: str | None = None) -> cdk.CfnOutput:
        """A stack output other nodes may read by `name`."""
        return cdk.CfnOutput(self, name, value=value, description=description)
