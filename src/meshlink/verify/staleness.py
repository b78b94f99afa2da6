"""Is the saved verify result still about the mesh as it is? (`meshlink graph --verify`)

A result is stale when the deployment changed after verify ran (the journal records a
node finished, or was rewritten, later), when nothing is deployed any more, or when the
topology's edges are not the ones verify checked. Each rule below says why, one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from meshlink.graph.journal import Journal, NodeRecord
from meshlink.topology.model import Topology
from meshlink.verify.model import Edge, EdgeState, VerifyReport

StaleCode = Literal["not-deployed", "journal-newer", "edges-differ"]


@dataclass(frozen=True)
class JournalFacts:
    """What staleness reads from the journal: its records and when it was last written."""

    path: Path
    exists: bool
    written_at: float | None
    records: dict[str, NodeRecord]

    @classmethod
    def read(cls, directory: Path) -> JournalFacts:
        """The journal in `directory` (a missing or unreadable one has no records)."""
        journal = Journal(directory)
        written: float | None = None
        if journal.existed:
            try:
                raw = json.loads(journal.path.read_text(encoding="utf-8"))
                value = raw.get("written_at")
                written = float(value) if isinstance(value, int | float) else None
            except (OSError, ValueError):
                written = None
        return cls(journal.path, journal.existed, written, dict(journal.records))

    def deployed(self) -> list[str]:
        """Nodes that may have something deployed: done, or failed/cut short mid-change."""
        return [nid for nid, r in self.records.items() if r.status in ("done", "failed", "running")]


@dataclass(frozen=True)
class StaleReason:
    code: StaleCode
    message: str


@dataclass(frozen=True)
class Staleness:
    """The verdict on one saved result: why it is stale (no reasons: fresh)."""

    verified_at: float
    reasons: tuple[StaleReason, ...] = ()

    @property
    def stale(self) -> bool:
        return bool(self.reasons)

    def headline(self) -> str:
        return f"stale verify result (verify ran {when(self.verified_at)})"

    def messages(self) -> list[str]:
        return [reason.message for reason in self.reasons]

    def remedy(self) -> str | None:
        """What to run to get a result about the mesh as it is now (None when fresh)."""
        if not self.stale:
            return None
        if any(reason.code == "not-deployed" for reason in self.reasons):
            return "deploy it with `meshlink up`, then run `meshlink verify`"
        return "run `meshlink verify` to check the mesh as it is now"

    def to_json(self) -> dict[str, Any]:
        return {
            "started_at": datetime.fromtimestamp(self.verified_at, UTC).isoformat(),
            "stale": self.stale,
            "reason": "; ".join(self.messages()) or None,
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
            "hint": self.remedy(),
        }


@dataclass(frozen=True)
class VerifiedResult:
    """The last verify result of a mesh: its edge colours and whether it is stale."""

    report: VerifyReport
    staleness: Staleness

    def edge_states(self) -> dict[Edge, EdgeState]:
        return dict(self.report.edge_states())

    def to_json(self) -> dict[str, Any]:
        states = self.edge_states()
        edges = [
            {"consumer": c, "provider": p, "state": states.get((c, p), "unknown")}
            for c, p in self.report.edges
        ]
        return {**self.staleness.to_json(), "edges": edges}


def when(timestamp: float) -> str:
    """A time for people: UTC, to the second."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _verified_until(report: VerifyReport) -> float:
    # verify holds the mesh lock for its whole run, so a journal write inside the run is
    # verify's own (a journal rebuilt from the stacks), never an up or down.
    return report.started_at + report.seconds


def _not_deployed(report: VerifyReport, journal: JournalFacts, _: Topology) -> StaleReason | None:
    if not journal.exists:
        return StaleReason(
            "not-deployed", f"the mesh is no longer deployed: there is no journal at {journal.path}"
        )
    if journal.deployed():
        return None
    written = f" (journal written {when(journal.written_at)})" if journal.written_at else ""
    return StaleReason(
        "not-deployed",
        f"the mesh is no longer deployed: the journal records no deployed node{written}",
    )


def _journal_newer(report: VerifyReport, journal: JournalFacts, _: Topology) -> StaleReason | None:
    if not journal.deployed():
        return None  # _not_deployed says it
    until = _verified_until(report)
    later = sorted(
        (record.finished_at, nid)
        for nid, record in journal.records.items()
        if record.finished_at is not None and record.finished_at > until
    )
    if later:
        finished, node = later[-1]
        count = f"{len(later)} node{'s' if len(later) > 1 else ''}"
        return StaleReason(
            "journal-newer",
            f"`meshlink up` or `down` ran after verify: {count} finished later "
            f"(last: {node} at {when(finished)})",
        )
    if journal.written_at is not None and journal.written_at > until:
        return StaleReason(
            "journal-newer",
            f"`meshlink up` or `down` ran after verify: the journal was written at "
            f"{when(journal.written_at)}",
        )
    return None


def _edges_differ(report: VerifyReport, _: JournalFacts, topology: Topology) -> StaleReason | None:
    verified = set(report.edges)
    unverified = [f"{c}->{p}" for c, p in topology.edges() if (c, p) not in verified]
    current = set(topology.edges())
    removed = [f"{c}->{p}" for c, p in report.edges if (c, p) not in current]
    if not unverified and not removed:
        return None
    parts = []
    if unverified:
        parts.append(f"not verified: {', '.join(unverified)}")
    if removed:
        parts.append(f"verified but no longer in the topology: {', '.join(removed)}")
    return StaleReason(
        "edges-differ",
        "the topology's edges differ from the verified ones (" + "; ".join(parts) + ")",
    )


Rule = Callable[[VerifyReport, JournalFacts, Topology], StaleReason | None]
RULES: tuple[Rule, ...] = (_not_deployed, _journal_newer, _edges_differ)


def decide(report: VerifyReport, journal: JournalFacts, topology: Topology) -> Staleness:
    """Every rule that finds `report` stale against this journal and topology."""
    reasons = tuple(
        reason for rule in RULES if (reason := rule(report, journal, topology)) is not None
    )
    return Staleness(report.started_at, reasons)


def last_result(directory: Path, topology: Topology) -> VerifiedResult:
    """The saved result in `directory` and its staleness; UsageError when verify never ran."""
    from meshlink.verify.report import load

    report = load(directory)
    return VerifiedResult(report, decide(report, JournalFacts.read(directory), topology))
