"""What drift is: one finding per live resource that differs from the topology and journal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# How `up` repairs a finding: one targeted API call, or the node's stack deleted and
# deployed again (what CloudFormation cannot bring back by itself: a resource deleted
# by hand). Either way the node's stack is then deployed again, which re-asserts every
# property CloudFormation manages.
How = Literal["call", "recreate"]


@dataclass(frozen=True)
class Finding:
    """One drifted resource, owned by the graph node whose stack (or step) made it."""

    node: str
    kind: str  # the key of its repair in repair.REPAIRS
    what: str  # for people: "principal * added", "desired 0, want 2"
    how: How
    args: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "kind": self.kind, "what": self.what, "repair": self.how}


@dataclass(frozen=True)
class DriftReport:
    """Every finding of one look at the live mesh, in detection order."""

    findings: tuple[Finding, ...] = ()

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> DriftReport:
        return cls(tuple(findings))

    def by_node(self) -> dict[str, list[Finding]]:
        found: dict[str, list[Finding]] = {}
        for finding in self.findings:
            found.setdefault(finding.node, []).append(finding)
        return found

    def nodes(self) -> list[str]:
        return list(self.by_node())

    def whats(self, node: str) -> list[str]:
        return [f.what for f in self.findings if f.node == node]

    def only(self, nodes: Iterable[str]) -> DriftReport:
        keep = set(nodes)
        return DriftReport(tuple(f for f in self.findings if f.node in keep))

    def __bool__(self) -> bool:
        return bool(self.findings)

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {n: [f.to_dict() for f in fs] for n, fs in self.by_node().items()}
