"""Terraform's machine-readable (-json) stream turned into small typed progress events."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Diagnostic:
    """One Terraform diagnostic: severity, summary, detail and where it points."""

    severity: str
    summary: str
    detail: str = ""
    filename: str | None = None
    line: int | None = None
    column: int | None = None
    address: str | None = None

    @property
    def location(self) -> str | None:
        """`file:line:col` when Terraform gave a source range."""
        if not self.filename:
            return None
        where = self.filename
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def render(self) -> str:
        head = f"{self.location}: " if self.location else ""
        head += f"{self.severity}: {self.summary}"
        if self.address:
            head += f" ({self.address})"
        detail = self.detail.strip()
        return head + ("\n  " + detail.replace("\n", "\n  ") if detail else "")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        where = data.get("range") or {}
        start = where.get("start") or {}
        return cls(
            severity=str(data.get("severity", "error")),
            summary=str(data.get("summary", "")),
            detail=str(data.get("detail") or ""),
            filename=where.get("filename"),
            line=start.get("line"),
            column=start.get("column"),
            address=data.get("address"),
        )


@dataclass(frozen=True)
class TerraformEvent:
    """Base of every progress event; `account` says which account's run produced it."""

    account: str


@dataclass(frozen=True)
class ResourceStarted(TerraformEvent):
    address: str
    action: str  # create | update | delete | replace | read ...


@dataclass(frozen=True)
class ResourceCompleted(TerraformEvent):
    address: str
    action: str
    elapsed_seconds: float = 0.0
    resource_id: str | None = None


@dataclass(frozen=True)
class ResourceFailed(TerraformEvent):
    address: str
    action: str
    elapsed_seconds: float = 0.0


@dataclass(frozen=True)
class PlannedChange(TerraformEvent):
    address: str
    action: str


@dataclass(frozen=True)
class ChangeSummary(TerraformEvent):
    """Counts of a plan, apply or destroy (Terraform's `change_summary`)."""

    operation: str  # plan | apply | destroy
    add: int = 0
    change: int = 0
    destroy: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.add or self.change or self.destroy)


@dataclass(frozen=True)
class DiagnosticEvent(TerraformEvent):
    diagnostic: Diagnostic


@dataclass(frozen=True)
class LogMessage(TerraformEvent):
    """Any other line worth showing (init progress, plain text from a tool without -json)."""

    level: str
    message: str


@dataclass(frozen=True)
class StageStarted(TerraformEvent):
    """meshlink itself starting one Terraform command for an account (init, plan, ...)."""

    stage: str
    extra: dict[str, str] = field(default_factory=dict)


ProgressCallback = Callable[[TerraformEvent], None]


def _resource_addr(hook: dict[str, Any]) -> str:
    return str((hook.get("resource") or {}).get("addr", ""))


def parse_line(account: str, line: str) -> TerraformEvent | None:
    """One line of Terraform output as an event; None for lines nobody needs to see."""
    text = line.strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return LogMessage(account, "info", text)
    if not isinstance(data, dict):
        return LogMessage(account, "info", text)
    return parse_event(account, data)


def parse_event(account: str, data: dict[str, Any]) -> TerraformEvent | None:
    """A decoded -json event as a typed event; None for the ones meshlink ignores."""
    kind = data.get("type")
    hook = data.get("hook") or {}
    if kind == "apply_start":
        return ResourceStarted(account, _resource_addr(hook), str(hook.get("action", "")))
    if kind == "apply_complete":
        return ResourceCompleted(
            account,
            _resource_addr(hook),
            str(hook.get("action", "")),
            float(hook.get("elapsed_seconds") or 0),
            hook.get("id_value"),
        )
    if kind == "apply_errored":
        return ResourceFailed(
            account,
            _resource_addr(hook),
            str(hook.get("action", "")),
            float(hook.get("elapsed_seconds") or 0),
        )
    if kind == "planned_change":
        change = data.get("change") or {}
        return PlannedChange(account, _resource_addr(change), str(change.get("action", "")))
    if kind == "change_summary":
        changes = data.get("changes") or {}
        return ChangeSummary(
            account,
            str(changes.get("operation", "")),
            int(changes.get("add", 0)),
            int(changes.get("change", 0)),
            int(changes.get("remove", 0)),
        )
    if kind == "diagnostic":
        return DiagnosticEvent(account, Diagnostic.from_json(data.get("diagnostic") or {}))
    if kind in ("init_output", "log") or (kind is None and "@message" in data):
        return LogMessage(account, str(data.get("@level", "info")), str(data.get("@message")))
    return None
