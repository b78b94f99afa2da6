"""Small typed values the deployer reports: stack events, resource changes, results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Outcome = Literal["created", "updated", "unchanged"]
ChangeType = Literal["CREATE", "UPDATE"]


@dataclass(frozen=True)
class StackEvent:
    """One CloudFormation stack event, as the progress display shows it."""

    stack: str
    logical_id: str
    resource_type: str
    status: str
    reason: str | None = None
    physical_id: str | None = None
    timestamp: datetime | None = None

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED")

    @property
    def is_stack(self) -> bool:
        return self.resource_type == "AWS::CloudFormation::Stack"


EventSink = Callable[[StackEvent], None]


@dataclass(frozen=True)
class PropertyChange:
    """One property-level detail of a resource change (DescribeChangeSet ``Details[]``)."""

    name: str  # Target.Name: the property (or tag) that changes
    attribute: str = "Properties"  # Target.Attribute: Properties | Tags | Metadata | ...
    requires_recreation: str | None = None  # Always | Conditionally | Never
    source: str | None = None  # ChangeSource: DirectModification | ParameterReference | ...
    causing_entity: str | None = None  # the parameter or resource behind the change
    before: str | None = None  # Target.BeforeValue (IncludePropertyValues)
    after: str | None = None  # Target.AfterValue


@dataclass(frozen=True)
class ResourceChange:
    """One resource-level change of a change set (what `meshlink plan` shows)."""

    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str | None = None  # True | False | Conditional (Modify only)
    physical_id: str | None = None
    details: tuple[PropertyChange, ...] = ()

    @property
    def replaced(self) -> bool:
        return self.replacement in ("True", "Conditional")

    def recreated_by(self) -> tuple[str, ...]:
        """The properties whose change makes CloudFormation replace the resource."""
        return tuple(
            dict.fromkeys(
                d.name for d in self.details if d.requires_recreation in ("Always", "Conditionally")
            )
        )


@dataclass(frozen=True)
class StackPlan:
    """What deploying a template would do to one stack."""

    stack: str
    change_type: ChangeType
    changes: tuple[ResourceChange, ...] = ()
    # The stack is in ROLLBACK_COMPLETE: deploying deletes it and creates it again.
    recreate: bool = False

    @property
    def unchanged(self) -> bool:
        return self.change_type == "UPDATE" and not self.changes and not self.recreate

    def counts(self) -> dict[str, int]:
        """Resources to add, change and remove (a replacement counts as a change)."""
        actions = [change.action for change in self.changes]
        return {
            "add": actions.count("Add"),
            "change": len(actions) - actions.count("Add") - actions.count("Remove"),
            "remove": actions.count("Remove"),
        }


@dataclass(frozen=True)
class DeployResult:
    """The stack after a deploy: what happened, its outputs, the changes applied."""

    stack: str
    outcome: Outcome
    outputs: dict[str, str]
    changes: tuple[ResourceChange, ...] = field(default=())
    stack_id: str | None = None


@dataclass(frozen=True)
class DeleteResult:
    """Whether a delete removed a stack (False: there was none)."""

    stack: str
    deleted: bool
