"""What a check result and a verify report are; pure data, no AWS."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "warn", "skipped"]
Category = Literal["control", "traffic"]
SubjectKind = Literal["stack", "service", "edge", "endpoint", "pair", "account"]
Edge = tuple[str, str]  # (consumer, provider)
EdgeState = Literal["pass", "fail", "unknown"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "skipped")


@dataclass(frozen=True)
class Subject:
    """What a check is about: a stack, a service, an edge (consumer -> provider), a pair."""

    kind: SubjectKind
    name: str  # stack name, service name, "consumer->provider" for edges and pairs
    consumer: str | None = None
    provider: str | None = None

    @classmethod
    def edge(cls, consumer: str, provider: str) -> Subject:
        return cls("edge", f"{consumer}->{provider}", consumer, provider)

    @classmethod
    def pair(cls, consumer: str, provider: str) -> Subject:
        """An ordered pair of services that is *not* an edge (must stay unreachable)."""
        return cls("pair", f"{consumer}->{provider}", consumer, provider)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.consumer is not None:
            data["consumer"] = self.consumer
            data["provider"] = self.provider
        return data


@dataclass(frozen=True)
class CheckResult:
    """One check on one subject: its verdict and the API values it compared."""

    check: str  # stable id, e.g. "endpoint.available" (docs/verify-json.md lists them)
    category: Category
    subject: Subject
    status: Status
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # Edges whose colour this result decides (an edge check: its edge; a provider's
    # service check: every edge into that provider).
    edges: tuple[Edge, ...] = ()
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "category": self.category,
            "subject": self.subject.to_dict(),
            "status": self.status,
            "message": self.message,
            "evidence": self.evidence,
            "edges": [list(edge) for edge in self.edges],
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        subject = data["subject"]
        return cls(
            check=data["check"],
            category=data["category"],
            subject=Subject(
                subject["kind"], subject["name"], subject.get("consumer"), subject.get("provider")
            ),
            status=data["status"],
            message=data["message"],
            evidence=dict(data.get("evidence") or {}),
            edges=tuple((e[0], e[1]) for e in data.get("edges") or []),
            seconds=float(data.get("seconds") or 0.0),
        )


class Verdict:
    """Builds results of one check on one subject without repeating its identity."""

    def __init__(
        self, check: str, category: Category, subject: Subject, edges: Iterable[Edge] = ()
    ) -> None:
        self.check, self.category, self.subject = check, category, subject
        self.edges = tuple(edges)

    def __call__(self, status: Status, message: str, /, **evidence: Any) -> CheckResult:
        return CheckResult(
            self.check, self.category, self.subject, status, message, evidence, self.edges
        )

    def passed(self, message: str, /, **evidence: Any) -> CheckResult:
        return self("pass", message, **evidence)

    def failed(self, message: str, /, **evidence: Any) -> CheckResult:
        return self("fail", message, **evidence)

    def skipped(self, reason: str, /, **evidence: Any) -> CheckResult:
        return self("skipped", reason, **evidence)


@dataclass(frozen=True)
class CheckSpec:
    """A check: its id, what it proves, which subjects it runs on and how.

    ``subjects`` enumerates the Subjects (with the edges each bears on); ``run`` judges
    one of them. Every (check, subject) is a unit the runner schedules on its own.
    """

    id: str
    category: Category
    title: str
    subjects: Callable[[Any], list[tuple[Subject, tuple[Edge, ...]]]]
    run: Callable[[Any, Verdict], CheckResult]


@dataclass
class VerifyReport:
    """Every result of one verify run, plus what was run against what."""

    mesh: str
    target: str
    results: list[CheckResult]
    started_at: float
    seconds: float
    only: str | None = None
    deep: bool = False
    edges: list[Edge] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings and skips do not fail a run)."""
        return not any(r.status == "fail" for r in self.results)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {status: 0 for status in STATUSES}
        for result in self.results:
            counts[result.status] += 1
        return counts

    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "fail"]

    def edge_states(self) -> dict[Edge, EdgeState]:
        """Per edge: fail if any result bearing on it failed, pass if some passed."""
        states: dict[Edge, EdgeState] = {edge: "unknown" for edge in self.edges}
        for result in self.results:
            for edge in result.edges:
                if result.status == "fail":
                    states[edge] = "fail"
                elif result.status in ("pass", "warn") and states.get(edge) != "fail":
                    states[edge] = "pass"
        return states

    def probe_tasks(self) -> int:
        """How many probe tasks ran them (one per consumer: RunTask tasks started)."""
        return len(
            {
                r.evidence.get("task_arn")
                for r in self.results
                if r.check in ("traffic.positive", "traffic.negative")
                and r.evidence.get("task_arn")
            }
        )

    def probes(self) -> int:
        """How many traffic probes ran (one per edge and per probed non-edge pair)."""
        return sum(
            1
            for r in self.results
            if r.check in ("traffic.positive", "traffic.negative") and r.status != "skipped"
        )
