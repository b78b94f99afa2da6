"""What `plan` knows of each node's outputs after `up`, so downstream nodes plan truthfully.

`up` feeds a node the outputs its upstream nodes have once they are applied. `plan`
walks the graph in the same order and records, per node, the outputs `up` will leave
(an unchanged node: its journal outputs; an updated one: its live outputs except those
whose value changes; a new one: none known). A downstream node that reads an output not
known before `up` runs is an update (or create) too: never `unchanged` under an upstream
that is about to change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from meshlink.deploy.handlers.model import NodePlan
from meshlink.errors import DeployError

if TYPE_CHECKING:
    from meshlink.engines.cdk.events import ResourceChange


class UnknownUntilApplied(DeployError):
    """An upstream output whose value `up` only learns by applying the upstream node."""

    def __init__(self, node: str, action: str, key: str | None = None) -> None:
        self.node = node
        self.action = action
        self.key = key
        what = f"{key} of {node}" if key else f"the outputs of {node}"
        super().__init__(f"{what} change ({node}: {action})")


class Predicted(Mapping[str, Any]):
    """An upstream node's outputs as `up` will pass them on; a changing key raises."""

    def __init__(self, plan: NodePlan, outputs: Mapping[str, Any]) -> None:
        self.plan = plan
        self.outputs = outputs

    def __getitem__(self, key: str) -> Any:
        if key in self.plan.changing:
            raise UnknownUntilApplied(self.plan.node, self.plan.action, key)
        return self.outputs[key]

    def __contains__(self, key: object) -> bool:
        return key in self.outputs or key in self.plan.changing

    def __iter__(self) -> Iterator[str]:
        return iter({*self.outputs, *self.plan.changing})

    def __len__(self) -> int:
        return len({*self.outputs, *self.plan.changing})


class Outlook:
    """The plans made so far in one `plan` run, by node id."""

    def __init__(self) -> None:
        self.plans: dict[str, NodePlan] = {}

    def record(self, plan: NodePlan) -> None:
        self.plans[plan.node] = plan

    def outputs_of(self, nid: str) -> Mapping[str, Any] | None:
        """The node's outputs after `up` (None: not planned in this run, ask the journal)."""
        plan = self.plans.get(nid)
        if plan is None:
            return None
        if plan.outputs is None:
            raise UnknownUntilApplied(nid, plan.action)
        return Predicted(plan, plan.outputs)


def stack_outputs_after(
    template: Mapping[str, Any],
    live: Mapping[str, str],
    changes: Sequence[ResourceChange],
    changed_parameters: set[str],
) -> tuple[dict[str, str], frozenset[str]]:
    """(outputs known after the update, keys whose value changes) of a stack.

    An output keeps its live value unless it refers to a resource added, removed or
    replaced, or to a parameter whose value changes; a literal output is what the new
    template says.
    """
    from meshlink.engines.cdk.templates import references

    moved = {c.logical_id for c in changes if c.replaced or c.action in ("Add", "Remove")}
    moved |= changed_parameters
    known: dict[str, str] = {}
    changing: set[str] = set()
    for key, spec in (template.get("Outputs") or {}).items():
        value = (spec or {}).get("Value")
        if isinstance(value, str | int | float):
            known[key] = str(value)
        elif key in live and not references(value) & moved:
            known[key] = live[key]
        else:
            changing.add(key)
    return known, frozenset(changing)


def touched_by(template: Mapping[str, Any], parameters: set[str]) -> set[str]:
    """Parameters and the resources that (transitively) refer to them."""
    from meshlink.engines.cdk.templates import references

    resources = template.get("Resources") or {}
    found = set(parameters)
    grew = True
    while grew:
        grew = False
        for name, body in resources.items():
            if name not in found and references(body) & found:
                found.add(name)
                grew = True
    return found


def list_delta(before: str | None, after: str | None) -> tuple[list[str], list[str]]:
    """Items added and removed between two JSON list values (empty when not lists)."""
    try:
        old = json.loads(before) if before else []
        new = json.loads(after) if after else []
    except ValueError:
        return [], []
    if not isinstance(old, list) or not isinstance(new, list):
        return [], []
    olds, news = (
        [json.dumps(i) if not isinstance(i, str) else i for i in old],
        [json.dumps(i) if not isinstance(i, str) else i for i in new],
    )
    return [i for i in news if i not in olds], [i for i in olds if i not in news]
